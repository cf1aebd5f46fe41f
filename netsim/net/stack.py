"""A host's IPv4 stack on the simulated fabric: ARP, IPv4, ICMP echo and TCP.

The protocols themselves are sans-IO objects (:class:`~netsim.net.arp_cache.ArpCache`,
:class:`~netsim.net.tcp.demux.TcpDemux` and the codecs); this module is the thin adapter
that gives them a NIC and a clock. Everything it puts on the wire is real bytes: an IPv4
header with its checksum inside an Ethernet frame, or an ARP packet, so that frame sizes,
timings, flooding and MAC learning are those a real host causes.

After every input (a frame, a timer, an application call) the stack *pumps* the
connection concerned: it sends what TCP wants sent, tells the socket what happened, and
re-arms one timer at the earliest deadline of TCP and ARP. Pumping one connection, not
all of them, keeps a mail server with hundreds of sessions as cheap per packet as one
with a single session.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from netsim.engine.sim import Simulation
from netsim.l2.frame import (
    BROADCAST,
    ETHERTYPE_ARP,
    ETHERTYPE_IPV4,
    Frame,
    MacAddress,
    mac_to_str,
)
from netsim.l2.host import Host
from netsim.net.addressing import IpConfig, IPv4Address, NoRouteError, address_from_packed
from netsim.net.arp import ArpPacket, peek_addresses
from netsim.net.arp_cache import ArpCache, ArpConfig
from netsim.net.errors import DecodeError
from netsim.net.icmp import IcmpEcho, IcmpMessage, IcmpType, decode_icmp, quoted_echo
from netsim.net.ipv4 import IpProtocol, Ipv4Packet
from netsim.net.tcp.config import TcpConfig
from netsim.net.tcp.connection import TcpConnection
from netsim.net.tcp.demux import EPHEMERAL_PORTS, OutgoingSegment, TcpDemux
from netsim.net.tcp.states import TcpState

if TYPE_CHECKING:
    from netsim.net.sockets import TcpListener, TcpSocket

Queued = tuple[Ipv4Packet, str]
"""A packet waiting for ARP, with the traffic label its frame will carry."""

UdpHandler = Callable[[Ipv4Packet], None]
"""Given each UDP packet for one local port (a DHCP client on port 68)."""
EchoHandler = Callable[[IcmpEcho, float, int], None]
"""Called with an echo reply, the time it arrived and the TTL it arrived with."""
IcmpErrorHandler = Callable[[IcmpEcho, IcmpMessage, IPv4Address, float], None]
"""Called with the echo request an ICMP error quotes, the error, the router that sent it
and the time it arrived (what ``ping`` prints as "From 10.0.1.1: Time to live exceeded")."""


@dataclass
class StackStats:
    """What the stack dropped, and why (the fabric's own drops are in frames.csv)."""

    bad_packets: int = 0
    """Frames whose ARP or IPv4 content did not decode (or failed its checksum)."""
    no_route: int = 0
    arp_failures: int = 0
    packets_lost_to_arp: int = 0
    stuck_timers: int = 0
    """TCP timers that stayed due after firing (a protocol bug; should stay 0)."""
    unconfigured: int = 0
    """Packets the host could not send because it has no address (DHCP got none yet)."""


class IpStack:
    """IPv4 on one host: send and receive packets, answer pings, run TCP connections."""

    def __init__(
        self,
        sim: Simulation,
        host: Host,
        config: IpConfig,
        tcp_config: TcpConfig | None = None,
        arp_config: ArpConfig | None = None,
        host_names: Mapping[MacAddress, str] | None = None,
    ) -> None:
        self.sim = sim
        self.host = host
        self.config = config
        rng = sim.rng(f"tcp:{host.name}")
        self.tcp = TcpDemux(
            config.address,
            config=tcp_config,
            iss_source=lambda: rng.getrandbits(32),
            port_source=lambda: rng.randrange(EPHEMERAL_PORTS.start, EPHEMERAL_PORTS.stop),
        )
        self.arp: ArpCache[Queued] = ArpCache(arp_config)
        self.stats = StackStats()
        self.sockets: dict[TcpConnection, TcpSocket] = {}
        self.listeners: dict[int, TcpListener] = {}
        self._deadlines: dict[TcpConnection, float] = {}
        """Each connection's next timer, TIME-WAIT aside (see :meth:`_note_deadline`)."""
        self._echo_handlers: dict[int, EchoHandler] = {}
        self._udp_handlers: dict[int, UdpHandler] = {}
        self.configured = True
        """False while a DHCP host waits for its address: it then sends nothing but DHCP."""
        self._error_handlers: dict[int, IcmpErrorHandler] = {}
        self._dscp_by_port: dict[int, int] = {}
        """TCP port -> the DSCP this host marks that port's segments with (see :meth:`mark`)."""
        self._names = host_names or {}
        self._ident = 0
        self._timer_at: float | None = None
        self._timer_token = 0
        host.register(ETHERTYPE_ARP, self._on_arp)
        host.register(ETHERTYPE_IPV4, self._on_ipv4)

    def __repr__(self) -> str:
        return f"<IpStack {self.host.name} {self.config.interface}>"

    @property
    def address(self) -> IPv4Address:
        """This host's IPv4 address."""
        return self.config.address

    # Sending -----------------------------------------------------------------------------

    def send_packet(self, packet: Ipv4Packet, traffic: str) -> bool:
        """Send ``packet``, resolving the next hop's MAC with ARP first if needed.

        ``traffic`` labels the frame in frames.csv. False if there is no route, or no
        address yet.
        """
        if not self.configured:
            self.stats.unconfigured += 1
            return False
        dst = packet.dst
        if self.config.is_local_broadcast(dst):
            self._transmit(BROADCAST, packet, traffic)
            return True
        try:
            hop = self.config.next_hop(dst)
        except NoRouteError:
            self.stats.no_route += 1
            return False
        now = self.sim.now
        mac = self.arp.resolve(hop, (packet, traffic), now)
        if mac is None:
            self._service_arp(now)
            self._rearm()
        else:
            self._transmit(mac, packet, traffic)
        return True

    def broadcast(self, packet: Ipv4Packet, traffic: str) -> None:
        """Send ``packet`` to the broadcast MAC, with or without an address (DHCP)."""
        self._transmit(BROADCAST, packet, traffic)

    def configure(self, config: IpConfig) -> None:
        """Take ``config`` (a DHCP lease) as this host's address from now on."""
        self.config = config
        self.tcp.address = config.address
        self.configured = True

    def unconfigure(self) -> None:
        """Give up the address (a lease lost): send nothing until configured again."""
        self.configured = False

    def on_udp(self, port: int, handler: UdpHandler) -> None:
        """Give ``handler`` every UDP packet for local ``port`` (to us or broadcast)."""
        self._udp_handlers[port] = handler

    def mark(self, tcp_port: int, dscp: int) -> None:
        """Mark every TCP segment to or from ``tcp_port`` with ``dscp`` (RFC 2474).

        What a host QoS policy by application port does (Windows' policy-based QoS,
        Linux's ``iptables -j DSCP``): the mail client and server both mark port 143.
        """
        self._dscp_by_port[tcp_port] = dscp

    def next_identification(self) -> int:
        """The IPv4 identification field of the next packet (a per-host counter)."""
        self._ident = (self._ident + 1) & 0xFFFF
        return self._ident

    def _transmit(self, mac: MacAddress, packet: Ipv4Packet, traffic: str) -> None:
        frame = Frame.carrying(
            self.sim.next_frame_id(), mac, self.host.mac, ETHERTYPE_IPV4, packet.to_bytes()
        )
        self.host.send(frame, self._name_of(mac), traffic)

    def _send_arp(self, mac: MacAddress, packet: ArpPacket) -> None:
        frame = Frame.carrying(
            self.sim.next_frame_id(), mac, self.host.mac, ETHERTYPE_ARP, packet.to_bytes()
        )
        self.host.send(frame, self._name_of(mac), "arp")

    def _name_of(self, mac: MacAddress) -> str:
        if mac == BROADCAST:
            return "broadcast"
        name = self._names.get(mac)
        return name if name is not None else mac_to_str(mac)

    # Receiving ---------------------------------------------------------------------------

    def _on_arp(self, frame: Frame, t: float) -> None:
        data = frame.payload_bytes()
        addresses = peek_addresses(data)
        if addresses is not None:
            sender, target = addresses
            if target != self.address.packed and not self.arp.is_known(address_from_packed(sender)):
                return  # RFC 826: not for us, about no address we know: nothing to do
        try:
            packet = ArpPacket.from_bytes(data)
        except DecodeError:
            self.stats.bad_packets += 1
            return
        handled = self.arp.handle(packet, self.address, self.host.mac, self.sim.now)
        if handled.reply is not None:
            self._send_arp(packet.sender_mac, handled.reply)
        for mac, (queued, traffic) in handled.released:
            self._transmit(mac, queued, traffic)
        self._rearm()

    def _on_ipv4(self, frame: Frame, t: float) -> None:
        try:
            packet = Ipv4Packet.from_bytes(frame.payload_bytes())
        except DecodeError:
            self.stats.bad_packets += 1
            return
        if packet.dst != self.address and not self.config.is_local_broadcast(packet.dst):
            return  # not ours: hosts do not forward
        if packet.protocol == IpProtocol.ICMP:
            self._on_icmp(packet)
        elif packet.protocol == IpProtocol.TCP:
            self.pump(self.tcp.receive(packet, self.sim.now))
        elif packet.protocol == IpProtocol.UDP and self._udp_handlers and len(packet.payload) >= 4:
            handler = self._udp_handlers.get(int.from_bytes(packet.payload[2:4], "big"))
            if handler is not None:
                handler(packet)

    def _on_icmp(self, packet: Ipv4Packet) -> None:
        try:
            message = decode_icmp(packet.payload)
        except DecodeError:
            self.stats.bad_packets += 1
            return
        if not isinstance(message, IcmpEcho):
            self._on_icmp_error(packet, message)
            return
        if message.is_request:
            reply = Ipv4Packet(
                self.address,
                packet.src,
                IpProtocol.ICMP,
                message.reply().to_bytes(),
                identification=self.next_identification(),
                tos=packet.tos,  # as Linux does: the reply keeps the request's DSCP
            )
            self.send_packet(reply, "icmp")
        else:
            handler = self._echo_handlers.get(message.identifier)
            if handler is not None:
                handler(message, self.sim.now, packet.ttl)

    def _on_icmp_error(self, packet: Ipv4Packet, message: IcmpMessage) -> None:
        """Time exceeded or destination unreachable: tell the ping whose request it quotes."""
        if message.type not in (IcmpType.TIME_EXCEEDED, IcmpType.DESTINATION_UNREACHABLE):
            return
        echo = quoted_echo(message)
        if echo is None:
            return
        handler = self._error_handlers.get(echo.identifier)
        if handler is not None:
            handler(echo, message, packet.src, self.sim.now)

    def on_echo_reply(
        self, identifier: int, handler: EchoHandler, on_error: IcmpErrorHandler | None = None
    ) -> None:
        """Call ``handler`` with every echo reply carrying ``identifier`` (a ping process),
        and ``on_error`` with every ICMP error about one of its requests."""
        self._echo_handlers[identifier] = handler
        if on_error is not None:
            self._error_handlers[identifier] = on_error

    # TCP and time ------------------------------------------------------------------------

    def pump(self, conn: TcpConnection | None = None) -> None:
        """Send what TCP wants sent, wake the sockets, and re-arm the timer.

        With ``conn``, only that connection can have changed; without, any may have (a
        segment for no connection, whose answer is a RST; a timer).
        """
        now = self.sim.now
        if conn is None or conn.state is TcpState.CLOSED:
            outgoing = self.tcp.segments_to_send(now)
            touched = list(self.tcp.connections)
            if conn is not None:
                touched.append(conn)  # closed: the demux has forgotten it, we must too
        else:
            src, dst = conn.local.ip, conn.remote.ip
            outgoing = [OutgoingSegment(src, dst, s) for s in conn.segments_to_send(now)]
            touched = [conn]
        marking = self._dscp_by_port
        for out in outgoing:
            packet = out.to_packet(identification=self.next_identification())
            if marking:
                seg = out.segment
                dscp = marking.get(seg.dst_port, marking.get(seg.src_port))
                if dscp is not None:
                    packet = dataclasses.replace(packet, tos=dscp << 2)
            self.send_packet(packet, "tcp")
        for listener in list(self.listeners.values()):
            listener._wake()
        sockets = self.sockets
        for c in touched:
            self._note_deadline(c)
            sock = sockets.get(c)
            if sock is not None:
                sock._wake()
        if conn is None:
            for c, sock in list(sockets.items()):
                if c.state is TcpState.CLOSED:
                    self._deadlines.pop(c, None)
                    sock._wake()
        self._rearm()

    def _note_deadline(self, conn: TcpConnection) -> None:
        # TIME-WAIT needs no wake-up of its own: a lingering connection must not keep the
        # simulation running for 2 MSL after the traffic is over. Any later timer expires it.
        deadline = conn.next_timer()
        if deadline is None or conn.state in (TcpState.TIME_WAIT, TcpState.CLOSED):
            self._deadlines.pop(conn, None)
        else:
            self._deadlines[conn] = deadline

    def _rearm(self) -> None:
        # min() straight over the dict's values: a mail server re-arms after every
        # packet, with a deadline for each of its hundreds of connections.
        at = min(self._deadlines.values(), default=None)
        arp = self.arp.next_timer()
        if arp is not None and (at is None or arp < at):
            at = arp
        if at is None:
            return
        if self._timer_at is not None and self._timer_at <= at:
            return  # an earlier wake-up is already set; it will re-arm for this one
        self._timer_at = at
        self._timer_token += 1
        self.sim.call_at(at, self._on_timer, self._timer_token)

    def _on_timer(self, token: int) -> None:
        if token != self._timer_token:
            return  # superseded by an earlier wake-up
        self._timer_at = None
        now = self.sim.now
        due = [conn for conn, deadline in self._deadlines.items() if deadline <= now]
        fired = self.tcp.on_timer(now)
        self._service_arp(now)
        for conn in dict.fromkeys([*due, *fired]):
            self.pump(conn)
        for conn in due:
            if self._deadlines.get(conn, now + 1.0) <= now:
                # A timer that does not move after firing would spin the clock in place.
                self._deadlines.pop(conn)
                self.stats.stuck_timers += 1
        self._rearm()

    def _service_arp(self, now: float) -> None:
        poll = self.arp.poll(now)
        for ip in poll.requests:
            self._send_arp(BROADCAST, ArpPacket.request(self.host.mac, self.address, ip))
        for failure in poll.failures:
            self.stats.arp_failures += 1
            self.stats.packets_lost_to_arp += len(failure.packets)
