"""802.1D spanning tree against hand-worked examples (and RSTP electing the same trees).

Every bridge starts out claiming to be root; BPDUs carry the claims; the lowest bridge ID
wins. Each other bridge then picks as *root port* the port with the cheapest path to the
root; ties go to the lower sender bridge ID, then the lower sender port ID (priority 128 +
port number). On each link the bridge with the better offer is *designated* and forwards;
the other end, neither root nor designated, *blocks*. The expected trees below were
worked out by hand from those rules, before running the engine. RSTP (802.1w) uses the
same priority vectors, so it must build the same trees, only faster: the role tests run
both engines.
"""

from __future__ import annotations

import pytest

from netsim.l2.stp.bench import Bench
from netsim.l2.stp.bpdu import BridgeId, ConfigBpdu, TcnBpdu
from netsim.l2.stp.engine import PortConfig, PortRole, PortState, Timers, path_cost
from netsim.l2.stp.rstp import RstpBridge
from netsim.l2.stp.stp import StpBridge

Engine = type[StpBridge] | type[RstpBridge]
ENGINES = pytest.mark.parametrize("engine", [StpBridge, RstpBridge], ids=["stp", "rstp"])

ROOT, DES, ALT = PortRole.ROOT, PortRole.DESIGNATED, PortRole.ALTERNATE
FWD, BLK = PortState.FORWARDING, PortState.BLOCKING
FAST_100M, GIG, TEN_M = 19, 4, 100


def bridge(
    mac: int, costs: dict[int, int], priority: int = 32768, engine: Engine = StpBridge
) -> StpBridge | RstpBridge:
    """A bridge whose ports have the given path costs."""
    configs = {n: PortConfig(cost) for n, cost in costs.items()}
    return engine(mac, configs, priority=priority)


def roles(bench: Bench) -> dict[str, dict[int, PortRole]]:
    """Every bridge's port roles."""
    return {
        name: {port: engine.port_role(port) for port in engine.port_numbers()}
        for name, engine in bench.bridges.items()
    }


def triangle(cost_ab: int = FAST_100M, engine: Engine = StpBridge) -> Bench:
    """A(1) - B(2) - C(3) - A: ports A1-B1, B2-C1, C2-A2."""
    bench = Bench()
    bench.add_bridge("A", bridge(1, {1: cost_ab, 2: FAST_100M}, engine=engine))
    bench.add_bridge("B", bridge(2, {1: cost_ab, 2: FAST_100M}, engine=engine))
    bench.add_bridge("C", bridge(3, {1: FAST_100M, 2: FAST_100M}, engine=engine))
    bench.link("A", 1, "B", 1)
    bench.link("B", 2, "C", 1)
    bench.link("C", 2, "A", 2)
    return bench


@ENGINES
def test_triangle_ties_on_cost_go_to_the_lower_bridge_id(engine: Engine) -> None:
    """A has the lowest MAC: root. B and C reach it directly (19). On link B-C both offer
    19, so the lower sender bridge ID, B, is designated and C's port blocks."""
    bench = triangle(engine=engine)
    bench.run_until(60)
    assert all(engine.root_id == BridgeId(32768, 0, 1) for engine in bench.bridges.values())
    assert roles(bench) == {
        "A": {1: DES, 2: DES},
        "B": {1: ROOT, 2: DES},
        "C": {1: ALT, 2: ROOT},
    }
    assert bench.state("C", 1) is (BLK if engine is StpBridge else PortState.DISCARDING)
    assert all(bench.state(b, p) is FWD for b, p in [("A", 1), ("A", 2), ("B", 1), ("B", 2)])


@ENGINES
def test_triangle_a_slow_direct_link_loses_to_two_fast_hops(engine: Engine) -> None:
    """With A-B at 10 Mb/s (cost 100), B's cheapest way to A is via C: 19 + 19 = 38."""
    bench = triangle(cost_ab=TEN_M, engine=engine)
    bench.run_until(60)
    assert roles(bench) == {
        "A": {1: DES, 2: DES},
        "B": {1: ALT, 2: ROOT},
        "C": {1: DES, 2: ROOT},
    }
    assert bench.bridges["B"].root_path_cost == 38  # type: ignore[attr-defined]


@ENGINES
@pytest.mark.parametrize(("priority_a2", "root_port_of_b"), [(128, 2), (64, 1)])
def test_parallel_links_tie_break_on_the_sender_port_id(
    priority_a2: int, root_port_of_b: int, engine: Engine
) -> None:
    """Two links A1-B2 and A2-B1: same root, cost and sender bridge on both of B's ports.
    The lower *sender* port ID wins: A's port 1 (128.1), so B's port 2 is root port, unless
    A's port 2 gets the better priority 64 (64.2 < 128.1)."""
    bench = Bench()
    a_ports = {1: PortConfig(FAST_100M), 2: PortConfig(FAST_100M, priority=priority_a2)}
    bench.add_bridge("A", engine(1, a_ports))
    bench.add_bridge("B", bridge(2, {1: FAST_100M, 2: FAST_100M}, engine=engine))
    bench.link("A", 1, "B", 2)
    bench.link("A", 2, "B", 1)
    bench.run_until(60)
    other = 3 - root_port_of_b
    assert bench.role("B", root_port_of_b) is ROOT
    assert bench.role("B", other) is ALT
    assert not bench.state("B", other).forwards


@ENGINES
def test_a_cable_from_a_bridge_to_itself_makes_a_backup_port(engine: Engine) -> None:
    """A loops port 1 back into its own port 2. Port 1 (128.1) is designated on that link;
    port 2 hears its own bridge's better port: a backup port, blocked."""
    bench = Bench()
    bench.add_bridge("A", bridge(1, {1: 19, 2: 19}, engine=engine))
    bench.link("A", 1, "A", 2)
    bench.run_until(60)
    assert roles(bench) == {"A": {1: DES, 2: PortRole.BACKUP}}
    assert not bench.state("A", 2).forwards and bench.state("A", 1).forwards


def square_with_diagonal(priority_d: int = 32768, engine: Engine = StpBridge) -> Bench:
    """A(1), B(2), C(3), D(4) in a square A-B-C-D-A with the diagonal B-D.

    Ports: A1-B1, B2-C1, C2-D1, D2-A2, B3-D3.
    """
    bench = Bench()
    bench.add_bridge("A", bridge(1, {1: 19, 2: 19}, engine=engine))
    bench.add_bridge("B", bridge(2, {1: 19, 2: 19, 3: 19}, engine=engine))
    bench.add_bridge("C", bridge(3, {1: 19, 2: 19}, engine=engine))
    bench.add_bridge("D", bridge(4, {1: 19, 2: 19, 3: 19}, priority=priority_d, engine=engine))
    bench.link("A", 1, "B", 1)
    bench.link("B", 2, "C", 1)
    bench.link("C", 2, "D", 1)
    bench.link("D", 2, "A", 2)
    bench.link("B", 3, "D", 3)
    return bench


@ENGINES
def test_square_with_diagonal(engine: Engine) -> None:
    """Root A. C reaches A at 38 via B or via D: B has the lower ID, so C's root port faces
    B and C's port to D blocks. On the diagonal B and D both offer 19; B wins, D blocks."""
    bench = square_with_diagonal(engine=engine)
    bench.run_until(60)
    assert roles(bench) == {
        "A": {1: DES, 2: DES},
        "B": {1: ROOT, 2: DES, 3: DES},
        "C": {1: ROOT, 2: ALT},
        "D": {1: DES, 2: ROOT, 3: ALT},
    }


@ENGINES
def test_square_with_diagonal_a_priority_makes_d_root(engine: Engine) -> None:
    """D at priority 4096 is root although its MAC is highest. Everyone is one hop from D;
    on A-B (19 against 19) A's lower ID wins, on B-C B's does: B's port 1 and C's port 1
    block."""
    bench = square_with_diagonal(priority_d=4096, engine=engine)
    bench.run_until(60)
    assert bench.bridges["A"].root_id == BridgeId(4096, 0, 4)
    assert roles(bench) == {
        "A": {1: DES, 2: ROOT},
        "B": {1: ALT, 2: DES, 3: ROOT},
        "C": {1: ALT, 2: ROOT},
        "D": {1: DES, 2: DES, 3: DES},
    }


def campus(method: str = "short", engine: Engine = StpBridge) -> Bench:
    """Two distribution switches (D1 priority 4096, D2 8192) joined at 1G, and three access
    switches each with 1G uplinks to both: port 1 to D1, port 2 to D2."""
    cost = path_cost(1e9, method)
    bench = Bench()
    d_ports = {n: PortConfig(cost) for n in range(1, 5)}
    bench.add_bridge("D1", engine(0x11, d_ports, priority=4096))
    bench.add_bridge("D2", engine(0x12, d_ports, priority=8192))
    bench.link("D1", 4, "D2", 4)
    for i in range(1, 4):
        name = f"A{i}"
        bench.add_bridge(name, engine(0x20 + i, {1: PortConfig(cost), 2: PortConfig(cost)}))
        bench.link(name, 1, "D1", i)
        bench.link(name, 2, "D2", i)
    return bench


@ENGINES
@pytest.mark.parametrize("method", ["short", "long"])
def test_two_tier_campus_blocks_every_second_uplink(method: str, engine: Engine) -> None:
    """D1 is root. D2's root port is the direct link (cost c, not 2c via an access switch).
    On each access switch's uplink to D2 both ends offer cost c; D2's bridge ID (8192) beats
    the access switch's (32768), so D2 is designated there and the access port blocks."""
    bench = campus(method, engine)
    bench.run_until(60)
    c = path_cost(1e9, method)
    assert roles(bench)["D2"] == {1: DES, 2: DES, 3: DES, 4: ROOT}
    for i in range(1, 4):
        access = bench.bridges[f"A{i}"]
        assert (access.port_role(1), access.port_role(2)) == (ROOT, ALT)
        assert not access.port_state(2).forwards
        assert access.root_path_cost == c  # type: ignore[attr-defined]


def test_path_costs_short_and_long() -> None:
    """802.1D-1998 short costs and 802.1t long costs (20 Tb/s / speed)."""
    assert [path_cost(s) for s in (10e6, 100e6, 1e9, 10e9)] == [100, 19, 4, 2]
    assert [path_cost(s, "long") for s in (10e6, 100e6, 1e9, 10e9)] == [
        2_000_000,
        200_000,
        20_000,
        2_000,
    ]
    assert path_cost(40e9) == 2 and path_cost(2e9) == 4
    with pytest.raises(ValueError, match="short"):
        path_cost(1e9, "medium")


def test_timers_must_be_consistent() -> None:
    with pytest.raises(ValueError, match="max age"):
        Timers(hello_time=2, max_age=40, forward_delay=15)


# --- timing ----------------------------------------------------------------------------


def test_a_new_port_forwards_two_forward_delays_after_link_up() -> None:
    """Listening 15 s, learning 15 s: a link that comes up at t forwards at t + 30 s, on
    both ends (E's root port and A's designated port)."""
    bench = Bench()
    bench.add_bridge("A", bridge(1, {1: 19}))
    bench.add_bridge("E", bridge(5, {1: 19}))
    bench.link("E", 1, "A", 1, up_at=100.0)
    bench.run_until(200)
    assert bench.history("E", 1) == [
        (100.0, BLK),
        (100.0, PortState.LISTENING),
        (115.0, PortState.LEARNING),
        (130.0, FWD),
    ]
    assert bench.last_change_to("A", 1, FWD) == 130.0
    assert (bench.role("E", 1), bench.role("A", 1)) == (ROOT, DES)


def test_direct_failure_of_the_root_port_forwards_the_alternate_after_30_s() -> None:
    """C loses its root port (link C-A) at t: its blocked port, which still holds B's
    information, becomes root port at once and forwards 2 x 15 s later."""
    bench = triangle()
    bench.link_down("C", 2, at=100.5)
    bench.run_until(200)
    assert bench.role("C", 1) is ROOT
    assert bench.last_change_to("C", 1, FWD) == 130.5


def test_indirect_failure_takes_max_age_then_two_forward_delays() -> None:
    """Link A-B fails just after a hello. C's blocked port hears from B, not from A, so it
    notices nothing until B's last good information (message age 1 s) ages out after
    20 - 1 s; then it listens and learns for 30 s: about 50 s, within one hello."""
    bench = triangle()
    failure = 100.1
    bench.link_down("A", 1, at=failure)
    bench.run_until(250)
    good = [
        (t, b)
        for t, name, port, b in bench.transmitted()
        if name == "B" and port == 2 and t < failure and isinstance(b, ConfigBpdu)
    ]
    last_time, last = good[-1]
    forwards = bench.last_change_to("C", 1, FWD)
    assert forwards is not None
    assert forwards == pytest.approx(last_time + 1e-6 + last.max_age - last.message_age + 30)
    assert abs(forwards - failure - 50) <= 2.0
    assert bench.role("C", 1) is DES and bench.role("B", 2) is ROOT


def test_the_root_announces_a_topology_change_for_max_age_plus_forward_delay() -> None:
    """Two bridges' ports start forwarding at 30 s: a topology change. The root sets TC in
    its BPDUs for max age + forward delay = 35 s; the other bridge follows the flag, so both
    age MAC entries after forward delay (15 s) meanwhile, and go back after."""
    bench = Bench()
    bench.add_bridge("A", bridge(1, {1: 19}))
    bench.add_bridge("B", bridge(2, {1: 19}))
    bench.link("A", 1, "B", 1)
    bench.run_until(100)
    assert bench.history("A", 0, "age_fast") == [(30.0, 15.0), (65.0, None)]
    [(on, fast), (off, normal)] = bench.history("B", 0, "age_fast")
    assert (fast, normal) == (15.0, None)
    assert 30.0 < on <= 32.001 and 65.0 < off <= 67.001  # with the next hello from the root


def test_a_tcn_travels_up_to_the_root_and_is_acknowledged() -> None:
    """C loses its root port at 100.5: a forwarding port gone is a topology change. C sends
    a TCN on its new root port at once; B acknowledges it (TCA in its next configuration
    BPDU, the hold time allowing) and passes it up to the root, which already knew (its own
    port went down). C's new root port forwarding at 130.5 is another change, so the root's
    TC window ends 35 s after that."""
    bench = triangle()
    bench.link_down("C", 2, at=100.5)
    bench.run_until(300)
    tcns = [
        (t, name, port)
        for t, name, port, b in bench.transmitted()
        if isinstance(b, TcnBpdu) and t > 100
    ]
    assert tcns == [(100.5, "C", 1), (100.500001, "B", 1), (130.5, "C", 1), (130.500001, "B", 1)]
    acks = [
        t
        for t, name, port, b in bench.transmitted()
        if isinstance(b, ConfigBpdu) and b.topology_change_ack and (name, port) == ("B", 2)
    ]
    assert acks == [101.000001, 131.000001]
    root = [(round(t, 3), v) for t, v in bench.history("A", 0, "age_fast") if t > 100]
    assert root == [(100.5, 15.0), (165.5, None)]
