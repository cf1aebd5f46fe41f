"""Routers forward between subnets: ARP per interface, TTL minus one per hop, ICMP errors.

h1 (10.0.1.0/24) - r1 - (10.0.12.0/30) - r2 - h2 (10.0.2.0/24). Each host sends
off-subnet packets to its gateway's MAC (found with ARP); each router sends them on
from its own MAC, one TTL less. The timings are arithmetic: every link crossing is
the frame's wire time (preamble included) plus the propagation delay, and each router
adds its processing delay once its last bit is in (store-and-forward). The test
computes that sum itself and compares to the nanosecond.
"""

from __future__ import annotations

import shutil
import subprocess

import dpkt
import pytest

import netsim
from netsim.engine.sim import Simulation
from netsim.l2.frame import PREAMBLE_SFD_BYTES
from netsim.metrics.pcap import write_pcap
from netsim.net.addressing import IPv4Address
from netsim.net.icmp import IcmpEcho, IcmpMessage, IcmpType
from netsim.net.ipv4 import IpProtocol, Ipv4Packet
from netsim.topology.build import Network, build

RATE = 1e9
DELAY = 50e-9
R1_DELAY = 10e-6
R2_DELAY = 20e-6

SCENARIO = f"""
name: two-routers
duration: 1s
topology:
  defaults:
    link: {{speed: 1G, delay: 50ns}}
  nodes:
    h1: {{kind: host, ip: 10.0.1.10/24, gateway: 10.0.1.1}}
    r1:
      kind: router
      processing_delay: {R1_DELAY * 1e6:g}us
      interfaces:
        Gi0/0: {{ip: 10.0.1.1/24}}
        Gi0/1: {{ip: 10.0.12.1/30}}
      routes:
        - {{to: 10.0.2.0/24, via: 10.0.12.2}}
    r2:
      kind: router
      processing_delay: {R2_DELAY * 1e6:g}us
      interfaces:
        Gi0/0: {{ip: 10.0.12.2/30}}
        Gi0/1: {{ip: 10.0.2.1/24}}
      routes:
        - {{to: default, via: 10.0.12.1}}
    h2: {{kind: host, ip: 10.0.2.20/24, gateway: 10.0.2.1}}
  links:
    - endpoints: [h1, "r1:Gi0/0"]
    - endpoints: ["r1:Gi0/1", "r2:Gi0/0"]
    - endpoints: ["r2:Gi0/1", h2]
traffic:
  - {{kind: ping, from: h1, to: h2, count: 3, interval: 100ms}}
measure:
  capture: ["h2:eth0", "r1:Gi0/1"]
"""


def hop(frame_bytes: int) -> float:
    """One link crossing: the whole frame with its preamble on the wire, then the cable."""
    return (frame_bytes + PREAMBLE_SFD_BYTES) * 8 / RATE + DELAY


@pytest.fixture(scope="module")
def results() -> netsim.Results:
    return netsim.run(netsim.loads(SCENARIO))


def test_a_ping_across_two_routers_takes_the_sum_of_its_hops_and_the_routers_delays(results):
    echo = 14 + 20 + 8 + 56 + 4  # Ethernet header, IPv4, ICMP, 56 data bytes, FCS: 102
    arp = 64
    one_way = 3 * hop(echo) + R1_DELAY + R2_DELAY
    rtt = 2 * one_way
    pings = results.ping
    assert list(pings["outcome"]) == ["reply"] * 3
    # Later pings find every ARP cache warm: the bare sum.
    for value in pings["rtt"].iloc[1:]:
        assert value == pytest.approx(rtt, abs=1e-9)
    # The first waits for three ARP exchanges on the way out (h1, r1, r2 each ask) and
    # none on the way back. A router handles every frame it takes, ARP too, after its
    # processing delay: the request it answers and the reply it is waiting for.
    first = (
        2 * hop(arp) + R1_DELAY  # h1 asks r1; r1 answers after its delay
        + hop(echo) + R1_DELAY  # h1 -> r1, r1 routes
        + 2 * hop(arp) + R2_DELAY + R1_DELAY  # r1 asks r2; r2 answers; r1 takes it in
        + hop(echo) + R2_DELAY  # r1 -> r2, r2 routes
        + 2 * hop(arp) + R2_DELAY  # r2 asks h2; h2 answers at once; r2 takes it in
        + hop(echo)  # r2 -> h2
        + one_way  # and back, every cache warm
    )  # fmt: skip
    assert pings["rtt"].iloc[0] == pytest.approx(first, abs=1e-9)


def ip_packets(records) -> list[dpkt.ip.IP]:
    """The IPv4 packets in a capture, decoded by dpkt (not by netsim)."""
    out = []
    for _t, frame in records:
        eth = dpkt.ethernet.Ethernet(frame.to_bytes()[:-4])
        if isinstance(eth.data, dpkt.ip.IP):
            out.append(eth.data)
    return out


def test_the_ttl_drops_by_one_per_router(results):
    at_h2 = ip_packets(results.captures["h2:eth0"])
    requests = [p for p in at_h2 if p.src == IPv4Address("10.0.1.10").packed]
    assert [p.ttl for p in requests] == [64 - 2] * 3  # Linux's 64, minus r1 and r2
    between = [p for p in ip_packets(results.captures["r1:Gi0/1"])]
    assert {p.ttl for p in between if p.src == IPv4Address("10.0.1.10").packed} == {63}
    assert {p.ttl for p in between if p.src == IPv4Address("10.0.2.20").packed} == {63}


def test_a_router_sends_from_its_own_mac(results):
    at_h2 = results.captures["h2:eth0"]
    r2_macs = {m for m, n in results_network_names(results).items() if n == "r2"}
    h2_mac = next(m for m, n in results_network_names(results).items() if n == "h2")
    sources = {f.src for _t, f in at_h2 if f.dst == h2_mac}
    assert sources and sources <= r2_macs


def results_network_names(results: netsim.Results) -> dict[int, str]:
    net = build(results.topology, Simulation(1))  # type: ignore[arg-type]
    return net.names


def test_frames_csv_ends_each_frame_at_the_router_it_reached(results):
    frames = results.frames
    assert (frames["outcome"] == "delivered").all()
    assert set(frames.loc[frames["src"] == "h1", "dst"]) == {"r1", "broadcast"}
    assert set(frames.loc[frames["src"] == "r1", "dst"]) == {"r2", "h1", "broadcast"}


# --- ICMP errors: built on a live network, with packets the test writes itself ---------


def network() -> tuple[Simulation, Network]:
    sim = Simulation(1)
    return sim, build(netsim.loads(SCENARIO).topology, sim)


def icmp_received(net: Network, host: str) -> list[tuple[IPv4Address, IcmpMessage]]:
    """Every ICMP message ``host`` received, with its sender: decoded from the capture."""
    out = []
    for _t, frame in net.port(host, "eth0").captured or []:
        if frame.ethertype != 0x0800 or frame.dst != net.hosts[host].mac:
            continue
        packet = Ipv4Packet.from_bytes(frame.payload_bytes())
        if packet.protocol == IpProtocol.ICMP:
            out.append((packet.src, IcmpMessage.from_bytes(packet.payload)))
    return out


def send_echo(sim: Simulation, net: Network, dst: str, ttl: int, at: float = 0.0) -> None:
    stack = net.stacks["h1"]
    echo = IcmpEcho.request(7, 1, b"traceroute").to_bytes()
    packet = Ipv4Packet(stack.address, IPv4Address(dst), IpProtocol.ICMP, echo, ttl=ttl)
    sim.call_at(at, stack.send_packet, packet, "icmp")


@pytest.mark.parametrize(("ttl", "router"), [(1, "10.0.1.1"), (2, "10.0.12.2")])
def test_ttl_expiring_gets_time_exceeded_from_the_router_where_it_expired(ttl, router):
    """TTL 1 dies at r1, TTL 2 at r2: each says so from the interface the packet came
    in on (traceroute's evidence), quoting the packet's header and 8 bytes of ICMP."""
    sim, net = network()
    net.port("h1", "eth0").captured = []
    send_echo(sim, net, "10.0.2.20", ttl)
    sim.run(until=1.0)
    got = icmp_received(net, "h1")
    assert len(got) == 1
    source, message = got[0]
    assert source == IPv4Address(router)
    assert (message.type, message.code) == (IcmpType.TIME_EXCEEDED, 0)
    assert message.body[16:20] == IPv4Address("10.0.2.20").packed  # the quoted header's dst
    assert message.body[20:28] == IcmpEcho.request(7, 1, b"traceroute").to_bytes()[:8]
    drops = [d for d in sim.trace.dropped if d[2] == "ttl-exceeded"]
    assert [d[1] for d in drops] == ["r1" if ttl == 1 else "r2"]


def test_no_route_gets_net_unreachable_and_the_drop_is_recorded_with_its_reason():
    """r1 knows 10.0.2.0/24 only; 192.0.2.1 has no route (and r1 no default)."""
    sim, net = network()
    net.port("h1", "eth0").captured = []
    send_echo(sim, net, "192.0.2.1", 64)
    sim.run(until=1.0)
    got = icmp_received(net, "h1")
    assert [(s, m.type, m.code) for s, m in got] == [
        (IPv4Address("10.0.1.1"), IcmpType.DESTINATION_UNREACHABLE, 0)
    ]
    assert [(d[1], d[2]) for d in sim.trace.dropped] == [("r1", "no-route")]
    assert net.engines["r1"].interfaces["Gi0/0"].counters.no_route == 1


def test_a_ping_of_the_routers_far_interface_is_answered():
    sim, net = network()
    net.port("h1", "eth0").captured = []
    send_echo(sim, net, "10.0.12.2", 64)
    sim.run(until=1.0)
    got = icmp_received(net, "h1")
    assert [(s, m.type) for s, m in got] == [(IPv4Address("10.0.12.2"), IcmpType.ECHO_REPLY)]


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
def test_tshark_decodes_arp_and_icmp_with_valid_checksums(tmp_path):
    """The frames a router writes are real: tshark verifies the IPv4 and ICMP checksums
    of echoes and of the time-exceeded error, and reads the ARP exchange."""
    sim, net = network()
    port = net.port("h1", "eth0")
    port.captured = []
    send_echo(sim, net, "10.0.2.20", 1)
    send_echo(sim, net, "10.0.2.20", 64, at=0.1)
    sim.run(until=1.0)
    path = tmp_path / "h1.pcap"
    write_pcap(path, [(t, f.to_bytes()[:-4]) for t, f in sorted(port.captured, key=lambda r: r[0])])
    out = subprocess.run(
        [
            "tshark", "-r", str(path), "-o", "ip.check_checksum:TRUE", "-T", "fields",
            "-e", "arp.opcode", "-e", "icmp.type", "-e", "ip.checksum.status",
            "-e", "icmp.checksum.status", "-e", "ip.src", "-e", "ip.ttl",
        ],
        capture_output=True, text=True, check=True, timeout=600,  # catches a hang only
    ).stdout  # fmt: skip
    rows = [line.split("\t") for line in out.strip().splitlines()]
    assert [r[0] for r in rows if r[0]] == ["1", "2"]  # h1 asks for its gateway, r1 answers
    icmp = [r for r in rows if r[1]]
    assert [r[1].split(",")[0] for r in icmp] == ["8", "11", "8", "0"]
    # 1 = good. (In the error, the quoted echo's own checksum cannot be checked: only
    # its first 8 bytes are quoted, so tshark reports the outer values first.)
    assert all(r[2].split(",")[0] == "1" and r[3].split(",")[0] == "1" for r in icmp)
    exceeded = icmp[1]
    assert exceeded[4].split(",")[0] == "10.0.1.1"
    assert exceeded[5].split(",")[0] == "255"  # a router's own packets start at 255
    reply = icmp[3]
    assert reply[5] == "62"  # h2's 64, minus r2 and r1


def test_ping_csv_shows_the_reply_ttl_and_which_router_dropped_a_short_lived_request():
    """``ttl: 1`` and ``ttl: 2``: traceroute's first two probes. ping.csv names the router
    of each hop (the address of the interface the probe came in on); a full-TTL ping
    shows the reply's TTL, 64 less one per router on the way back."""
    text = SCENARIO.replace(
        "  - {kind: ping, from: h1, to: h2, count: 3, interval: 100ms}",
        "  - {kind: ping, name: hop1, from: h1, to: h2, count: 1, ttl: 1}\n"
        "  - {kind: ping, name: hop2, from: h1, to: h2, count: 1, ttl: 2, start: 10ms}\n"
        "  - {kind: ping, name: full, from: h1, to: h2, count: 1, start: 20ms}\n"
        "  - {kind: ping, name: back, from: h2, to: h1, count: 1, start: 30ms, ttl: 1}",
    )
    pings = netsim.run(netsim.loads(text)).ping.set_index("traffic")
    assert pings.loc["hop1", "outcome"] == "ttl-exceeded"
    assert pings.loc["hop1", "icmp_from"] == "10.0.1.1"
    assert pings.loc["hop2", "outcome"] == "ttl-exceeded"
    assert pings.loc["hop2", "icmp_from"] == "10.0.12.2"
    assert pings.loc["full", "outcome"] == "reply"
    assert pings.loc["full", "ttl"] == 62
    assert pings.loc["back", "icmp_from"] == "10.0.2.1"


def test_tcp_transfers_cross_the_routers_intact():
    """tcp.csv works across routers: every exchange delivered intact, nothing resent."""
    text = SCENARIO.replace(
        "  - {kind: ping, from: h1, to: h2, count: 3, interval: 100ms}",
        "  - {kind: tcp, from: h1, to: h2, request: 500B, response: 200KB, count: 3,"
        " interval: 100ms}",
    )
    tcp = netsim.run(netsim.loads(text)).tcp
    assert len(tcp) == 3
    assert tcp["intact"].all()
    assert (tcp["retransmissions"] == 0).all()


def test_a_forwarding_rate_adds_one_packet_time_per_router_crossing():
    """At 1 Mpps, r1's engine takes 1 µs per packet: each ping crosses r1 twice."""
    text = SCENARIO.replace(
        "      processing_delay: 10us\n",
        "      processing_delay: 10us\n      forwarding_rate: 1Mpps\n",
        1,
    )
    rtt = netsim.run(netsim.loads(text)).ping["rtt"].iloc[-1]
    echo = 102
    base = 2 * (3 * hop(echo) + R1_DELAY + R2_DELAY)
    assert rtt == pytest.approx(base + 2 * 1e-6, abs=1e-9)
