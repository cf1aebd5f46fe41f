"""The forwarding logic of every routing device: receive, look up, decrement, resend.

A :class:`RoutingEngine` owns a device's layer-3 interfaces and its routing table. The
device (a router, a layer-3 switch) hands it each frame that is for one of its
interfaces, once the device's own delays are paid; the engine then

1. answers ARP for the interface's addresses and learns from ARP replies;
2. takes packets for its own addresses (and answers a ping);
3. routes the rest (RFC 1812 §5.2): drops a packet with TTL 1 or less and sends the
   source ICMP time exceeded from the receiving interface's address; looks the
   destination up (longest prefix); with no route sends ICMP net unreachable;
   otherwise decrements the TTL, patching the header checksum incrementally
   (RFC 1624) as router hardware does, and sends the packet in a new frame from the
   outgoing interface's MAC to the next hop's, resolving it with ARP first.

The frame that carried a packet to the router ends there: frames.csv shows it
delivered to the router when the router routes it, and dropped there, with the reason
(``ttl-exceeded``, ``no-route``), when it does not. The router's frames are new rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from netsim.engine.sim import Simulation
from netsim.l2.frame import (
    BROADCAST,
    ETHERTYPE_ARP,
    ETHERTYPE_IPV4,
    FCS_BYTES,
    HEADER_BYTES,
    MIN_FRAME_BYTES,
    Frame,
    MacAddress,
    mac_to_str,
)
from netsim.l3.interface import L3Interface
from netsim.l3.routing_table import Route, RouteSource, RoutingTable
from netsim.net.addressing import LIMITED_BROADCAST, IPv4Address, IPv4Network
from netsim.net.arp import ArpOp, ArpPacket
from netsim.net.errors import DecodeError
from netsim.net.icmp import (
    TIME_EXCEEDED_IN_TRANSIT,
    IcmpEcho,
    IcmpType,
    UnreachableCode,
    decode_icmp,
    icmp_error,
)
from netsim.net.ipv4 import IpProtocol, Ipv4Packet

ETHERNET_OVERHEAD = HEADER_BYTES + FCS_BYTES
"""Bytes an untagged Ethernet frame adds to the packet it carries."""
ROUTER_TTL = 255
"""The TTL of packets a router originates (ICMP errors, echo replies), as IOS sends."""
TRAFFIC_LABELS: dict[int, str] = {
    IpProtocol.ICMP: "icmp",
    IpProtocol.TCP: "tcp",
    IpProtocol.UDP: "udp",
}
"""The frames.csv label of a routed packet, by IP protocol (what its sender labelled it)."""
LINK_LOCAL_MULTICAST = bytes((224, 0, 0))
"""224.0.0.0/24 (RFC 5771): the local network control block, never routed (HSRP, VRRP)."""

LocalHandler = Callable[["L3Interface", Ipv4Packet], None]
"""A service of the router (HSRP, VRRP, DHCP) given a packet for it and its interface."""


Route_ = tuple[Route, L3Interface, IPv4Address, bytes]
"""A looked-up route: the route, its outgoing interface, the next hop for the destination
and that next hop's 4 bytes (a cheap key)."""


def decrement_ttl(header: bytes) -> bytes:
    """``header`` (an IPv4 header, TTL at least 1) with TTL one less and the checksum fixed.

    RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), where m is the 16-bit word holding TTL
    and protocol: the checksum follows the change without summing the header again.
    """
    old_word = header[8] << 8 | header[9]
    new_word = old_word - 0x0100
    checksum = header[10] << 8 | header[11]
    total = (~checksum & 0xFFFF) + (~old_word & 0xFFFF) + new_word
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    new_checksum = ~total & 0xFFFF
    return (
        header[:8]
        + bytes((header[8] - 1, header[9], new_checksum >> 8, new_checksum & 0xFF))
        + header[12:]
    )


class NextHopError(ValueError):
    """A static route's next hop is on none of the router's subnets."""


class RoutingEngine:
    """The layer-3 half of one device: interfaces, routing table, ARP and ICMP."""

    def __init__(
        self,
        sim: Simulation,
        name: str,
        *,
        routing: bool = True,
        names: Mapping[MacAddress, str] | None = None,
    ) -> None:
        self.sim = sim
        self.name = name
        self.routing = routing
        """False on a layer-2 switch's management SVI: it answers, but never routes."""
        self.table = RoutingTable()
        self.interfaces: dict[str, L3Interface] = {}
        self.names: Mapping[MacAddress, str] = names or {}
        """MAC -> device name, for the ``dst`` column of the frames this engine sends."""
        self._own: dict[bytes, L3Interface] = {}
        """Each address of this device (4 bytes, as in a header) -> its interface."""
        self._broadcasts: set[bytes] = {LIMITED_BROADCAST.packed}
        self._cache: dict[bytes, Route_ | None] = {}
        """Destination (4 header bytes) -> route and outgoing interface: the fast path."""
        self._ident = 0
        self._timer_at: float | None = None
        self._timer_token = 0
        self.local_handlers: dict[int, list[LocalHandler]] = {}
        """IP protocol -> the router's services that take such packets addressed to it
        (to one of its addresses, a broadcast or link-local multicast), besides ICMP."""

    def __repr__(self) -> str:
        return f"<RoutingEngine {self.name}>"

    def on_local(self, protocol: int, handler: LocalHandler) -> None:
        """Give ``handler`` every packet of ``protocol`` for the router itself."""
        self.local_handlers.setdefault(protocol, []).append(handler)

    def own_address(self, address: IPv4Address, iface: L3Interface | None) -> None:
        """Take packets for ``address`` as the router's own (a virtual IP it now owns), or
        stop (``iface`` None)."""
        if iface is None:
            self._own.pop(address.packed, None)
        else:
            self._own[address.packed] = iface

    # Configuration -----------------------------------------------------------------------

    def add_interface(self, iface: L3Interface) -> None:
        """Bring ``iface`` up: its address is ours and its subnet a connected route."""
        self.interfaces[iface.name] = iface
        self._own[iface.ip.packed] = iface
        self._broadcasts.add(iface.network.broadcast_address.packed)
        self.table.add(Route(iface.network, iface.name, None, RouteSource.CONNECTED))
        self._cache.clear()

    def add_static_route(self, prefix: IPv4Network, next_hop: IPv4Address) -> Route:
        """``ip route PREFIX MASK NEXT_HOP``: the interface is the one whose subnet holds
        the next hop. Raises :class:`NextHopError` if none does."""
        for iface in self.interfaces.values():
            if next_hop in iface.network:
                route = Route(prefix, iface.name, next_hop, RouteSource.STATIC)
                self.table.add(route)
                self._cache.clear()
                return route
        raise NextHopError(f"next hop {next_hop} is on none of {self.name}'s subnets")

    def route_for(self, dst: IPv4Address) -> Route | None:
        """The route a packet for ``dst`` takes (None: no route)."""
        return self.table.lookup(dst)

    # Receiving ---------------------------------------------------------------------------

    def receive(self, iface: L3Interface, frame: Frame, hops: int, t_last: float) -> None:
        """A frame for ``iface`` (to its MAC, or broadcast) arrived whole at ``t_last``."""
        if frame.ethertype == ETHERTYPE_IPV4:
            self._on_ipv4(iface, frame, hops, t_last)
        elif frame.ethertype == ETHERTYPE_ARP:
            self._on_arp(iface, frame, hops, t_last)
        else:
            # The interface took the frame (a broadcast, say) but runs no protocol for it.
            self.sim.trace.frame_delivered(frame.frame_id, self.name, t_last, hops)

    def _on_ipv4(self, iface: L3Interface, frame: Frame, hops: int, t_last: float) -> None:
        data = frame.payload if frame.payload is not None else frame.payload_bytes()
        trace = self.sim.trace
        counters = iface.counters
        counters.rx_packets += 1
        if len(data) < 20 or data[0] >> 4 != 4:
            counters.bad_packets += 1
            trace.frame_dropped(frame.frame_id, self.name, "bad-ip-header", self.sim.now, hops)
            return
        header_length = (data[0] & 0x0F) * 4
        total = data[2] << 8 | data[3]
        # RFC 1071 in one step: a correct header's words sum to 0xFFFF (minus zero), i.e.
        # the header read as one integer is a multiple of 0xFFFF (see netsim.net.checksum).
        if (
            total < header_length
            or total > len(data)
            or int.from_bytes(data[:header_length], "big") % 0xFFFF
        ):
            counters.bad_packets += 1
            trace.frame_dropped(frame.frame_id, self.name, "bad-ip-header", self.sim.now, hops)
            return
        data = data[:total]  # without Ethernet padding
        dst = data[16:20]
        if dst in self._own or dst in self._broadcasts or dst[:3] == LINK_LOCAL_MULTICAST:
            counters.to_self += 1
            trace.frame_delivered(frame.frame_id, self.name, t_last, hops)
            self._for_me(iface, data)
            return
        if not self.routing:
            return  # a layer-2 switch's management address takes only its own packets
        if data[8] <= 1:
            # RFC 1812 §5.3.1: the TTL would reach 0 here; the sender learns where.
            counters.ttl_exceeded += 1
            trace.frame_dropped(frame.frame_id, self.name, "ttl-exceeded", self.sim.now, hops)
            self._send_error(iface, data, IcmpType.TIME_EXCEEDED, TIME_EXCEEDED_IN_TRANSIT)
            return
        cache = self._cache
        if dst in cache:
            hit = cache[dst]
        else:
            hit = cache[dst] = self._lookup(dst)
        if hit is None or not hit[1].up:
            counters.no_route += 1
            trace.frame_dropped(frame.frame_id, self.name, "no-route", self.sim.now, hops)
            self._send_error(iface, data, IcmpType.DESTINATION_UNREACHABLE, UnreachableCode.NET)
            return
        _route, out, next_hop, hop_key = hit
        counters.forwarded += 1
        trace.frame_delivered(frame.frame_id, self.name, t_last, hops)
        packet = decrement_ttl(data[:header_length]) + data[header_length:]
        traffic = TRAFFIC_LABELS.get(data[9], "ip")
        # The fast path: the next hop's MAC, kept with its ARP entry's expiry.
        neighbour = out.neighbours.get(hop_key)
        now = self.sim.env.now
        if neighbour is None or neighbour[1] <= now:
            self._send(out, next_hop, packet, traffic)
            return
        mac = neighbour[0]
        frame = Frame(
            self.sim.next_frame_id(),
            mac,
            out.mac,
            max(MIN_FRAME_BYTES, ETHERNET_OVERHEAD + len(packet)),
            ETHERTYPE_IPV4,
            packet,
        )
        out.counters.tx_packets += 1
        name = self.names.get(mac)
        trace.frame_sent(
            frame.frame_id, self.name, mac_to_str(mac) if name is None else name,
            frame.size, now, traffic,
        )  # fmt: skip
        if not out.transmit(frame):
            trace.frame_dropped(frame.frame_id, self.name, "queue-full", now, 0)

    def _lookup(self, dst: bytes) -> Route_ | None:
        """The route to ``dst`` (4 header bytes), its interface and its next hop."""
        address = IPv4Address(dst)
        route = self.table.lookup(address)
        if route is None:
            return None
        next_hop = route.next_hop_for(address)
        return route, self.interfaces[route.interface], next_hop, next_hop.packed

    def _for_me(self, iface: L3Interface, data: bytes) -> None:
        """A packet for the router itself: answer a ping, ignore the rest."""
        try:
            packet = Ipv4Packet.from_bytes(data)
            if packet.protocol != IpProtocol.ICMP:
                for handler in self.local_handlers.get(packet.protocol, ()):
                    handler(iface, packet)
                return
            message = decode_icmp(packet.payload)
        except DecodeError:
            iface.counters.bad_packets += 1
            return
        if isinstance(message, IcmpEcho) and message.is_request:
            reply = Ipv4Packet(
                packet.dst if packet.dst.packed in self._own else iface.ip,
                packet.src,
                IpProtocol.ICMP,
                message.reply().to_bytes(),
                ttl=ROUTER_TTL,
                identification=self._next_identification(),
                tos=packet.tos,
            )
            iface.counters.icmp_sent += 1
            self.originate(reply)

    def _send_error(self, iface: L3Interface, offending: bytes, icmp_type: int, code: int) -> None:
        """Send the source of ``offending`` an ICMP error from ``iface``'s address.

        Never about an ICMP error itself, nor to a broadcast source (RFC 1812 §4.3.2.7).
        """
        src = offending[12:16]
        if offending[9] == IpProtocol.ICMP:
            start = (offending[0] & 0x0F) * 4
            if len(offending) > start and offending[start] not in (
                IcmpType.ECHO_REQUEST,
                IcmpType.ECHO_REPLY,
            ):
                return
        if src in self._broadcasts or src == bytes(4):
            return
        error = Ipv4Packet(
            iface.ip,
            IPv4Address(src),
            IpProtocol.ICMP,
            icmp_error(icmp_type, code, offending).to_bytes(),
            ttl=ROUTER_TTL,
            identification=self._next_identification(),
        )
        iface.counters.icmp_sent += 1
        self.originate(error)

    def originate(self, packet: Ipv4Packet, traffic: str = "icmp") -> bool:
        """Send a packet of the router's own (routed like any other); False if no route."""
        route = self.table.lookup(packet.dst)
        if route is None:
            return False
        out = self.interfaces[route.interface]
        if packet.dst == out.network.broadcast_address or packet.dst == LIMITED_BROADCAST:
            self._transmit(out, BROADCAST, packet.to_bytes(), traffic)
            return True
        self._send(out, route.next_hop_for(packet.dst), packet.to_bytes(), traffic)
        return True

    def _next_identification(self) -> int:
        self._ident = (self._ident + 1) & 0xFFFF
        return self._ident

    # Sending -----------------------------------------------------------------------------

    def _send(self, out: L3Interface, next_hop: IPv4Address, packet: bytes, traffic: str) -> None:
        now = self.sim.now
        known = out.arp.entry(next_hop, now)
        if known is not None:
            out.neighbours[next_hop.packed] = known
            self._transmit(out, known[0], packet, traffic)
            return
        out.arp.resolve(next_hop, (packet, traffic), now)
        self._service_arp(now)
        self._rearm()

    def send_on(
        self,
        out: L3Interface,
        mac: MacAddress,
        packet: Ipv4Packet,
        traffic: str,
        src_mac: MacAddress | None = None,
    ) -> None:
        """Send ``packet`` out of ``out`` to ``mac`` as it is, no lookup and no ARP: a
        multicast hello, a broadcast or a DHCP reply to a client that has no address yet.
        ``src_mac`` replaces the interface's MAC (a virtual MAC) as the frame's source."""
        self._transmit(out, mac, packet.to_bytes(), traffic, src_mac)

    def _transmit(
        self,
        out: L3Interface,
        mac: MacAddress,
        packet: bytes,
        traffic: str,
        src_mac: MacAddress | None = None,
    ) -> None:
        sim = self.sim
        src = out.mac if src_mac is None else src_mac
        frame = Frame.carrying(sim.next_frame_id(), mac, src, ETHERTYPE_IPV4, packet)
        out.counters.tx_packets += 1
        self._put_on_wire(out, frame, traffic)

    def _put_on_wire(self, out: L3Interface, frame: Frame, traffic: str) -> None:
        sim = self.sim
        trace = sim.trace
        dst = frame.dst
        dst_name = "broadcast" if dst == BROADCAST else self.names.get(dst)
        if dst_name is None:
            dst_name = mac_to_str(dst)
        trace.frame_sent(frame.frame_id, self.name, dst_name, frame.size, sim.env.now, traffic)
        if frame.is_group:
            trace.receivers_expected(frame.frame_id, out.broadcast_audience)
        if not out.transmit(frame):
            trace.frame_dropped(frame.frame_id, self.name, "queue-full", sim.now, 0)

    def send_arp(self, out: L3Interface, mac: MacAddress, packet: ArpPacket) -> None:
        """Send an ARP packet out of ``out`` to ``mac`` (broadcast for a request)."""
        frame = Frame.carrying(
            self.sim.next_frame_id(), mac, packet.sender_mac, ETHERTYPE_ARP, packet.to_bytes()
        )
        self._put_on_wire(out, frame, "arp")

    def _on_arp(self, iface: L3Interface, frame: Frame, hops: int, t_last: float) -> None:
        try:
            packet = ArpPacket.from_bytes(frame.payload_bytes())
        except DecodeError:
            iface.counters.bad_packets += 1
            return
        now = self.sim.now
        self.sim.trace.frame_delivered(frame.frame_id, self.name, t_last, hops)
        handled = iface.arp.handle(packet, iface.ip, iface.mac, now)
        if handled.reply is not None:
            iface.counters.arp_replies += 1
            self.send_arp(iface, packet.sender_mac, handled.reply)
        elif packet.op is ArpOp.REQUEST and packet.target_ip in iface.extra_addresses:
            reply = packet.reply(iface.extra_addresses[packet.target_ip])
            iface.counters.arp_replies += 1
            self.send_arp(iface, packet.sender_mac, reply)
        for mac, (queued, traffic) in handled.released:
            self._transmit(iface, mac, queued, traffic)
        self._rearm()

    # ARP timers --------------------------------------------------------------------------

    def _service_arp(self, now: float) -> None:
        for iface in self.interfaces.values():
            poll = iface.arp.poll(now)
            for ip in poll.requests:
                iface.counters.arp_requests += 1
                self.send_arp(iface, BROADCAST, ArpPacket.request(iface.mac, iface.ip, ip))
            for failure in poll.failures:
                for packet, _traffic in failure.packets:
                    iface.counters.host_unreachable += 1
                    self._send_error(
                        iface, packet, IcmpType.DESTINATION_UNREACHABLE, UnreachableCode.HOST
                    )

    def _rearm(self) -> None:
        deadlines = [t for i in self.interfaces.values() if (t := i.arp.next_timer()) is not None]
        if not deadlines:
            return
        at = min(deadlines)
        if self._timer_at is not None and self._timer_at <= at:
            return
        self._timer_at = at
        self._timer_token += 1
        self.sim.call_at(at, self._on_timer, self._timer_token)

    def _on_timer(self, token: int) -> None:
        if token != self._timer_token:
            return
        self._timer_at = None
        self._service_arp(self.sim.now)
        self._rearm()
