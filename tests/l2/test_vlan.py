"""802.1Q VLANs: access ports, trunks, tags on the wire, and learning per VLAN.

A VLAN is a broadcast domain carved out of a switched network. An access port belongs to
one VLAN and its frames are untagged; a trunk carries several VLANs between switches,
each frame with a 4-byte tag (TPID 0x8100, then PCP, DEI and the 12-bit VID), except the
native VLAN's frames, which travel untagged. A switch learns, looks up and floods within
a VLAN: a broadcast in VLAN 10 never leaves through a VLAN-20 port, and the same MAC
address may live on different ports in different VLANs (independent VLAN learning).
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import netsim
from netsim.engine.sim import Simulation
from netsim.l2.frame import BROADCAST, ETHERTYPE_VLAN, Frame, fcs_valid, host_mac
from netsim.l2.mac_table import MacTable
from netsim.l2.vlan import PortVlan, frame_for_egress
from netsim.metrics.pcap import write_pcap
from netsim.scenario.load import from_data
from netsim.topology.build import build

NS = 1e-9
R = 100e6
D = 50e-9

TWO_SWITCHES = """\
name: vlans
duration: 2ms
topology:
  defaults:
    link: {speed: 100M, delay: 50ns}
    switch: {mode: store-and-forward}
  nodes:
    pc1: {kind: host}
    pc2: {kind: host}
    pc3: {kind: host}
    pc4: {kind: host}
    srv: {kind: host, vlan: 10}
    sw1:
      kind: switch
      ports: 8
      interfaces: {1: {vlan: 10}, 2: {vlan: 20}, 8: {mode: trunk, allowed: [10, 20]}}
    sw2:
      kind: switch
      ports: 8
      interfaces:
        1: {vlan: 10}
        2: {vlan: 20}
        3: {mode: trunk, allowed: [10]}
        8: {mode: trunk, allowed: [10, 20]}
  links:
    - endpoints: [pc1, "sw1:1"]
    - endpoints: [pc2, "sw1:2"]
    - endpoints: [pc3, "sw2:1"]
    - endpoints: [pc4, "sw2:2"]
    - endpoints: [srv, "sw2:3"]
    - endpoints: ["sw1:8", "sw2:8"]
traffic: []
"""
"""pc1 and pc3 in VLAN 10, pc2 and pc4 in VLAN 20, one switch each, a trunk between the
switches; srv sits on a trunk of sw2 with its sub-interface eth0.10."""


def run(traffic: str, *sets: str, follow: tuple[int, ...] = ()) -> netsim.Results:
    text = TWO_SWITCHES.replace("traffic: []", "traffic:\n" + traffic)
    loaded = netsim.loads(text)
    if sets:
        loaded = from_data(loaded.data, loaded.source, sets=list(sets))
    return netsim.run(loaded, follow=follow)


def rx(res: netsim.Results, device: str, port: str = "eth0") -> int:
    return int(res.ports.set_index(["device", "port"]).loc[(device, port), "rx_frames"])


# --- one port's rules ---------------------------------------------------------------


def test_an_access_port_takes_untagged_frames_into_its_vlan():
    port = PortVlan.access(10)
    assert port.classify(None) == 10
    assert port.classify(0) == 10  # priority-tagged: the port's VLAN, priority kept
    assert port.classify(10) == 10  # tagged with its own VLAN: accepted, as Catalysts do
    assert port.classify(20) is None
    assert not port.tags(10)


def test_a_trunk_tags_all_but_its_native_vlan_and_refuses_what_it_does_not_allow():
    trunk = PortVlan.trunk([10, 20], native=10)
    assert trunk.classify(None) == 10  # untagged: the native VLAN
    assert trunk.classify(20) == 20
    assert trunk.classify(30) is None
    assert trunk.tags(20) and not trunk.tags(10)
    assert PortVlan.trunk().carries(4094)  # allowed all by default
    assert PortVlan.trunk([10, 20]).classify(None) is None  # native 1 not allowed


def test_a_tag_adds_exactly_four_bytes_and_the_minimum_stays_64():
    """Pad before tagging: a 64-byte frame is 68 tagged; untagging pads back to 64."""
    for size in (64, 100, 1518):
        frame = Frame(1, BROADCAST, host_mac(1), size)
        tagged = frame_for_egress(frame, 10, tagged=True)
        assert tagged.size == size + 4 and tagged.wire_bytes == size + 12
        assert frame_for_egress(tagged, 10, tagged=False).size == size
    short_tagged = Frame(2, BROADCAST, host_mac(1), 64, vlan=10)
    assert frame_for_egress(short_tagged, 10, tagged=False).size == 64


def test_the_tag_on_the_wire_is_tpid_then_pcp_dei_vid():
    frame = Frame(7, BROADCAST, host_mac(1), 1522, vlan=1234, pcp=5)
    octets = frame.to_bytes()
    assert len(octets) == 1522 and fcs_valid(octets)
    assert int.from_bytes(octets[12:14], "big") == ETHERTYPE_VLAN
    tci = int.from_bytes(octets[14:16], "big")
    assert (tci >> 13, (tci >> 12) & 1, tci & 0xFFF) == (5, 0, 1234)


# --- learning per VLAN ----------------------------------------------------------------


def test_the_same_mac_in_two_vlans_is_two_entries():
    """IVL: one table entry per (VLAN, address); a lookup in one VLAN ignores the other."""
    events: list[tuple[str, int]] = []
    table: MacTable[str] = MacTable(300.0, None, lambda t, e, m, p, v: events.append((e, v)))
    table.learn(0xA, "1", 0.0, vlan=10)
    table.learn(0xA, "2", 0.0, vlan=20)
    assert table.vlan_entries() == {(10, 0xA): "1", (20, 0xA): "2"}
    assert table.lookup(0xA, 1.0, vlan=10) == "1"
    assert table.lookup(0xA, 1.0, vlan=20) == "2"
    assert table.lookup(0xA, 1.0) is None  # VLAN 1 never saw it
    assert events == [("learn", 10), ("learn", 20)]  # two learns, not a move


def test_a_switch_keeps_one_address_on_two_ports_in_two_vlans():
    """A station seen tagged 10 on trunk 7 and tagged 20 on trunk 8 is two entries; a
    frame to it in VLAN 10 goes to port 7 only, in VLAN 20 to port 8 only."""
    text = TWO_SWITCHES.replace(
        "      interfaces: {1: {vlan: 10}, 2: {vlan: 20}, 8: {mode: trunk, allowed: [10, 20]}}",
        "      interfaces: {1: {vlan: 10}, 2: {vlan: 20}, 7-8: {mode: trunk}}",
    )
    loaded = netsim.loads(text)
    sim = Simulation(1)
    net = build(loaded.topology, sim)
    sw1 = net.devices["sw1"]
    station = 0x0A00_0000_0001
    p7, p8 = net.port("sw1", "7"), net.port("sw1", "8")
    sw1.receive(p7, Frame(1, BROADCAST, station, 68, vlan=10), 1, 0.0, 0.0)
    sw1.receive(p8, Frame(2, BROADCAST, station, 68, vlan=20), 1, 0.0, 0.0)
    assert sw1.table.vlan_entries()[(10, station)] is p7
    assert sw1.table.vlan_entries()[(20, station)] is p8
    assert sw1.table.lookup(station, 0.0, vlan=10) is p7
    assert sw1.table.lookup(station, 0.0, vlan=20) is p8


def test_mac_events_carry_the_vlan():
    res = run(
        "  - {kind: frames, from: pc1, to: pc3, count: 1}\n"
        "  - {kind: frames, from: pc4, to: pc2, count: 1, start: 100us}\n"
    )
    learned = res.mac_events[res.mac_events["event"] == "learn"]
    by_mac = learned.groupby("mac")["vlan"].unique()
    assert list(by_mac["02:00:00:00:00:01"]) == [10]
    assert list(by_mac["02:00:00:00:00:04"]) == [20]


# --- flooding stays in its VLAN -------------------------------------------------------


def test_a_broadcast_in_vlan_10_reaches_only_vlan_10():
    """pc1's broadcast reaches pc3 (across the trunk) and srv (tagged, on its trunk);
    pc2 and pc4, in VLAN 20, never see it. Delivered means all three VLAN-10 hosts."""
    res = run("  - {kind: frames, from: pc1, to: broadcast, count: 1}\n")
    frame = res.frames.iloc[0]
    assert frame["outcome"] == "delivered" and frame["receivers"] == 2
    assert (rx(res, "pc3"), rx(res, "srv"), rx(res, "pc2"), rx(res, "pc4")) == (1, 1, 0, 0)


def test_unknown_unicast_floods_only_in_its_vlan():
    res = run("  - {kind: frames, from: pc2, to: pc4, count: 1}\n")
    assert res.frames["outcome"].eq("delivered").all()
    assert (rx(res, "pc1"), rx(res, "pc3"), rx(res, "srv")) == (0, 0, 0)


def test_a_server_on_a_trunk_answers_pings_through_its_sub_interface():
    """srv's eth0.10 tags its ARP replies and echo replies; pc1 in VLAN 10 reaches it
    across two switches, and pc2 in VLAN 20 cannot (no router between the VLANs)."""
    res = run(
        "  - {kind: ping, from: pc1, to: srv, count: 3, interval: 100us}\n"
        "  - {kind: ping, from: pc2, to: srv, count: 1, start: 500us, timeout: 1ms}\n"
    )
    ping = res.extra["ping"]
    assert list(ping[ping["src"] == "pc1"]["outcome"]) == ["reply"] * 3
    assert list(ping[ping["src"] == "pc2"]["outcome"]) == ["timeout"]


# --- ingress filtering ----------------------------------------------------------------


def test_a_vlan_the_port_does_not_carry_is_dropped_with_a_reason():
    """pc1's source writes tag 20 into frames entering access port 1 (VLAN 10): sw1
    drops them, vlan-not-allowed. Tag 30, which no port of sw1 has, is unknown-vlan."""
    res = run(
        "  - {kind: frames, name: t20, from: pc1, to: pc4, count: 1, vlan: 20}\n"
        "  - {kind: frames, name: t30, from: pc1, to: pc4, count: 1, vlan: 30}\n"
    )
    reasons = res.frames.set_index("traffic")[["drop_device", "drop_reason"]]
    assert tuple(reasons.loc["t20"]) == ("sw1", "vlan-not-allowed")
    assert tuple(reasons.loc["t30"]) == ("sw1", "unknown-vlan")


def test_a_trunk_refuses_a_vlan_off_its_allowed_list():
    """srv's trunk allows only VLAN 10: a frame for VLAN 20 never goes out on it, and
    one srv sends tagged 20 is refused on the way in."""
    res = run("  - {kind: frames, from: srv, to: pc4, count: 1, vlan: 20}\n")
    assert tuple(res.frames.iloc[0][["drop_device", "drop_reason"]]) == (
        "sw2",
        "vlan-not-allowed",
    )


def test_a_tagged_frame_on_an_unconfigured_switch_is_refused():
    """A switch out of the box has access ports in VLAN 1: a tag naming another VLAN
    is not taken (traffic that writes tags needs ports that carry its VLAN)."""
    text = """\
name: plain
duration: 1ms
topology:
  nodes: {a: {kind: host}, b: {kind: host}, sw: {kind: switch, ports: 2}}
  links: [{endpoints: [a, sw]}, {endpoints: [sw, b]}]
traffic:
  - {kind: frames, name: tagged, from: a, to: b, count: 1, vlan: 10}
  - {kind: frames, name: one, from: a, to: b, count: 1, vlan: 1, start: 10us}
"""
    res = netsim.run(netsim.loads(text))
    outcome = res.frames.set_index("traffic")
    assert outcome.loc["tagged", "drop_reason"] == "unknown-vlan"
    assert outcome.loc["one", "outcome"] == "delivered"  # tagged 1 on an access port in 1


# --- timing: a trunk adds 4 bytes on the wire -----------------------------------------


@pytest.mark.parametrize("mode", ["store-and-forward", "cut-through"])
def test_a_1518_byte_frame_is_1522_on_the_trunk_with_its_wire_time(mode: str):
    """pc1 -> sw1 -> trunk -> sw2 -> pc3, 1518 bytes: the trunk hop carries 1522 bytes for
    (1522 + 8) * 8 / R, and the end-to-end latency is the formula with that hop longer.

    Store-and-forward: each hop's whole frame, W1 + W2 + W3 (+3d). Cut-through: the
    first hop whole, then each switch starts after 22 bytes (untagged header) at sw1
    and 26 at sw2, which must read the tag to know the VLAN; the last bit then leaves
    sw2 4 bytes sooner (it removes the tag)."""
    res = run(
        "  - {kind: frames, from: pc1, to: pc3, count: 2, size: 1518, interval: 500us}\n",
        f"topology.defaults.switch.mode={mode}",
        follow=(2,),
    )
    hops = res.hops.set_index("from_port")
    trunk = hops.loc["sw1:8"]
    assert trunk["bytes"] == 1522
    assert trunk["t_last_bit_in"] - trunk["t_first_bit_in"] == pytest.approx(1530 * 8 / R, abs=NS)
    assert hops.loc["sw2:1", "bytes"] == 1518
    latency = res.frames.set_index("frame_id").loc[2, "latency"]
    if mode == "store-and-forward":
        formula = (1526 + 1530 + 1526) * 8 / R + 3 * D
    else:
        formula = (22 + 26 + 1526) * 8 / R + 3 * D
    assert latency == pytest.approx(formula, abs=NS)


# --- a capture of the trunk, decoded by tshark ----------------------------------------


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
def test_tshark_decodes_vid_and_pcp_on_a_captured_trunk(tmp_path):
    """Frames on the trunk carry real 802.1Q tags: tshark reads VID 10 and 20 and the
    priority bits, and verifies the IPv4 and ICMP checksums inside the tagged frames."""
    loaded = netsim.loads(TWO_SWITCHES)
    sim = Simulation(1)
    net = build(loaded.topology, sim)
    trunk = net.port("sw1", "8")
    trunk.captured = []
    from netsim.apps.ping import Pinger

    Pinger(
        sim,
        "ping",
        net.stacks["pc1"],
        net.stacks["srv"].address,
        "srv",
        count=2,
        interval=100e-6,
        size=56,
        start=0.0,
        timeout=1e-3,
        identifier=1,
    )
    pc2, pc4 = net.hosts["pc2"], net.hosts["pc4"]
    sim.call_at(
        300e-6, pc2.send, Frame(sim.next_frame_id(), pc4.mac, pc2.mac, 200, pcp=5), "pc4", "cos"
    )
    sim.run()
    path = tmp_path / "trunk.pcap"
    write_pcap(
        path, [(t, f.to_bytes()[:-4]) for t, f in sorted(trunk.captured, key=lambda r: r[0])]
    )
    out = subprocess.run(
        [
            "tshark", "-r", str(path), "-o", "ip.check_checksum:TRUE", "-T", "fields",
            "-e", "vlan.id", "-e", "vlan.priority", "-e", "ip.checksum.status",
            "-e", "icmp.checksum.status", "-e", "frame.len",
        ],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    rows = [line.split("\t") for line in out.strip().splitlines()]
    assert {r[0] for r in rows} == {"10", "20"}
    icmp = [r for r in rows if r[3]]
    assert len(icmp) == 4  # two requests, two replies, all tagged 10
    assert all(r[0] == "10" and r[2] == "1" and r[3] == "1" for r in icmp)  # 1 = good
    cos = [r for r in rows if r[0] == "20"]
    assert [(r[1], r[4]) for r in cos] == [("5", "200")]  # PCP 5; 200 + 4 - FCS


# --- a property: isolation on random VLAN layouts ---------------------------------------


@st.composite
def vlan_trees(draw: st.DrawFn) -> tuple[str, dict[str, int]]:
    """A random tree of switches joined by trunks, hosts on access ports of VLANs 10..12."""
    n_switches = draw(st.integers(1, 4))
    nodes = [f"    sw{i}: {{kind: switch, ports: 16, interfaces: {{9-16: {{mode: trunk}}}}}}"
             for i in range(n_switches)]  # fmt: skip
    links = []
    next_trunk = dict.fromkeys(range(n_switches), 9)
    for i in range(1, n_switches):
        parent = draw(st.integers(0, i - 1))
        links.append(
            f'    - endpoints: ["sw{i}:{next_trunk[i]}", "sw{parent}:{next_trunk[parent]}"]'
        )
        next_trunk[i] += 1
        next_trunk[parent] += 1
    vlan_of: dict[str, int] = {}
    next_access = dict.fromkeys(range(n_switches), 1)
    for h in range(draw(st.integers(2, 8))):
        sw = draw(st.integers(0, n_switches - 1))
        vlan = draw(st.sampled_from([10, 11, 12]))
        port = next_access[sw]
        next_access[sw] += 1
        nodes[sw] = nodes[sw].replace("interfaces: {", f"interfaces: {{{port}: {{vlan: {vlan}}}, ")
        nodes.append(f"    h{h}: {{kind: host}}")
        links.append(f'    - endpoints: [h{h}, "sw{sw}:{port}"]')
        vlan_of[f"h{h}"] = vlan
    text = (
        "name: tree\nduration: 1ms\ntopology:\n  nodes:\n" + "\n".join(nodes)
        + "\n  links:\n" + "\n".join(links) + "\ntraffic:\n"
        + "".join(
            f"  - {{kind: frames, from: {h}, to: broadcast, count: 1, start: {i * 100}us}}\n"
            for i, h in enumerate(vlan_of)
        )
    )  # fmt: skip
    return text, vlan_of


@settings(derandomize=True, max_examples=25, deadline=None)
@given(vlan_trees())
def test_broadcasts_reach_exactly_the_hosts_of_their_vlan(case: tuple[str, dict[str, int]]):
    """Every host broadcasts once: each host receives one frame per other host of its
    own VLAN and none from other VLANs, and every broadcast counts as delivered."""
    text, vlan_of = case
    res = netsim.run(netsim.loads(text))
    for host, vlan in vlan_of.items():
        same = sum(1 for other, v in vlan_of.items() if v == vlan and other != host)
        assert rx(res, host) == same
    outcome = res.frames.set_index("src")["outcome"]
    for host, vlan in vlan_of.items():
        alone = list(vlan_of.values()).count(vlan) == 1
        assert outcome[host] == ("dropped" if alone else "delivered")
