"""Random bridged networks: both engines build the tree an independent oracle computes.

The oracle works the 802.1D rules straight off the graph, without BPDUs: the lowest
bridge ID is root; each bridge's root path cost is its shortest-path distance to the
root; its root port is the port with the lowest (distance via that port, neighbour's
bridge ID, neighbour's port ID, own port ID); on each link the end with the lowest
(root path cost, bridge ID, port ID) is designated; every other port is alternate. The
ports that forward must then form a spanning tree: every bridge reached, no loop.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from netsim.l2.stp.bench import Bench
from netsim.l2.stp.bpdu import BridgeId, port_id
from netsim.l2.stp.engine import PortConfig, PortRole
from netsim.l2.stp.rstp import RstpBridge
from netsim.l2.stp.stp import StpBridge


@dataclass(frozen=True)
class Link:
    a: int
    port_a: int
    b: int
    port_b: int
    cost: int


@dataclass(frozen=True)
class Network:
    ids: list[BridgeId]
    links: list[Link]


@st.composite
def networks(draw: st.DrawFn) -> Network:
    """2..6 bridges, connected, with up to 4 redundant links (parallel links included)."""
    n = draw(st.integers(2, 6))
    ids = [
        BridgeId(draw(st.sampled_from([4096, 32768])), 0, 0x0200_0000_0000 + i) for i in range(n)
    ]
    pairs = [(draw(st.integers(0, i - 1)), i) for i in range(1, n)]  # a random tree
    pairs += draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1]),
            max_size=4,
        )
    )
    next_port = [1] * n
    links = []
    for a, b in pairs:
        links.append(Link(a, next_port[a], b, next_port[b], draw(st.sampled_from([4, 19, 100]))))
        next_port[a] += 1
        next_port[b] += 1
    return Network(ids, links)


def oracle(net: Network) -> dict[tuple[int, int], PortRole]:
    """Port roles by the 802.1D rules, computed on the graph."""
    root = min(range(len(net.ids)), key=lambda i: net.ids[i])
    dist = {root: 0}
    queue = [(0, root)]
    while queue:
        d, u = heapq.heappop(queue)
        if d > dist.get(u, 1 << 62):
            continue
        for link in net.links:
            for x, y in ((link.a, link.b), (link.b, link.a)):
                if x == u and d + link.cost < dist.get(y, 1 << 62):
                    dist[y] = d + link.cost
                    heapq.heappush(queue, (dist[y], y))
    roles: dict[tuple[int, int], PortRole] = {}
    root_port: dict[int, tuple[int, int]] = {}
    for bridge in range(len(net.ids)):
        if bridge == root:
            continue
        offers = []
        for link in net.links:
            for me, mine, far, theirs in (
                (link.a, link.port_a, link.b, link.port_b),
                (link.b, link.port_b, link.a, link.port_a),
            ):
                if me == bridge:
                    offers.append(
                        (
                            (dist[far] + link.cost, net.ids[far], port_id(theirs), port_id(mine)),
                            mine,
                        )
                    )
        root_port[bridge] = (bridge, min(offers)[1])
    for link in net.links:
        ends = [
            (dist[link.a], net.ids[link.a], port_id(link.port_a), (link.a, link.port_a)),
            (dist[link.b], net.ids[link.b], port_id(link.port_b), (link.b, link.port_b)),
        ]
        designated, other = sorted(ends)
        roles[designated[3]] = PortRole.DESIGNATED
        is_root_port = root_port.get(other[3][0]) == other[3]
        roles[other[3]] = PortRole.ROOT if is_root_port else PortRole.ALTERNATE
    return roles


def run(net: Network, engine: type[StpBridge] | type[RstpBridge]) -> Bench:
    bench = Bench()
    costs: dict[int, dict[int, PortConfig]] = {i: {} for i in range(len(net.ids))}
    for link in net.links:
        costs[link.a][link.port_a] = PortConfig(link.cost)
        costs[link.b][link.port_b] = PortConfig(link.cost)
    for i, bridge_id in enumerate(net.ids):
        bench.add_bridge(str(i), engine(bridge_id.mac, costs[i], priority=bridge_id.priority))
    for link in net.links:
        bench.link(str(link.a), link.port_a, str(link.b), link.port_b)
    bench.run_until(80)
    return bench


def assert_spanning_tree(net: Network, bench: Bench) -> None:
    """The links that forward at both ends connect every bridge, with no loop."""
    parent = list(range(len(net.ids)))

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    active = 0
    for link in net.links:
        a_fwd = bench.state(str(link.a), link.port_a).forwards
        b_fwd = bench.state(str(link.b), link.port_b).forwards
        if a_fwd and b_fwd:
            active += 1
            ra, rb = find(link.a), find(link.b)
            assert ra != rb, "the forwarding links close a loop"
            parent[ra] = rb
    assert active == len(net.ids) - 1


@settings(max_examples=40, deadline=None, derandomize=True)
@given(networks())
def test_stp_builds_the_oracles_tree(net: Network) -> None:
    bench = run(net, StpBridge)
    got = {
        (int(name), port): bench.role(name, port)
        for name, engine in bench.bridges.items()
        for port in engine.port_numbers()
    }
    assert got == oracle(net)
    assert_spanning_tree(net, bench)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(networks())
def test_rstp_builds_the_oracles_tree(net: Network) -> None:
    bench = run(net, RstpBridge)
    got = {
        (int(name), port): bench.role(name, port)
        for name, engine in bench.bridges.items()
        for port in engine.port_numbers()
    }
    assert got == oracle(net)
    assert_spanning_tree(net, bench)


@st.composite
def churn(draw: st.DrawFn) -> tuple[Network, list[tuple[float, int, bool]], list[Link]]:
    """A network, then links failing and coming back at random times between 40 s and
    100 s; returns the events (time, link index, up) and the links up at the end."""
    net = draw(networks())
    events = []
    up = [True] * len(net.links)
    for _ in range(draw(st.integers(1, 5))):
        index = draw(st.integers(0, len(net.links) - 1))
        time = draw(st.integers(40_000, 100_000)) / 1000
        events.append((time, index, not up[index]))
        up[index] = not up[index]
    events.sort()
    up = [True] * len(net.links)
    for _, index, state in events:
        up[index] = state
    return net, events, [link for link, is_up in zip(net.links, up, strict=True) if is_up]


def connected(n: int, links: list[Link]) -> bool:
    reached, frontier = {0}, [0]
    while frontier:
        u = frontier.pop()
        for link in links:
            for x, y in ((link.a, link.b), (link.b, link.a)):
                if x == u and y not in reached:
                    reached.add(y)
                    frontier.append(y)
    return len(reached) == n


Engine = type[StpBridge] | type[RstpBridge]


def churned(
    engine: Engine, net: Network, events: list[tuple[float, int, bool]], every_timer: bool
) -> Bench:
    """``net`` booted at 0 s, its links failing and returning as ``events`` say, run to
    80 s after the last event."""
    bench = Bench(every_timer=every_timer)
    costs: dict[int, dict[int, PortConfig]] = {i: {} for i in range(len(net.ids))}
    for link in net.links:
        costs[link.a][link.port_a] = PortConfig(link.cost)
        costs[link.b][link.port_b] = PortConfig(link.cost)
    for i, bridge_id in enumerate(net.ids):
        bench.add_bridge(str(i), engine(bridge_id.mac, costs[i], priority=bridge_id.priority))
    for link in net.links:
        bench.link(str(link.a), link.port_a, str(link.b), link.port_b)
    for time, index, is_up in events:
        link = net.links[index]
        if is_up:
            bench.link_up(str(link.a), link.port_a, at=time)
        else:
            bench.link_down(str(link.a), link.port_a, at=time)
    bench.run_until(events[-1][0] + 80)
    return bench


def settle_after_churn(
    engine: type[StpBridge] | type[RstpBridge],
    case: tuple[Network, list[tuple[float, int, bool]], list[Link]],
) -> None:
    net, events, remaining = case
    assume(connected(len(net.ids), remaining))  # the oracle speaks of one connected network
    bench = churned(engine, net, events, every_timer=False)
    after = Network(net.ids, remaining)
    got = {
        (int(name), port): bench.role(name, port)
        for name, engine_ in bench.bridges.items()
        for port in engine_.port_numbers()
        if bench.role(name, port) is not PortRole.DISABLED
    }
    assert got == oracle(after)
    assert_spanning_tree(after, bench)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(churn())
def test_stp_settles_on_the_oracles_tree_after_links_fail_and_return(
    case: tuple[Network, list[tuple[float, int, bool]], list[Link]],
) -> None:
    settle_after_churn(StpBridge, case)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(churn())
def test_rstp_settles_on_the_oracles_tree_after_links_fail_and_return(
    case: tuple[Network, list[tuple[float, int, bool]], list[Link]],
) -> None:
    settle_after_churn(RstpBridge, case)


@st.composite
def a_death(draw: st.DrawFn) -> tuple[Network, int, float]:
    """A network and one bridge that dies silently (links stay up) at 40..100 s."""
    net = draw(networks())
    return net, draw(st.integers(0, len(net.ids) - 1)), draw(st.integers(40_000, 100_000)) / 1000


def settle_after_death(
    engine: type[StpBridge] | type[RstpBridge], case: tuple[Network, int, float]
) -> None:
    """The survivors age out the dead bridge's information (802.1D: max age, RSTP: three
    hellos) and settle on the tree of the network without it; their ports that face the
    dead bridge hear nothing and end up designated."""
    net, dead, at = case
    survivors = [i for i in range(len(net.ids)) if i != dead]
    kept = [link for link in net.links if dead not in (link.a, link.b)]
    renumber = {old: new for new, old in enumerate(survivors)}
    after = Network(
        [net.ids[i] for i in survivors],
        [Link(renumber[k.a], k.port_a, renumber[k.b], k.port_b, k.cost) for k in kept],
    )
    assume(len(survivors) >= 2 and connected(len(survivors), after.links))
    bench = Bench()
    costs: dict[int, dict[int, PortConfig]] = {i: {} for i in range(len(net.ids))}
    for link in net.links:
        costs[link.a][link.port_a] = PortConfig(link.cost)
        costs[link.b][link.port_b] = PortConfig(link.cost)
    for i, bridge_id in enumerate(net.ids):
        bench.add_bridge(str(i), engine(bridge_id.mac, costs[i], priority=bridge_id.priority))
    for link in net.links:
        bench.link(str(link.a), link.port_a, str(link.b), link.port_b)
    bench.bridge_down(str(dead), at=at)
    bench.run_until(at + 120)
    expected = {(survivors[b], port): role for (b, port), role in oracle(after).items()}
    facing_dead = {
        (a, pa)
        for link in net.links
        for a, pa, b in ((link.a, link.port_a, link.b), (link.b, link.port_b, link.a))
        if b == dead
    }
    got = {
        (int(name), port): bench.role(name, port)
        for name, engine_ in bench.bridges.items()
        for port in engine_.port_numbers()
    }
    assert {k: v for k, v in got.items() if k not in facing_dead} == expected
    assert all(got[end] is PortRole.DESIGNATED for end in facing_dead if end[0] != dead)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(a_death())
def test_stp_forgets_a_bridge_that_dies_silently(case: tuple[Network, int, float]) -> None:
    settle_after_death(StpBridge, case)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(a_death())
def test_rstp_forgets_a_bridge_that_dies_silently(case: tuple[Network, int, float]) -> None:
    settle_after_death(RstpBridge, case)
