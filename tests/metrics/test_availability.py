"""Availability of a path from the availability of its parts.

A part is up a fraction ``A = MTBF / (MTBF + MTTR)`` of the time. Parts a path needs one
after the other (in series) multiply; redundant branches (in parallel) fail only when all
of them fail. The reference figures: two parts of 0.995 give 0.990 in series and
0.999975 in parallel. For any other shape, the oracle is brute force: enumerate every
combination of working and failed parts and add up the probabilities of those in which a
path survives.
"""

from __future__ import annotations

import itertools

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.metrics.availability import (
    AvailabilityGraph,
    PathMonitor,
    member_element,
    path_availability,
)
from netsim.topology.topology import LinkSpec, NodeSpec, Topology


def topology(links: list[tuple[str, str]], stacks: dict[str, int] | None = None) -> Topology:
    """Nodes named in ``links`` (``h*`` are hosts), each link on fresh ports; a node in
    ``stacks`` is a stack of that many members, its n-th link on member n."""
    stacks = stacks or {}
    used: dict[str, int] = {}
    specs: list[LinkSpec] = []
    for a, b in links:
        ends = []
        for n in (a, b):
            used[n] = used.get(n, 0) + 1
            members = stacks.get(n, 1)
            port = f"Gi{(used[n] - 1) % members + 1}/0/{used[n]}" if members > 1 else str(used[n])
            ends.append((n, port))
        specs.append(LinkSpec(ends[0], ends[1], 1e9, 0.0, "full"))
    nodes = {
        n: NodeSpec(n, "host" if n[0] == "h" else "switch", (), stack_members=stacks.get(n, 1))
        for n in used
    }
    return Topology(nodes, specs)


DIAMOND = [("h1", "acc"), ("acc", "a"), ("acc", "b"), ("a", "core"), ("b", "core"), ("core", "h2")]
"""Two switches ``a`` and ``b`` in parallel between an access and a core switch."""


def test_two_parts_in_series_multiply():
    """h1 - sw1 - sw2 - h2 with both switches at 0.995: 0.995^2 = 0.990025."""
    g = AvailabilityGraph.of(topology([("h1", "sw1"), ("sw1", "sw2"), ("sw2", "h2")]))
    result = path_availability(g, "h1", "h2", {"sw1": 0.995, "sw2": 0.995})
    assert result.availability == pytest.approx(0.990025)
    assert result.single_points == ("sw1", "sw2")
    assert result.redundant == ()


def test_two_switches_in_parallel_fail_only_together():
    """Two distribution switches between an access and a core switch, 0.995 each:
    1 - 0.005^2 = 0.999975."""
    links = DIAMOND
    g = AvailabilityGraph.of(topology(links))
    result = path_availability(g, "h1", "h2", {"a": 0.995, "b": 0.995})
    assert result.availability == pytest.approx(0.999975)
    assert result.single_points == ()
    assert result.redundant == (("a", "b"),)


def test_parallel_cables_are_two_parts():
    """Two cables between the same switches (an EtherChannel's members, say), 0.9 each:
    the path fails only when both are cut, 1 - 0.1^2 = 0.99."""
    t = topology([("h1", "sw1"), ("sw1", "sw2"), ("sw1", "sw2"), ("sw2", "h2")])
    cables = [link.label for link in t.links[1:3]]
    g = AvailabilityGraph.of(t)
    result = path_availability(g, "h1", "h2", dict.fromkeys(cables, 0.9))
    assert result.availability == pytest.approx(0.99)


def test_a_stack_survives_one_member_but_not_two():
    """A 3-member stack's ring joins every member to the others: with floors on members 1
    and 2, the path needs both those members (in series), and member 3 not at all."""
    t = topology([("h1", "f1"), ("f1", "stack"), ("stack", "f2"), ("f2", "h2")], {"stack": 3})
    g = AvailabilityGraph.of(t)
    m = {member_element("stack", i): 0.99 for i in (1, 2, 3)}
    result = path_availability(g, "h1", "h2", m)
    assert result.availability == pytest.approx(0.99**2)
    assert result.single_points == ("stack[1]", "stack[2]")


def brute_force(g: AvailabilityGraph, a: str, b: str, p: dict[str, float]) -> float:
    """Sum the probability of every combination of up and down parts that joins a and b."""
    parts = sorted(p)
    total = 0.0
    for state in itertools.product([True, False], repeat=len(parts)):
        down = [v for v, up in zip(parts, state, strict=True) if not up]
        prob = 1.0
        for v, up in zip(parts, state, strict=True):
            prob *= p[v] if up else 1.0 - p[v]
        view = nx.restricted_view(g.graph, down, [])
        s, t = g.endpoint(a), g.endpoint(b)
        if s not in down and t not in down and nx.has_path(view, s, t):
            total += prob
    return total


@settings(derandomize=True, max_examples=60, deadline=None)
@given(
    edges=st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 5)).filter(lambda e: e[0] != e[1]),
        min_size=1,
        max_size=10,
    ),
    values=st.lists(st.sampled_from([0.5, 0.9, 0.99, 1.0]), min_size=6, max_size=6),
)
def test_factoring_agrees_with_brute_force(edges, values):
    """Random meshes of six switches between two hosts: the series/parallel decomposition
    with factoring gives exactly the enumerated probability."""
    links = [("h1", "s0"), *((f"s{x}", f"s{y}") for x, y in edges), ("s5", "h2")]
    g = AvailabilityGraph.of(topology(links))
    p = {f"s{i}": values[i] for i in range(6) if f"s{i}" in g.graph}
    p["h1"] = 0.95
    expected = brute_force(g, "h1", "h2", p)
    got = path_availability(g, "h1", "h2", p).availability
    assert got == pytest.approx(expected, abs=1e-12)


def test_the_monitor_records_each_outage_once():
    """A path is down from the first failure that cuts it until the last repair."""
    links = DIAMOND
    g = AvailabilityGraph.of(topology(links))
    monitor = PathMonitor(g, [("h1", "h2")])
    monitor.observe(0.0, [])
    monitor.observe(1.0, ["a"])  # redundancy covers it
    monitor.observe(2.0, ["a", "b"])  # now both branches are gone
    monitor.observe(3.0, ["b"])  # a is back: the path is up again
    monitor.observe(4.0, ["core"])  # a single point of failure
    outages = monitor.finish(5.0)
    assert [(o.start, o.end) for o in outages] == [(2.0, 3.0), (4.0, 5.0)]
