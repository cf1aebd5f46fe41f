"""Spanning tree on the live fabric: whole scenarios through ``netsim.run``.

Here the engines no longer talk over the ideal bench: every BPDU is a real frame, queued
and serialized on a simulated link, and the tree they build gates real data frames. The
expected trees were worked out by hand from the 802.1D rules (lowest bridge ID is root;
each bridge's root port has the cheapest path, ties to the lower sender bridge ID, then
the lower sender port ID; on each link the better offer is designated; every other port
blocks). Switches are numbered in the order the scenario declares them, and at equal
priority the first one has the lowest MAC address, so it wins the election.

The timings are the textbook's: a port forwards 2 x forward delay (30 s) after it comes
up; a bridge that loses its root port to an alternate forwards on it 30 s later under
802.1D and at once under RSTP; an indirect failure costs max age on top (about 50 s).
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import netsim


def scenario(
    nodes: dict[str, str],
    links: list[str],
    *,
    mode: str = "stp",
    duration: str = "60s",
    extra: str = "",
    defaults: str = "",
) -> netsim.LoadedScenario:
    """A scenario of ``nodes`` (name -> flow mapping) and ``links`` (endpoint pairs)."""
    node_text = "\n".join(f"    {name}: {spec}" for name, spec in nodes.items())
    link_text = "\n".join(f"    - {link}" for link in links)
    return netsim.loads(
        f"""
name: stp-live
duration: {duration}
topology:
  defaults:
    link: {{speed: 1G, delay: 50ns}}
    switch: {{spanning_tree: {{mode: {mode}{defaults}}}}}
  nodes:
{node_text}
  links:
{link_text}
{extra}
"""
    )


def roles(res: netsim.Results, instance: str = "0") -> dict[str, tuple[str, str]]:
    """``device:port`` -> (role, state) at the end of the run, from summary.json."""
    ports = res.summary["spanning_tree"]["instances"][instance]["ports"]
    return {name: (p["role"], p["state"]) for name, p in ports.items()}


def first_time(stp: pd.DataFrame, bridge: str, port: str, state: str, after: float = 0.0) -> float:
    """When ``bridge:port`` first entered ``state`` after ``after`` (from stp.csv)."""
    rows = stp[
        (stp.bridge == bridge)
        & (stp.port == port)
        & (stp.event == "state")
        & (stp.state == state)
        & (stp.time >= after)
    ]
    assert not rows.empty, f"{bridge}:{port} never {state} after {after} s"
    return float(rows.time.iloc[0])


SW = "{kind: switch, ports: 4}"
TRIANGLE = ['endpoints: ["A:1", "B:1"]', 'endpoints: ["B:2", "C:1"]', 'endpoints: ["C:2", "A:2"]']


@pytest.mark.parametrize("mode", ["stp", "rstp", "pvst", "rapid-pvst"])
def test_triangle_root_is_the_lowest_bridge_id_and_the_tie_breaks_on_bridge_id(mode):
    """A, B, C at equal priority in a triangle of gigabit links (cost 4 each). A has the
    lowest MAC: root, both its ports designated. B and C reach it directly (cost 4):
    their ports to A are root ports. On the B-C link both offer cost 4; B's bridge ID
    is lower, so B:2 is designated and C:1 is the one blocked port."""
    res = netsim.run(scenario({"A": SW, "B": SW, "C": SW}, TRIANGLE, mode=mode))
    instance = "1" if "pvst" in mode else "0"
    blocked = "blocking" if mode in ("stp", "pvst") else "discarding"
    assert res.summary["spanning_tree"]["instances"][instance]["root_bridge"] == "A"
    assert roles(res, instance) == {
        "A:1": ("designated", "forwarding"),
        "A:2": ("designated", "forwarding"),
        "B:1": ("root", "forwarding"),
        "B:2": ("designated", "forwarding"),
        "C:1": ("alternate", blocked),
        "C:2": ("root", "forwarding"),
    }


def test_triangle_priority_makes_another_root():
    """``priority: 4096`` on C makes C root: now A and B reach it directly, and on the A-B
    link A (lower bridge ID) is designated, so B:1 blocks."""
    nodes = {"A": SW, "B": SW, "C": "{kind: switch, ports: 4, spanning_tree: {priority: 4096}}"}
    res = netsim.run(scenario(nodes, TRIANGLE))
    assert res.summary["spanning_tree"]["instances"]["0"]["root_bridge"] == "C"
    got = roles(res)
    assert got["A:2"][0] == got["B:2"][0] == "root"
    assert got["A:1"] == ("designated", "forwarding")
    assert got["B:1"] == ("alternate", "blocking")


def test_square_with_a_diagonal_ties_on_cost_then_bridge_id():
    """S1 (priority 4096) is root of the square S1-S2-S3-S4-S1 with a 100 Mb/s diagonal
    S2-S4 (cost 19). S2 and S4 reach S1 directly (cost 4). S3 can go through S2 or S4 at
    cost 8: the tie goes to the lower designated bridge, S2, so S3's port to S2 is root.
    On S3-S4, S4 offers 4 against S3's 8: S4 designated, S3's port blocked. On the
    diagonal both offer 4: S2's lower bridge ID wins, S4's diagonal port blocks."""
    nodes = {
        "S1": "{kind: switch, ports: 4, spanning_tree: {priority: 4096}}",
        "S2": SW,
        "S3": SW,
        "S4": SW,
    }
    links = [
        'endpoints: ["S1:1", "S2:1"]',
        'endpoints: ["S2:2", "S3:1"]',
        'endpoints: ["S3:2", "S4:1"]',
        'endpoints: ["S4:2", "S1:2"]',
        'endpoints: ["S2:3", "S4:3"]\n      speed: 100M',
    ]
    res = netsim.run(scenario(nodes, links))
    got = roles(res)
    assert {p for p, (_, state) in got.items() if state == "blocking"} == {"S3:2", "S4:3"}
    assert got["S3:1"] == ("root", "forwarding")
    assert got["S2:3"] == ("designated", "forwarding")
    stp = res.extra["stp"]
    s3 = stp[stp.bridge == "S3"].iloc[-1]
    assert s3.root_cost == 8 and s3.root.startswith("4096.")


@pytest.mark.parametrize(
    ("r2_priority", "root_port"), [(None, "B:2"), (64, "B:1")], ids=["port-id", "port-priority"]
)
def test_two_cables_to_the_root_tie_on_the_senders_port_id(r2_priority, root_port):
    """R:1 is cabled to B:2 and R:2 to B:1. Same cost, same designated bridge (R): the
    tie goes to the lower *sender* port ID, R:1 (128.1), so B's root port is B:2 (not
    its own lower-numbered B:1). Give R:2 port priority 64 and R:2 (64.2) wins: B:1."""
    r = "{kind: switch, ports: 4, spanning_tree: {priority: 0}"
    if r2_priority is not None:
        r += f", interfaces: {{2: {{spanning_tree: {{port_priority: {r2_priority}}}}}}}"
    r += "}"
    links = ['endpoints: ["R:1", "B:2"]', 'endpoints: ["R:2", "B:1"]']
    res = netsim.run(scenario({"R": r, "B": SW}, links))
    got = roles(res)
    assert got[root_port] == ("root", "forwarding")
    other = "B:1" if root_port == "B:2" else "B:2"
    assert got[other] == ("alternate", "blocking")


def test_a_port_cost_overrides_the_speed():
    """``cost: 100`` on C:2 (its direct link to root A) makes the way through B cheaper
    (4 + 4 = 8 < 100): C:1 becomes root port and C:2 blocks."""
    nodes = {
        "A": SW,
        "B": SW,
        "C": "{kind: switch, ports: 4, interfaces: {2: {spanning_tree: {cost: 100}}}}",
    }
    res = netsim.run(scenario(nodes, TRIANGLE))
    got = roles(res)
    assert got["C:1"] == ("root", "forwarding")
    assert got["C:2"] == ("alternate", "blocking")


# --- 802.1D and RSTP timing ------------------------------------------------------------


def test_8021d_a_port_forwards_30_s_after_link_up():
    """Listening 15 s, learning 15 s: every root and designated port of the triangle
    forwards exactly 2 x forward delay after the links come up at 0, and a second cable
    from A to C plugged in at 60 s brings A's new designated port to forwarding at 90 s."""
    links = [*TRIANGLE, 'endpoints: ["A:3", "C:3"]']
    extra = 'events:\n  - {at: 0s, action: link-down, link: ["A:3", "C:3"]}\n'
    extra += '  - {at: 60s, action: link-up, link: ["A:3", "C:3"]}'
    res = netsim.run(scenario({"A": SW, "B": SW, "C": SW}, links, extra=extra, duration="120s"))
    stp = res.extra["stp"]
    for bridge, port in [("A", "1"), ("A", "2"), ("B", "1"), ("B", "2"), ("C", "2")]:
        assert first_time(stp, bridge, port, "listening") == 0.0
        assert first_time(stp, bridge, port, "learning") == 15.0
        assert first_time(stp, bridge, port, "forwarding") == 30.0
    assert first_time(stp, "A", "3", "forwarding", after=60.0) == pytest.approx(90.0)
    # C:3 hears A:3 (128.3) as well as A:2 (128.2) on C:2 at the same cost: it blocks.
    assert roles(res)["C:3"] == ("alternate", "blocking")


def _failover(mode: str, fail: list[str], duration: str = "120s") -> netsim.Results:
    """The triangle with a host on A and one on C, 100 frames a second from h1 to h2,
    and the link ``fail`` cut at 40 s (once the 802.1D tree has formed)."""
    nodes = {"A": SW, "B": SW, "C": SW, "h1": "{kind: host}", "h2": "{kind: host}"}
    links = [*TRIANGLE, 'endpoints: [h1, "A:4"]', 'endpoints: [h2, "C:4"]']
    extra = f"""traffic:
  - {{kind: frames, from: h2, to: h1, size: 64, count: 1, start: 35s}}
  - {{kind: frames, from: h1, to: h2, size: 64, start: 36s, interval: 10ms}}
events:
  - {{at: 40s, action: link-down, link: {fail}}}"""
    portfast = "{portfast: true}"
    text_nodes = {
        **nodes,
        "A": f"{{kind: switch, ports: 4, interfaces: {{4: {{spanning_tree: {portfast}}}}}}}",
        "C": f"{{kind: switch, ports: 4, interfaces: {{4: {{spanning_tree: {portfast}}}}}}}",
    }
    return netsim.run(scenario(text_nodes, links, mode=mode, extra=extra, duration=duration))


def _loss_window(res: netsim.Results) -> float:
    frames = res.frames[res.frames.src == "h1"]
    lost = frames[frames.outcome != "delivered"]
    assert not lost.empty
    return float(lost.t_queued.max() - lost.t_queued.min())


def test_8021d_direct_root_port_failure_forwards_on_the_alternate_30_s_later():
    """C's root port (C:2, to A) fails. C's alternate C:1 already holds B's offer: it
    becomes root port at once, but must listen and learn: forwarding 30 s later. Frames
    from h1 to h2 are lost for those 30 s."""
    res = _failover("stp", ["A:2", "C:2"])
    stp = res.extra["stp"]
    assert first_time(stp, "C", "1", "forwarding", after=40.0) == pytest.approx(70.0)
    assert 29.0 <= _loss_window(res) <= 31.0
    assert roles(res)["C:1"] == ("root", "forwarding")


def test_8021d_indirect_failure_takes_max_age_plus_30_s():
    """A-B fails. C hears of it only indirectly: B, cut off from the root, now claims to
    be root itself, which C ignores as worse news, until the information it holds from
    B ages out (max age 20 s less the message age it came with, counted from the last
    BPDU, at most one hello before the failure). Then C:1 is designated and takes 30 s
    more to forward: about 50 s."""
    res = _failover("stp", ["A:1", "B:1"], duration="150s")
    stp = res.extra["stp"]
    forwarding = first_time(stp, "C", "1", "forwarding", after=40.0)
    assert 50.0 - 2.0 - 1.0 <= forwarding - 40.0 <= 50.0
    assert roles(res)["C:1"] == ("designated", "forwarding")
    assert roles(res)["B:2"] == ("root", "forwarding")


def test_rstp_root_port_failure_with_an_alternate_heals_in_well_under_a_second():
    """The same failure under RSTP: C's alternate port takes over as root port and
    forwards at once; the frames lost are those sent while the link was down before
    the flooding found the new path, a window of milliseconds."""
    res = _failover("rstp", ["A:2", "C:2"], duration="50s")
    stp = res.extra["stp"]
    assert first_time(stp, "C", "1", "forwarding", after=40.0) - 40.0 < 1.0
    lost = res.frames[(res.frames.src == "h1") & (res.frames.outcome != "delivered")]
    assert len(lost) <= 1  # at most the frame on the wire when the cable was cut
    assert roles(res)["C:1"] == ("root", "forwarding")


def test_frames_inside_the_processing_delay_when_the_gate_lifts_are_forwarded():
    """A switch checks port states on every frame only while some port is not forwarding.
    Cutting A-B opens the triangle's loop: every port forwards again and the check is
    lifted, while frames (and BPDUs) are still waiting out a 5 ms processing delay. They
    go on through the open pipeline: none is lost to the change, and the run goes on."""
    delayed = "{kind: switch, ports: 4, processing_delay: 5ms"
    edge = "interfaces: {4: {spanning_tree: {portfast: true}}}"
    nodes = {
        "A": f"{delayed}, {edge}}}",
        "B": f"{delayed}}}",
        "C": f"{delayed}, {edge}}}",
        "h1": "{kind: host}",
        "h2": "{kind: host}",
    }
    links = [*TRIANGLE, 'endpoints: [h1, "A:4"]', 'endpoints: [h2, "C:4"]']
    extra = """traffic:
  - {kind: frames, from: h2, to: h1, size: 64, count: 1, start: 35s}
  - {kind: frames, from: h1, to: h2, size: 64, start: 36s, interval: 1ms}
events:
  - {at: 40s, action: link-down, link: ["A:1", "B:1"]}"""
    res = netsim.run(scenario(nodes, links, mode="rstp", extra=extra, duration="45s"))
    up = {port: state for port, (_, state) in roles(res).items() if port not in ("A:1", "B:1")}
    assert set(up.values()) == {"forwarding"}
    assert (res.frames.outcome == "delivered").all()
    assert len(res.frames) > 9000


# --- BPDUs on the wire -----------------------------------------------------------------


def test_bpdus_are_consumed_never_forwarded_and_sent_every_hello():
    """Over 60 s, the root sends a configuration BPDU on each designated port every 2 s
    (31 of them, from t = 0) and none of them is ever forwarded: each bridge consumes
    what it receives, so every BPDU crosses exactly one link."""
    res = netsim.run(scenario({"A": SW, "B": SW}, ['endpoints: ["A:1", "B:1"]']))
    ports = res.ports.set_index(["device", "port"])
    sent_by_a = ports.loc[("A", "1"), "tx_multicast"]
    assert 30 <= sent_by_a <= 32
    assert ports.loc[("B", "1"), "rx_multicast"] == sent_by_a
    assert ports[["tx_broadcast", "rx_broadcast"]].sum().sum() == 0


TSHARK = shutil.which("tshark")


@pytest.mark.skipif(TSHARK is None, reason="tshark is not installed")
@pytest.mark.parametrize("mode", ["stp", "rstp", "rapid-pvst"])
def test_tshark_decodes_every_bpdu_of_a_capture(tmp_path, mode):
    """Capture a port of the triangle through a topology change (a link cut at 40 s):
    tshark's stp dissector decodes every frame as a BPDU of the right protocol version,
    reads the root bridge elected, and finds nothing malformed. Under rapid PVST+ the
    trunk carries VLAN 10's BPDUs tagged (Cisco SSTP) and VLAN 1's as IEEE BPDUs."""
    trunk = ", interfaces: {1-2: {mode: trunk, allowed: [1, 10]}}" if mode == "rapid-pvst" else ""
    sw = f"{{kind: switch, ports: 4{trunk}}}"
    extra = 'measure: {capture: ["C:1", "B:1"]}\nevents:\n'
    extra += '  - {at: 40s, action: link-down, link: ["A:2", "C:2"]}'
    res = netsim.run(scenario({"A": sw, "B": sw, "C": sw}, TRIANGLE, mode=mode, extra=extra))
    res.save(tmp_path)
    for name in ("C_1", "B_1"):
        pcap = next(tmp_path.joinpath("captures").glob(f"*{name}*"))
        out = subprocess.run(
            [TSHARK, "-r", str(pcap), "-T", "fields", "-e", "stp.protocol",
             "-e", "stp.version", "-e", "stp.root.hw", "-e", "_ws.malformed", "-e", "vlan.id"],
            capture_output=True, text=True, check=True, timeout=600,  # catches a hang only
        ).stdout  # fmt: skip
        rows = [(line.split("\t") + [""] * 5)[:5] for line in out.strip().splitlines()]
        assert len(rows) > 20
        versions = {"stp": {"0"}, "rstp": {"2"}, "rapid-pvst": {"2"}}[mode]
        assert all(r[0] == "0x0000" for r in rows), rows[:3]
        assert {r[1] for r in rows} == versions
        # At first each bridge claims to be root; A's claim wins and is the last word.
        # (A TCN BPDU, after the cut, names no root.)
        assert {r[2] for r in rows} <= {"02:01:00:00:10:00", "02:01:00:00:20:00",
                                         "02:01:00:00:30:00", ""}  # fmt: skip
        assert rows[-1][2] == "02:01:00:00:10:00"
        assert not any(r[3] for r in rows)
        if mode == "rapid-pvst":
            assert {r[4] for r in rows} == {"", "10"}


# --- without spanning tree: the storm ----------------------------------------------------


def test_a_loop_without_spanning_tree_is_a_storm_the_guard_stops(tmp_path):
    """Two switches joined by two cables and no spanning tree: one broadcast goes round
    the loop for ever, both ways, and the two switches see h1's address arrive on one
    port and then the other (MAC flapping: ``move`` events). The storm guard stops the
    run at ``limits.floods`` with a message in summary.json, and the results are saved."""
    nodes = {"A": SW, "B": SW, "h1": "{kind: host}", "h2": "{kind: host}"}
    links = [
        'endpoints: ["A:1", "B:1"]',
        'endpoints: ["A:2", "B:2"]',
        'endpoints: [h1, "A:3"]',
        'endpoints: [h2, "B:3"]',
    ]
    extra = (
        "limits: {floods: 5000}\ntraffic:\n  - {kind: frames, from: h1, to: broadcast, count: 1}"
    )
    loaded = scenario(nodes, links, mode="none", extra=extra, duration="10s")
    assert any("broadcast storm" in w.message for w in loaded.warnings)
    res = netsim.run(loaded)
    storm: dict[str, Any] = res.summary["storm"]
    assert "broadcast storm" in storm["message"] and storm["floods"] == 5000
    assert res.summary["simulated_time"] < 1.0
    top = storm["top_ingress_ports"]
    assert all(top[port] > 1000 for port in ("A:1", "A:2", "B:1", "B:2"))  # the loop
    moves = res.mac_events[res.mac_events.event == "move"]
    assert len(moves) > 100 and set(moves.device) == {"A", "B"}
    res.save(tmp_path)
    assert (tmp_path / "summary.json").read_text().count("broadcast storm") >= 1


def test_the_same_loop_with_spanning_tree_delivers_the_broadcast_once():
    """With 802.1D on, one of the two cables blocks: the broadcast sent after the tree
    formed reaches h2 once, and nothing floods for ever."""
    nodes = {"A": SW, "B": SW, "h1": "{kind: host}", "h2": "{kind: host}"}
    links = [
        'endpoints: ["A:1", "B:1"]',
        'endpoints: ["A:2", "B:2"]',
        'endpoints: [h1, "A:3"]',
        'endpoints: [h2, "B:3"]',
    ]
    extra = "traffic:\n  - {kind: frames, from: h1, to: broadcast, count: 1, start: 31s}"
    res = netsim.run(scenario(nodes, links, extra=extra, duration="40s"))
    assert "storm" not in res.summary
    assert res.frames.outcome.tolist() == ["delivered"]
    assert roles(res)["B:2"] == ("alternate", "blocking")


def test_loop_free_scenarios_run_no_spanning_tree_by_default():
    """Left to its defaults, a switch no loop passes through runs no spanning tree, a
    Catalyst included: no BPDUs, no stp.csv, no summary section; results as before."""
    loaded = netsim.loads(
        """
name: plain
duration: 1ms
topology:
  nodes:
    h1: {kind: host}
    sw1: {kind: switch, model: WS-C2960-24TT-L}
    h2: {kind: host}
  links:
    - endpoints: [h1, sw1]
    - endpoints: [sw1, h2]
traffic:
  - {kind: frames, from: h1, to: h2, count: 1}
"""
    )
    assert loaded.topology.nodes["sw1"].spanning_tree.mode.value == "none"
    res = netsim.run(loaded)
    assert "spanning_tree" not in res.summary and "stp" not in res.extra


def test_a_catalyst_on_a_loop_runs_pvst_by_default():
    """Two Catalysts cabled twice: a loop, and out of the box a Catalyst runs PVST+."""
    loaded = netsim.loads(
        """
name: catalyst-loop
duration: 1s
topology:
  nodes:
    sw1: {kind: switch, model: WS-C2960-24TT-L}
    sw2: {kind: switch, model: WS-C2960-24TT-L}
  links:
    - endpoints: ["sw1:Gi0/1", "sw2:Gi0/1"]
    - endpoints: ["sw1:Gi0/2", "sw2:Gi0/2"]
"""
    )
    assert {n.spanning_tree.mode.value for n in loaded.topology.nodes.values()} == {"pvst"}


# --- a property: any cabling, a spanning tree -------------------------------------------


@st.composite
def cablings(draw: st.DrawFn) -> tuple[int, list[tuple[int, int]]]:
    """``n`` switches joined by a random spanning tree plus a few random extra cables
    (parallel cables included): a connected graph with loops."""
    n = draw(st.integers(3, 6))
    edges = [(draw(st.integers(0, i - 1)), i) for i in range(1, n)]
    extra = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=4))
    edges += [(a, b) for a, b in extra if a != b]
    return n, edges


@settings(derandomize=True, max_examples=12, deadline=None)
@given(cabling=cablings(), mode=st.sampled_from(["stp", "rstp"]))
def test_any_cabling_converges_to_one_spanning_tree(cabling, mode):
    """Whatever the cabling, once the tree has formed the cables forwarding at both ends
    join every switch with no loop: exactly n - 1 of them, connecting all n."""
    n, edges = cabling
    used = [0] * n
    links = []
    for a, b in edges:
        used[a] += 1
        used[b] += 1
        links.append(f'endpoints: ["s{a}:{used[a]}", "s{b}:{used[b]}"]')
    nodes = {f"s{i}": "{kind: switch, ports: 8}" for i in range(n)}
    res = netsim.run(scenario(nodes, links, mode=mode, duration="40s"))
    got = roles(res)
    forwarding: list[
        tuple[str, str]
    ] = []  # a list: two parallel cables both forwarding count twice
    for link in links:
        a, b = link.split('"')[1], link.split('"')[3]
        if got[a][1] == got[b][1] == "forwarding":
            forwarding.append((a.split(":")[0], b.split(":")[0]))
    assert len(forwarding) == n - 1
    seen, frontier = {"s0"}, ["s0"]
    while frontier:
        here = frontier.pop()
        for a, b in forwarding:
            for x, y in ((a, b), (b, a)):
                if x == here and y not in seen:
                    seen.add(y)
                    frontier.append(y)
    assert seen == {f"s{i}" for i in range(n)}
