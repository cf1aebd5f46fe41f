"""The learning switch, and the bridge (a two-port store-and-forward learning switch).

On every frame a switch learns the source address on the ingress port, looks the
destination up, and then floods (unknown unicast, broadcast, multicast: every port but
the ingress), filters (the destination lives on the ingress port), or forwards to one port.
When it may start sending depends on its :class:`~netsim.l2.switching.SwitchingMode`:
the fabric calls :meth:`Switch.receive` at the instant the mode's decisive bytes are in.

With VLANs configured (:mod:`netsim.l2.vlan`) all of this happens within the frame's VLAN:
the ingress port classifies the frame (or refuses it), learning and lookup are keyed by
VLAN and address, a flood reaches only the ports of the VLAN, and each egress port gets
the frame tagged or untagged as it needs. A switch whose ports are all access ports in
VLAN 1 takes the short path that an untagged frame always took, at the same cost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from netsim.engine.sim import Simulation
from netsim.l2.frame import (
    HEADER_BYTES,
    MIN_FRAME_BYTES,
    VLAN_TAG_BYTES,
    Frame,
    MacAddress,
    is_link_local,
)
from netsim.l2.lacp.lacpdu import SLOW_PROTOCOLS_ADDRESS
from netsim.l2.mac_table import MacEvent, MacTable
from netsim.l2.qos import SwitchQos
from netsim.l2.span import MonitorSession
from netsim.l2.storm import StormGuard
from netsim.l2.stp.bpdu import PVST_ADDRESS, STP_GROUP_ADDRESS
from netsim.l2.switching import SwitchingMode
from netsim.l2.vlan import PortVlan, VlanMap, frame_for_egress
from netsim.phy.port import WHOLE_FRAME, Port

if TYPE_CHECKING:
    from netsim.l2.etherchannel import EtherChannels
    from netsim.l2.stp.agent import SpanningTree
    from netsim.l2.stp.config import BridgeSettings, PortSettings

Decider = Callable[[Port, Frame, int, float], None]
"""Decides what to do with a frame whose decisive bytes are in: ``(ingress, frame, hops,
t_last)``, as :meth:`Switch._decide` does."""
ControlHandler = Callable[[Port, Frame], None]
"""Takes a frame to a reserved 01:80:C2:00:00:0X address that arrived whole on a port."""

DEFAULT_RECORDED_EVENTS = frozenset(MacEvent) - {MacEvent.REFRESH}
"""MAC events written to mac_events.csv unless a scenario asks for more: every frame
refreshes an entry, so refreshes would drown the events a student looks for."""


class Switch:
    """A transparent learning switch (IEEE 802.1D relay without spanning tree)."""

    kind = "switch"

    def __init__(
        self,
        sim: Simulation,
        name: str,
        port_names: Sequence[str],
        mode: SwitchingMode = SwitchingMode.STORE_AND_FORWARD,
        aging_time: float = 300.0,
        mac_table_size: int | None = None,
        processing_delay: float = 0.0,
        buffer_bytes: int = 512_000,
        recorded_events: Iterable[MacEvent] = DEFAULT_RECORDED_EVENTS,
        forwarding_rate: float | None = None,
        stack: StackRing | None = None,
        vlans: Mapping[str, PortVlan] | None = None,
    ) -> None:
        self.sim = sim
        self.name = name
        self.mode = mode
        self.processing_delay = processing_delay
        self.ports = [Port(self, p, buffer_bytes) for p in port_names]
        self._recorded = frozenset(recorded_events)
        self._records_floods = MacEvent.FLOOD in self._recorded
        self._mac_events = sim.trace.mac_events
        """The trace's list of MAC events: a flood is appended here, on every flood."""
        self.table: MacTable[Port] = MacTable(
            aging_time, mac_table_size, self._mac_event, self._recorded
        )
        decisive = mode.decisive_bytes
        self._decisive = WHOLE_FRAME if decisive is None else decisive
        # Cut-through needs the VLAN to look the destination up: a tag adds its 4 bytes.
        self._decisive_tagged = (
            self._decisive + VLAN_TAG_BYTES if mode is SwitchingMode.CUT_THROUGH else self._decisive
        )
        by_name = {p.name: p for p in self.ports}
        self.vlans: VlanMap[Port] = VlanMap(
            self.ports, {by_name[name]: cfg for name, cfg in (vlans or {}).items()}
        )
        """Which VLANs each port carries (every port an access port in VLAN 1 by default)."""
        # On a VLAN-aware switch every frame is handled in its VLAN. (A plain switch keeps
        # the short path of _decide and pays one test, for tagged frames, on each frame.)
        # The choice is an attribute, not a method assigned over another, so that the
        # class can be compiled (mypyc: see the README's speed section).
        self._open_decide: Decider = self._decide if self.vlans.plain else self._decide_in_vlan
        self._decider: Decider = self._open_decide
        """What :meth:`receive` calls: :attr:`_open_decide`, or behind spanning tree's
        gate :meth:`_decide_gated` (:meth:`gate_ports`)."""
        self._gated = False
        self.forwarding_rate = forwarding_rate
        """Frames per second one forwarding engine handles; None is unlimited."""
        self._lookup_time = 1.0 / forwarding_rate if forwarding_rate else 0.0
        self._engine_free: dict[int, float] = {}
        self.stack = stack
        self._member: dict[Port, int] = (
            {p: stack.member_of(p.name) for p in self.ports} if stack is not None else {}
        )
        self.members_down: frozenset[int] = frozenset()
        """Stack members that have failed: their ports are dark, the ring routes round them."""
        self.qos: SwitchQos | None = None
        """``mls qos``: trust and egress queues (:meth:`enable_qos`); None is one FIFO."""
        self.monitor_sessions: list[MonitorSession] = []
        self._switching_ports = self.ports
        """Ports that take part in forwarding: all but SPAN destinations."""
        self._span_destinations: frozenset[Port] = frozenset()
        self.control: dict[MacAddress, ControlHandler] = {}
        """The control protocols this switch runs, by the reserved address they use
        (LACP: 01:80:C2:00:00:02). Frames to other reserved addresses are dropped."""
        self.channels: EtherChannels | None = None
        """The port-channels (EtherChannel), if any (:meth:`add_port_channels`)."""
        self._not_flooded: frozenset[Port] = frozenset()
        """SPAN destinations and port-channel members: never a flood's target."""
        self.stp: SpanningTree | None = None
        """The spanning-tree process (:meth:`run_spanning_tree`); None runs none."""
        self.storm_guard: StormGuard | None = None
        """The run's storm guard, shared by its switches (:mod:`netsim.l2.storm`)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.mode}>"

    def port(self, name: str) -> Port:
        """The port called ``name``."""
        for p in self.ports:
            if p.name == name:
                return p
        raise KeyError(f"{self.name} has no port {name!r}")

    def enable_qos(self, qos: SwitchQos) -> None:
        """Classify frames at ingress by the ports' trust from now on (``mls qos``).

        The egress queues are the ports' own (:attr:`Port.queues`), set up by the builder.
        """
        self.qos = qos

    def add_monitor_session(self, session: MonitorSession) -> None:
        """Run a SPAN session: its destination port leaves normal forwarding."""
        self.monitor_sessions.append(session)
        self._span_destinations = frozenset(s.destination for s in self.monitor_sessions)
        self._refresh_switching_ports()

    def add_port_channels(self, channels: EtherChannels) -> None:
        """Bundle ports into port-channels: from now on each bundle is one logical port
        for learning, lookup and flooding (:mod:`netsim.l2.etherchannel`)."""
        self.channels = channels
        self.control[SLOW_PROTOCOLS_ADDRESS] = channels.receive_slow_protocol
        config = dict(self.vlans.config)
        for channel in channels.channels:
            # Members share one VLAN configuration (validated): the bundle takes it.
            config[channel] = config[channel.members[0]]
            if self.stack is not None:
                self._member[channel] = self._member[channel.members[0]]
        self.vlans = VlanMap([*self.ports, *channels.channels], config)
        self._refresh_switching_ports()

    @property
    def logical_ports(self) -> list[Port]:
        """The ports as forwarding and spanning tree see them: each port-channel once,
        in place of its members, then the ports that are in no bundle."""
        if self.channels is None:
            return list(self.ports)
        members = self.channels.members
        return [*self.channels.channels, *(p for p in self.ports if p not in members)]

    def _refresh_switching_ports(self) -> None:
        members = self.channels.members if self.channels is not None else frozenset()
        self._not_flooded = self._span_destinations | members
        self._switching_ports = [p for p in self.logical_ports if p not in self._not_flooded]

    def link_changed(self, port: Port) -> None:
        """The link on ``port`` went up or down (a scenario event, a failure): the
        control protocols must hear of it."""
        if self.channels is not None:
            self.channels.link_changed(port)
        if self.stp is not None:
            self.stp.link_changed(port)

    def _to_control(self, ingress: Port, frame: Frame, t_last: float) -> None:
        """A frame to a reserved address: the control protocol using it takes it, whole."""
        handler = self.control.get(frame.dst)
        if handler is not None and frame.fcs_ok:
            if self.sim.now >= t_last:
                handler(ingress, frame)
            else:
                self.sim.call_at(t_last, handler, ingress, frame)

    def _logical_ingress(self, ingress: Port, frame: Frame, hops: int) -> Port | None:
        """The logical port of a data frame's ingress (None: a suspended member, dropped)."""
        assert self.channels is not None
        logical = self.channels.ingress(ingress)
        if logical is None:
            self.sim.trace.frame_dropped(
                frame.frame_id, self.name, "not-bundled", self.sim.now, hops
            )
        return logical

    @property
    def span_destinations(self) -> frozenset[Port]:
        """The SPAN destination ports: they take no part in switching or spanning tree."""
        return self._span_destinations

    def frame_vlan(self, port: Port, frame: Frame) -> int | None:
        """The VLAN ``frame`` belongs to on ``port`` (its tag, or the port's untagged VLAN)."""
        return self.vlans.config[port].classify(frame.vlan)

    def _mac_event(
        self, time: float, event: MacEvent, mac: MacAddress, port: Port, vlan: int
    ) -> None:
        if event in self._recorded:
            self.sim.trace.mac_event(time, self.name, event, mac, port.name, vlan)

    # The fabric's side: when to call, and what to do -------------------------------------

    def bytes_needed(self, port: Port, frame: Frame) -> int:
        """Wire bytes this switch waits for on ``port`` before deciding (see the mode)."""
        return self._decisive if frame.vlan is None else self._decisive_tagged

    def receive(self, port: Port, frame: Frame, hops: int, t_first: float, t_last: float) -> None:
        """The decisive bytes of ``frame`` are in on ``port``: look it up after the
        processing delay, then forward, flood or filter.

        With a forwarding-rate limit the (per stack member) forwarding engine handles one
        frame every ``1/forwarding_rate`` seconds; frames wait their turn for it.
        """
        if not self._lookup_time and not self.processing_delay > 0.0:
            self._decider(port, frame, hops, t_last)  # the common case: decided at once
            return
        delay = self.processing_delay
        if self._lookup_time:
            now = self.sim.now
            member = self._member.get(port, 1)
            start = max(now, self._engine_free.get(member, 0.0))
            self._engine_free[member] = start + self._lookup_time
            delay += start + self._lookup_time - now
        if delay > 0.0:
            self.sim.call_at(self.sim.now + delay, self._decider, port, frame, hops, t_last)
        else:
            self._decider(port, frame, hops, t_last)

    def _decide(self, ingress: Port, frame: Frame, hops: int, t_last: float) -> None:
        if frame.vlan is not None:
            self._decide_in_vlan(ingress, frame, hops, t_last)
            return
        # Every port in VLAN 1 and the frame untagged: one VLAN, no tags to touch.
        now = self.sim.now
        complete = now >= t_last
        store_and_forward = self.mode is SwitchingMode.STORE_AND_FORWARD
        # (An intact frame passes store-and-forward's check: _admit is not called for it.)
        if (
            complete
            and not (store_and_forward and frame.fcs_ok)
            and not self._admit(ingress, frame, hops)
        ):
            return
        if frame.is_group and (
            is_link_local(frame.dst) or (frame.dst == PVST_ADDRESS and self.stp is not None)
        ):
            # 802.1D reserved address (or a PVST+ BPDU): for this bridge only, never forwarded
            if self.control:
                self._to_control(ingress, frame, t_last)
            return
        if self.monitor_sessions and ingress in self._span_destinations:
            return  # a SPAN destination: what arrives on it is not switched
        if self.qos is not None:
            frame = self.qos.classify(ingress, frame)  # by the trust of the member port
        wire = ingress  # the physical port, where a late FCS error is counted
        if self.channels is not None:
            logical = self._logical_ingress(ingress, frame, hops)
            if logical is None:
                return
            ingress = logical
        table = self.table
        table.learn(frame.src, ingress, now)
        dst = frame.dst
        egress = None if frame.is_group else table.lookup(dst, now)
        if egress is ingress:
            return  # filtered: the destination is on the segment the frame came from
        if egress is None:
            guard = self.storm_guard
            if guard is not None:
                guard.flooded(frame.frame_id, ingress, now)
            if self._records_floods:
                # Trace.mac_event's record, appended in line: this runs on every flood.
                self._mac_events.append((now, self.name, MacEvent.FLOOD, dst, ingress.name, 1))
            targets = [
                p
                for p in self._switching_ports
                if p is not ingress and (link := p.link) is not None and link.up
            ]
            if not targets:
                # Nowhere to flood: every other port is down or unplugged.
                self.sim.trace.frame_dropped(frame.frame_id, self.name, "no-egress", now, hops)
                return
        else:
            targets = [egress]
        if self.stack is not None:
            self._across_stack(ingress, targets, frame, hops, now)
            return
        if complete or store_and_forward:
            for out in targets:
                self._enqueue(out, frame, hops, now)
            return
        # Cut-through or fragment-free, and the frame is still arriving.
        stored: list[Port] = []
        for out in targets:
            if out.station is None and out.rate <= ingress.rate and out.is_idle(now):
                self._enqueue(out, frame, hops, now)
            else:
                stored.append(out)  # busy or faster egress: wait for the whole frame
        if stored:
            self.sim.call_at(t_last, self._forward_stored, wire, stored, frame, hops)

    def _decide_in_vlan(self, ingress: Port, frame: Frame, hops: int, t_last: float) -> None:
        """:meth:`_decide` on a VLAN-aware switch: classify, then learn, look up and flood
        within the frame's VLAN, tagging or untagging it for each egress port."""
        now = self.sim.now
        complete = now >= t_last
        if complete and not self._admit(ingress, frame, hops):
            return
        if frame.is_group and (
            is_link_local(frame.dst) or (frame.dst == PVST_ADDRESS and self.stp is not None)
        ):
            if self.control:
                self._to_control(ingress, frame, t_last)
            return
        if self.monitor_sessions and ingress in self._span_destinations:
            return  # a SPAN destination: what arrives on it is not switched
        if self.qos is not None:
            frame = self.qos.classify(ingress, frame)  # by the trust of the member port
        wire = ingress  # the physical port, where a late FCS error is counted
        if self.channels is not None:
            logical = self._logical_ingress(ingress, frame, hops)
            if logical is None:
                return
            ingress = logical
        vlans = self.vlans
        vlan = vlans.config[ingress].classify(frame.vlan)
        if vlan is None:
            # Ingress filtering: the port does not carry this VLAN, or no port does.
            known = frame.vlan is None or frame.vlan == 0 or frame.vlan in vlans.known
            reason = "vlan-not-allowed" if known else "unknown-vlan"
            self.sim.trace.frame_dropped(frame.frame_id, self.name, reason, now, hops)
            return
        table = self.table
        table.learn(frame.src, ingress, now, vlan)
        dst = frame.dst
        egress = None if frame.is_group else table.lookup(dst, now, vlan)
        if egress is ingress:
            return
        if egress is None:
            if self.storm_guard is not None:
                self.storm_guard.flooded(frame.frame_id, ingress, now)
            if self._records_floods:
                self._mac_events.append((now, self.name, MacEvent.FLOOD, dst, ingress.name, vlan))
            span = self._not_flooded
            targets = [
                p
                for p in vlans.members(vlan)
                if p is not ingress and p.link is not None and p.link.up and p not in span
            ]
            if not targets:
                self.sim.trace.frame_dropped(frame.frame_id, self.name, "no-egress", now, hops)
                return
        else:
            targets = [egress]
        # Each egress port gets the frame tagged or not; at most two versions are made.
        versions: dict[bool, Frame] = {}
        sends: list[tuple[Port, Frame]] = []
        for out in targets:
            tagged = vlans.config[out].tags(vlan)
            version = versions.get(tagged)
            if version is None:
                version = versions[tagged] = frame_for_egress(frame, vlan, tagged)
            sends.append((out, version))
        if self.stack is not None:
            for out, version in sends:
                self._across_stack(ingress, [out], version, hops, now)
            return
        if complete or self.mode is SwitchingMode.STORE_AND_FORWARD:
            for out, version in sends:
                self._enqueue(out, version, hops, now)
            return
        stored: list[tuple[Port, Frame]] = []
        for out, version in sends:
            if out.station is None and out.rate <= ingress.rate and out.is_idle(now):
                self._enqueue(out, version, hops, now)
            else:
                stored.append((out, version))
        if stored:
            self.sim.call_at(t_last, self._forward_stored_versions, wire, frame, stored, hops)

    # Spanning tree: BPDUs in, and the port-state gate -------------------------------------

    def run_spanning_tree(
        self, settings: BridgeSettings, ports: Mapping[str, PortSettings], bridge_mac: MacAddress
    ) -> SpanningTree:
        """Start spanning tree (call once the ports are cabled): see
        :mod:`netsim.l2.stp.agent`. ``bridge_mac`` is the switch's base MAC address."""
        from netsim.l2.stp.agent import SpanningTree

        self.stp = SpanningTree(self, settings, ports, bridge_mac)
        self.control[STP_GROUP_ADDRESS] = self._bpdu_in
        self.control[PVST_ADDRESS] = self._bpdu_in
        return self.stp

    def _bpdu_in(self, ingress: Port, frame: Frame) -> None:
        """A whole, intact BPDU for this bridge: spanning tree reads it (a SPAN
        destination takes no part in spanning tree). One that arrived on a bundle's
        member is the port-channel's; on a suspended member it is ignored."""
        if self.stp is None or (self.monitor_sessions and ingress in self._span_destinations):
            return
        port = ingress if self.channels is None else self.channels.ingress(ingress)
        if port is not None:
            self.stp.receive(port, frame)

    def gate_ports(self, gated: bool) -> None:
        """Check port states on every frame (some port is not forwarding), or stop checking
        (all forward: the pipeline is exactly the one without spanning tree)."""
        self._gated = gated
        self._decider = self._decide_gated if gated else self._open_decide

    def _decide_gated(self, ingress: Port, frame: Frame, hops: int, t_last: float) -> None:
        """The ingress gate: a blocking, listening or discarding port takes no data frame;
        a learning port learns its source address but forwards nothing."""
        stp = self.stp
        assert stp is not None
        vlan = self.vlans.config[ingress].classify(frame.vlan)
        is_data = not (frame.is_group and (is_link_local(frame.dst) or frame.dst == PVST_ADDRESS))
        logical = ingress if self.channels is None else self.channels.ingress(ingress)
        if vlan is not None and is_data and logical is not None:
            state = stp.blocked.get((logical, stp.key(vlan)))
            if state is not None:
                now = self.sim.now
                if state.learns and now >= t_last and frame.fcs_ok:
                    self.table.learn(frame.src, logical, now, vlan)
                self.sim.trace.frame_dropped(
                    frame.frame_id, self.name, "stp-" + state.value, now, hops
                )
                return
        # (A frame that waited out the processing delay may find the gate lifted meanwhile:
        # it goes on through the open pipeline all the same, which is always kept.)
        self._open_decide(ingress, frame, hops, t_last)

    def _egress_blocked(self, out: Port, frame: Frame) -> bool:
        """The egress gate: nothing goes out of a port that is not forwarding."""
        stp = self.stp
        assert stp is not None
        if stp.mode.per_vlan:
            cfg = self.vlans.config[out]
            untagged = cfg.native if cfg.is_trunk else cfg.access_vlan
            key = frame.vlan if frame.vlan is not None else untagged
        else:
            key = 0
        return (out, key) in stp.blocked

    def _forward_stored_versions(
        self, ingress: Port, frame: Frame, sends: list[tuple[Port, Frame]], hops: int
    ) -> None:
        """Like :meth:`_forward_stored`, each egress port with its own version of the frame."""
        now = self.sim.now
        if self._check_fcs(ingress, frame, hops):
            for out, version in sends:
                self._enqueue(out, version, hops, now)

    def _forward_stored(self, ingress: Port, targets: list[Port], frame: Frame, hops: int) -> None:
        now = self.sim.now
        if self._check_fcs(ingress, frame, hops):
            for out in targets:
                self._enqueue(out, frame, hops, now)

    def _admit(self, ingress: Port, frame: Frame, hops: int) -> bool:
        """The mode's check on a frame that has arrived whole.

        Store-and-forward checks the FCS. Fragment-free only refuses fragments shorter than
        64 bytes; cut-through only those too short to hold a header. (A whole frame reaches
        a cut-through or fragment-free decision when it is shorter than the decisive bytes,
        or when it came from a shared half-duplex segment.)
        """
        if self.mode is SwitchingMode.STORE_AND_FORWARD:
            return self._check_fcs(ingress, frame, hops)
        shortest = MIN_FRAME_BYTES if self.mode is SwitchingMode.FRAGMENT_FREE else HEADER_BYTES
        if frame.length >= shortest:
            return True
        ingress.counters.runts += 1
        return False

    def _check_fcs(self, ingress: Port, frame: Frame, hops: int) -> bool:
        """Store-and-forward's check: drop runts and frames whose FCS fails.

        A runt is a collision fragment: counted, but not a lost frame (the sender tries
        again), so only FCS errors go to the trace.
        """
        if frame.fcs_ok:
            return True
        if frame.is_runt:
            ingress.counters.runts += 1
            return False
        ingress.counters.fcs_errors += 1
        self.sim.trace.frame_dropped(frame.frame_id, self.name, "fcs-error", self.sim.now, hops)
        return False

    def _across_stack(
        self, ingress: Port, targets: list[Port], frame: Frame, hops: int, now: float
    ) -> None:
        """A stack forwards store-and-forward; a frame for another member crosses the ring."""
        assert self.stack is not None
        src = self._member[ingress]
        down = self.members_down
        if src in down:
            # In flight to a member as it failed: nothing is left there to switch it.
            self.sim.trace.frame_dropped(frame.frame_id, self.name, "device-down", now, hops)
            return
        for out in targets:
            transit = self.stack.transit_time(src, self._member[out], frame.wire_bytes, down)
            if transit is None:
                self.sim.trace.frame_dropped(frame.frame_id, self.name, "stack-split", now, hops)
            elif transit > 0.0:
                self.sim.call_at(now + transit, self._enqueue_now, out, frame, hops)
            else:
                self._enqueue(out, frame, hops, now)

    def _enqueue_now(self, out: Port, frame: Frame, hops: int) -> None:
        self._enqueue(out, frame, hops, self.sim.now)

    def _enqueue(self, out: Port, frame: Frame, hops: int, now: float) -> None:
        if self._gated and self._egress_blocked(out, frame):
            return
        if not out.transmit(frame, hops, now):
            reason = "queue-full" if out.link is not None and out.link.up else "link-down"
            self.sim.trace.frame_dropped(frame.frame_id, self.name, reason, now, hops)


@dataclass(frozen=True)
class StackRing:
    """StackWise: several switches act as one, joined by two counter-rotating rings.

    A frame between two members travels the shorter way round on one ring and is stored
    and forwarded by every member it crosses, at the ring's rate (16 Gb/s per ring, 32
    together). Frames between ports of one member are switched locally: Cisco puts every
    frame on the ring, but the local case costs the same for every such frame, and what
    a scenario compares is the extra cost of crossing members.
    """

    members: int
    ring_bps: float = 16e9

    def member_of(self, port: str) -> int:
        """``Gi2/0/5`` -> 2."""
        return int(port[2:].split("/")[0])

    def hops(self, a: int, b: int, down: frozenset[int] = frozenset()) -> int | None:
        """Ring segments between members ``a`` and ``b``, the shorter way round that does
        not cross a failed member in ``down``; None if both ways do (the ring is split)."""
        if a == b:
            return 0
        n = self.members
        clockwise = (b - a) % n
        shortest: int | None = None
        for steps, direction in ((clockwise, 1), (n - clockwise, -1)):
            crossed = {(a - 1 + direction * k) % n + 1 for k in range(1, steps)}
            if not crossed & down and (shortest is None or steps < shortest):
                shortest = steps
        return shortest

    def transit_time(
        self, a: int, b: int, wire_bytes: int, down: frozenset[int] = frozenset()
    ) -> float | None:
        """Time to carry a frame of ``wire_bytes`` from member ``a`` to member ``b``
        round the failed members ``down``; None if it cannot get there."""
        hops = self.hops(a, b, down)
        return None if hops is None else hops * wire_bytes * 8 / self.ring_bps


class Bridge(Switch):
    """A two-port learning bridge: store-and-forward only, as 802.1D bridges were."""

    kind = "bridge"

    def __init__(
        self,
        sim: Simulation,
        name: str,
        aging_time: float = 300.0,
        mac_table_size: int | None = None,
        processing_delay: float = 0.0,
        buffer_bytes: int = 512_000,
        recorded_events: Iterable[MacEvent] = DEFAULT_RECORDED_EVENTS,
        vlans: Mapping[str, PortVlan] | None = None,
    ) -> None:
        super().__init__(
            sim,
            name,
            ["1", "2"],
            SwitchingMode.STORE_AND_FORWARD,
            aging_time,
            mac_table_size,
            processing_delay,
            buffer_bytes,
            recorded_events,
            vlans=vlans,
        )
