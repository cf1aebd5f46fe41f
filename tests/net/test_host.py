"""The whole host stack on a toy Ethernet: ARP before IP, ping, TCP, and a capture of it all.

:class:`Lan` is a shared wire (like a hub): every frame reaches every other NIC after a
fixed delay, and the NICs filter by destination MAC. Its event loop is a heap, and it
writes down every frame's bytes with the time it was sent, which is what a capture on
the wire would see.
"""

from __future__ import annotations

import heapq
import io
import itertools
from collections.abc import Callable

import dpkt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.l2.frame import BROADCAST, ETHERTYPE_ARP, ETHERTYPE_IPV4, Frame, host_mac
from netsim.metrics.pcap import PcapWriter
from netsim.net.addressing import IpConfig, IPv4Address, auto_interface, parse_interface
from netsim.net.arp import ArpOp, ArpPacket
from netsim.net.host import EchoReplyReceived, HostStack, Unreachable
from netsim.net.ipv4 import IpProtocol, Ipv4Packet
from netsim.net.tcp.endpoint import Endpoint
from netsim.net.tcp.states import TcpState

DELAY = 0.0001


class Lan:
    """Hosts on one shared wire, and the heap that orders what happens."""

    def __init__(self, count: int) -> None:
        self.hosts = [HostStack(host_mac(i + 1), IpConfig(auto_interface(i))) for i in range(count)]
        self.now = 0.0
        self.wire: list[tuple[float, Frame]] = []
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._tie = itertools.count()
        self._frame_ids = itertools.count(1)

    def at(self, time: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._heap, (time, next(self._tie), action))

    def pump(self, host: HostStack) -> None:
        for out in host.frames_to_send(self.now):
            frame = out.to_frame(next(self._frame_ids), host.mac)
            self.wire.append((self.now, frame))
            for other in self.hosts:
                if other is not host:
                    self.at(self.now + DELAY, lambda o=other, f=frame: self._arrive(o, f))
        deadline = host.next_timer()
        if deadline is not None:
            self.at(deadline, lambda: self._tick(host))

    def _arrive(self, host: HostStack, frame: Frame) -> None:
        host.receive_frame(frame, self.now)
        self.pump(host)

    def _tick(self, host: HostStack) -> None:
        host.on_timer(self.now)
        self.pump(host)

    def run(self, until: float) -> None:
        while self._heap and self._heap[0][0] <= until:
            self.now, _, action = heapq.heappop(self._heap)
            action()
        self.now = until

    def events(self, host: HostStack) -> list[object]:
        return list(iter(host.next_event, None))


def test_first_ping_resolves_the_address_with_arp() -> None:
    """Broadcast ARP request, unicast reply, then echo request and reply: 4 frames, 2 RTTs."""
    lan = Lan(2)
    h1, h2 = lan.hosts
    h1.ping(h2.ip.address, 0.0, identifier=7, sequence=1, data=b"abcdefgh")
    lan.pump(h1)
    lan.run(1.0)
    kinds = [(f.dst == BROADCAST, f.ethertype) for _, f in lan.wire]
    assert kinds == [
        (True, ETHERTYPE_ARP),
        (False, ETHERTYPE_ARP),
        (False, ETHERTYPE_IPV4),
        (False, ETHERTYPE_IPV4),
    ]
    reply = ArpPacket.from_bytes(lan.wire[1][1].payload_bytes())
    assert reply.op is ArpOp.REPLY and reply.sender_mac == h2.mac and reply.target_mac == h1.mac
    (event,) = lan.events(h1)
    assert isinstance(event, EchoReplyReceived)
    assert (event.src, event.identifier, event.sequence) == (h2.ip.address, 7, 1)
    assert event.rtt == pytest.approx(4 * DELAY), "ARP's round trip, then the echo's"
    assert h2.arp.lookup(h1.ip.address, 1.0) == h1.mac, "the target learned the asker"


def test_second_ping_needs_no_arp() -> None:
    """With the cache warm, a ping is one round trip."""
    lan = Lan(2)
    h1, h2 = lan.hosts
    h1.ping(h2.ip.address, 0.0, sequence=1)
    lan.pump(h1)
    lan.run(1.0)
    lan.events(h1)
    h1.ping(h2.ip.address, 1.0, sequence=2)
    lan.pump(h1)
    lan.run(2.0)
    (event,) = lan.events(h1)
    assert isinstance(event, EchoReplyReceived) and event.rtt == pytest.approx(2 * DELAY)


def test_nobody_home_three_arp_requests_then_unreachable() -> None:
    """Requests at 0, 1 and 2 s go unanswered; at 3 s the waiting packets are dropped."""
    lan = Lan(2)
    h1 = lan.hosts[0]
    ghost = IPv4Address("10.0.0.99")
    h1.ping(ghost, 0.0, sequence=1)
    h1.ping(ghost, 0.5, sequence=2)
    lan.pump(h1)
    lan.run(10.0)
    assert [t for t, f in lan.wire] == [0.0, 1.0, 2.0]
    assert all(f.ethertype == ETHERTYPE_ARP and f.dst == BROADCAST for _, f in lan.wire)
    assert lan.events(h1) == [Unreachable(ghost, 2)]


def test_off_link_without_gateway_is_unreachable_at_once() -> None:
    """No route: the stack says so without sending anything."""
    lan = Lan(1)
    h1 = lan.hosts[0]
    h1.ping(IPv4Address("192.168.7.7"), 0.0)
    assert lan.events(h1) == [Unreachable(IPv4Address("192.168.7.7"), 1)]


def test_nics_ignore_other_macs_and_bad_frames() -> None:
    """A frame for someone else, a corrupted one and a malformed IPv4 packet are all dropped."""
    lan = Lan(2)
    h1, h2 = lan.hosts
    packet = Ipv4Packet(h1.ip.address, h2.ip.address, IpProtocol.ICMP, b"").to_bytes()
    for_else = Frame.carrying(1, host_mac(77), h1.mac, ETHERTYPE_IPV4, packet)
    corrupted = Frame.carrying(2, h2.mac, h1.mac, ETHERTYPE_IPV4, packet).with_corruption()
    bad_ip = Frame.carrying(3, h2.mac, h1.mac, ETHERTYPE_IPV4, packet[:10] + b"\0\0" + packet[12:])
    for frame in (for_else, corrupted, bad_ip):
        h2.receive_frame(frame, 0.0)
    assert (h2.stats.frames_ignored, h2.stats.fcs_errors, h2.stats.malformed) == (1, 1, 1)
    assert h2.frames_to_send(0.0) == []


def test_tcp_over_the_stack_with_a_capture_dpkt_can_read() -> None:
    """A TCP exchange over ARP, IPv4 and Ethernet; the capture of the wire decodes with dpkt,
    every checksum verifies, and the timestamps are the simulated send times."""
    lan = Lan(2)
    client, server = lan.hosts
    listener = server.tcp.listen(143)
    conn = client.tcp.connect(Endpoint(server.ip.address, 143), 0.0)
    lan.pump(client)
    lan.run(0.01)
    accepted = listener.accept()
    assert accepted is not None and conn.state is TcpState.ESTABLISHED
    conn.send(b"* CAPABILITY\r\n" * 300)
    conn.close()
    lan.pump(client)
    lan.run(1.0)
    assert accepted.read() == b"* CAPABILITY\r\n" * 300 and accepted.at_eof

    stream = io.BytesIO()
    with PcapWriter(stream) as pcap:
        for t, frame in lan.wire:
            pcap.write(t, frame.to_bytes())
    stream.seek(0)
    records = list(dpkt.pcap.Reader(stream))
    assert len(records) == len(lan.wire)
    tcp_frames = 0
    for (ts, raw), (t, _) in zip(records, lan.wire, strict=True):
        assert float(ts) == pytest.approx(t, abs=1e-9)
        eth = dpkt.ethernet.Ethernet(raw[:-4])
        if isinstance(eth.data, dpkt.arp.ARP):
            continue
        ip = eth.data
        assert isinstance(ip, dpkt.ip.IP) and isinstance(ip.data, dpkt.tcp.TCP)
        ours = (ip.sum, ip.data.sum)
        ip.sum = ip.data.sum = 0
        recomputed = dpkt.ip.IP(bytes(ip))
        assert (recomputed.sum, recomputed.data.sum) == ours
        tcp_frames += 1
    assert tcp_frames >= 8


def test_parse_interface_and_host_mac_make_a_host() -> None:
    """The pieces a scenario provides (``ip: 10.0.0.25/24``, a MAC) are all a stack needs."""
    host = HostStack(host_mac(5), IpConfig(parse_interface("10.0.0.25/24")))
    assert str(host.ip.address) == "10.0.0.25"


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from([ETHERTYPE_ARP, ETHERTYPE_IPV4, 0x86DD]),
    st.binary(max_size=200),
    st.booleans(),
)
def test_garbage_frames_never_crash_the_stack(
    ethertype: int, payload: bytes, valid_ip: bool
) -> None:
    """Random payloads (some inside a valid IPv4 header, so TCP and ICMP decoders see
    garbage too) are counted and dropped, never raised."""
    host = HostStack(host_mac(2), IpConfig(auto_interface(1)))
    if valid_ip and ethertype == ETHERTYPE_IPV4 and payload:
        protocol = (IpProtocol.TCP, IpProtocol.ICMP, IpProtocol.UDP)[payload[0] % 3]
        payload = Ipv4Packet(
            IPv4Address("10.0.0.1"), host.ip.address, protocol, payload[1:]
        ).to_bytes()
    host.receive_frame(Frame.carrying(1, host.mac, host_mac(1), ethertype, payload), 0.0)
    for out in host.frames_to_send(0.0):
        assert out.to_frame(2, host.mac).size >= 64
