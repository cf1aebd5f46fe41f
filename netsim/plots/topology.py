"""Drawing a topology in tiers: the core on top, hosts at the bottom.

Tiers come from the graph itself, so a chain, a star and a campus all come out sensibly:
among switches, bridges and hubs, a device's tier is its distance in hops from the centre
of that fabric; hosts form the bottom row. Within a row, devices are ordered by the mean
position of their parents (barycentre ordering), so children sit under their parents and
tree links do not cross. The drawing uses matplotlib's object API directly (markers,
line collections, text), not networkx's drawing helpers, because those reach for pyplot.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from pathlib import Path

import networkx as nx
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from netsim.plots._figure import KIND_COLORS, OTHER_COLOR, format_rate, new_figure, save_figure
from netsim.topology.topology import LinkSpec, Topology

FABRIC_KINDS = frozenset({"switch", "bridge", "hub"})
"""Device kinds that forward frames; everything else is drawn in the host row."""

KIND_MARKERS = {"host": "o", "switch": "s", "bridge": "D", "hub": "^"}
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
    """Tier of every node: 0 for the centre of the fabric, growing downwards; hosts last.

    Each connected piece of the switch/bridge/hub subgraph is measured from its own
    centre (networkx ``center``; of two, the one with fewer hosts, then by name); hosts
    (and any other kind) take the row below the deepest fabric tier.
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
    for name in topology.nodes:
        tiers.setdefault(name, bottom)
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


def tier_positions(topology: Topology) -> dict[str, tuple[float, float]]:
    """(x, y) of every node for drawing, x in (0, 1); y is the row, hosts at 0.

    The bottom row is spread evenly in barycentre order; then, row by row upwards, each
    device moves over the mean of its children (neighbours in lower rows), kept in
    order and apart, so a switch sits centred above its hosts and the core above all.
    """
    graph = _simple_graph(topology)
    rows = _rows(topology)
    top = len(rows) - 1
    y = {name: float(top - r) for r, row in enumerate(rows) for name in row}
    x = {name: (i + 0.5) / len(row) for row in rows for i, name in enumerate(row)}
    for row in reversed(rows[:-1]):
        for name in row:
            children = [x[n] for n in graph.neighbors(name) if y[n] < y[name]]
            if children:
                x[name] = float(np.mean(children))
        _keep_apart(row, x)
    return {name: (x[name], y[name]) for name in topology.nodes}


def _keep_apart(row: list[str], x: dict[str, float], margin: float = 0.02) -> None:
    """Shift ``row``'s x positions (in row order) so neighbours are at least a gap apart.

    The gap is 80 % of even spacing; a sweep right pushes overlaps apart, a sweep left
    pulls the row back inside (margin, 1 - margin).
    """
    gap = 0.8 / len(row)
    x[row[0]] = max(x[row[0]], margin)
    for prev, name in itertools.pairwise(row):
        x[name] = max(x[name], x[prev] + gap)
    x[row[-1]] = min(x[row[-1]], 1.0 - margin)
    for name, nxt in itertools.pairwise(reversed(row)):
        x[nxt] = min(x[nxt], x[name] - gap)


def draw_topology(topology: Topology, path: Path, title: str | None = None) -> Path:
    """Draw ``topology`` as a PNG at ``path`` (see :func:`topology_figure`); return path."""
    return save_figure(topology_figure(topology, title), Path(path))


def topology_figure(topology: Topology, title: str | None = None) -> Figure:
    """The topology in tiers: markers by kind, names, link speeds; half duplex dashed.

    Marker and font sizes shrink with the widest row; above :data:`DOT_HOSTS` hosts,
    hosts become unlabelled dots and host links are summarised in the legend.
    """
    pos = tier_positions(topology)
    rows = _rows(topology)
    kinds = {name: spec.kind for name, spec in topology.nodes.items()}
    hosts = [n for n in topology.nodes if kinds[n] not in FABRIC_KINDS]
    dots = len(hosts) > DOT_HOSTS
    labelled_widest = max(
        (len(row) for row in rows if not (dots and kinds[row[0]] not in FABRIC_KINDS)),
        default=1,
    )
    widest = max((len(row) for row in rows), default=1)
    width = float(np.clip(0.5 * max(labelled_widest, widest / 12) + 2.0, 7.0, 18.0))
    height = float(np.clip(1.5 * len(rows) + 1.2, 3.5, 12.0))
    fig = new_figure(width, height)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, max(len(rows) - 1, 0) + 0.45)

    # Room per node in points decides marker and font sizes, row by row.
    spacing = {n: width * 72 / len(row) * 0.92 for row in rows for n in row}
    host_links_summary = _draw_links(ax, topology, pos, kinds, spacing, dots)
    present = _draw_nodes(ax, topology, pos, kinds, spacing, dots)

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
        f"{n} {kind}{'' if n == 1 else 'es' if kind.endswith('h') else 's'}"
        for kind, n in tally.items()
    )
    ax.set_title(f"{title} ({counts})" if title else f"Topology ({counts})")
    return fig


def _draw_links(
    ax: Axes,
    topology: Topology,
    pos: dict[str, tuple[float, float]],
    kinds: dict[str, str],
    spacing: dict[str, float],
    dots: bool,
) -> str:
    """Draw every link and its speed; return a legend summary of unlabelled host links."""
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
        if host_link and (dots or spacing[b] < 4.5 * font):
            summary.add(text)
            continue
        frac = 0.7 if host_link and pos[a][1] != pos[b][1] else 0.5
        xy = (
            pos[a][0] + frac * (pos[b][0] - pos[a][0]),
            pos[a][1] + frac * (pos[b][1] - pos[a][1]),
        )
        ax.text(
            *xy,
            text,
            fontsize=font,
            ha="center",
            va="center",
            color="#333333",
            zorder=4,
            bbox={
                "boxstyle": "round,pad=0.15",
                "facecolor": "white",
                "edgecolor": "none",
                "alpha": 0.85,
            },
        )
    thin = 0.5 if dots else 1.2
    ax.add_collection(LineCollection(solid, colors="#444444", linewidths=thin, zorder=1))
    ax.add_collection(
        LineCollection(dashed, colors="#444444", linewidths=thin, linestyles="--", zorder=1)
    )
    return ", ".join(sorted(summary))


def _draw_nodes(
    ax: Axes,
    topology: Topology,
    pos: dict[str, tuple[float, float]],
    kinds: dict[str, str],
    spacing: dict[str, float],
    dots: bool,
) -> list[str]:
    """Draw markers and names; return the kinds present, fabric kinds first."""
    order = ["switch", "bridge", "hub", "host"]
    present = sorted(set(kinds.values()), key=lambda k: (order.index(k) if k in order else 9, k))
    for kind in present:
        names = [n for n in topology.nodes if kinds[n] == kind]
        is_host = kind not in FABRIC_KINDS
        small = dots and is_host
        # Marker diameter in points: about half the room per node, within sensible bounds.
        diameters = [3.0 if small else float(np.clip(0.5 * spacing[n], 5.0, 22.0)) for n in names]
        ax.scatter(
            [pos[n][0] for n in names],
            [pos[n][1] for n in names],
            s=[d * d for d in diameters],
            marker=KIND_MARKERS.get(kind, "o"),
            c=KIND_COLORS.get(kind, OTHER_COLOR),
            edgecolors="black" if not small else "none",
            linewidths=0.6,
            zorder=3,
        )
        if small:
            continue
        for name, d in zip(names, diameters, strict=True):
            font = float(np.clip(spacing[name] / max(len(name), 3) * 1.6, 5.0, 10.0))
            rotate = spacing[name] < 0.62 * font * len(name)
            ax.annotate(
                name,
                pos[name],
                xytext=(0, -(d / 2 + 2)),
                textcoords="offset points",
                ha="center",
                va="top",
                fontsize=font,
                rotation=90 if rotate else 0,
                zorder=5,
                bbox={
                    "boxstyle": "round,pad=0.1",
                    "facecolor": "white",
                    "edgecolor": "none",
                    "alpha": 0.7,
                },
            )
    return present
