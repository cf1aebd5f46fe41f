"""``ip: dhcp``: a host that gets its address from a DHCP server when the run starts.

The adapter between the sans-IO :class:`~netsim.net.dhcp_client.DhcpClient` and a host's
:class:`~netsim.net.stack.IpStack`. The stack starts unconfigured (it sends nothing but
DHCP, and counts what it could not send); the client broadcasts its DISCOVER from
0.0.0.0 port 68 at time 0, and when the ACK arrives the stack takes the lease's address,
mask and gateway. A lease lost (NAK, expiry) unconfigures it again.

Every DHCP message is a real UDP datagram in a real IPv4 packet, so captures show the
host's first packets as DISCOVER, OFFER, REQUEST, ACK (``dhcp`` in frames.csv).
"""

from __future__ import annotations

from netsim.engine.sim import Simulation
from netsim.net.addressing import LIMITED_BROADCAST, IpConfig
from netsim.net.dhcp_client import Configured, DhcpClient, Lease, Transmit, Unconfigured
from netsim.net.dhcp_message import CLIENT_PORT, SERVER_PORT, ZERO, DhcpMessage
from netsim.net.errors import DecodeError
from netsim.net.ipv4 import Ipv4Packet
from netsim.net.stack import IpStack
from netsim.net.udp import UdpDatagram

TRAFFIC = "dhcp"
"""The frames.csv label of DHCP frames."""


class DhcpHost:
    """Runs a DHCP client on ``stack``'s host (its timers up to the simulation's horizon)."""

    def __init__(self, sim: Simulation, stack: IpStack) -> None:
        self.sim = sim
        self.stack = stack
        rng = sim.rng(f"dhcp:{stack.host.name}")
        self.client = DhcpClient(
            stack.host.mac,
            lambda: rng.getrandbits(32),
            jitter=lambda: rng.uniform(-1.0, 1.0),
            host_name=stack.host.name,
        )
        self.bound_at: float | None = None
        """When the host first got its address (None: never)."""
        self.bad_packets = 0
        self._token = 0
        stack.unconfigure()
        stack.on_udp(CLIENT_PORT, self._on_packet)
        sim.call_at(0.0, self._start)

    @property
    def lease(self) -> Lease | None:
        """The lease in force, if any."""
        return self.client.lease

    def _start(self) -> None:
        self.client.start(self.sim.now)
        self._pump()

    def _on_packet(self, packet: Ipv4Packet) -> None:
        try:
            datagram = UdpDatagram.from_packet(packet)
            message = DhcpMessage.from_bytes(datagram.payload)
        except DecodeError:
            self.bad_packets += 1
            return
        self.client.receive(message, self.sim.now)
        self._pump()

    def _pump(self) -> None:
        stack = self.stack
        for event in self.client.events():
            if isinstance(event, Transmit):
                self._send(event)
            elif isinstance(event, Configured):
                lease = event.lease
                stack.configure(IpConfig(lease.interface, lease.gateway))
                if self.bound_at is None:
                    self.bound_at = self.sim.now
            elif isinstance(event, Unconfigured):
                stack.unconfigure()
        self._rearm()

    def _send(self, transmit: Transmit) -> None:
        stack = self.stack
        payload = UdpDatagram(CLIENT_PORT, SERVER_PORT, transmit.message.to_bytes())
        if transmit.server is not None and stack.configured:
            src = stack.address
            packet = payload.to_packet(src, transmit.server)
            stack.send_packet(packet, TRAFFIC)
            return
        src = stack.address if stack.configured else ZERO
        stack.broadcast(payload.to_packet(src, LIMITED_BROADCAST), TRAFFIC)

    def _rearm(self) -> None:
        at = self.client.next_timer()
        if at is None:
            return
        self._token += 1
        self.sim.call_timer_at(at, self._on_timer, self._token)

    def _on_timer(self, token: int) -> None:
        if token != self._token:
            return
        self.client.tick(self.sim.now)
        self._pump()
