"""An end station's Ethernet interface: it sends frames and accepts those addressed to it.

The NIC filters by destination address (its own MAC, broadcast, multicast) and drops
frames whose FCS fails, counting runts and FCS errors as real NICs do. A host whose
``eth0`` is a VLAN sub-interface (``vlan``) tags what it sends and takes only frames
tagged with its VLAN; any other host takes only untagged (or priority-tagged) frames.
Upper layers (raw frame generators, ARP and IPv4) register a handler per EtherType.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from netsim.engine.sim import Simulation
from netsim.l2.frame import Frame, MacAddress, is_link_local
from netsim.phy.port import WHOLE_FRAME, Port

FrameHandler = Callable[[Frame, float], None]
"""Called with an accepted frame and the time its last bit arrived."""


class Host:
    """A station with one Ethernet port, ``eth0``."""

    kind = "host"

    def __init__(
        self,
        sim: Simulation,
        name: str,
        mac: MacAddress,
        buffer_bytes: int,
        vlan: int | None = None,
        cos: int = 0,
    ) -> None:
        self.sim = sim
        self.name = name
        self.mac = mac
        self.port = Port(self, "eth0", buffer_bytes)
        self.port.records_first_bit = True
        self.ports = [self.port]
        self.vlan = vlan
        """The VLAN of the sub-interface ``eth0.<vlan>``; None: plain untagged ``eth0``."""
        self.cos = cos
        """The 802.1p priority the sub-interface writes in its tags."""
        self.broadcast_audience = 0
        """How many other hosts a broadcast from here should reach (set when built)."""
        self.tagged_audiences: dict[int | None, int] = {}
        """The same for a broadcast sent with another tag than the host's own (a raw
        source writing its own tag), by tag (set when built)."""
        self._handlers: dict[int, FrameHandler] = {}

    def __repr__(self) -> str:
        return f"<Host {self.name}>"

    def register(self, ethertype: int, handler: FrameHandler) -> None:
        """Hand accepted frames of ``ethertype`` to ``handler``."""
        self._handlers[ethertype] = handler

    def send(self, frame: Frame, dst_name: str, traffic: str) -> bool:
        """Queue ``frame`` on the NIC; False (and a recorded drop) if the queue is full."""
        sim = self.sim
        now = sim.now
        trace = sim.trace
        if self.vlan is not None and frame.vlan is None:
            frame = frame.tagged(self.vlan)  # the sub-interface adds its tag
            if self.cos:
                frame = dataclasses.replace(frame, pcp=self.cos)  # and its priority
        trace.frame_sent(frame.frame_id, self.name, dst_name, frame.size, now, traffic)
        if frame.is_group:
            trace.receivers_expected(
                frame.frame_id,
                self.broadcast_audience
                if frame.vlan == self.vlan
                else self.tagged_audiences.get(frame.vlan, 0),
            )
        if self.port.transmit(frame, 0, now):
            return True
        link = self.port.link
        reason = "queue-full" if link is not None and link.up else "link-down"
        trace.frame_dropped(frame.frame_id, self.name, reason, now, 0)
        return False

    def bytes_needed(self, port: Port, frame: Frame) -> int:
        """A NIC hands a frame up only once it is complete and its FCS checked."""
        return WHOLE_FRAME

    def receive(self, port: Port, frame: Frame, hops: int, t_first: float, t_last: float) -> None:
        """Accept, or silently ignore, or drop (bad FCS) a frame that arrived whole."""
        for_us = frame.dst == self.mac or (
            frame.is_group and frame.src != self.mac and not is_link_local(frame.dst)
        )
        if not frame.fcs_ok:
            # A NIC counts bad frames whoever they were for: it cannot trust their header.
            # A runt is a collision fragment, not a lost frame: its sender tries again.
            if frame.is_runt:
                port.counters.runts += 1
                return
            port.counters.fcs_errors += 1
            if for_us:
                self.sim.trace.frame_dropped(frame.frame_id, self.name, "fcs-error", t_last, hops)
            return
        if not for_us:
            return  # the NIC's address filter: not a loss
        tag = frame.vlan
        if tag != self.vlan and not (tag == 0 and self.vlan is None):
            # Not this interface's VLAN: the kernel has no (sub-)interface for it.
            if frame.dst == self.mac:
                self.sim.trace.frame_dropped(
                    frame.frame_id, self.name, "vlan-not-allowed", t_last, hops
                )
            return
        self.sim.trace.frame_delivered(frame.frame_id, self.name, t_last, hops)
        handler = self._handlers.get(frame.ethertype)
        if handler is not None:
            handler(frame, t_last)
