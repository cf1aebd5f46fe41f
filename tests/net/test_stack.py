"""A host's IPv4 stack on the fabric: ARP before the first packet, real bytes on the wire.

The first packet to a new neighbour waits while ARP broadcasts "who has 10.0.0.2?"; every
switch floods that broadcast and learns the asker's MAC from it, and the answer comes
back unicast. Later packets go straight out, unicast, and are not flooded. The bytes are
real: an independent parser (dpkt, used only here) reads the capture files, and the test's
own checksum routine verifies every IPv4, ICMP and TCP checksum.
"""

from __future__ import annotations

import struct

import dpkt
import pytest

import netsim

SCENARIO = """
name: stack
duration: 100ms
topology:
  defaults: {link: {speed: 100M, delay: 1us}}
  nodes:
    h1: {kind: host}
    sw1: {kind: switch, ports: 4}
    sw2: {kind: switch, ports: 4}
    h2: {kind: host, ip: 192.168.7.20/24}
    h3: {kind: host, ip: 192.168.7.30/24}
  links:
    - endpoints: [h1, sw1]
    - endpoints: [sw1, sw2]
    - endpoints: [sw2, h2]
    - endpoints: [sw2, h3]
traffic:
  - {kind: ping, name: ping, from: h2, to: h3, count: 3, interval: 10ms}
  - {kind: tcp, name: rpc, from: h2, to: h3, request: 300B, response: 2000B, count: 2,
     interval: 5ms, start: 50ms}
measure:
  capture: ["h2:eth0", "sw2:1"]
"""


@pytest.fixture(scope="module")
def results() -> netsim.Results:
    return netsim.run(netsim.loads(SCENARIO))


def test_the_first_ping_waits_for_arp_and_later_ones_do_not(results):
    rate, d = 100e6, 1e-6
    hop = lambda frame: frame_time(frame, rate) + d  # noqa: E731
    # h2 and h3 hang off sw2: two links each way.
    rtt = 2 * (2 * hop(102))
    arp = 2 * (2 * hop(64))
    pings = results.ping
    assert list(pings["outcome"]) == ["reply"] * 3
    assert pings["rtt"].iloc[0] == pytest.approx(arp + rtt, abs=1e-9)
    assert list(pings["rtt"].iloc[1:]) == [pytest.approx(rtt, abs=1e-9)] * 2


def frame_time(frame_bytes: int, rate: float) -> float:
    return (frame_bytes + 8) * 8 / rate


def test_arp_request_is_broadcast_flooded_and_learned_reply_is_unicast(results):
    frames = results.frames
    arp = frames[frames["traffic"] == "arp"]
    request, reply = arp.iloc[0], arp.iloc[1]
    assert (request["src"], request["dst"], request["receivers"]) == ("h2", "broadcast", 2)
    assert (reply["src"], reply["dst"]) == ("h3", "h2")
    assert len(arp) == 2  # each side learned the other from this one exchange
    ev = results.mac_events
    floods = ev[ev["event"] == "flood"]
    # Both switches flood the broadcast; nothing else is ever flooded.
    assert sorted(floods["device"]) == ["sw1", "sw2"]
    assert set(floods["mac"]) == {"ff:ff:ff:ff:ff:ff"}
    learned = ev[(ev["event"] == "learn") & (ev["mac"] == "02:00:00:00:00:02")]
    assert sorted(learned["device"]) == ["sw1", "sw2"]


def internet_checksum(data: bytes) -> int:
    """RFC 1071, written independently of netsim's: the ones' complement of the ones'
    complement sum of 16-bit words. A correct header sums to 0."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def read_pcap(path):
    with open(path, "rb") as f:
        return list(dpkt.pcap.Reader(f))


def test_captures_decode_with_an_independent_parser_and_every_checksum_verifies(results, tmp_path):
    out = results.save(tmp_path / "r")
    records = read_pcap(out / "captures" / "h2_eth0.pcap")
    seen = {"arp": 0, "icmp": 0, "tcp": 0}
    for _ts, raw in records:
        eth = dpkt.ethernet.Ethernet(raw)
        if isinstance(eth.data, dpkt.arp.ARP):
            seen["arp"] += 1
            continue
        ip = eth.data
        assert isinstance(ip, dpkt.ip.IP)
        header = bytes(raw[14 : 14 + ip.hl * 4])
        assert internet_checksum(header) == 0
        payload = bytes(raw[14 + ip.hl * 4 : 14 + ip.len])
        if ip.p == dpkt.ip.IP_PROTO_ICMP:
            seen["icmp"] += 1
            assert internet_checksum(payload) == 0
        else:
            assert ip.p == dpkt.ip.IP_PROTO_TCP
            seen["tcp"] += 1
            pseudo = ip.src + ip.dst + struct.pack("!BBH", 0, 6, len(payload))
            assert internet_checksum(pseudo + payload) == 0
    assert seen["arp"] == 2 and seen["icmp"] == 6 and seen["tcp"] > 10


def test_capture_timestamps_match_frames_csv(results, tmp_path):
    """A capture stamps what a port sends at its first bit and what it receives at its
    last bit: the same instants frames.csv gives as t_first_bit_out and t_last_bit_in."""
    out = results.save(tmp_path / "r")
    records = read_pcap(out / "captures" / "h2_eth0.pcap")
    frames = results.frames
    sent = frames[frames["src"] == "h2"]["t_first_bit_out"]
    received = frames[frames["dst"].isin(["h2", "broadcast"]) & (frames["src"] != "h2")]
    expected = sorted([*sent, *received["t_last_bit_in"]])
    assert [float(ts) for ts, _ in records] == pytest.approx(expected, abs=1e-9)


def test_a_switch_port_capture_sees_the_conversation_in_transit(results, tmp_path):
    out = results.save(tmp_path / "r")
    records = read_pcap(out / "captures" / "sw2_1.pcap")
    # sw2:1 faces sw1: after learning, h2<->h3 traffic never goes there; only the
    # flooded ARP request does.
    assert len(records) == 1
    eth = dpkt.ethernet.Ethernet(records[0][1])
    assert isinstance(eth.data, dpkt.arp.ARP) and eth.dst == b"\xff" * 6


def test_arp_retries_then_gives_up_and_the_ping_times_out():
    """h3's cable is pulled before h2 first pings it: ARP asks three times, a second
    apart (RFC 1122: at most one request per second), then declares h3 unreachable."""
    text = SCENARIO.split("traffic:")[0] + (
        "traffic:\n  - {kind: ping, from: h2, to: h3, count: 1, timeout: 5s}\n"
        "events:\n  - {at: 0s, action: link-down, link: [sw2, h3]}\n"
    )
    res = netsim.run(netsim.loads(text))
    assert list(res.ping["outcome"]) == ["timeout"]
    arp = res.frames[res.frames["traffic"] == "arp"]
    assert list(arp["t_queued"]) == [0.0, 1.0, 2.0]
    assert (arp["dst"] == "broadcast").all()


def test_tcp_recovers_frames_lost_to_collisions_on_a_hub():
    """A bulk transfer shares a 10 Mb/s hub with a chatty station: collisions, backoff,
    the odd excessive-collision drop, yet every byte arrives once and in order."""
    res = netsim.run(
        netsim.loads(
            """
name: tcp-hub
duration: 2s
topology:
  defaults: {link: {media: 10BASE-T, length: 10m}}
  nodes:
    hub1: {kind: hub, ports: 4}
    a: {kind: host}
    b: {kind: host}
    noisy: {kind: host}
  links:
    - endpoints: [a, hub1]
    - endpoints: [b, hub1]
    - endpoints: [noisy, hub1]
traffic:
  - {kind: tcp, name: bulk, from: a, to: b, bytes: 300KB}
  - {kind: frames, name: noise, from: noisy, to: b, size: 64, rate: 30%, pattern: poisson}
"""
        )
    )
    (row,) = res.tcp.to_dict("records")
    assert bool(row["intact"]) and row["bytes"] == 300_000
    assert res.ports.set_index("device").loc["a", "collisions"] > 0
