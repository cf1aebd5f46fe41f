"""A layer-3 switch (Catalyst 3750): a learning switch with a router inside.

Two kinds of layer-3 interface join the switch's router to the world:

- an **SVI** (``interface Vlan10`` with an address) sits *in* VLAN 10: the switch's
  router MAC is one more station of that VLAN, so a frame in VLAN 10 to that MAC, or a
  broadcast in VLAN 10, reaches the router; what the router sends out of ``Vlan10`` is
  switched in VLAN 10 like a frame from any port (looked up, flooded, tagged on trunks);
- a **routed port** (``no switchport``) is not in any VLAN at all: every frame it
  receives goes to the router, and the router sends straight out of it. IOS gives each
  routed port an internal VLAN (1006 and up) that nothing else uses; so does netsim.

All SVIs share the switch's one router MAC, as on a Catalyst. The routing itself costs
what the switch's forwarding costs: a 3750 routes in hardware (CEF in the ASICs) at its
forwarding rate, so a routed frame pays the same lookup as a switched one, and no
software delay. A layer-2 switch (a 2960) may have one management SVI: it answers ARP
and ping on its address but routes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from netsim.l2.frame import Frame, MacAddress, is_link_local
from netsim.l2.switch import Switch
from netsim.l2.vlan import frame_for_egress
from netsim.l3.engine import RoutingEngine
from netsim.l3.interface import L3Interface
from netsim.net.addressing import IPv4Interface
from netsim.phy.port import Port


class Layer3Switch(Switch):
    """A :class:`~netsim.l2.switch.Switch` whose router takes frames sent to its MAC."""

    def enable_routing(
        self,
        router_mac: MacAddress,
        *,
        routing: bool = True,
        names: Mapping[MacAddress, str] | None = None,
    ) -> RoutingEngine:
        """Give the switch its router (``ip routing`` if ``routing``, else management only)."""
        self.router_mac = router_mac
        self.engine = RoutingEngine(self.sim, self.name, routing=routing, names=names)
        self._svis: dict[int, L3Interface] = {}
        self._routed: dict[Port, L3Interface] = {}
        self._ingress: Port | None = None
        """The port of the packet being routed, while the engine handles it: on a stack,
        where it came in decides how far round the ring it travels to its egress port."""
        return self.engine

    def add_svi(self, vlan: int, address: IPv4Interface) -> L3Interface:
        """``interface Vlan<vlan>`` with ``ip address``: the router joins ``vlan``."""

        def transmit(frame: Frame) -> bool:
            return self._switch_out(vlan, frame)

        iface = L3Interface(f"Vlan{vlan}", address, self.router_mac, transmit)
        self._svis[vlan] = iface
        self.engine.add_interface(iface)
        return iface

    def add_routed_port(self, port_name: str, address: IPv4Interface) -> L3Interface:
        """``interface PORT`` / ``no switchport`` / ``ip address``: route on this port."""
        port = self.port(port_name)

        def transmit(frame: Frame) -> bool:
            return self._egress(port, frame)

        iface = L3Interface(port_name, address, self.router_mac, transmit)
        self._routed[port] = iface
        self.engine.add_interface(iface)
        return iface

    # The switch's decision, with the router in front -------------------------------------

    def _decide(self, ingress: Port, frame: Frame, hops: int, t_last: float) -> None:
        if not self._to_router(ingress, frame, hops, t_last):
            super()._decide(ingress, frame, hops, t_last)

    def _decide_in_vlan(self, ingress: Port, frame: Frame, hops: int, t_last: float) -> None:
        if not self._to_router(ingress, frame, hops, t_last):
            super()._decide_in_vlan(ingress, frame, hops, t_last)

    def _to_router(self, ingress: Port, frame: Frame, hops: int, t_last: float) -> bool:
        """Hand the router what is its own; True if the switch must not also switch it.

        A broadcast in an SVI's VLAN goes both ways: to the router, and flooded.
        """
        routed = self._routed.get(ingress)
        if routed is not None:
            if self._check_fcs(ingress, frame, hops) and (
                frame.dst == self.router_mac or (frame.is_group and not is_link_local(frame.dst))
            ):
                self._route(routed, ingress, frame, hops, t_last)
            return True
        to_me = frame.dst == self.router_mac
        if not to_me and not frame.is_group and not self._has_virtual_macs():
            return False
        vlan = self.vlans.config[ingress].classify(frame.vlan)
        svi = self._svis.get(vlan) if vlan is not None else None
        if svi is None or vlan is None:
            return False
        if not to_me and not frame.is_group:
            if not svi.accepts(frame.dst):
                return False
            to_me = True  # a virtual MAC this SVI owns now (HSRP, VRRP)
        if to_me:
            if not self._check_fcs(ingress, frame, hops):
                return True
            self.table.learn(frame.src, ingress, self.sim.now, vlan)
            self._route(svi, ingress, frame.untagged(), hops, t_last)
            return True
        if frame.fcs_ok and not is_link_local(frame.dst):
            self._route(svi, ingress, frame.untagged(), hops, t_last)
        return False

    def _has_virtual_macs(self) -> bool:
        """Does any SVI take frames for a MAC besides the router's (a first-hop
        redundancy group's virtual MAC)? Only then must a unicast frame be classified
        before the switch knows it is not the router's."""
        return any(svi.extra_macs for svi in self._svis.values())

    def _route(
        self, iface: L3Interface, ingress: Port, frame: Frame, hops: int, t_last: float
    ) -> None:
        self._ingress = ingress
        try:
            self.engine.receive(iface, frame, hops, t_last)
        finally:
            self._ingress = None

    def _egress(self, out: Port, frame: Frame) -> bool:
        """Queue a routed frame on ``out``: across the stack ring first if it came in on
        another member (what the router sends on its own, ARP say, starts at ``out``)."""
        now = self.sim.now
        if self.stack is not None and self._ingress is not None:
            self._across_stack(self._ingress, [out], frame, 0, now)
            return True
        return out.transmit(frame, 0, now)

    def _switch_out(self, vlan: int, frame: Frame) -> bool:
        """Send a frame of the router's into ``vlan``, as if it came from an internal port."""
        now = self.sim.now
        egress = None if frame.is_group else self.table.lookup(frame.dst, now, vlan)
        if egress is not None:
            targets = [egress]
        else:
            targets = [p for p in self.vlans.members(vlan) if p.link is not None and p.link.up]
            targets = [p for p in targets if p not in self._routed]
        if not targets:
            self.sim.trace.frame_dropped(frame.frame_id, self.name, "no-egress", now, 0)
            return True  # recorded here, with its reason
        config = self.vlans.config
        sent = False
        for out in targets:
            version = frame_for_egress(frame, vlan, config[out].tags(vlan))
            if out.is_idle(now) and out.station is None and self.stack is None:
                self.sim.trace.first_bit(frame.frame_id, now)
            sent = self._egress(out, version) or sent
        return sent
