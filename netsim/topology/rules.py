"""The classic Ethernet configuration rules, checked on a topology before it runs.

A shared (half-duplex) Ethernet works only if a station still hears a collision while it
sends its first 64 bytes: the signal must cross the whole collision domain and back within
the 512-bit slot (plus the 64-bit preamble). IEEE 802.3 clause 13 gives two ways to check
a 10 Mb/s network, and clause 29 one for 100 Mb/s:

- **Model 1, the 5-4-3 rule**: between any two stations at most 5 segments joined by 4
  repeaters, and of 5 segments at most 3 *mixing* ones (coax, which stations tap); the
  others must be point-to-point *link* segments.
- **Model 2, the path delay value (PDV)**: add up the round-trip delay of every segment
  on the worst path (Table 13-3: a base value per segment by its position, left end,
  middle or right end, plus its cable), and a 5-bit margin; at most 575 bit times.
- **100 Mb/s**: at most two Class II repeaters, and 100 bits for the two stations, 92 per
  repeater, the cables and a 4-bit margin within 512.

Coax segments have their own limits: 100 stations on 10BASE5, 30 on 10BASE2, taps at
least 2.5 m (0.5 m) apart. The figures are in :mod:`netsim.phy.media` with their sources.

These checks only warn (or refuse, under ``strict: true``): the simulation itself knows
nothing of the rules. A network that breaks them gets late collisions in the run because
its signals really take too long, repeater by repeater and metre by metre.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from netsim.phy.media import (
    CLASS_II_REPEATER_BT,
    DEFAULT_10M,
    DTE_PAIR_100M_BT,
    MARGIN_100M_BT,
    MAX_MIXING_SEGMENTS,
    MAX_REPEATERS,
    MAX_REPEATERS_100M,
    MAX_SEGMENTS,
    MEDIA,
    PDV_LIMIT_100M_BT,
    PDV_LIMIT_BT,
    PDV_MARGIN_BT,
    Medium,
)
from netsim.topology.topology import LinkSpec, Topology

if TYPE_CHECKING:
    import networkx as nx

REPEATER_KINDS = frozenset({"hub"})
"""Node kinds that repeat bits between segments."""


@dataclass(frozen=True)
class Finding:
    """One broken rule: what is wrong, and the link or node a message should point at."""

    message: str
    link: LinkSpec | None = None
    node: str | None = None


@dataclass(frozen=True)
class Segment:
    """A segment of a collision domain: one half-duplex cable, or one coax bus."""

    name: str
    """``h1:eth0 - hub1:1`` for a cable, the node's name for a coax bus."""
    medium: Medium | None
    link: LinkSpec | None = None
    coax: str | None = None

    @property
    def mixing(self) -> bool:
        """A coax bus that several stations tap (a *mixing segment*)."""
        return self.coax is not None


@dataclass(frozen=True)
class Crossing:
    """One segment on a path between two stations, and how long the path spends in it."""

    segment: Segment
    delay_s: float
    """One-way propagation over the part of the segment the path uses (drops included)."""


def check(topology: Topology) -> list[Finding]:
    """Every classic rule ``topology`` breaks, worst offender per collision domain."""
    findings = list(_coax_limits(topology))
    if not any(link.shared for link in topology.links):
        return findings  # switched links only: no collision domain, no repeater rule
    import networkx as nx

    graph = _segment_graph(topology)
    for component in nx.connected_components(graph):
        stations = sorted(v for v in component if isinstance(v, tuple))
        if len(stations) < 2:
            continue
        rate = next(
            graph.nodes[v]["segment"].link.rate_bps for v in component if isinstance(v, Segment)
        )
        pairs = itertools.combinations(_representatives(graph, stations), 2)
        described = [(a, b, _crossings(graph, a, b)) for a, b in pairs]
        if rate == 10e6:
            findings.extend(_five_four_three(described))
            findings.extend(_path_delay_10m(described))
        elif rate == 100e6:
            findings.extend(_path_delay_100m(described))
    return findings


Vertex = tuple[str, str] | str | Segment
"""A station port ``(node, port)``, a repeater (its name), or a segment."""


def _segment_graph(topology: Topology) -> nx.Graph:
    """Stations, segments and repeaters of every shared link, as one graph."""
    import networkx as nx

    g = nx.Graph()
    kinds = {name: spec.kind for name, spec in topology.nodes.items()}
    coax_segments = {
        name: Segment(name, MEDIA.get(spec.media or ""), coax=name)
        for name, spec in topology.nodes.items()
        if spec.kind == "coax"
    }
    for link in topology.links:
        if not link.shared:
            continue
        if kinds[link.b[0]] == "coax":
            segment = coax_segments[link.b[0]]
            ends = [link.a]
        else:
            medium = MEDIA.get(link.media or "") or (
                MEDIA[DEFAULT_10M] if link.rate_bps == 10e6 else None
            )
            segment = Segment(link.label, medium, link=link)
            ends = [link.a, link.b]
        g.add_node(segment, segment=segment)
        for node, port in ends:
            vertex: Vertex = node if kinds[node] in REPEATER_KINDS else (node, port)
            g.add_edge(segment, vertex, link=link)
    # A coax bus on its own has no rate: every tap link carries it.
    for segment in coax_segments.values():
        if segment in g:
            tap = next(iter(g.edges(segment, data=True)))[2]["link"]
            g.nodes[segment]["segment"] = Segment(
                segment.name, segment.medium, link=tap, coax=segment.coax
            )
    return g


def _representatives(graph: nx.Graph, stations: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Stations enough to find every worst path: of stations attached alike (same hub or
    tap point, same cable), two stand for all, so a hub with 500 PCs costs no more than
    one with 2."""
    seen: dict[tuple[object, ...], int] = {}
    out = []
    for station in stations:
        (segment,) = graph.neighbors(station)
        link = graph.edges[station, segment]["link"]
        far = segment.coax or next(str(v) for v in graph.neighbors(segment) if v != station)
        key = (far, link.tap_m, link.delay_s, link.media)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] <= 2:
            out.append(station)
    return out


def _crossings(graph: nx.Graph, a: tuple[str, str], b: tuple[str, str]) -> list[Crossing]:
    """The segments between stations ``a`` and ``b``, with the delay of each crossing."""
    import networkx as nx

    route = nx.shortest_path(graph, a, b)
    out: list[Crossing] = []
    for i in range(1, len(route) - 1, 2):
        segment: Segment = route[i]
        enter = graph.edges[route[i - 1], segment]["link"]
        leave = graph.edges[segment, route[i + 1]]["link"]
        if segment.coax is None:
            delay = enter.delay_s
        else:
            medium = segment.medium
            assert medium is not None and enter.tap_m is not None and leave.tap_m is not None
            along = medium.propagation_delay(abs(enter.tap_m - leave.tap_m))
            delay = along + enter.delay_s + leave.delay_s  # the two AUI drops
        out.append(Crossing(graph.nodes[segment]["segment"], delay))
    return out


Described = list[tuple[tuple[str, str], tuple[str, str], list[Crossing]]]


def _label(end: tuple[str, str]) -> str:
    return f"{end[0]}:{end[1]}"


def _point_at(segment: Segment) -> Finding:
    if segment.coax is not None:
        return Finding("", node=segment.coax)
    return Finding("", link=segment.link)


def _five_four_three(paths: Described) -> Iterator[Finding]:
    """Model 1: at most 5 segments, 4 repeaters, 3 mixing segments on any path."""
    worst = max(paths, key=lambda p: (len(p[2]), sum(c.segment.mixing for c in p[2])))
    a, b, crossings = worst
    segments = len(crossings)
    repeaters = segments - 1
    mixing = sum(c.segment.mixing for c in crossings)
    if segments <= MAX_SEGMENTS and not (segments == MAX_SEGMENTS and mixing > MAX_MIXING_SEGMENTS):
        return
    culprit = crossings[min(segments, MAX_SEGMENTS + 1) - 1].segment
    where = _point_at(culprit)
    yield Finding(
        f"5-4-3 rule broken: the path {_label(a)} to {_label(b)} crosses {segments} segments "
        f"({mixing} of them coax) and {repeaters} repeaters; IEEE 802.3 Model 1 allows at "
        f"most {MAX_SEGMENTS} segments and {MAX_REPEATERS} repeaters, of which at most "
        f"{MAX_MIXING_SEGMENTS} coax: expect late collisions if the round trip runs over "
        "the 512-bit slot",
        link=where.link,
        node=where.node,
    )


def _path_delay_10m(paths: Described) -> Iterator[Finding]:
    """Model 2: the worst path's round-trip delay value within 575 bit times."""
    worst_value, worst = -1.0, paths[0]
    for path in paths:
        value = _pdv_10m(path[2])
        if value > worst_value:
            worst_value, worst = value, path
    if worst_value <= PDV_LIMIT_BT:
        return
    a, b, crossings = worst
    where = _point_at(crossings[-1].segment)
    yield Finding(
        f"collision domain too large: the path {_label(a)} to {_label(b)} has a round-trip "
        f"delay value of {worst_value:.1f} bit times (IEEE 802.3 Model 2, margin included), "
        f"over the {PDV_LIMIT_BT:g} allowed: a collision can come after the 512-bit slot "
        "(a late collision)",
        link=where.link,
        node=where.node,
    )


def _pdv_10m(crossings: list[Crossing]) -> float:
    """Table 13-3 sum for one path, the worse of its two directions, with the margin."""

    def one_way(order: list[Crossing]) -> float:
        total = PDV_MARGIN_BT
        for i, crossing in enumerate(order):
            medium = crossing.segment.medium or MEDIA[DEFAULT_10M]
            assert medium.delay_bt is not None
            if len(order) == 1:
                bases = medium.delay_bt.left + medium.delay_bt.right
            elif i == 0:
                bases = medium.delay_bt.left
            elif i == len(order) - 1:
                bases = medium.delay_bt.right
            else:
                bases = medium.delay_bt.middle
            total += bases + 2 * crossing.delay_s * 10e6
        return total

    return max(one_way(crossings), one_way(crossings[::-1]))


def _path_delay_100m(paths: Described) -> Iterator[Finding]:
    """Clause 29: two Class II repeaters at most, and the round trip within 512 bits."""
    worst = max(paths, key=lambda p: _pdv_100m(p[2]))
    a, b, crossings = worst
    repeaters = len(crossings) - 1
    value = _pdv_100m(crossings)
    where = _point_at(crossings[-1].segment)
    if repeaters > MAX_REPEATERS_100M:
        yield Finding(
            f"the path {_label(a)} to {_label(b)} crosses {repeaters} 100 Mb/s repeaters; "
            f"IEEE 802.3 allows at most {MAX_REPEATERS_100M} (Class II)",
            link=where.link,
            node=where.node,
        )
    if value > PDV_LIMIT_100M_BT:
        yield Finding(
            f"collision domain too large: the path {_label(a)} to {_label(b)} has a "
            f"round-trip delay of {value:.1f} bit times at 100 Mb/s (stations, repeaters, "
            f"cables and margin), over the {PDV_LIMIT_100M_BT:g} allowed: expect late "
            "collisions",
            link=where.link,
            node=where.node,
        )


def _pdv_100m(crossings: list[Crossing]) -> float:
    cables = sum(2 * c.delay_s * 100e6 for c in crossings)
    return DTE_PAIR_100M_BT + CLASS_II_REPEATER_BT * (len(crossings) - 1) + cables + MARGIN_100M_BT


def _coax_limits(topology: Topology) -> Iterator[Finding]:
    """Stations per coax segment and the spacing of their taps."""
    for name, spec in topology.nodes.items():
        if spec.kind != "coax":
            continue
        medium = MEDIA[spec.media or ""]
        taps = sorted(
            (link.tap_m, link.a)
            for link in topology.links
            if link.b[0] == name and link.tap_m is not None
        )
        if medium.max_stations is not None and len(taps) > medium.max_stations:
            yield Finding(
                f"{name} has {len(taps)} taps; a {medium.name} segment takes at most "
                f"{medium.max_stations} stations (IEEE 802.3)",
                node=name,
            )
        spacing = medium.min_tap_spacing_m or 0.0
        for (x, a), (y, b) in itertools.pairwise(taps):
            if y - x < spacing:
                yield Finding(
                    f"taps on {name} too close: {_label(a)} at {x:g} m and {_label(b)} at "
                    f"{y:g} m; {medium.name} taps must be at least {spacing:g} m apart",
                    node=name,
                )
