"""``kind: router``: a device whose every port is a routed interface.

A generic router is store-and-forward: it takes a frame only once it has arrived whole
and its FCS checks, waits its ``processing_delay`` (the software path of a CPU-based
router), and its forwarding engine handles one packet every ``1/forwarding_rate``
seconds (packets queue for it). Only then does the :class:`~netsim.l3.engine.RoutingEngine`
route the packet. So one router adds, per packet, exactly

    processing_delay + 1/forwarding_rate (+ any wait for the engine)

on top of the serialization and propagation of the links on each side: the figure the
two-router ping test checks to the nanosecond.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from netsim.engine.sim import Simulation
from netsim.l2.frame import Frame, MacAddress
from netsim.l3.engine import RoutingEngine
from netsim.l3.interface import L3Interface
from netsim.net.addressing import IPv4Interface
from netsim.phy.port import WHOLE_FRAME, Port

ROUTER_MAC_BASE = 0x02_52_00_00_00_00
"""Routers' MACs are locally administered ``02:52:...`` (0x52 is ``R``)."""


def router_mac(device_index: int, interface_index: int) -> MacAddress:
    """The MAC of a routing device's ``interface_index``-th interface (each its own, as on
    a Cisco router; a layer-3 switch uses interface 0's for all its SVIs)."""
    return ROUTER_MAC_BASE | (device_index & 0xFF_FFFF) << 8 | (interface_index & 0xFF)


class Router:
    """A router: routed ports, a processing delay and a forwarding-rate limit."""

    kind = "router"

    def __init__(
        self,
        sim: Simulation,
        name: str,
        port_names: Sequence[str],
        processing_delay: float = 0.0,
        forwarding_rate: float | None = None,
        buffer_bytes: int = 512_000,
        names: Mapping[MacAddress, str] | None = None,
    ) -> None:
        self.sim = sim
        self.name = name
        self.processing_delay = processing_delay
        self.forwarding_rate = forwarding_rate
        """Packets per second the forwarding engine handles; None is unlimited."""
        self._lookup_time = 1.0 / forwarding_rate if forwarding_rate else 0.0
        self._engine_free = 0.0
        self.ports = [Port(self, p, buffer_bytes) for p in port_names]
        for port in self.ports:
            port.records_first_bit = True  # frames leaving a router port are its own
        self.engine = RoutingEngine(sim, name, names=names)
        self._interface_of: dict[Port, L3Interface] = {}

    def __repr__(self) -> str:
        return f"<Router {self.name}>"

    def port(self, name: str) -> Port:
        """The port called ``name``."""
        for p in self.ports:
            if p.name == name:
                return p
        raise KeyError(f"{self.name} has no port {name!r}")

    def add_interface(self, port_name: str, address: IPv4Interface, mac: MacAddress) -> L3Interface:
        """``interface PORT`` / ``ip address ADDRESS MASK``: route on this port."""
        port = self.port(port_name)

        env = self.sim.env

        def transmit(frame: Frame) -> bool:
            return port.transmit(frame, 0, env.now)

        iface = L3Interface(port_name, address, mac, transmit)
        self._interface_of[port] = iface
        self.engine.add_interface(iface)
        return iface

    def bytes_needed(self, port: Port, frame: Frame) -> int:
        """A router is store-and-forward: it needs the whole frame to check its FCS."""
        return WHOLE_FRAME

    def receive(self, port: Port, frame: Frame, hops: int, t_first: float, t_last: float) -> None:
        """Take a frame for one of our interfaces; route it after the router's delays."""
        iface = self._interface_of.get(port)
        if iface is None:
            return  # a port with no address: shut, as IOS leaves an unconfigured one
        if not frame.fcs_ok:
            if frame.is_runt:
                port.counters.runts += 1
                return
            port.counters.fcs_errors += 1
            self.sim.trace.frame_dropped(frame.frame_id, self.name, "fcs-error", t_last, hops)
            return
        if not (frame.is_group or iface.accepts(frame.dst)) or frame.vlan is not None:
            return  # the NIC's address filter (and no sub-interfaces for tagged frames)
        now = self.sim.env.now
        delay = self.processing_delay
        if self._lookup_time:
            start = max(now, self._engine_free)
            self._engine_free = start + self._lookup_time
            delay += start + self._lookup_time - now
        if delay > 0.0:
            self.sim.call_at(now + delay, self.engine.receive, iface, frame, hops, t_last)
        else:
            self.engine.receive(iface, frame, hops, t_last)
