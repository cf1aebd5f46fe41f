"""802.1w rapid spanning tree: the same tree as 802.1D, reached without waiting.

A designated port that is not forwarding *proposes*; the bridge at the other end blocks
its own downstream ports (*sync*) and *agrees*; the proposer then forwards at once. An
alternate port is a ready-made root port for when the root port fails. Information is
aged after three missed hellos (6 s), not max age. A port that hears 802.1D BPDUs speaks
802.1D on that link.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from netsim.l2.stp.bench import Bench
from netsim.l2.stp.bpdu import BridgeId, ConfigBpdu, ProtocolVersion, TcnBpdu, bpdu_frame
from netsim.l2.stp.engine import PortConfig, PortRole, PortState
from netsim.l2.stp.rstp import RstpBridge
from netsim.l2.stp.stp import StpBridge
from netsim.metrics.pcap import write_pcap

FWD, DISC = PortState.FORWARDING, PortState.DISCARDING
ROOT, DES, ALT = PortRole.ROOT, PortRole.DESIGNATED, PortRole.ALTERNATE


def rstp(mac: int, ports: int, **kwargs: object) -> RstpBridge:
    return RstpBridge(mac, {n: PortConfig(19) for n in range(1, ports + 1)}, **kwargs)  # type: ignore[arg-type]


def triangle() -> Bench:
    """A(1) - B(2) - C(3) - A: ports A1-B1, B2-C1, C2-A2. Root A; C's port 1 is alternate."""
    bench = Bench()
    for name, mac in (("A", 1), ("B", 2), ("C", 3)):
        bench.add_bridge(name, rstp(mac, 2))
    bench.link("A", 1, "B", 1)
    bench.link("B", 2, "C", 1)
    bench.link("C", 2, "A", 2)
    return bench


def chain(n: int, root_joins_at: float = 0.0) -> Bench:
    """S1 - S2 - ... - Sn, S1 the root; port 1 faces the root, port 2 away from it.
    The link S1-S2 comes up at ``root_joins_at``, the others at once."""
    bench = Bench()
    for i in range(1, n + 1):
        bench.add_bridge(f"S{i}", rstp(i, 2))
    for i in range(1, n):
        bench.link(f"S{i}", 2, f"S{i + 1}", 1, up_at=root_joins_at if i == 1 else 0.0)
    return bench


def test_a_new_root_sweeps_down_a_chain_one_handshake_per_hop() -> None:
    """S2..S8 have formed a tree under S2. At 10 s the better bridge S1 is cabled to S2:
    each bridge in turn syncs (blocks its downstream port), agrees, and its downstream
    port proposes to the next. With 1 µs links the whole chain forwards again in about
    two link delays per hop, where 802.1D would need 30 s."""
    bench = chain(8, root_joins_at=10.0)
    bench.run_until(9.9)
    assert bench.bridges["S8"].root_id.mac == 2
    bench.run_until(20)
    assert all(engine.root_id.mac == 1 for engine in bench.bridges.values())
    last = 0.0
    for i in range(2, 9):
        assert bench.role(f"S{i}", 1) is ROOT
        for port in (1, 2) if i < 8 else (1,):
            assert bench.state(f"S{i}", port) is FWD
            changed = bench.last_change_to(f"S{i}", port, FWD)
            assert changed is not None
            last = max(last, changed)
    assert 10.0 < last <= 10.0 + 2 * 7 * 1e-6 + 1e-9


def test_a_booting_chain_converges_in_seconds_not_30_s() -> None:
    """Eight bridges booting at once: every bridge changes its mind about the root up to
    seven times, and a port may send only 6 BPDUs in a burst (TxHoldCount), one more per
    second after that, so the last handshakes wait a second or two. Still far from 30 s."""
    bench = chain(8)
    bench.run_until(60)
    times = [
        bench.last_change_to(f"S{i}", port, FWD)
        for i in range(1, 9)
        for port in (1, 2)
        if (i, port) not in ((1, 1), (8, 2))
    ]
    assert all(t is not None and t < 3.0 for t in times)


def test_a_port_waits_for_the_agreement_before_forwarding() -> None:
    """The designated port proposes and stays discarding until the agreement comes back,
    one round trip later; the root port that agreed forwards as it agrees."""
    bench = Bench(delay=0.010)
    bench.add_bridge("A", rstp(1, 1))
    bench.add_bridge("B", rstp(2, 1))
    bench.link("A", 1, "B", 1)
    bench.run_until(1)
    proposals = [
        t
        for t, name, _, b in bench.transmitted()
        if name == "A" and isinstance(b, ConfigBpdu) and b.proposal
    ]
    agreements = [
        t
        for t, name, _, b in bench.transmitted()
        if name == "B" and isinstance(b, ConfigBpdu) and b.agreement
    ]
    assert proposals[0] == 0.0
    assert agreements[0] == pytest.approx(0.010)
    assert bench.last_change_to("B", 1, FWD) == pytest.approx(0.010)
    assert bench.last_change_to("A", 1, FWD) == pytest.approx(0.020)


def test_the_alternate_port_takes_over_at_once_when_the_root_port_fails() -> None:
    """C loses its root port at t = 100.5 s: its alternate port, which already knows a path
    to the root through B, becomes root port and forwards in the same instant."""
    bench = triangle()
    bench.run_until(100)
    assert (bench.role("C", 1), bench.state("C", 1)) == (ALT, DISC)
    bench.link_down("C", 2, at=100.5)
    bench.run_until(110)
    assert bench.role("C", 1) is ROOT
    forwards = bench.last_change_to("C", 1, FWD)
    assert forwards is not None and forwards - 100.5 < 1.0
    assert forwards == 100.5


def test_a_bridge_that_dies_silently_is_forgotten_after_three_hellos() -> None:
    """B hears nothing from the root A after A dies at 100.1 s; A's last hello arrived at
    100 s, so B ages it out 3 x 2 s later and becomes root itself."""
    bench = Bench()
    bench.add_bridge("A", rstp(1, 1))
    bench.add_bridge("B", rstp(2, 1))
    bench.link("A", 1, "B", 1)
    bench.bridge_down("A", at=100.1)
    bench.run_until(120)
    roles = bench.history("B", 1, "role")
    assert roles[-1] == (pytest.approx(106.000001), DES)
    assert bench.bridges["B"].root_id == BridgeId(32768, 0, 2)


def test_worse_news_from_the_designated_bridge_is_believed_at_once() -> None:
    """Link A-B fails: B, cut off, claims to be root. C has been hearing B on its alternate
    port; worse information from the same designated port is accepted at once, so C
    becomes designated there and tells B about A straight away: no max-age wait."""
    bench = triangle()
    bench.link_down("A", 1, at=100.1)
    bench.run_until(110)
    assert (bench.role("B", 2), bench.role("C", 1)) == (ROOT, DES)
    forwards = bench.last_change_to("C", 1, FWD)
    assert forwards is not None and forwards - 100.1 < 0.001


def test_an_edge_port_forwards_at_once_and_is_no_topology_change() -> None:
    """A PortFast port to a host forwards on link-up, and flushes nothing anywhere."""
    bench = Bench()
    bench.add_bridge("A", RstpBridge(1, {1: PortConfig(19), 2: PortConfig(19, edge=True)}))
    bench.add_bridge("B", rstp(2, 1))
    bench.link("A", 1, "B", 1)
    bench.run_until(10)
    flushes_before = [r for r in bench.records if r.event == "flush"]
    bench.link_up("A", 2, at=20.0)  # no peer: a host's link
    bench.link("A", 2, "H", 1, up_at=None)
    bench.run_until(30)
    assert bench.history("A", 2) == [(20.0, DISC), (20.0, PortState.LEARNING), (20.0, FWD)]
    assert [r for r in bench.records if r.event == "flush"] == flushes_before


def test_an_edge_port_that_hears_a_bpdu_stops_being_edge() -> None:
    """Someone plugs a switch into a PortFast port: the BPDU it sends makes the port an
    ordinary one, and the better root on it becomes our root port."""
    bench = Bench()
    bench.add_bridge("A", RstpBridge(5, {1: PortConfig(19, edge=True)}))
    bench.add_bridge("B", rstp(1, 1))
    bench.link("A", 1, "B", 1)
    bench.run_until(5)
    assert bench.role("A", 1) is ROOT
    assert bench.bridges["A"].root_id.mac == 1


def test_a_new_link_floods_a_topology_change_and_flushes() -> None:
    """X(9) hangs off S1, the root. S4 joins the chain S1-S2-S3 at 10 s. When S3's new
    port forwards, S3 flushes its other port and sets TC; each bridge that receives the
    flag flushes every port but the one it came in on, and passes it on, down to X."""
    bench = chain(3)
    bench.add_bridge("X", rstp(9, 1))
    bench.link("X", 1, "S1", 1)
    bench.add_bridge("S4", rstp(4, 1))
    bench.link("S3", 2, "S4", 1, up_at=10.0)
    bench.run_until(20)
    flushed = {(r.bridge, r.port) for r in bench.records if r.event == "flush" and r.time >= 10}
    # Not S2's port 2 nor S1's port 2: the change came in there. S4 and X have no other port.
    assert flushed == {("S3", 1), ("S2", 1), ("S1", 1)}
    tc = [
        t
        for t, name, port, b in bench.transmitted()
        if (name, port) == ("S1", 1) and isinstance(b, ConfigBpdu) and b.topology_change and t >= 10
    ]
    assert tc and tc[0] < 10.001


def test_without_an_agreement_a_port_goes_at_the_802_1d_pace() -> None:
    """On a shared (half-duplex) link there is no handshake: discarding 15 s, learning 15 s."""
    bench = Bench()
    bench.add_bridge("A", RstpBridge(1, {1: PortConfig(19, point_to_point=False)}))
    bench.add_bridge("B", RstpBridge(2, {1: PortConfig(19, point_to_point=False)}))
    bench.link("A", 1, "B", 1)
    bench.run_until(60)
    assert bench.last_change_to("A", 1, FWD) == 30.0
    assert bench.last_change_to("B", 1, FWD) == pytest.approx(1e-6)  # root port: at once


def test_a_port_that_hears_802_1d_falls_back_to_802_1d() -> None:
    """An RSTP bridge next to an 802.1D bridge sends configuration BPDUs on that port, and
    its designated port there forwards 30 s after link-up, like 802.1D's."""
    bench = Bench()
    bench.add_bridge("R", rstp(1, 1))
    bench.add_bridge("L", StpBridge(2, {1: PortConfig(19)}))
    bench.link("R", 1, "L", 1)
    bench.run_until(60)
    rstp_engine = bench.bridges["R"]
    assert isinstance(rstp_engine, RstpBridge)
    assert not rstp_engine.speaks_rstp(1)
    sent = [b for t, name, _, b in bench.transmitted() if name == "R" and t > 5]
    assert sent and all(isinstance(b, ConfigBpdu) and not b.is_rst for b in sent)
    assert bench.last_change_to("R", 1, FWD) == 30.0
    assert (bench.role("R", 1), bench.role("L", 1)) == (DES, ROOT)
    assert bench.last_change_to("L", 1, FWD) == pytest.approx(30.000001)


def test_behind_an_802_1d_root_the_root_port_still_forwards_at_once() -> None:
    """The RSTP bridge's root port needs nobody's agreement: it forwards at once. The 802.1D
    root's designated port on the link takes its 30 s."""
    bench = Bench()
    bench.add_bridge("L", StpBridge(1, {1: PortConfig(19)}))
    bench.add_bridge("R", rstp(2, 1))
    bench.link("L", 1, "R", 1)
    bench.run_until(60)
    assert (bench.role("L", 1), bench.role("R", 1)) == (DES, ROOT)
    assert bench.last_change_to("R", 1, FWD) == pytest.approx(1e-6)
    assert bench.last_change_to("L", 1, FWD) == 30.0
    assert not bench.bridges["R"].speaks_rstp(1)  # type: ignore[attr-defined]


def test_mcheck_tries_rstp_again() -> None:
    """After the 802.1D neighbour is replaced, ``mcheck`` sends an RST BPDU again."""
    engine = rstp(1, 1)
    engine.enable_port(1, 0.0)
    engine.receive(1, ConfigBpdu(BridgeId(32768, 0, 9), 0, BridgeId(32768, 0, 9), 0x8001), 1.0)
    assert not engine.speaks_rstp(1)
    actions = engine.mcheck(1, 2.0)
    assert engine.speaks_rstp(1)
    sent = [a.bpdu for a in actions if hasattr(a, "bpdu")]
    assert sent and all(isinstance(b, ConfigBpdu) and b.is_rst for b in sent)


def test_pvst_runs_one_tree_per_vlan_with_the_vlan_in_the_bridge_id() -> None:
    """Rapid PVST+: D1 is root for VLAN 10, D2 for VLAN 20 (priority 4096 each on its own
    VLAN). The access switch blocks its uplink to D2 in VLAN 10 and to D1 in VLAN 20,
    so both uplinks carry traffic."""
    roles = {}
    for vlan, (p1, p2) in {10: (4096, 32768), 20: (32768, 4096)}.items():
        bench = Bench()
        bench.add_bridge("D1", rstp(0x11, 2, priority=p1, instance=vlan))
        bench.add_bridge("D2", rstp(0x12, 2, priority=p2, instance=vlan))
        bench.add_bridge("A", rstp(0x21, 2, instance=vlan))
        bench.link("D1", 2, "D2", 2)
        bench.link("A", 1, "D1", 1)
        bench.link("A", 2, "D2", 1)
        bench.run_until(10)
        assert bench.bridges["A"].bridge_id.priority_field == 32768 + vlan
        assert bench.bridges["A"].root_id.priority_field == 4096 + vlan
        roles[vlan] = (bench.role("A", 1), bench.role("A", 2))
    assert roles == {10: (ROOT, ALT), 20: (ALT, ROOT)}


def test_a_run_is_deterministic() -> None:
    def run() -> list[object]:
        bench = triangle()
        bench.link_down("C", 2, at=30.25)
        bench.link_up("C", 2, at=40.5)
        bench.run_until(60)
        return list(bench.records)

    assert run() == run()


TSHARK = shutil.which("tshark")


@pytest.mark.skipif(TSHARK is None, reason="tshark is not installed (Debian package tshark)")
def test_tshark_decodes_every_bpdu_of_a_mixed_run(tmp_path: Path) -> None:
    """A capture of every BPDU sent by an RSTP bridge R and two 802.1D bridges behind it
    (R - L1 - L2): RST, configuration and TCN BPDUs (L1 reports the change when its port
    to L2 forwards). Wireshark's stp dissector finds no malformed packet."""
    bench = Bench()
    bench.add_bridge("R", rstp(1, 1))
    bench.add_bridge("L1", StpBridge(2, {1: PortConfig(19), 2: PortConfig(19)}))
    bench.add_bridge("L2", StpBridge(3, {1: PortConfig(19)}))
    bench.link("R", 1, "L1", 1)
    bench.link("L1", 2, "L2", 1)
    bench.run_until(60)
    sent = bench.transmitted()
    kinds = {(type(b).__name__, getattr(b, "version", None)) for _, _, _, b in sent}
    assert kinds == {
        ("ConfigBpdu", ProtocolVersion.RSTP),
        ("ConfigBpdu", ProtocolVersion.STP),
        ("TcnBpdu", None),
    }
    path = tmp_path / "stp.pcap"
    write_pcap(
        path,
        [
            (t, bpdu_frame(b, 0x0200_0000_0000 + len(name)).to_bytes()[:-4])
            for t, name, _, b in sent
        ],
    )
    out = subprocess.run(
        [
            str(TSHARK),
            "-n",
            "-r",
            str(path),
            "-T",
            "fields",
            "-e",
            "stp.type",
            "-e",
            "_ws.malformed",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.splitlines()
    assert len(out) == len(sent)
    assert {tuple(line.split("\t")) for line in out} == {("0x00", ""), ("0x02", ""), ("0x80", "")}
    assert any(isinstance(b, TcnBpdu) for _, _, _, b in sent)
