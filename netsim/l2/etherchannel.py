"""EtherChannel: two to eight parallel links between two switches as one logical port.

A :class:`PortChannel` (``Port-channel1``, ``Po1`` for short) is what the switch sees in
place of its member ports: the MAC table learns addresses on the bundle, a flood sends one
copy to the bundle, and spanning tree counts it as one port. Which member carries a frame
is decided per frame by the load-balancing hash (:func:`~netsim.l2.lacp.hashing.select_member`)
over the members that are *distributing*, in port order, so every frame of one flow takes
the same member: a flow is never reordered, and never gets more than one member's rate.

Members become distributing in one of two ways (:class:`ChannelMode`):

* ``on``: at once, whenever the member's link is up (a static bundle, no protocol);
* ``active`` / ``passive``: when LACP (:mod:`netsim.l2.lacp.engine`) says both ends agree.
  :class:`LacpAgent` runs the sans-IO engine on the simulated fabric: it sends real
  LACPDUs (01:80:C2:00:00:02, EtherType 0x8809) on the member ports, hands received ones
  to the engine, and runs its timers as one scheduled call.

A member that is not distributing carries no data frames either way, and frames that
arrive on it are dropped (Catalyst's default ``lacp suspend-individual``: the port shows
``(s)``), so parallel links that fail to bundle never make a loop.

The switch's side is small (:class:`EtherChannels`): it asks :meth:`EtherChannels.ingress`
for the logical port a frame arrived on, floods to and looks up logical ports, and tells
:meth:`EtherChannels.link_changed` when a member's link goes down or comes up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from netsim.engine.sim import Simulation
from netsim.l2.frame import Frame, MacAddress, mac_to_str
from netsim.l2.lacp import engine
from netsim.l2.lacp.engine import BundleId, LacpPortConfig, LacpSystem, Mux, Rate
from netsim.l2.lacp.hashing import BUCKETS, LoadBalance, bucket, bucket_owner
from netsim.l2.lacp.lacpdu import (
    ETHERTYPE_SLOW_PROTOCOLS,
    Lacpdu,
    LacpError,
    LacpState,
    decode_lacpdu,
    lacpdu_frame,
)
from netsim.l2.mac_table import MacTable
from netsim.phy.port import Port, PortOwner, WireFrame

ETHERTYPE_IPV4 = 0x0800


class ChannelMode(StrEnum):
    """``channel-group N mode ...``."""

    ON = "on"
    """A static bundle: every member whose link is up carries frames. No protocol."""
    ACTIVE = "active"
    """LACP, starting the conversation."""
    PASSIVE = "passive"
    """LACP, answering an active partner only."""

    @property
    def lacp(self) -> bool:
        """Does this mode run LACP?"""
        return self is not ChannelMode.ON


@dataclass(frozen=True)
class ChannelMember:
    """One port's ``channel-group``: the group number, mode and LACP rate."""

    group: int
    mode: ChannelMode
    rate: Rate = Rate.SLOW


def flow_addresses(frame: Frame) -> tuple[int | None, int | None]:
    """The IPv4 source and destination of a frame that carries IPv4 (else ``None``s)."""
    payload = frame.payload
    if frame.ethertype != ETHERTYPE_IPV4 or payload is None or len(payload) < 20:
        return None, None
    return int.from_bytes(payload[12:16], "big"), int.from_bytes(payload[16:20], "big")


_MAC_KEYS: dict[LoadBalance, Callable[[Frame], int]] = {
    LoadBalance.SRC_MAC: lambda f: f.src,
    LoadBalance.DST_MAC: lambda f: f.dst,
    LoadBalance.SRC_DST_MAC: lambda f: f.src ^ f.dst,
}
"""The value a MAC method hashes (its low three bits are the bucket), as
:func:`~netsim.l2.lacp.hashing.bucket` computes it."""


class PortChannel(Port):
    """A bundle of member ports that the switch forwards to as one port.

    ``link`` is the first distributing member's link, and ``None`` while no member
    distributes: to the switch, a port-channel is up exactly when it can carry a frame.
    """

    def __init__(
        self,
        owner: PortOwner,
        group: int,
        members: Sequence[Port],
        mode: ChannelMode,
        load_balance: LoadBalance,
    ) -> None:
        super().__init__(owner, f"Po{group}", 0)
        self.group = group
        self.mode = mode
        self.load_balance = load_balance
        self.members = list(members)
        """Every configured member, in port order."""
        self.distributing: list[Port] = []
        """The members that carry frames now, in port order (the hash indexes this list)."""
        self.rate = members[0].rate if members else 0.0
        self._owners: list[int] = []
        """For each hash bucket, the index in :attr:`distributing` of the member that
        owns it (``select_member``'s dealing, worked out once per change of members)."""
        self._mac_key = _MAC_KEYS.get(load_balance)
        """How a MAC method reads a frame (None: an IP method, see :meth:`member_for`)."""
        self.collecting: frozenset[Port] = frozenset()
        """The distributing members as a set: where frames are taken in (coupled control)."""

    @property
    def long_name(self) -> str:
        """``Port-channel1``, as IOS names the interface."""
        return f"Port-channel{self.group}"

    def set_distributing(self, member: Port, on: bool) -> bool:
        """Let ``member`` carry frames (or stop it); True if that changed anything."""
        if (member in self.distributing) == on:
            return False
        chosen = set(self.distributing)
        if on:
            chosen.add(member)
        else:
            chosen.discard(member)
        self.distributing = [p for p in self.members if p in chosen]
        self.link = self.distributing[0].link if self.distributing else None
        self.collecting = frozenset(self.distributing)
        n = len(self.distributing)
        self._owners = [bucket_owner(b, n) for b in range(BUCKETS)] if n else []
        return True

    def member_for(self, frame: Frame) -> Port | None:
        """The member that carries ``frame`` (None if no member distributes)."""
        members = self.distributing
        if not members:
            return None
        if len(members) == 1:
            return members[0]
        if self._mac_key is not None:  # the common case, read straight off the header
            return members[self._owners[self._mac_key(frame) & (BUCKETS - 1)]]
        src_ip, dst_ip = flow_addresses(frame)
        index = bucket(self.load_balance, frame.src, frame.dst, src_ip, dst_ip)
        return members[self._owners[index]]

    def transmit(self, frame: WireFrame, hops: int, now: float) -> bool:
        """Queue ``frame`` on the member the hash picks; False if none can take it."""
        assert isinstance(frame, Frame)
        member = self.member_for(frame)
        return member is not None and member.transmit(frame, hops, now)

    def is_idle(self, now: float) -> bool:
        """Every distributing member idle: whichever the hash picks can start at once."""
        return bool(self.distributing) and all(p.is_idle(now) for p in self.distributing)

    def queued_bytes(self, now: float) -> int:
        """Bytes waiting on all the members together."""
        return sum(p.queued_bytes(now) for p in self.members)


LACP_COLUMNS = [
    "time",
    "device",
    "port",
    "channel",
    "protocol",
    "event",
    "flags",
    "bundled",
    "distributing",
    "actor_state",
    "partner_state",
    "partner_system",
    "partner_port",
]
"""lacp.csv: one row per change of a member's state (``event`` says which)."""


def state_flags(state: LacpState) -> str:
    """``0x3d``: a state octet as ``show lacp neighbor`` prints it."""
    return f"0x{int(state):02x}"


class LacpAgent:
    """LACP on one switch's channel-group ports: the engine, wired to the fabric.

    It implements :class:`~netsim.l2.lacp.engine.LinkAggregationControl`: ``transmit``
    sends an LACPDU frame on the member port; ``set_member`` tells the
    :class:`EtherChannels` whether the port distributes.
    """

    def __init__(
        self,
        sim: Simulation,
        system: MacAddress,
        ports: Mapping[int, tuple[Port, LacpPortConfig]],
        on_member: Callable[[Port, bool], None],
        record: Callable[..., None],
    ) -> None:
        self.sim = sim
        self.system = system
        self.engine = LacpSystem(system, {n: cfg for n, (_, cfg) in ports.items()})
        self.port_of = {n: port for n, (port, _) in ports.items()}
        self.number_of = {port: n for n, port in self.port_of.items()}
        self._on_member = on_member
        self._record = record
        self._generation = 0
        self._deadline: float | None = None
        self._seen: dict[int, tuple[Any, ...]] = {}
        self.pdus_sent = 0
        self.pdus_received = 0

    def start(self) -> None:
        """Bring up every member whose link is up (called once the run has begun, so
        captures see the first LACPDUs)."""
        now = self.sim.now
        for n in self.port_of:  # what each port is before anything happens: no row
            self._seen[n] = self._snapshot(n)
        for n, port in self.port_of.items():
            if port.link is not None and port.link.up:
                self._apply(self.engine.enable_port(n, now), "link-up", port)

    def link_changed(self, port: Port, up: bool) -> None:
        """A member's link went up or down."""
        n = self.number_of[port]
        now = self.sim.now
        actions = self.engine.enable_port(n, now) if up else self.engine.disable_port(n, now)
        self._apply(actions, "link-up" if up else "link-down", port)

    def receive(self, port: Port, frame: Frame) -> None:
        """A slow-protocols frame arrived on ``port``: decode it and feed the engine."""
        n = self.number_of.get(port)
        if n is None or frame.payload is None or not frame.fcs_ok:
            return
        try:
            pdu = decode_lacpdu(frame.payload)
        except LacpError as e:
            self._row(port, f"bad-lacpdu: {e}")
            return
        self.pdus_received += 1
        self._apply(self.engine.receive(n, pdu, self.sim.now), "", port)

    # -- LinkAggregationControl -------------------------------------------------------

    def transmit(self, port: int, pdu: Lacpdu) -> None:
        """Send ``pdu`` on member ``port`` from the port's own MAC. Control frames are
        numbered like background load (-1, -2, ...): they never renumber hosts' frames."""
        out = self.port_of[port]
        frame = lacpdu_frame(pdu, self.system | port, self.sim.next_background_id())
        if out.transmit(frame, 0, self.sim.now):
            self.pdus_sent += 1

    def set_member(self, port: int, bundle: BundleId | None, distributing: bool) -> None:
        """The engine attached, detached, or gated a member."""
        self._on_member(self.port_of[port], distributing)

    # -- timers and records -----------------------------------------------------------

    def _apply(self, actions: Iterable[engine.Action], cause: str, port: Port | None) -> None:
        engine.apply(actions, self)
        self._note_changes(cause, port)
        self._schedule()

    def _schedule(self) -> None:
        """One pending call at the engine's next deadline: a new deadline cancels the
        call already scheduled (by the generation counter), an unchanged one keeps it; none
        is scheduled past the simulation's horizon."""
        deadline = self.engine.next_deadline()
        if deadline == self._deadline:
            return
        self._generation += 1
        self._deadline = None
        if deadline is not None and self.sim.call_timer_at(deadline, self._tick, self._generation):
            self._deadline = deadline

    def _tick(self, generation: int) -> None:
        if generation != self._generation:
            return
        self._deadline = None
        self._apply(self.engine.tick(self.sim.now), "", None)

    def _note_changes(self, cause: str, about: Port | None) -> None:
        """A row in lacp.csv for each port whose state, partner or bundle changed, and
        for the port an outside ``cause`` (its link going up or down) is about."""
        eng = self.engine
        looked_at = set(eng.settled)
        if about is not None:
            looked_at.add(self.number_of[about])
        for n in sorted(looked_at):
            port = self.port_of[n]
            now = self._snapshot(n)
            before = self._seen.get(n)
            mentioned = port is about and bool(cause)
            if before == now and not mentioned:
                continue
            self._seen[n] = now
            self._row(port, cause if mentioned else _describe(before, now))

    def _snapshot(self, n: int) -> tuple[Any, ...]:
        """What lacp.csv tracks of port ``n``: a new row when any of it changes."""
        eng = self.engine
        partner = eng.partner(n)
        return (
            eng.mux(n),
            eng.actor_state(n),
            partner.state,
            partner.system,
            partner.port,
            eng.bundle(n) is not None,
            eng.distributing(n),
            eng.standby(n),
        )

    def _row(self, port: Port, event: str) -> None:
        n = self.number_of[port]
        eng = self.engine
        partner = eng.partner(n)
        self._record(
            port,
            "lacp",
            event,
            eng.bundle(n) is not None,
            eng.distributing(n),
            actor_state=state_flags(eng.actor_state(n)),
            partner_state=state_flags(partner.state),
            partner_system=mac_to_str(partner.system) if partner.system else "",
            partner_port=partner.port or "",
        )


def _describe(before: tuple[Any, ...] | None, now: tuple[Any, ...]) -> str:
    """The one change that matters most between two snapshots of a port."""
    mux, actor, _, system, _, _, distributing, standby = now
    if before is None:
        return "configured"
    was_mux, was_actor, _, was_system, _, _, was_distributing, was_standby = before
    if distributing != was_distributing:
        return "bundled" if distributing else "unbundled"
    if standby != was_standby:
        return "hot-standby" if standby else "active"
    if mux != was_mux:
        return str(mux.value) if mux is not Mux.COLLECTING_DISTRIBUTING else "bundled"
    if actor & LacpState.DEFAULTED and not was_actor & LacpState.DEFAULTED:
        return "partner-defaulted"
    if actor & LacpState.EXPIRED and not was_actor & LacpState.EXPIRED:
        return "partner-expired"
    if system != was_system:
        return "partner-changed"
    return "state"


class EtherChannels:
    """A switch's port-channels and, if any run LACP, its LACP agent.

    ``record`` receives each lacp.csv row (port, protocol, event, bundled, distributing,
    actor state, partner state, partner system, partner port); the time, device and
    channel are added here.
    """

    def __init__(
        self,
        sim: Simulation,
        device: str,
        system: MacAddress,
        channels: Sequence[PortChannel],
        lacp_ports: Mapping[int, tuple[Port, LacpPortConfig]],
        table: MacTable[Port],
    ) -> None:
        self.sim = sim
        self.device = device
        self.system = system
        self.channels = list(channels)
        self.table = table
        self.rows: list[dict[str, Any]] = []
        """lacp.csv rows of this switch, in time order."""
        self._channel_of = {m: c for c in self.channels for m in c.members}
        self.listeners: list[Callable[[PortChannel, bool], None]] = []
        """Called with ``(channel, up)`` when a port-channel comes up (its first member
        distributes) or goes down (its last one stops): spanning tree enables or
        disables the bundle's one port there."""
        self.resized: list[Callable[[PortChannel], None]] = []
        """Called with the channel when a member starts or stops distributing and the
        bundle stays up: spanning tree's cost for it follows the number of members."""
        self.agent = (
            LacpAgent(sim, system, lacp_ports, self._member_distributes, self._record)
            if lacp_ports
            else None
        )
        for channel in self.channels:
            if channel.mode is ChannelMode.ON:
                for member in channel.members:
                    up = member.link is not None and member.link.up
                    channel.set_distributing(member, up)
                    self._record(member, "none", "bundled" if up else "down", up, up)

    @property
    def members(self) -> frozenset[Port]:
        """Every member port (they leave the switch's own port list for forwarding)."""
        return frozenset(self._channel_of)

    def channel_of(self, port: Port) -> PortChannel | None:
        """The port-channel ``port`` is a member of, if any."""
        return self._channel_of.get(port)

    def ingress(self, port: Port) -> Port | None:
        """The logical port a data frame that arrived on ``port`` came in on: its
        port-channel, or the port itself; None if ``port`` is a member that does not
        collect (not in the bundle: suspended)."""
        channel = self._channel_of.get(port)
        if channel is None:
            return port
        return channel if port in channel.collecting else None

    def start(self) -> None:
        """Start LACP (if any port runs it) as the run starts; its timers run to the
        simulation's horizon (the scenario's end)."""
        if self.agent is not None:
            self.sim.call_at(self.sim.now, self.agent.start)

    def receive_slow_protocol(self, port: Port, frame: Frame) -> None:
        """A frame to 01:80:C2:00:00:02: an LACPDU for the agent, if it is one."""
        if frame.ethertype == ETHERTYPE_SLOW_PROTOCOLS and self.agent is not None:
            self.agent.receive(port, frame)

    def link_changed(self, port: Port) -> None:
        """A member's link went down (it stops distributing at once) or came up."""
        up = port.link is not None and port.link.up
        channel = self._channel_of.get(port)
        if channel is None:
            return
        if channel.mode is ChannelMode.ON:
            self._member_distributes(port, up)
            self._record(port, "none", "link-up" if up else "link-down", up, up)
        elif self.agent is not None:
            self.agent.link_changed(port, up)

    def flags(self, member: Port) -> str:
        """The member's flag in ``show etherchannel summary``: ``P`` bundled, ``D`` down,
        ``H`` hot standby, ``w`` waiting for the partner, ``s`` suspended (no bundle)."""
        channel = self._channel_of[member]
        if member.link is None or not member.link.up:
            return "D"
        if member in channel.distributing:
            return "P"
        if self.agent is None:
            return "s"
        n = self.agent.number_of[member]
        if self.agent.engine.standby(n):
            return "H"
        return "s" if self.agent.engine.mux(n) is Mux.DETACHED else "w"

    def _member_distributes(self, port: Port, on: bool) -> None:
        channel = self._channel_of[port]
        was_up = bool(channel.distributing)
        if not channel.set_distributing(port, on):
            return
        if bool(channel.distributing) == was_up:
            for resized in self.resized:
                resized(channel)
            return
        if not channel.distributing:
            # The bundle is down: like any port that goes down, it loses its addresses.
            self.table.flush_port(channel, self.sim.now)
        for listener in self.listeners:
            listener(channel, bool(channel.distributing))

    def _record(
        self,
        port: Port,
        protocol: str,
        event: str,
        bundled: bool,
        distributing: bool,
        **lacp: object,
    ) -> None:
        """One lacp.csv row about member ``port`` (``lacp``: the LACP state columns)."""
        row: dict[str, Any] = {
            "time": self.sim.now,
            "device": self.device,
            "port": port.name,
            "channel": self._channel_of[port].name,
            "protocol": protocol,
            "event": event,
            "flags": self.flags(port),
            "bundled": bundled,
            "distributing": distributing,
        }
        for column in LACP_COLUMNS[9:]:
            row[column] = lacp.get(column, "")
        self.rows.append(row)
