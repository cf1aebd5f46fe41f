"""A host's whole IPv4 stack, sans-IO: Ethernet frames in, Ethernet frames out.

:class:`HostStack` joins the pieces of :mod:`netsim.net` the way an operating system
does, so that running it on the simulated fabric needs only a thin adapter:

- a received :class:`~netsim.l2.frame.Frame` goes to :meth:`HostStack.receive_frame`;
- :meth:`HostStack.frames_to_send` returns what the NIC must transmit now;
- :meth:`HostStack.next_timer` / :meth:`HostStack.on_timer` drive ARP retries and TCP timers;
- applications use :attr:`HostStack.tcp` (listen, connect, then the connections) and
  :meth:`HostStack.ping`; :meth:`HostStack.next_event` reports echo replies and
  unreachable destinations.

On the way down, an IPv4 packet's next hop comes from the routing decision of
:class:`~netsim.net.addressing.IpConfig`; its MAC from the ARP cache, and while ARP
resolves, the packet waits in the cache's queue. On the way up, frames not addressed
to this NIC (or broadcast) and frames whose FCS fails are dropped, as a NIC does; IPv4
packets for other hosts are dropped too (a host does not forward, RFC 1122 §3.3.1.5).

Running it under SimPy takes one rule: after *any* input (a frame, a timer, an
application call such as ``conn.send``), flush. In outline::

    def flush():
        for out in stack.frames_to_send(env.now):
            nic.transmit(out.to_frame(next_frame_id(), stack.mac))
        deadline = stack.next_timer()          # re-arm one timer callback at deadline
        for conn in touched:                   # connections the input concerned
            for event in conn.events():        # Connected, DataReceived, EndOfStream,
                wake_the_socket(conn, event)   # Writable, Reset, TimedOut, Closed

    on frame arrival:   touched = [stack.receive_frame(frame, env.now)]; flush()
    on timer:           touched = stack.on_timer(env.now); flush()
    socket calls:       conn.send / read / close / abort; touched = [conn]; flush()

A socket's ``recv`` waits for DataReceived or EndOfStream and then calls ``conn.read()``;
its ``send`` waits for Writable when ``conn.send`` took fewer bytes than offered;
``accept`` waits until ``listener.accept()`` returns a connection (check after every
flush). Stack events (:class:`EchoReplyReceived`, :class:`Unreachable`) come from
:meth:`HostStack.next_event`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from netsim.l2.frame import BROADCAST, ETHERTYPE_ARP, ETHERTYPE_IPV4, Frame, MacAddress
from netsim.net.addressing import IpConfig, IPv4Address, NoRouteError
from netsim.net.arp import ArpPacket
from netsim.net.arp_cache import ArpCache, ArpConfig
from netsim.net.errors import DecodeError
from netsim.net.icmp import IcmpEcho, IcmpMessage, IcmpType
from netsim.net.ipv4 import DEFAULT_TTL, MTU_ETHERNET, IpProtocol, Ipv4Packet
from netsim.net.tcp.config import TcpConfig
from netsim.net.tcp.connection import TcpConnection
from netsim.net.tcp.demux import TcpDemux


@dataclass(frozen=True, slots=True)
class OutgoingFrame:
    """A frame for the NIC to send: destination MAC, EtherType and payload."""

    dst: MacAddress
    ethertype: int
    payload: bytes

    def to_frame(self, frame_id: int, src: MacAddress) -> Frame:
        """The :class:`~netsim.l2.frame.Frame` carrying it, padded to the 64-byte minimum."""
        return Frame.carrying(frame_id, self.dst, src, self.ethertype, self.payload)


@dataclass(frozen=True, slots=True)
class EchoReplyReceived:
    """A ping was answered: ``rtt`` is the time since the matching request was sent."""

    src: IPv4Address
    identifier: int
    sequence: int
    rtt: float | None
    """None if no matching request is known (a duplicate or stray reply)."""
    ttl: int


@dataclass(frozen=True, slots=True)
class Unreachable:
    """``dst`` could not be reached: ARP resolution of the next hop failed, or no route."""

    dst: IPv4Address
    packets_dropped: int


HostEvent = EchoReplyReceived | Unreachable
"""What the stack reports besides TCP's own per-connection events."""


@dataclass(slots=True)
class HostStats:
    """Counters of one host's stack (NIC level and IP level)."""

    frames_received: int = 0
    frames_sent: int = 0
    frames_ignored: int = 0
    """Addressed to another MAC, or of an EtherType the stack does not speak."""
    fcs_errors: int = 0
    malformed: int = 0
    """Frames whose ARP or IPv4 content did not decode (bad checksum included)."""
    packets_received: int = 0
    packets_sent: int = 0
    not_for_us: int = 0
    """IPv4 packets addressed to another host: a host does not forward."""
    fragments_dropped: int = 0
    echo_requests_answered: int = 0


class HostStack:
    """ARP, IPv4, ICMP echo and TCP for one NIC with one IPv4 address."""

    def __init__(
        self,
        mac: MacAddress,
        ip: IpConfig,
        *,
        arp_config: ArpConfig | None = None,
        tcp_config: TcpConfig | None = None,
        iss_source: Callable[[], int] | None = None,
        port_source: Callable[[], int] | None = None,
        ttl: int = DEFAULT_TTL,
    ) -> None:
        self.mac = mac
        """The NIC's MAC address."""
        self.ip = ip
        """Address, subnet and gateway."""
        self.ttl = ttl
        """TTL of the packets this host originates."""
        self.arp: ArpCache[Ipv4Packet] = ArpCache(arp_config)
        """The ARP cache (and its queue of packets awaiting resolution)."""
        self.tcp = TcpDemux(
            ip.address, config=tcp_config, iss_source=iss_source, port_source=port_source
        )
        """The TCP layer: listen and connect here."""
        self.stats = HostStats()
        self._out: list[OutgoingFrame] = []
        self._events: deque[HostEvent] = deque()
        self._pings: dict[tuple[IPv4Address, int, int], float] = {}
        self._next_id = 0

    # ------------------------------------------------------------ applications

    def ping(
        self,
        dst: IPv4Address,
        now: float,
        *,
        identifier: int = 0,
        sequence: int = 0,
        data: bytes = b"",
    ) -> None:
        """Send an ICMP echo request; an :class:`EchoReplyReceived` event follows if answered."""
        echo = IcmpEcho.request(identifier, sequence, data)
        self._pings[(dst, identifier, sequence)] = now
        self.send_ip(dst, IpProtocol.ICMP, echo.to_bytes(), now)

    def send_ip(self, dst: IPv4Address, protocol: int, payload: bytes, now: float) -> None:
        """Send ``payload`` to ``dst`` in an IPv4 packet (resolving the next hop's MAC first)."""
        self._next_id = (self._next_id + 1) & 0xFFFF
        packet = Ipv4Packet(self.ip.address, dst, protocol, payload, self.ttl, self._next_id)
        if packet.total_length > MTU_ETHERNET:
            raise ValueError(f"{packet.total_length}-byte packet exceeds the {MTU_ETHERNET} MTU")
        self._route(packet, now)

    def next_event(self) -> HostEvent | None:
        """The oldest unread stack event, or None."""
        return self._events.popleft() if self._events else None

    # ------------------------------------------------------------ the way down

    def _route(self, packet: Ipv4Packet, now: float) -> None:
        self.stats.packets_sent += 1
        if self.ip.is_local_broadcast(packet.dst):
            self._emit(BROADCAST, ETHERTYPE_IPV4, packet.to_bytes())
            return
        try:
            hop = self.ip.next_hop(packet.dst)
        except NoRouteError:
            self._events.append(Unreachable(packet.dst, 1))
            return
        mac = self.arp.resolve(hop, packet, now)
        if mac is not None:
            self._emit(mac, ETHERTYPE_IPV4, packet.to_bytes())

    def _emit(self, dst: MacAddress, ethertype: int, payload: bytes) -> None:
        self.stats.frames_sent += 1
        self._out.append(OutgoingFrame(dst, ethertype, payload))

    def frames_to_send(self, now: float) -> list[OutgoingFrame]:
        """Everything to transmit now: TCP segments, ARP requests, queued and answered packets."""
        for segment in self.tcp.segments_to_send(now):
            self.send_ip(segment.dst, IpProtocol.TCP, segment.to_bytes(), now)
        poll = self.arp.poll(now)
        for target in poll.requests:
            request = ArpPacket.request(self.mac, self.ip.address, target)
            self._emit(BROADCAST, ETHERTYPE_ARP, request.to_bytes())
        for failure in poll.failures:
            # Every packet waiting for this next hop is lost; report each destination.
            for dst in dict.fromkeys(p.dst for p in failure.packets):
                count = sum(p.dst == dst for p in failure.packets)
                self._events.append(Unreachable(dst, count))
        frames, self._out = self._out, []
        return frames

    # ------------------------------------------------------------ time

    def next_timer(self) -> float | None:
        """When :meth:`on_timer` must next run (ARP retry or any TCP timer), or None."""
        deadlines = [d for d in (self.arp.next_timer(), self.tcp.next_timer()) if d is not None]
        return min(deadlines, default=None)

    def on_timer(self, now: float) -> list[TcpConnection]:
        """Run due timers; return the TCP connections whose timers fired (to drain events).

        ARP's schedule is advanced by :meth:`frames_to_send`, so call it afterwards.
        """
        return self.tcp.on_timer(now)

    # ------------------------------------------------------------ the way up

    def receive_frame(self, frame: Frame, now: float) -> TcpConnection | None:
        """Take a frame from the wire; return the TCP connection it concerned, if any.

        Call :meth:`frames_to_send` afterwards: the frame may need an answer.
        """
        self.stats.frames_received += 1
        if not frame.fcs_ok:
            self.stats.fcs_errors += 1
            return None
        if frame.dst != self.mac and frame.dst != BROADCAST:
            self.stats.frames_ignored += 1
            return None
        payload = frame.payload_bytes()
        try:
            if frame.ethertype == ETHERTYPE_ARP:
                self._receive_arp(ArpPacket.from_bytes(payload), now)
                return None
            if frame.ethertype == ETHERTYPE_IPV4:
                return self._receive_ip(Ipv4Packet.from_bytes(payload), now)
        except DecodeError:
            self.stats.malformed += 1
            return None
        self.stats.frames_ignored += 1
        return None

    def _receive_arp(self, packet: ArpPacket, now: float) -> None:
        handled = self.arp.handle(packet, self.ip.address, self.mac, now)
        if handled.reply is not None:
            self._emit(handled.reply.target_mac, ETHERTYPE_ARP, handled.reply.to_bytes())
        for mac, waiting in handled.released:
            self._emit(mac, ETHERTYPE_IPV4, waiting.to_bytes())

    def _receive_ip(self, packet: Ipv4Packet, now: float) -> TcpConnection | None:
        if packet.dst != self.ip.address and not self.ip.is_local_broadcast(packet.dst):
            self.stats.not_for_us += 1
            return None
        if packet.is_fragment:
            self.stats.fragments_dropped += 1  # netsim never fragments; nor reassembles
            return None
        self.stats.packets_received += 1
        if packet.protocol == IpProtocol.TCP:
            return self.tcp.receive(packet, now)
        if packet.protocol == IpProtocol.ICMP:
            self._receive_icmp(packet, now)
        return None

    def _receive_icmp(self, packet: Ipv4Packet, now: float) -> None:
        try:
            message = IcmpMessage.from_bytes(packet.payload)
            if message.type not in (IcmpType.ECHO_REQUEST, IcmpType.ECHO_REPLY):
                return
            echo = IcmpEcho.from_message(message)
        except DecodeError:
            self.stats.malformed += 1
            return
        if echo.is_request:
            if packet.dst == self.ip.address:  # RFC 1122 §3.2.2.6 lets hosts ignore broadcast pings
                self.stats.echo_requests_answered += 1
                self.send_ip(packet.src, IpProtocol.ICMP, echo.reply().to_bytes(), now)
            return
        sent = self._pings.pop((packet.src, echo.identifier, echo.sequence), None)
        rtt = None if sent is None else now - sent
        self._events.append(
            EchoReplyReceived(packet.src, echo.identifier, echo.sequence, rtt, packet.ttl)
        )
