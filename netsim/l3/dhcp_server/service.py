"""DHCP on a live router: the server (``ip dhcp pool``) and the relay (``ip helper-address``).

:class:`DhcpService` takes the UDP port-67 packets addressed to the router (a client's
broadcast, a relayed request to one of its addresses, a server's reply to a relay) and:

- on an interface with a helper address, relays a client's request to the helper
  (unicast, routed like any packet; ``giaddr`` = the interface's address) and delivers
  the server's reply back on the client's subnet;
- otherwise, if the router has pools, answers it with its own
  :class:`~netsim.l3.dhcp_server.server.DhcpServer`: to the client's subnet directly
  (broadcast, or unicast to the new address at the client's MAC), or to the relay.
"""

from __future__ import annotations

from collections.abc import Mapping

from netsim.engine.sim import Simulation
from netsim.l3.dhcp_server.relay import relay_to_client, relay_to_server
from netsim.l3.dhcp_server.server import DhcpServer
from netsim.l3.engine import RoutingEngine
from netsim.l3.interface import L3Interface
from netsim.net.addressing import IPv4Address
from netsim.net.dhcp_message import CLIENT_PORT, SERVER_PORT, BootpOp, DhcpMessage
from netsim.net.errors import DecodeError
from netsim.net.ipv4 import IpProtocol, Ipv4Packet
from netsim.net.udp import UdpDatagram

TRAFFIC = "dhcp"
"""The frames.csv label of DHCP frames."""
ROUTER_TTL = 255


class DhcpService:
    """DHCP on one routing device: its server (if it has pools) and its relays."""

    def __init__(
        self,
        sim: Simulation,
        engine: RoutingEngine,
        server: DhcpServer | None,
        helpers: Mapping[str, IPv4Address],
    ) -> None:
        self.sim = sim
        self.engine = engine
        self.server = server
        self.helpers = dict(helpers)
        """Interface name -> the helper address requests heard there are relayed to."""
        self.bad_packets = 0
        self.relayed = 0
        engine.on_local(IpProtocol.UDP, self._on_udp)

    def _on_udp(self, iface: L3Interface, packet: Ipv4Packet) -> None:
        try:
            datagram = UdpDatagram.from_packet(packet)
            if datagram.dst_port != SERVER_PORT:
                return
            message = DhcpMessage.from_bytes(datagram.payload)
        except DecodeError:
            self.bad_packets += 1
            return
        if message.op is BootpOp.BOOTREPLY:
            self._to_client(message)
        elif iface.name in self.helpers and packet.src != self.helpers[iface.name]:
            self._to_server(iface, message)
        elif self.server is not None:
            self._serve(iface, message)

    def _serve(self, iface: L3Interface, message: DhcpMessage) -> None:
        assert self.server is not None
        reply = self.server.handle(message, self.sim.now, iface.address)
        if reply is None:
            return
        src = iface.ip
        packet = UdpDatagram(SERVER_PORT, reply.port, reply.message.to_bytes()).to_packet(
            src, reply.dst, ttl=ROUTER_TTL
        )
        if reply.mac is not None:
            self.engine.send_on(iface, reply.mac, packet, TRAFFIC)
        else:
            self.engine.originate(packet, TRAFFIC)  # to a relay agent, routed

    def _to_server(self, iface: L3Interface, message: DhcpMessage) -> None:
        forwarded = relay_to_server(message, iface.address, circuit_id=iface.name)
        if forwarded is None:
            return
        self.relayed += 1
        helper = self.helpers[iface.name]
        packet = UdpDatagram(SERVER_PORT, SERVER_PORT, forwarded.to_bytes()).to_packet(
            iface.ip, helper, ttl=ROUTER_TTL
        )
        self.engine.originate(packet, TRAFFIC)

    def _to_client(self, message: DhcpMessage) -> None:
        out = next((i for i in self.engine.interfaces.values() if i.ip == message.giaddr), None)
        if out is None:
            return  # not relayed by us
        delivered, dst, mac = relay_to_client(message)
        packet = UdpDatagram(SERVER_PORT, CLIENT_PORT, delivered.to_bytes()).to_packet(
            out.ip, dst, ttl=ROUTER_TTL
        )
        self.engine.send_on(out, mac, packet, TRAFFIC)
