"""A switch's spanning-tree process on the live fabric: engines, timers, BPDUs, port gate.

The engines (:mod:`netsim.l2.stp.stp`, :mod:`netsim.l2.stp.rstp`) are sans-IO. This
module is the I/O around them for one :class:`~netsim.l2.switch.Switch`:

* **Instances.** ``stp`` and ``rstp`` run one engine for the whole switch; ``pvst`` and
  ``rapid-pvst`` one per VLAN the switch knows, each over the ports that carry it and with
  the VLAN id in its bridge ID (priority 32768 + VLAN 10 = 32778).
* **BPDUs are frames.** What an engine transmits goes out of the port as a real 802.3/LLC
  frame to 01:80:C2:00:00:00 (or, for a PVST+ VLAN the port tags, Cisco's SSTP frame to
  01:00:0C:CC:CC:CD with the VLAN's tag), queued and serialized like any frame, so it
  shows in captures and port counters. The switch hands every BPDU it receives to
  :meth:`SpanningTree.receive` once the whole frame is in; it is never forwarded.
* **Timers.** Each engine says when it next needs ticking. The switch keeps one simulator
  call, at the earliest of its instances' deadlines, and ticks there every instance that
  is due, in VLAN order: with all instances' hellos in step (they start together), one
  call sends every hello of the bridge, as 802.1D's one hello time per bridge has it.
  A call made stale by a newer deadline does nothing.
* **The gate.** :attr:`SpanningTree.blocked` holds every (port, instance) that is not
  forwarding, with its state. The switch consults it only while it is non-empty: a
  switch whose ports all forward pays nothing per data frame.
* **EtherChannel.** Spanning tree numbers :attr:`Switch.logical_ports`: a port-channel is
  one port, in place of its members. A BPDU that arrives on a member is the port-channel's;
  one sent on it leaves on one member (the bundle's hash picks it). The bundle is up while
  any member distributes: a member failing is no link change, the last one is. Its path
  cost is that of the members distributing now (as IOS recomputes it), so a member
  coming or going may move the tree.
* **Records.** Every role and state change (and link change, flush, short aging) is a
  row of stp.csv.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from netsim.l2.etherchannel import PortChannel
from netsim.l2.frame import Frame, MacAddress
from netsim.l2.stp.bpdu import (
    PVST_ADDRESS,
    Bpdu,
    BpduError,
    BridgeId,
    bpdu_frame,
    decode_bpdu_frame,
    decode_pvst_bpdu_frame,
    pvst_bpdu_frame,
)
from netsim.l2.stp.config import BridgeSettings, PortSettings
from netsim.l2.stp.engine import (
    PortConfig,
    PortRole,
    PortState,
    SpanningTreeEngine,
    apply,
    bundle_path_cost,
    path_cost,
)
from netsim.l2.stp.rstp import RstpBridge
from netsim.l2.stp.stp import StpBridge
from netsim.phy.port import Duplex, Port

if TYPE_CHECKING:
    from netsim.l2.switch import Switch

STP_COLUMNS = [
    "time",
    "bridge",
    "instance",
    "port",
    "role",
    "state",
    "event",
    "bridge_id",
    "root",
    "root_cost",
]
"""stp.csv: one row per change. ``instance`` is the VLAN under PVST+, 0 otherwise;
``event`` is ``role``, ``state``, ``link-up``, ``link-down``, ``flush``, ``age-fast``
(short aging starts; ``age-normal`` when it ends) or ``malformed-bpdu``; ``root`` and
``root_cost`` are what the bridge believes at that moment."""

StpRow = tuple[float, str, int, str, str, str, str, str, str, int]


class Instance:
    """One spanning-tree instance of a switch: its engine and the ports it covers.

    It is the :class:`~netsim.l2.stp.engine.BridgeControl` its engine drives.
    """

    def __init__(
        self, tree: SpanningTree, vlan: int, engine: SpanningTreeEngine, ports: dict[int, Port]
    ) -> None:
        self.tree = tree
        self.vlan = vlan
        """The VLAN under PVST+ (also the engine's system id); 0 for a single tree."""
        self.engine = engine
        self.ports = ports
        """Port number -> port, for the ports this instance runs on."""
        self.deadline: float | None = None
        """When the engine next needs ticking (what it said after its last call)."""
        self.short_aging: float | None = None
        self.frames: dict[int, tuple[Bpdu, Frame]] = {}
        """Port number -> the last BPDU sent there and its frame. An engine hands over
        the same BPDU object while nothing in it changes (every hello, mostly), and then
        the same frame goes out again: it is neither rebuilt nor re-encoded."""

    # BridgeControl ----------------------------------------------------------------------

    def transmit(self, port: int, bpdu: Bpdu) -> None:
        """Send a BPDU frame out of ``port`` (whatever its state)."""
        out = self.ports[port]
        sent = self.frames.get(port)
        if sent is not None and sent[0] is bpdu:
            frame = sent[1]
        else:
            frame = self.tree.frame(self, out, bpdu)
            self.frames[port] = (bpdu, frame)
        out.transmit(frame, 0, self.tree.switch.sim.now)

    def set_port_state(self, port: int, state: PortState) -> None:
        """Open or close the port's gate for data frames of this instance."""
        self.tree.set_state(self, self.ports[port], state)

    def set_port_role(self, port: int, role: PortRole) -> None:
        """Record the new role."""
        self.tree.record(self, self.ports[port], "role", role=role)

    def flush(self, port: int) -> None:
        """Forget the addresses learned on ``port`` (RSTP topology change)."""
        p = self.ports[port]
        self.tree.switch.table.flush_port(p, self.tree.switch.sim.now)
        self.tree.record(self, p, "flush")

    def age_fast(self, aging_time: float | None) -> None:
        """802.1D topology change: short aging in force, or over (``None``)."""
        self.short_aging = aging_time
        self.tree.apply_aging()
        self.tree.record(self, None, "age-fast" if aging_time is not None else "age-normal")


Heard = tuple[Frame, Bpdu, Instance | None]
"""A BPDU frame that decoded, what it decoded to, and the instance it is for."""


class SpanningTree:
    """The spanning-tree process of ``switch``, configured by ``settings`` (bridge) and
    ``port_settings`` (by port name), identified by ``bridge_mac``.

    Only ports with a cable take part (a port-channel always does); a SPAN destination
    port does not. The ports are :attr:`Switch.logical_ports`: a port-channel once, in
    place of its members.
    """

    def __init__(
        self,
        switch: Switch,
        settings: BridgeSettings,
        port_settings: Mapping[str, PortSettings],
        bridge_mac: MacAddress,
    ) -> None:
        self.switch = switch
        self.settings = settings
        self.mode = settings.mode
        self.bridge_mac = bridge_mac
        self.blocked: dict[tuple[Port, int], PortState] = {}
        """(port, instance VLAN or 0) -> state, for every port not forwarding."""
        self.rows: list[StpRow] = []
        self.malformed = 0
        """BPDUs received that did not decode (counted, and recorded in stp.csv)."""
        self.state_watchers: list[Callable[[float], None]] = []
        """Called with the time after every port state change (the availability monitor)."""
        self._normal_aging = switch.table.aging_time
        self._heard: dict[tuple[Port, MacAddress, int | None], Heard] = {}
        """(port, destination, tag) -> the last BPDU frame that decoded there (a trunk
        hears one per VLAN), its BPDU and its instance."""
        self._id_text: dict[BridgeId, str] = {}
        self._armed: float | None = None
        """When the simulator will next call :meth:`_tick` (the earliest deadline)."""
        self.number: dict[Port, int] = {}
        physical = {port: index for index, port in enumerate(switch.ports, start=1)}
        for port in switch.logical_ports:
            if isinstance(port, PortChannel):
                # Numbered after the physical ports (as IOS numbers its port-channels), so
                # a plain port keeps its number, and its port ID, whatever is bundled.
                self.number[port] = len(switch.ports) + port.group
            elif port.link is not None and port not in switch.span_destinations:
                self.number[port] = physical[port]
        self._cost_follows: set[PortChannel] = {
            p
            for p in self.number
            if isinstance(p, PortChannel)
            and (_settings_of(p, port_settings) or PortSettings()).cost is None
        }
        """Port-channels whose cost follows their members (none set in the scenario)."""
        if switch.channels is not None:
            switch.channels.listeners.append(self._bundle_changed)
            switch.channels.resized.append(self._follow_cost)
        per_vlan = self.mode.per_vlan
        vlans = sorted(switch.vlans.known) if per_vlan else [0]
        self.instances: list[Instance] = []
        for vlan in vlans:
            ports = {
                n: p
                for p, n in self.number.items()
                if not per_vlan or switch.vlans.config[p].carries(vlan)
            }
            configs = {
                n: self._port_config(p, _settings_of(p, port_settings)) for n, p in ports.items()
            }
            engine_class = RstpBridge if self.mode.rapid else StpBridge
            engine: SpanningTreeEngine = engine_class(
                bridge_mac,
                configs,
                priority=settings.priority,
                instance=vlan,
                timers=settings.timers,
            )
            self.instances.append(Instance(self, vlan, engine, ports))
        self._by_vlan = {inst.vlan: inst for inst in self.instances}
        for inst in self.instances:
            for port in inst.ports.values():
                self.blocked[port, inst.vlan] = PortState.DISABLED
        switch.gate_ports(bool(self.blocked))  # every port starts closed until it comes up
        switch.sim.call_at(0.0, self._start)

    def _port_config(self, port: Port, settings: PortSettings | None) -> PortConfig:
        s = settings or PortSettings()
        access = not self.switch.vlans.config[port].is_trunk
        edge = s.portfast if s.portfast is not None else self.settings.portfast_default and access
        method = self.settings.cost_method
        if isinstance(port, PortChannel):
            cost = self._bundle_cost(port)
        else:
            cost = path_cost(port.rate, method)
        return PortConfig(
            cost=s.cost if s.cost is not None else cost,
            priority=s.port_priority if s.port_priority is not None else 128,
            edge=edge,
            point_to_point=port.duplex is Duplex.FULL,
        )

    # Inputs ------------------------------------------------------------------------------

    def _start(self) -> None:
        """Power-on: every port whose link is up comes up."""
        for inst in self.instances:
            for n, port in inst.ports.items():
                if port.link is not None and port.link.up:
                    self.record(inst, port, "link-up")
                    apply(inst.engine.enable_port(n, self.switch.sim.now), inst)
            inst.deadline = inst.engine.next_deadline()
        self._rearm()

    def link_changed(self, port: Port) -> None:
        """The link on ``port`` went up or down: tell every instance it belongs to. (A
        bundle's member is not a port of spanning tree: :meth:`_bundle_changed` is.)"""
        self._port_changed(port, port.link is not None and port.link.up)

    def _bundle_changed(self, channel: PortChannel, up: bool) -> None:
        """A port-channel came up (its first member distributes) or went down (its last
        stopped): for spanning tree, the link of that one port changed."""
        if up:
            self._follow_cost(channel)
        self._port_changed(channel, up)

    def _bundle_cost(self, channel: PortChannel) -> int:
        """A bundle's cost by its aggregate speed: of the members distributing now (all
        configured ones before any does)."""
        members = len(channel.distributing) or len(channel.members)
        return bundle_path_cost(channel.rate, members, self.settings.cost_method)

    def _follow_cost(self, channel: PortChannel) -> None:
        """A member of ``channel`` joined or left: its cost is the new aggregate's."""
        n = self.number.get(channel)
        if n is None or channel not in self._cost_follows:
            return
        cost, now = self._bundle_cost(channel), self.switch.sim.now
        for inst in self.instances:
            if n in inst.ports:
                apply(inst.engine.set_port_cost(n, cost, now), inst)
                inst.deadline = inst.engine.next_deadline()
        self._rearm()

    def _port_changed(self, port: Port, up: bool) -> None:
        n = self.number.get(port)
        if n is None:
            return
        now = self.switch.sim.now
        for inst in self.instances:
            if n in inst.ports:
                self.record(inst, port, "link-up" if up else "link-down")
                engine = inst.engine
                actions = engine.enable_port(n, now) if up else engine.disable_port(n, now)
                apply(actions, inst)
                inst.deadline = engine.next_deadline()
        self._rearm()

    def receive(self, port: Port, frame: Frame) -> None:
        """A whole BPDU frame arrived on ``port``: decode it and feed the right engine."""
        n = self.number.get(port)
        if n is None:
            return
        key = (port, frame.dst, frame.vlan)
        heard = self._heard.get(key)
        # (Mostly the very frame of last time: the sender reuses it. Test that before
        # paying for the call.)
        if heard is not None and (heard[0] is frame or _same_octets(heard[0], frame)):
            # The neighbour's hello, as last time: the same bytes decode the same way.
            bpdu, inst = heard[1], heard[2]
        else:
            try:
                if frame.dst == PVST_ADDRESS:
                    bpdu, vlan = decode_pvst_bpdu_frame(frame.to_bytes())
                    inst = self._by_vlan.get(vlan if self.mode.per_vlan else 0)
                else:
                    bpdu = decode_bpdu_frame(frame.to_bytes())
                    inst = self._untagged_instance(port)
            except BpduError:
                self.malformed += 1
                self.record(self.instances[0], port, "malformed-bpdu")
                return
            self._heard[key] = (frame, bpdu, inst)
        if inst is None or n not in inst.ports:
            return  # a VLAN this switch does not run, or a port outside it
        engine = inst.engine
        actions = engine.receive(n, bpdu, self.switch.sim.now)
        if actions:  # a neighbour's repeated hello, mostly, asks for nothing
            apply(actions, inst)
        deadline = engine.next_deadline()
        if deadline != inst.deadline:
            inst.deadline = deadline
            self._rearm()

    def _untagged_instance(self, port: Port) -> Instance | None:
        """Where an IEEE BPDU belongs: the single tree, or under PVST+ the VLAN the port
        sends untagged (access VLAN or trunk native VLAN)."""
        if not self.mode.per_vlan:
            return self.instances[0]
        cfg = self.switch.vlans.config[port]
        return self._by_vlan.get(cfg.native if cfg.is_trunk else cfg.access_vlan)

    def _tick(self, when: float) -> None:
        """The earliest deadline is here: tick every instance that is due."""
        if self._armed != when:
            return  # superseded by another deadline
        self._armed = None
        now = self.switch.sim.now
        for inst in self.instances:
            if inst.deadline is not None and inst.deadline <= now:
                engine = inst.engine
                apply(engine.tick(now), inst)
                inst.deadline = engine.next_deadline()
        self._rearm()

    def _rearm(self) -> None:
        """Have the simulator call :meth:`_tick` at the earliest deadline (none beyond the
        horizon)."""
        deadlines = [i.deadline for i in self.instances if i.deadline is not None]
        if not deadlines:
            return
        deadline = min(deadlines)
        if deadline != self._armed and self.switch.sim.call_timer_at(
            deadline, self._tick, deadline
        ):
            self._armed = deadline

    # What the engines ask for --------------------------------------------------------------

    def frame(self, inst: Instance, port: Port, bpdu: Bpdu) -> Frame:
        """The frame that carries ``bpdu`` of ``inst`` out of ``port``: Cisco's SSTP
        frame for a PVST+ VLAN the port tags, else the IEEE one."""
        src = self.bridge_mac + self.number[port]
        cfg = self.switch.vlans.config[port]
        if self.mode.per_vlan and cfg.tags(inst.vlan):
            return pvst_bpdu_frame(bpdu, src, inst.vlan)
        return bpdu_frame(bpdu, src)

    def set_state(self, inst: Instance, port: Port, state: PortState) -> None:
        """Open or close the gate of ``port`` in ``inst``, and tell the switch whether any
        gate is closed at all."""
        was_gated = bool(self.blocked)
        if state is PortState.FORWARDING:
            self.blocked.pop((port, inst.vlan), None)
        else:
            self.blocked[port, inst.vlan] = state
        if bool(self.blocked) != was_gated:
            self.switch.gate_ports(bool(self.blocked))
        self.record(inst, port, "state", state=state)
        for watcher in self.state_watchers:
            watcher(self.switch.sim.now)

    def apply_aging(self) -> None:
        """The shortest aging any instance asks for, or the configured one."""
        short = [i.short_aging for i in self.instances if i.short_aging is not None]
        aging = min(short) if short else self._normal_aging
        table = self.switch.table
        if table.aging_time != aging:
            table.set_aging(aging, self.switch.sim.now)

    # Reading it ----------------------------------------------------------------------------

    def key(self, vlan: int) -> int:
        """The instance key of a frame of ``vlan`` (the VLAN under PVST+, else 0)."""
        return vlan if self.mode.per_vlan else 0

    def record(
        self,
        inst: Instance,
        port: Port | None,
        event: str,
        *,
        role: PortRole | None = None,
        state: PortState | None = None,
    ) -> None:
        """Add a row to stp.csv: the port's role and state as just set (``role``,
        ``state``), or else as the engine has them."""
        engine = inst.engine
        role_text = state_text = ""
        if port is not None:
            n = self.number[port]
            role_text = (role or engine.port_role(n)).value
            state_text = (state or engine.port_state(n)).value
        self.rows.append(
            (
                self.switch.sim.now,
                self.switch.name,
                inst.vlan,
                port.name if port is not None else "",
                role_text,
                state_text,
                event,
                self._text(engine.bridge_id),
                self._text(engine.root_id),
                engine.root_path_cost,
            )
        )

    def _text(self, bridge: BridgeId) -> str:
        """``str(bridge)``, formatted once per bridge ID."""
        text = self._id_text.get(bridge)
        if text is None:
            text = self._id_text[bridge] = str(bridge)
        return text

    def state_of(self, inst: Instance) -> dict[str, tuple[PortRole, PortState]]:
        """Each port's role and state in ``inst`` now, by port name."""
        return {
            p.name: (inst.engine.port_role(n), inst.engine.port_state(n))
            for n, p in inst.ports.items()
        }

    def root_port(self, inst: Instance) -> Port | None:
        """The root port of ``inst`` (``None`` on the root bridge)."""
        n = inst.engine.root_port
        return None if n is None else inst.ports[n]

    def bridge_id(self, inst: Instance) -> BridgeId:
        """This bridge's ID in ``inst``."""
        return inst.engine.bridge_id


def _same_octets(a: Frame, b: Frame) -> bool:
    """Do two intact frames carry the same octets, as far as a BPDU decoder reads them
    (everything but the source address and the priority bits of a tag)?"""
    return a is b or (
        a.payload is not None  # a frame without one sends its id as payload
        and a.payload == b.payload
        and a.dst == b.dst
        and a.ethertype == b.ethertype
        and a.vlan == b.vlan
        and a.size == b.size
    )


def _settings_of(port: Port, settings: Mapping[str, PortSettings]) -> PortSettings | None:
    """A port's ``spanning_tree:`` settings; a port-channel takes its members' (the
    scenario checks that they agree)."""
    if isinstance(port, PortChannel):
        return next((settings[m.name] for m in port.members if m.name in settings), None)
    return settings.get(port.name)
