"""An HSRP group or VRRP instance running on one interface of a live routing device.

The adapter between a sans-IO machine (:class:`~netsim.l3.fhrp.hsrp.HsrpGroup`,
:class:`~netsim.l3.fhrp.vrrp.VrrpRouter`) and the simulation: it feeds the machine the
hellos and advertisements the interface receives (real bytes, decoded with the
checksums checked), wakes it at its timers, and carries out what it asks:

- :class:`~netsim.l3.fhrp.common.Send`: an IPv4 packet to the protocol's multicast
  group, framed to the group's multicast MAC, from the virtual MAC when active;
- :class:`~netsim.l3.fhrp.common.Forward`: the interface answers ARP for the virtual IP
  with the virtual MAC, takes frames sent to the virtual MAC and routes them, and
  broadcasts a gratuitous ARP so that the switches learn the virtual MAC on its port;
- :class:`~netsim.l3.fhrp.common.StopForwarding`: all of that undone;
- :class:`~netsim.l3.fhrp.common.StateChanged`: a row of fhrp.csv.

A device that fails stops its services (:meth:`FhrpService.stop`): they neither send nor
hear anything. When it comes back they start afresh, as after a reboot.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping

from netsim.engine.sim import Simulation
from netsim.l2.frame import BROADCAST, MacAddress
from netsim.l3.engine import RoutingEngine
from netsim.l3.fhrp.common import FhrpEvent, Forward, Send, StateChanged, StopForwarding
from netsim.l3.fhrp.hsrp import PORT, HsrpConfig, HsrpGroup, HsrpMessage, HsrpState
from netsim.l3.fhrp.vrrp import (
    PROTOCOL,
    VrrpAdvertisement,
    VrrpConfig,
    VrrpRouter,
    VrrpState,
)
from netsim.l3.interface import L3Interface
from netsim.net.addressing import IPv4Address
from netsim.net.errors import DecodeError
from netsim.net.ipv4 import IpProtocol, Ipv4Packet
from netsim.net.udp import UdpDatagram

FhrpConfig = HsrpConfig | VrrpConfig
"""One group's configuration on an interface."""


def multicast_mac(group: IPv4Address) -> MacAddress:
    """The Ethernet address of an IPv4 multicast group: 01:00:5e + its low 23 bits."""
    return 0x0100_5E00_0000 | (int(group) & 0x7F_FFFF)


class FhrpService:
    """One group on ``iface`` of ``engine``; its state changes go to ``record``; its timers
    run up to the simulation's horizon; ``names`` (MAC -> device) learns who owns the
    virtual MAC."""

    def __init__(
        self,
        sim: Simulation,
        device: str,
        engine: RoutingEngine,
        iface: L3Interface,
        config: FhrpConfig,
        record: Callable[[str, str, StateChanged], None],
        names: MutableMapping[MacAddress, str] | None = None,
    ) -> None:
        self.sim = sim
        self.device = device
        self.engine = engine
        self.iface = iface
        self.config = config
        self.record = record
        self.names = names if names is not None else {}
        """MAC -> device name (frames.csv's ``dst``): the virtual MAC names its owner."""
        self.machine = self._fresh()
        self.bad_packets = 0
        """Hellos or advertisements that did not decode (a checksum, a field)."""
        self.running = False
        self._token = 0
        self._timer_at: float | None = None
        if isinstance(config, HsrpConfig):
            engine.on_local(IpProtocol.UDP, self._on_udp)
        else:
            engine.on_local(PROTOCOL, self._on_vrrp)

    @property
    def protocol(self) -> str:
        """``hsrp`` or ``vrrp``."""
        return "hsrp" if isinstance(self.config, HsrpConfig) else "vrrp"

    def _fresh(self) -> HsrpGroup | VrrpRouter:
        if isinstance(self.config, HsrpConfig):
            return HsrpGroup(self.config, self.iface.address, self.iface.mac)
        return VrrpRouter(self.config, self.iface.address, self.iface.mac)

    # Life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """The interface comes up with the group configured."""
        self.running = True
        self.machine.start(self.sim.now)
        self._pump()

    def stop(self) -> None:
        """The device failed: forget everything, send nothing (no resign: it is dead)."""
        if not self.running:
            return
        self.running = False
        self._token += 1
        self._timer_at = None
        self._release()
        old = self.machine
        self.machine = self._fresh()
        fresh = self.machine.state
        if old.state is not fresh:
            group = self.config.group if isinstance(self.config, HsrpConfig) else self.config.vrid
            change = StateChanged(
                self.sim.now, self.protocol, group, _name(old.state), _name(fresh), "device down"
            )
            self.record(self.device, self.iface.name, change)

    # Input --------------------------------------------------------------------------------

    def _on_udp(self, iface: L3Interface, packet: Ipv4Packet) -> None:
        if iface is not self.iface or not self.running:
            return
        machine = self.machine
        assert isinstance(machine, HsrpGroup)
        try:
            datagram = UdpDatagram.from_packet(packet)
            if datagram.dst_port != PORT:
                return
            message = HsrpMessage.from_bytes(datagram.payload)
        except DecodeError:
            self.bad_packets += 1
            return
        machine.receive(message, packet.src, self.sim.now)
        self._pump()

    def _on_vrrp(self, iface: L3Interface, packet: Ipv4Packet) -> None:
        if iface is not self.iface or not self.running:
            return
        machine = self.machine
        assert isinstance(machine, VrrpRouter)
        try:
            advert = VrrpAdvertisement.from_bytes(packet.payload, packet.src, packet.dst)
        except DecodeError:
            self.bad_packets += 1
            return
        machine.receive(advert, packet.src, packet.ttl, self.sim.now)
        self._pump()

    # Output and timers --------------------------------------------------------------------

    def _pump(self) -> None:
        for event in self.machine.events():
            self._act(event)
        self._rearm()

    def _act(self, event: FhrpEvent) -> None:
        iface, engine = self.iface, self.engine
        if isinstance(event, Send):
            packet = Ipv4Packet(iface.ip, event.dst, event.protocol, event.payload, ttl=event.ttl)
            mac = multicast_mac(event.dst)
            engine.send_on(iface, mac, packet, self.protocol, event.src_mac)
        elif isinstance(event, Forward):
            iface.extra_addresses[event.virtual_ip] = event.virtual_mac
            iface.extra_macs.add(event.virtual_mac)
            # Frames to the virtual MAC are for this router now: frames.csv names it (and
            # keeps naming it after it dies, so frames sent to a dead gateway show where).
            self.names[event.virtual_mac] = self.device
            engine.own_address(event.virtual_ip, iface)
            engine.send_arp(iface, BROADCAST, event.gratuitous_arp())
        elif isinstance(event, StopForwarding):
            self._release()
        else:
            self.record(self.device, iface.name, event)

    def _release(self) -> None:
        config = self.config
        iface = self.iface
        if iface.extra_addresses.pop(config.virtual_ip, None) is not None:
            self.engine.own_address(config.virtual_ip, None)
        iface.extra_macs.discard(config.virtual_mac)

    def _rearm(self) -> None:
        at = self.machine.next_timer()
        if at is None or not self.running:
            return
        if self._timer_at is not None and self._timer_at <= at:
            return
        if self.sim.call_timer_at(at, self._on_timer, self._token + 1):
            self._timer_at = at
            self._token += 1

    def _on_timer(self, token: int) -> None:
        if token != self._token or not self.running:
            return
        self._timer_at = None
        self.machine.tick(self.sim.now)
        self._pump()


def _name(state: HsrpState | VrrpState) -> str:
    """A state as fhrp.csv writes it (``active``, ``master``, ``initial``)."""
    return state.name.lower() if isinstance(state, HsrpState) else state.value
