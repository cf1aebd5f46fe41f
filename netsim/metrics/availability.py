"""Availability of a path: analytic (series and parallel parts) and measured (outages).

A path is a (host, server) pair. It is *up* while a chain of working devices and working,
forwarding cables joins the two; it is *down* otherwise. Reliability theory gives the
fraction of time it is up from the parts' own availabilities, each
``A = MTBF / (MTBF + MTTR)``:

- parts in **series** (every one of them is needed) multiply: ``A1 * A2``;
- redundant branches in **parallel** (any one will do) fail only together:
  ``1 - (1 - A1) * (1 - A2)``.

The *availability graph* of a topology has a vertex for every part that can fail: each
device, each stack member (a StackWise stack is its members, joined by the stacking ring),
and each cable (a vertex in the middle of the cable, so that parallel cables stay
distinct). A part whose failure cuts the path on its own is a *single point of failure*:
graph theory calls it a cut vertex (articulation point) between host and server. Between
two consecutive single points of failure lies a *block* (a biconnected component), in
which any one part may fail without cutting the path: the redundant, parallel part.
:func:`path_availability` multiplies the single points of failure and computes each
block exactly (by factoring: each uncertain part either works or not).

:class:`PathMonitor` measures the same thing in a run: it is told whenever parts go down
or come back, or spanning tree changes a port's state, checks every path, and records
each outage (so an outage lasts until spanning tree forwards on the way round).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from netsim.topology.topology import LinkSpec, Topology

if TYPE_CHECKING:
    import networkx as nx

    from netsim.l2.stp.agent import SpanningTree
    from netsim.phy.port import Port

MAX_FACTORED = 24
"""Uncertain parts in one block beyond which :func:`path_availability` gives up on an exact
figure (factoring costs up to two to that power connectivity checks)."""


def member_element(device: str, member: int) -> str:
    """The availability element of stack member ``member`` of ``device``: ``building[2]``."""
    return f"{device}[{member}]"


def link_element(link: LinkSpec) -> str:
    """The availability element of a cable: its label, ``f1:Gi0/1 - building:Gi1/0/1``."""
    return link.label


@dataclass(frozen=True)
class AvailabilityGraph:
    """A topology as the parts that can fail (vertices) and how they touch (edges).

    ``graph``'s vertices are element names: a device (``f1``), a stack member
    (``building[2]``) or a cable (its label). ``devices`` maps each device to its vertices
    (a stack to all its members), for the endpoints of paths and for whole-device failures.
    """

    graph: nx.Graph
    devices: Mapping[str, tuple[str, ...]]
    links: Mapping[str, LinkSpec]

    @classmethod
    def of(cls, topology: Topology) -> AvailabilityGraph:
        """The availability graph of ``topology``."""
        import networkx as nx

        g = nx.Graph()
        devices: dict[str, tuple[str, ...]] = {}
        for name, node in topology.nodes.items():
            if node.stack_members > 1:
                members = tuple(member_element(name, m) for m in range(1, node.stack_members + 1))
                g.add_nodes_from(members)
                # The stacking ring: each member cabled to the next, the last to the first.
                for i, member in enumerate(members):
                    g.add_edge(member, members[(i + 1) % len(members)])
                devices[name] = members
            else:
                g.add_node(name)
                devices[name] = (name,)
        links: dict[str, LinkSpec] = {}
        for link in topology.links:
            cable = link_element(link)
            links[cable] = link
            for device, port in (link.a, link.b):
                spec = topology.nodes[device]
                stacked = spec.stack_members > 1
                end = member_element(device, spec.member_of(port)) if stacked else device
                g.add_edge(cable, end)
        return cls(g, devices, links)

    def endpoint(self, device: str) -> str:
        """The vertex a path starts or ends at: the device (a host is never a stack)."""
        return self.devices[device][0]


@dataclass(frozen=True)
class PathAvailability:
    """The analytic availability of one path, and the structure it comes from."""

    availability: float | None
    """``None`` when a block has too many redundant parts for an exact figure."""
    single_points: tuple[str, ...]
    """Parts that may fail (availability under 1) whose failure alone cuts the path."""
    redundant: tuple[tuple[str, ...], ...]
    """Each block of redundant parts on the way (those that may fail), in path order."""


def path_availability(
    graph: AvailabilityGraph, a: str, b: str, availability: Mapping[str, float]
) -> PathAvailability:
    """The fraction of time devices ``a`` and ``b`` are connected, from each part's own
    availability (a part missing from ``availability`` never fails).

    Series: the single points of failure (``a`` and ``b`` included). Parallel: each block
    between two consecutive single points, computed exactly by factoring.
    """
    import networkx as nx

    g = graph.graph
    s, t = graph.endpoint(a), graph.endpoint(b)
    if not nx.has_path(g, s, t):
        return PathAvailability(0.0, (), ())

    def a_of(v: str) -> float:
        return availability.get(v, 1.0)

    cuts = {v for v in nx.articulation_points(g) if v not in (s, t)}
    route = nx.shortest_path(g, s, t)
    series = [s] + [v for v in route[1:-1] if v in cuts and _separates(g, v, s, t)] + [t]
    blocks = [frozenset(c) for c in nx.biconnected_components(g)]
    value: float | None = 1.0
    for v in series:
        assert value is not None
        value *= a_of(v)
    redundant: list[tuple[str, ...]] = []
    for u, w in itertools.pairwise(series):
        if g.has_edge(u, w):
            continue  # joined directly: nothing in between can fail
        block = _deciding(g.subgraph(next(c for c in blocks if u in c and w in c)), u, w)
        inside = sorted(v for v in block if v not in (u, w) and a_of(v) < 1.0)
        if not inside:
            continue
        redundant.append(tuple(inside))
        if value is None or len(inside) > MAX_FACTORED:
            value = None
            continue
        value *= _factor(block, u, w, {v: a_of(v) for v in inside})
    single = tuple(v for v in series if a_of(v) < 1.0)
    return PathAvailability(value, single, tuple(redundant))


def _separates(g: nx.Graph, v: str, s: str, t: str) -> bool:
    """Does removing ``v`` disconnect ``s`` from ``t``?"""
    import networkx as nx

    view = nx.restricted_view(g, [v], [])
    return not nx.has_path(view, s, t)


def _factor(g: nx.Graph, s: str, t: str, uncertain: dict[str, float]) -> float:
    """Two-terminal reliability with failing vertices: each uncertain vertex either works
    (probability ``A``) or is removed, and the two cases are weighed (the factoring
    theorem). Branches stop as soon as the answer is certain either way."""
    import networkx as nx

    if not uncertain:
        return 1.0 if nx.has_path(g, s, t) else 0.0
    if not nx.has_path(g, s, t):
        return 0.0
    if nx.has_path(nx.restricted_view(g, list(uncertain), []), s, t):
        return 1.0
    g = _deciding(g, s, t)
    uncertain = {v: p for v, p in uncertain.items() if v in g}
    # Factor on the uncertain part nearest to s first: branches close soonest.
    distance = nx.single_source_shortest_path_length(g, s)
    v = min(uncertain, key=lambda x: (distance.get(x, len(g)), x))
    p = uncertain.pop(v)
    works = _factor(g, s, t, dict(uncertain))
    g.remove_node(v)
    fails = _factor(g, s, t, uncertain)
    return p * works + (1.0 - p) * fails


def _deciding(g: nx.Graph, s: str, t: str) -> nx.Graph:
    """The part of ``g`` whose parts can decide whether ``s`` reaches ``t`` (a copy).

    Only vertices on some simple s-t path matter: those in the block of s-t once an s-t
    edge is added (Menger). Of those, pieces that only bypass an edge do not matter
    either (:func:`_drop_bypasses`). Dropping them keeps factoring from doubling on them.
    """
    import networkx as nx

    h = g.copy()
    h.add_edge(s, t)
    relevant = next(c for c in nx.biconnected_components(h) if s in c and t in c)
    out = g.subgraph(relevant).copy()
    _drop_bypasses(out, s, t)
    return out


def _drop_bypasses(g: nx.Graph, s: str, t: str) -> None:
    """Remove, in place, every part of ``g`` that only bypasses an edge.

    A piece of the graph attached only at two adjacent vertices p and q (and holding
    neither s nor t) can carry a path only from p to q, which the edge p-q already does
    whenever both are up. Its parts never decide the path: another floor hanging between
    two stack members that the stacking ring joins, say.
    """
    import networkx as nx

    for p, q in list(g.edges):
        if p not in g or q not in g:
            continue
        rest = nx.restricted_view(g, [p, q], [])
        for piece in list(nx.connected_components(rest)):
            if s in piece or t in piece:
                continue
            g.remove_nodes_from(piece)


@dataclass(frozen=True)
class Outage:
    """One stretch of time during which a path was down."""

    path: str
    start: float
    end: float

    @property
    def duration(self) -> float:
        """How long it lasted, in seconds."""
        return self.end - self.start


class Forwarding(Protocol):
    """Whether a cable carries data now: spanning tree may block a port that is up.

    The default (:class:`AllForwarding`) forwards on every cable that is up;
    :class:`SpanningTreeForwarding` plugs in the switches' spanning-tree port states.
    """

    def forwards(self, link: LinkSpec) -> bool:
        """Do both ends of ``link`` forward data frames?"""
        ...


class AllForwarding:
    """No port is ever blocked: every cable that is up carries data."""

    def forwards(self, link: LinkSpec) -> bool:
        """Always True."""
        return True


class SpanningTreeForwarding:
    """Cables carry data only where spanning tree lets them: the switches' port states.

    ``trees`` maps each switch that runs spanning tree to its process. A cable end on
    such a switch forwards in an instance (a VLAN under PVST+, the single tree otherwise)
    unless its port is blocking, listening, learning or discarding there. A cable
    forwards when some instance forwards at both ends: a VLAN can cross it. An end on a
    host, or on a switch or port without spanning tree, forwards in every instance.

    So a path is down from the moment a link fails until spanning tree forwards on the
    alternate: 30 to 50 s with 802.1D, under a second with RSTP. (A trunk that forwards
    in one VLAN and blocks in another counts as up for every path: the campus builder
    gives each uplink the VLANs of one floor.)
    """

    def __init__(self, trees: Mapping[str, SpanningTree]) -> None:
        self.trees = trees
        self._instances: dict[tuple[str, str], tuple[Port, frozenset[int]]] = {}
        """(switch, port name) -> (port, the instances it belongs to)."""
        for name, tree in trees.items():
            for inst in tree.instances:
                for port in inst.ports.values():
                    _, vlans = self._instances.get((name, port.name), (port, frozenset()))
                    self._instances[name, port.name] = (port, vlans | {inst.vlan})

    def _forwarding_in(self, device: str, port_name: str) -> frozenset[int] | None:
        """The instances in which this cable end forwards; ``None`` for all of them."""
        entry = self._instances.get((device, port_name))
        if entry is None:
            return None
        port, vlans = entry
        blocked = self.trees[device].blocked
        return frozenset(v for v in vlans if (port, v) not in blocked)

    def forwards(self, link: LinkSpec) -> bool:
        """Do both ends of ``link`` forward data frames in a common instance?"""
        a = self._forwarding_in(*link.a)
        b = self._forwarding_in(*link.b)
        if a is None:
            return b is None or bool(b)
        if b is None:
            return bool(a)
        return bool(a & b)


def path_name(a: str, b: str) -> str:
    """How results name a path: ``f1r1h01 -> mail``."""
    return f"{a} -> {b}"


@dataclass
class PathMonitor:
    """Watches host-to-server paths and records when each goes down and comes back.

    Call :meth:`observe` whenever something changes (a part fails or is repaired, a port
    changes spanning-tree state) with the parts that are down; :meth:`finish` closes the
    outages still open at the end of the measured time.
    """

    graph: AvailabilityGraph
    paths: Sequence[tuple[str, str]]
    forwarding: Forwarding = field(default_factory=AllForwarding)
    outages: list[Outage] = field(default_factory=list)
    _down_since: dict[tuple[str, str], float] = field(default_factory=dict)
    _down: frozenset[str] = frozenset()

    def observe(self, now: float, down: Iterable[str]) -> None:
        """The parts in ``down`` are down from ``now`` on (all others are up)."""
        self._down = frozenset(down)
        self.check(now)

    def check(self, now: float) -> None:
        """Check every path again at ``now`` (after a change of forwarding state, say)."""
        import networkx as nx

        blocked = set(self._down)
        blocked.update(
            cable
            for cable, link in self.graph.links.items()
            if cable not in blocked and not self.forwarding.forwards(link)
        )
        view = nx.restricted_view(self.graph.graph, blocked, [])
        for a, b in self.paths:
            s, t = self.graph.endpoint(a), self.graph.endpoint(b)
            up = s not in blocked and t not in blocked and nx.has_path(view, s, t)
            since = self._down_since.get((a, b))
            if not up and since is None:
                self._down_since[(a, b)] = now
            elif up and since is not None:
                del self._down_since[(a, b)]
                if now > since:
                    self.outages.append(Outage(path_name(a, b), since, now))

    def finish(self, end: float) -> list[Outage]:
        """Close the outages still open at ``end``; every outage, in time order."""
        for (a, b), since in sorted(self._down_since.items(), key=lambda kv: kv[1]):
            if end > since:
                self.outages.append(Outage(path_name(a, b), since, end))
        self._down_since.clear()
        return sorted(self.outages, key=lambda o: (o.start, o.path))


def measured(outages: Iterable[Outage], path: str, period: float) -> float:
    """The fraction of ``period`` seconds that ``path`` was up."""
    down = sum(o.duration for o in outages if o.path == path)
    return 1.0 - down / period if period > 0 else 1.0
