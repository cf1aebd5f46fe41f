"""Drawing a topology in tiers: the core on top, hosts at the bottom.

Tiers come from the graph itself, so a chain, a star and a campus all come out sensibly:
among switches, bridges and hubs, a device's tier is its distance in hops from the centre
of that fabric; a host sits in the row under its switch. Within a row, devices are
ordered by the mean position of their parents (barycentre ordering), so children sit under
their parents and tree links do not cross; as every cable joins two adjacent rows, no
cable runs through another device's box. Under each name, small, is the device's model
(``WS-C2960-24TT-L``); a stack is drawn as a stack of boxes; the axes widen until every
label fits; ``ports=True`` writes the interface names at the ends of each cable. The
drawing uses matplotlib's object API directly (markers, line collections, text), not
networkx's drawing helpers, because those reach for pyplot.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

import networkx as nx
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import offset_copy

from netsim.plots._figure import KIND_COLORS, OTHER_COLOR, format_rate, new_figure, save_figure
from netsim.topology.topology import LinkSpec, NodeSpec, Topology

FABRIC_KINDS = frozenset({"switch", "bridge", "hub", "coax"})
"""Device kinds that forward frames; everything else is drawn in the host row."""

KIND_MARKERS = {"host": "o", "switch": "s", "bridge": "D", "hub": "^", "coax": "H"}
"""Marker shape per device kind (``o`` for unknown kinds too)."""

DOT_HOSTS = 60
"""Above this many hosts, hosts are drawn as small dots without labels."""


def _natural(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that puts ``pc2`` before ``pc10``."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", name) if part
    )


def _simple_graph(topology: Topology) -> nx.Graph:
    # Parallel cables do not change tiers or order; one edge per node pair is enough.
    return nx.Graph(topology.graph())


def node_tiers(topology: Topology) -> dict[str, int]:
    """Tier of every node: 0 for the centre of the fabric, growing downwards.

    Each connected piece of the switch/bridge/hub subgraph is measured from its own
    centre (networkx ``center``; of two, the one with fewer hosts, then by name); a host
    (or any other kind) takes the tier below its switch, and a host cabled to no fabric
    device the row below the deepest fabric tier. So every cable joins adjacent rows.
    """
    graph = _simple_graph(topology)
    fabric = graph.subgraph([n for n, spec in topology.nodes.items() if spec.kind in FABRIC_KINDS])

    def hosts_on(name: str) -> int:
        return sum(1 for n in graph.neighbors(name) if n not in fabric)

    tiers: dict[str, int] = {}
    for component in nx.connected_components(fabric):
        piece = fabric.subgraph(component)
        # Two devices can tie as the centre (an even chain, a core with one access
        # switch): the one with fewer hosts is the core, then the first name.
        centre = min(nx.center(piece), key=lambda n: (hosts_on(n), _natural(n), n))
        tiers.update(nx.single_source_shortest_path_length(piece, centre))
    bottom = max(tiers.values(), default=-1) + 1
    fabric_tiers = dict(tiers)
    for name in topology.nodes:
        if name in tiers:
            continue
        parents = [fabric_tiers[n] for n in graph.neighbors(name) if n in fabric_tiers]
        # Right under its switch: a server on a top-tier switch must not sit in the PCs'
        # row, or its cable would run down through the switches in between.
        tiers[name] = min(parents) + 1 if parents else bottom
    return tiers


def _rows(topology: Topology) -> list[list[str]]:
    """Node names row by row, top first, each row in barycentre order."""
    graph = _simple_graph(topology)
    tiers = node_tiers(topology)
    by_tier: dict[int, list[str]] = defaultdict(list)
    for name, tier in tiers.items():
        by_tier[tier].append(name)
    rows: list[list[str]] = []
    x: dict[str, float] = {}
    for tier in sorted(by_tier):
        names = by_tier[tier]

        def key(name: str, tier: int = tier) -> tuple[float, tuple[tuple[int, int | str], ...]]:
            # Parents are neighbours one tier up; a host's parents are the fabric devices
            # it is cabled to, whatever their tier. No parent: the end of the row.
            parents = [x[n] for n in graph.neighbors(name) if n in x and tiers[n] < tier]
            return (float(np.mean(parents)) if parents else 2.0, _natural(name))

        names.sort(key=key)
        for i, name in enumerate(names):
            x[name] = (i + 0.5) / len(names)
        rows.append(names)
    return rows


def tier_positions(
    topology: Topology, widths: Mapping[str, float] | None = None
) -> dict[str, tuple[float, float]]:
    """(x, y) of every node for drawing, x in (0, 1); y is the row, the lowest at 0.

    Every *leaf* (a device with nothing below it: the hosts, and a server on a top-tier
    switch too) gets a column of its own, in the order a walk down the tree meets them
    (children in barycentre order), spread evenly; then, row by row upwards, each device
    moves over the mean of its children, kept in order and apart (by half of each
    neighbour's label ``widths``, in axes units, as far as the row allows), so a switch
    sits centred above its hosts and the core above all.
    """
    graph = _simple_graph(topology)
    rows = _rows(topology)
    top = len(rows) - 1
    y = {name: float(top - r) for r, row in enumerate(rows) for name in row}
    rank = {name: i for row in rows for i, name in enumerate(row)}

    def children(name: str) -> list[str]:
        return sorted((n for n in graph.neighbors(name) if y[n] < y[name]), key=rank.__getitem__)

    leaves: list[str] = []
    seen: set[str] = set()

    def walk(name: str) -> None:
        seen.add(name)
        below = [c for c in children(name) if c not in seen]
        if not below and not children(name):
            leaves.append(name)
        for child in below:
            walk(child)

    for row in rows:
        for name in row:
            if name not in seen:
                walk(name)
    x = {name: (i + 0.5) / len(leaves) for i, name in enumerate(leaves)}
    for row in reversed(rows):
        for name in row:
            below = children(name)
            if below:
                x[name] = float(np.mean([x[c] for c in below]))
        if row is not rows[-1]:
            _keep_apart(row, x, widths=widths or {})
    return {name: (x[name], y[name]) for name in topology.nodes}


def _keep_apart(
    row: list[str], x: dict[str, float], margin: float = 0.02, widths: Mapping[str, float] = {}
) -> None:
    """Shift ``row``'s x positions (in row order) so neighbours are at least a gap apart.

    The gap is 80 % of even spacing, or more if the two labels need it (half of each
    one's width), shrunk to fit the row if need be; a sweep right pushes overlaps apart,
    a sweep left pulls the row back inside (margin, 1 - margin).
    """
    even = 0.8 / len(row)
    gaps = [
        max(even, (widths.get(a, 0.0) + widths.get(b, 0.0)) / 2) for a, b in itertools.pairwise(row)
    ]
    room = 1.0 - 2 * margin
    if sum(gaps) > room:
        gaps = [g * room / sum(gaps) for g in gaps]
    x[row[0]] = max(x[row[0]], margin)
    for (prev, name), gap in zip(itertools.pairwise(row), gaps, strict=True):
        x[name] = max(x[name], x[prev] + gap)
    x[row[-1]] = min(x[row[-1]], 1.0 - margin)
    for (nxt, name), gap in zip(itertools.pairwise(reversed(row)), reversed(gaps), strict=True):
        x[name] = min(x[name], x[nxt] - gap)


def draw_topology(
    topology: Topology, path: Path, title: str | None = None, ports: bool = False
) -> Path:
    """Draw ``topology`` as a PNG at ``path`` (see :func:`topology_figure`); return path."""
    return save_figure(topology_figure(topology, title, ports), Path(path))


def topology_figure(topology: Topology, title: str | None = None, ports: bool = False) -> Figure:
    """The topology in tiers: markers by kind, names and models, link speeds; half duplex
    dashed; with ``ports``, interface names at both ends of every labelled cable.

    Marker and font sizes shrink with the widest row; above :data:`DOT_HOSTS` hosts,
    the hosts of the bottom row become unlabelled dots and their links are summarised in
    the legend.
    """
    rows = _rows(topology)
    kinds = {name: spec.kind for name, spec in topology.nodes.items()}
    hosts = [n for n in topology.nodes if kinds[n] not in FABRIC_KINDS]
    bottom = len(rows) - 1
    dots = len(hosts) > DOT_HOSTS
    dotted = {h for h in hosts if dots and h in rows[bottom]}
    labelled_widest = max(
        (sum(1 for n in row if n not in dotted) for row in rows),
        default=1,
    )
    widest = max((len(row) for row in rows), default=1)
    # Wide enough for every row's labels side by side, at 80 % of even spacing (the
    # closest _keep_apart puts two neighbours).
    labels = max(
        (sum(_label_points(topology.nodes[n]) for n in row if n not in dotted) for row in rows),
        default=0.0,
    )
    width = float(
        np.clip(
            max(0.5 * max(labelled_widest, widest / 12) + 2.0, labels / 0.8 / 72 + 1.0), 7.0, 18.0
        )
    )
    height = float(np.clip(1.5 * len(rows) + 1.2, 3.5, 12.0))
    axes_points = width * 72 * 0.95
    widths = {n: _label_points(topology.nodes[n]) / axes_points for n in topology.nodes}
    pos = tier_positions(topology, {n: w for n, w in widths.items() if n not in dotted})
    fig = new_figure(width, height)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_ylim(-0.6, max(len(rows) - 1, 0) + 0.45)

    # Room per node in points decides marker and font sizes, row by row.
    spacing = {n: width * 72 / len(row) * 0.92 for row in rows for n in row}
    host_links_summary = _draw_links(ax, topology, pos, kinds, spacing, dotted, ports)
    present, half_widths = _draw_nodes(ax, topology, pos, kinds, spacing, dotted)
    # Widen the x axis until the widest label at either edge fits inside it.
    left = min((pos[n][0] - w / axes_points for n, w in half_widths.items()), default=0.0)
    right = max((pos[n][0] + w / axes_points for n, w in half_widths.items()), default=1.0)
    ax.set_xlim(min(0.0, left - 0.01), max(1.0, right + 0.01))

    handles: list[Line2D] = [
        Line2D(
            [],
            [],
            marker=KIND_MARKERS.get(k, "o"),
            linestyle="",
            color=KIND_COLORS.get(k, OTHER_COLOR),
            markersize=8,
            label=k,
        )
        for k in present
    ]
    duplexes = {link.duplex for link in topology.links}
    if duplexes - {"half"}:
        handles.append(Line2D([], [], color="#444444", label="link, full duplex"))
    if "half" in duplexes:
        handles.append(Line2D([], [], color="#444444", linestyle="--", label="link, half duplex"))
    if host_links_summary:
        handles.append(Line2D([], [], color="#BBBBBB", label=f"host links: {host_links_summary}"))
    # Below the drawing, not on it: any corner of the axes may hold a device.
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=min(len(handles), 6),
        fontsize="small",
        frameon=False,
    )
    tally = {kind: sum(1 for k in kinds.values() if k == kind) for kind in present}
    counts = ", ".join(
        f"{n} {kind}{'' if n == 1 else 'es' if kind.endswith(('h', 'x')) else 's'}"
        for kind, n in tally.items()
    )
    ax.set_title(f"{title} ({counts})" if title else f"Topology ({counts})")
    return fig


def _label_points(node: NodeSpec) -> float:
    """About how wide a device's name and model are at ordinary sizes, in points."""
    return max(0.6 * 9 * len(node.name), 0.6 * 7 * len(model_label(node))) + 8


def model_label(node: NodeSpec) -> str:
    """What a device is, for under its name: ``WS-C3750G-12S stack of 2``; or ``""``."""
    if node.model is None:
        return ""
    return node.model + (f" stack of {node.stack_members}" if node.stack_members > 1 else "")


def _draw_links(
    ax: Axes,
    topology: Topology,
    pos: dict[str, tuple[float, float]],
    kinds: dict[str, str],
    spacing: dict[str, float],
    dotted: set[str],
    ports: bool,
) -> str:
    """Draw every link, its speed and (with ``ports``) its interface names; return a
    legend summary of the host links left unlabelled."""
    pairs: dict[tuple[str, str], list[LinkSpec]] = defaultdict(list)
    for link in topology.links:
        a, b = sorted((link.a[0], link.b[0]))
        pairs[(a, b)].append(link)
    solid: list[list[tuple[float, float]]] = []
    dashed: list[list[tuple[float, float]]] = []
    summary: set[str] = set()
    for (a, b), links in pairs.items():
        # Put the child (lower row) second: labels go near it, where rows are wider.
        if pos[a][1] < pos[b][1]:
            a, b = b, a
        segment = [pos[a], pos[b]]
        half = any(link.duplex == "half" for link in links)
        (dashed if half else solid).append(segment)
        text = "/".join(sorted({format_rate(link.rate_bps) for link in links}))
        if len(links) > 1:
            text += f" x{len(links)}"
        host_link = kinds[b] not in FABRIC_KINDS or kinds[a] not in FABRIC_KINDS
        font = float(np.clip(spacing[b] / 4.5, 5.0, 8.0))
        if host_link and (b in dotted or a in dotted or spacing[b] < 4.5 * font):
            summary.add(text)
            continue
        frac = 0.7 if host_link and pos[a][1] != pos[b][1] else 0.5
        _label_on(ax, pos[a], pos[b], frac, text, font, "#333333")
        if ports:
            for link in links:
                ends = dict([link.a, link.b])
                # Near each end, where the cable leaves its device; further from the
                # upper one, whose name and model are written under it.
                for node, other, frac in ((a, b, 0.36), (b, a, 0.2)):
                    _label_on(ax, pos[node], pos[other], frac, ends[node], font - 1, "#1F4E79")
    thin = 0.5 if dotted else 1.2
    ax.add_collection(LineCollection(solid, colors="#444444", linewidths=thin, zorder=1))
    ax.add_collection(
        LineCollection(dashed, colors="#444444", linewidths=thin, linestyles="--", zorder=1)
    )
    return ", ".join(sorted(summary))


def _label_on(
    ax: Axes,
    start: tuple[float, float],
    end: tuple[float, float],
    frac: float,
    text: str,
    font: float,
    color: str,
) -> None:
    """Write ``text`` on the line from ``start`` to ``end``, ``frac`` of the way along."""
    xy = (start[0] + frac * (end[0] - start[0]), start[1] + frac * (end[1] - start[1]))
    ax.text(
        *xy,
        text,
        fontsize=font,
        ha="center",
        va="center",
        color=color,
        zorder=4,
        bbox={
            "boxstyle": "round,pad=0.15",
            "facecolor": "white",
            "edgecolor": "none",
            "alpha": 0.85,
        },
    )


STACK_OFFSET_POINTS = 3.5
"""How far each further member of a stack is drawn up and right of the one before."""


def _draw_nodes(
    ax: Axes,
    topology: Topology,
    pos: dict[str, tuple[float, float]],
    kinds: dict[str, str],
    spacing: dict[str, float],
    dotted: set[str],
) -> tuple[list[str], dict[str, float]]:
    """Draw markers, names and models; return the kinds present (fabric kinds first) and
    each label's half width in points, for fitting the axes around them."""
    order = ["switch", "bridge", "hub", "coax", "host"]
    present = sorted(set(kinds.values()), key=lambda k: (order.index(k) if k in order else 9, k))
    half_widths: dict[str, float] = {}
    fig = ax.get_figure()
    assert isinstance(fig, Figure)
    for kind in present:
        names = [n for n in topology.nodes if kinds[n] == kind]
        # Marker diameter in points: about half the room per node, within sensible bounds.
        diameters = {
            n: 3.0 if n in dotted else float(np.clip(0.5 * spacing[n], 5.0, 22.0)) for n in names
        }
        style = {
            "marker": KIND_MARKERS.get(kind, "o"),
            "c": KIND_COLORS.get(kind, OTHER_COLOR),
            "linewidths": 0.6,
            "zorder": 3,
        }
        # A stack: its further members behind, each a little up and to the right.
        for member in range(
            max((topology.nodes[n].stack_members for n in names), default=1), 1, -1
        ):
            stacked = [n for n in names if topology.nodes[n].stack_members >= member]
            shift = (member - 1) * STACK_OFFSET_POINTS
            ax.scatter(
                [pos[n][0] for n in stacked],
                [pos[n][1] for n in stacked],
                s=[diameters[n] ** 2 for n in stacked],
                edgecolors="black",
                transform=offset_copy(ax.transData, fig=fig, x=shift, y=shift, units="points"),
                **style,  # type: ignore[arg-type]
            )
        ax.scatter(
            [pos[n][0] for n in names],
            [pos[n][1] for n in names],
            s=[diameters[n] ** 2 for n in names],
            edgecolors=["none" if n in dotted else "black" for n in names],
            **style,  # type: ignore[arg-type]
        )
        for name in names:
            if name in dotted:
                continue
            d = diameters[name]
            font = float(np.clip(spacing[name] / max(len(name), 3) * 1.6, 5.0, 10.0))
            rotate = spacing[name] < 0.62 * font * len(name)
            _annotate(ax, pos[name], name, -(d / 2 + 2), font, rotate, "black")
            model = model_label(topology.nodes[name])
            small = max(5.0, 0.75 * font)
            if model and not rotate:
                _annotate(ax, pos[name], model, -(d / 2 + 3 + 1.25 * font), small, False, "#555555")
            widest = max(0.62 * font * len(name), 0.62 * small * len(model))
            half_widths[name] = 0.6 * font if rotate else widest / 2
    return present, half_widths


def _annotate(
    ax: Axes, xy: tuple[float, float], text: str, dy: float, font: float, rotate: bool, color: str
) -> None:
    """``text`` centred under ``xy``, ``dy`` points down (negative), upright or turned."""
    ax.annotate(
        text,
        xy,
        xytext=(0, dy),
        textcoords="offset points",
        ha="center",
        va="top",
        fontsize=font,
        rotation=90 if rotate else 0,
        color=color,
        zorder=5,
        bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.7},
    )
