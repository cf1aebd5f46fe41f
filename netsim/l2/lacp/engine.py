"""The Link Aggregation Control Protocol (802.1AX-2008 clause 5.4) as a sans-IO engine.

One :class:`LacpSystem` runs LACP for all the ports of one switch that are configured
for it (Cisco: ``channel-group N mode active|passive``; the group number is the port's
*key*). For each port it keeps what the standard's machines keep, condensed:

* **Receive.** An LACPDU from the partner is recorded and starts ``current_while``:
  3 periods of the rate *we* asked for (our Timeout flag: short 3 s, long 90 s). If it
  runs out the partner is *expired* (out of sync, fast rate asked for, another 3 s), and
  then *defaulted*: the port leaves its bundle.
* **Periodic.** A port sends an LACPDU every second if its partner asked for the short
  timeout, every 30 s otherwise; not at all if both ends are passive. Any change of what
  it would say is sent at once (need-to-transmit).
* **Selection.** Ports whose partner is the same system and uses the same key, and that
  have the same key here, form one bundle (:class:`BundleId`). At most 8 are active; the
  system with the lower system ID decides which, by port priority then port number; the
  rest wait as hot standby.
* **Mux.** A selected port waits the aggregate wait time (2 s, for its siblings to turn
  up), attaches to the bundle and says it is in sync; once the partner says the same, it
  starts collecting and distributing (coupled control).

How a switch wires it in
========================

The switch numbers the member-capable ports, tells the engine about link up/down
(``enable_port``/``disable_port``), hands it every frame to 01:80:C2:00:00:02 with
EtherType 0x8809 decoded by :func:`~netsim.l2.lacp.lacpdu.decode_lacpdu_frame`
(``receive``), and calls ``tick(now)`` at ``next_deadline()``. It carries out the actions
returned by implementing :class:`LinkAggregationControl` and :func:`apply`:

- ``transmit(port, pdu)``: send :func:`~netsim.l2.lacp.lacpdu.lacpdu_frame` on the port;
- ``set_member(port, bundle, distributing)``: ``bundle`` is the logical port the member
  belongs to (``None``: an individual port again); only a distributing member carries
  data frames, chosen per frame by :func:`~netsim.l2.lacp.hashing.select_member` over the
  bundle's distributing members in port order. Spanning tree sees the bundle as one port.

A static bundle (``mode on``) needs no engine: the switch bundles the ports as configured.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from netsim.l2.frame import MacAddress
from netsim.l2.lacp.hashing import MAX_MEMBERS
from netsim.l2.lacp.lacpdu import NO_FLAGS, Lacpdu, LacpInfo, LacpState

FAST_PERIODIC_TIME = 1.0
"""Seconds between LACPDUs when the partner asked for the short timeout."""
SLOW_PERIODIC_TIME = 30.0
"""Seconds between LACPDUs otherwise."""
SHORT_TIMEOUT_TIME = 3 * FAST_PERIODIC_TIME
LONG_TIMEOUT_TIME = 3 * SLOW_PERIODIC_TIME
AGGREGATE_WAIT_TIME = 2.0
"""A selected port waits this long before attaching, so its siblings can join too."""


class Mode(Enum):
    """``channel-group N mode ...``: who starts talking."""

    ACTIVE = "active"
    PASSIVE = "passive"


class Rate(Enum):
    """``lacp rate ...``: how often we ask the partner to send."""

    SLOW = "slow"
    FAST = "fast"


@dataclass(frozen=True, slots=True)
class LacpPortConfig:
    """One LACP port: its key (the channel-group number), mode, rate and priority."""

    key: int
    mode: Mode = Mode.ACTIVE
    rate: Rate = Rate.SLOW
    port_priority: int = 32768

    def __post_init__(self) -> None:
        if not 1 <= self.key <= 0xFFFF:
            raise ValueError(f"LACP key (channel group) must be 1..65535, not {self.key}")
        if not 0 <= self.port_priority <= 0xFFFF:
            raise ValueError(f"LACP port priority must be 0..65535, not {self.port_priority}")


@dataclass(frozen=True, slots=True, order=True)
class BundleId:
    """Which links belong together: our key, and the partner system and key."""

    key: int
    partner_system_priority: int
    partner_system: MacAddress
    partner_key: int


@dataclass(frozen=True, slots=True)
class Transmit:
    """Send ``pdu`` on ``port``."""

    port: int
    pdu: Lacpdu


@dataclass(frozen=True, slots=True)
class SetMember:
    """``port`` now belongs to ``bundle`` (``None``: individual) and does or does not
    carry data frames for it."""

    port: int
    bundle: BundleId | None
    distributing: bool


Action = Transmit | SetMember


class LinkAggregationControl(Protocol):
    """The narrow interface a switch implements for its LACP engine."""

    def transmit(self, port: int, pdu: Lacpdu) -> None:
        """Send an LACPDU on a port."""

    def set_member(self, port: int, bundle: BundleId | None, distributing: bool) -> None:
        """Put a port into a bundle (or take it out) and gate its data frames."""


def apply(actions: Iterable[Action], control: LinkAggregationControl) -> None:
    """Carry out ``actions`` in order through ``control``."""
    for action in actions:
        match action:
            case Transmit(port, pdu):
                control.transmit(port, pdu)
            case SetMember(port, bundle, distributing):
                control.set_member(port, bundle, distributing)


_ACTIVITY = int(LacpState.ACTIVITY)
_TIMEOUT = int(LacpState.TIMEOUT)
_AGGREGATION = int(LacpState.AGGREGATION)
_SYNCHRONIZATION = int(LacpState.SYNCHRONIZATION)
_COLLECTING = int(LacpState.COLLECTING)
_DISTRIBUTING = int(LacpState.DISTRIBUTING)
_MUX_FLAGS = _SYNCHRONIZATION | _COLLECTING | _DISTRIBUTING | _ACTIVITY | _TIMEOUT
"""The flags the mux machine sets from scratch each time."""


class Mux(Enum):
    """Where a port is on its way into a bundle (802.1AX 5.4.15, coupled control)."""

    DETACHED = "detached"
    WAITING = "waiting"
    ATTACHED = "attached"
    COLLECTING_DISTRIBUTING = "collecting-distributing"


DEFAULT_PARTNER = LacpInfo(system_priority=0, system=0, key=0, port_priority=0, port=0)
"""What a port assumes before it hears anyone: nobody, passive, not aggregatable."""


@dataclass(slots=True)
class _Port:
    number: int
    config: LacpPortConfig
    enabled: bool = False
    partner: LacpInfo = DEFAULT_PARTNER
    partner_view_matches: bool = False
    state: LacpState = NO_FLAGS
    mux: Mux = Mux.DETACHED
    selected: BundleId | None = None
    standby: bool = False
    reported: tuple[BundleId | None, bool] = (None, False)
    ntt: bool = False
    current_while: float | None = None
    periodic: float | None = None
    wait_while: float | None = None
    sent: list[float] = field(default_factory=list)


class LacpSystem:
    """LACP for the ports of one system (switch).

    ``mac`` and ``system_priority`` form the system ID (lower is better); ``ports`` maps
    port numbers to their configuration. Ports start disabled.
    """

    def __init__(
        self, mac: MacAddress, ports: Mapping[int, LacpPortConfig], *, system_priority: int = 32768
    ) -> None:
        self.system = mac
        """The system MAC."""
        self.system_priority = system_priority
        """The system priority (Cisco ``lacp system-priority``, default 32768)."""
        self._ports = {n: _Port(n, config) for n, config in sorted(ports.items())}
        self._by_key: dict[int, list[_Port]] = {}
        for p in self._ports.values():
            self._by_key.setdefault(p.config.key, []).append(p)
        self._group_due: dict[int, tuple[float, str, _Port] | None] = dict.fromkeys(self._by_key)
        """Each channel group's earliest timer (deadline, timer, port), kept by _settle."""
        self._actions: list[Action] = []
        self._settled: set[int] = set()
        self.settled: frozenset[int] = frozenset()
        """The ports the last input (``enable_port``, ``receive``, ``tick`` ...) looked at
        again: those of the channel groups it concerned. Any other port is as it was."""

    # -- queries -----------------------------------------------------------------------

    def bundle(self, port: int) -> BundleId | None:
        """The bundle a port is attached to (``None`` if it is not)."""
        p = self._ports[port]
        return p.selected if p.mux in (Mux.ATTACHED, Mux.COLLECTING_DISTRIBUTING) else None

    def distributing(self, port: int) -> bool:
        """Does the port carry data frames for its bundle?"""
        return self._ports[port].mux is Mux.COLLECTING_DISTRIBUTING

    def mux(self, port: int) -> Mux:
        """Where the port is on its way into a bundle (waiting, attached, distributing)."""
        return self._ports[port].mux

    def standby(self, port: int) -> bool:
        """Selected for a bundle that already has 8 better members: hot standby."""
        return self._ports[port].standby

    def actor_state(self, port: int) -> LacpState:
        """The state flags this port announces."""
        return self._ports[port].state

    def partner(self, port: int) -> LacpInfo:
        """What the port knows of its partner."""
        return self._ports[port].partner

    # -- inputs ------------------------------------------------------------------------

    def enable_port(self, port: int, now: float) -> list[Action]:
        """The port's link came up: no partner known yet, so assume an expired one."""
        p = self._ports[port]
        p.enabled = True
        self._expire(p, now)
        return self._run(now, p)

    def disable_port(self, port: int, now: float) -> list[Action]:
        """The port's link went down: it leaves its bundle at once."""
        p = self._ports[port]
        p.enabled = False
        p.partner = DEFAULT_PARTNER
        p.partner_view_matches = False
        p.current_while = p.periodic = p.wait_while = None
        return self._run(now, p)

    def receive(self, port: int, pdu: Lacpdu, now: float) -> list[Action]:
        """An LACPDU arrived on ``port`` (802.1AX 5.4.12 CURRENT)."""
        p = self._ports[port]
        if not p.enabled:
            return []
        me = self._actor_info(p)
        p.partner_view_matches = (
            pdu.partner.system == me.system
            and pdu.partner.system_priority == me.system_priority
            and pdu.partner.key == me.key
            and pdu.partner.port == me.port
            and pdu.partner.port_priority == me.port_priority
            and bool(pdu.partner.state & LacpState.AGGREGATION)
            == bool(me.state & LacpState.AGGREGATION)
        )
        if not p.partner_view_matches or (pdu.partner.state & ~LacpState.EXPIRED) != (
            me.state & ~LacpState.EXPIRED
        ):
            p.ntt = True  # the partner has us wrong: tell it
        p.partner = pdu.actor
        p.state &= ~(LacpState.EXPIRED | LacpState.DEFAULTED)
        p.current_while = now + self._timeout(p)
        return self._run(now, p)

    def tick(self, now: float) -> list[Action]:
        """Run every timer due by ``now``."""
        # Each timer fires at most a few times per call; more means one re-armed itself
        # at or before ``now``, a bug that must not hang a run.
        budget = 8 * (3 * len(self._ports)) + 64
        while (due := self._next_due()) is not None and due[0] <= now:
            budget -= 1
            if budget < 0:
                raise RuntimeError(f"{due[1]} timer keeps expiring at t = {now} s")
            _, name, p = due
            if name == "current_while":
                if p.state & LacpState.EXPIRED:
                    self._default(p)
                else:
                    self._expire(p, now)
            elif name == "periodic":
                p.periodic = None
                p.ntt = True
            elif name == "wait_while":
                p.wait_while = None
            self._settle(now, p)
        return self._flush_actions()

    def next_deadline(self) -> float | None:
        """When :meth:`tick` next has work, or ``None``."""
        due = self._next_due()
        return None if due is None else due[0]

    # -- the machines ------------------------------------------------------------------

    def _next_due(self) -> tuple[float, str, _Port] | None:
        """The earliest timer of all (ties: lowest port, then the order timers are
        listed in), from each channel group's earliest: only a settle changes timers,
        and it settles the whole group."""
        best: tuple[float, str, _Port] | None = None
        for due in self._group_due.values():
            if due is not None and (
                best is None or (due[0], due[2].number) < (best[0], best[2].number)
            ):
                best = due
        return best

    @staticmethod
    def _earliest(ports: list[_Port]) -> tuple[float, str, _Port] | None:
        best: tuple[float, str, _Port] | None = None
        for p in ports:
            for name, deadline in (
                ("current_while", p.current_while),
                ("periodic", p.periodic),
                ("wait_while", p.wait_while),
            ):
                if deadline is not None and (best is None or deadline < best[0]):
                    best = (deadline, name, p)
        return best

    def _timeout(self, p: _Port) -> float:
        return SHORT_TIMEOUT_TIME if p.config.rate is Rate.FAST else LONG_TIMEOUT_TIME

    def _expire(self, p: _Port, now: float) -> None:
        """No word from the partner for a while: assume it is out of sync, ask it to hurry."""
        p.partner = _with_state(
            p.partner, (p.partner.state & ~LacpState.SYNCHRONIZATION) | LacpState.TIMEOUT
        )
        p.state |= LacpState.EXPIRED
        p.current_while = now + SHORT_TIMEOUT_TIME

    def _default(self, p: _Port) -> None:
        """Still nothing: use the default partner, which puts the port on its own."""
        p.partner = DEFAULT_PARTNER
        p.partner_view_matches = False
        p.state = (p.state & ~LacpState.EXPIRED) | LacpState.DEFAULTED
        p.current_while = None

    def _actor_info(self, p: _Port) -> LacpInfo:
        return LacpInfo(
            self.system_priority,
            self.system,
            p.config.key,
            p.config.port_priority,
            p.number,
            p.state,
        )

    def _select(self, ports: list[_Port]) -> None:
        """5.4.14: group ``ports`` (all of one key) by bundle; the better system picks up
        to 8 active ones."""
        groups: dict[BundleId, list[_Port]] = {}
        for p in ports:
            p.standby = False
            aggregatable = bool(p.partner.state & LacpState.AGGREGATION)
            if not p.enabled or p.state & LacpState.DEFAULTED or not aggregatable:
                p.selected = None
                continue
            bundle = BundleId(
                p.config.key, p.partner.system_priority, p.partner.system, p.partner.key
            )
            p.selected = bundle
            groups.setdefault(bundle, []).append(p)
        for bundle, members in groups.items():
            we_decide = (self.system_priority, self.system) < (
                bundle.partner_system_priority,
                bundle.partner_system,
            )

            def rank(q: _Port, we_decide: bool = we_decide) -> tuple[int, int]:
                if we_decide:
                    return (q.config.port_priority, q.number)
                return (q.partner.port_priority, q.partner.port)

            for q in sorted(members, key=rank)[MAX_MEMBERS:]:
                q.standby = True

    def _mux(self, p: _Port, now: float) -> None:
        """5.4.15 with coupled control: wait, attach (in sync), collect and distribute."""
        selected = p.selected is not None and not p.standby
        if not selected:
            p.mux, p.wait_while = Mux.DETACHED, None
        elif p.mux is Mux.DETACHED:
            p.mux, p.wait_while = Mux.WAITING, now + AGGREGATE_WAIT_TIME
        if p.mux is Mux.WAITING and p.wait_while is None:
            p.mux = Mux.ATTACHED
        partner_in_sync = p.partner_view_matches and bool(
            p.partner.state & LacpState.SYNCHRONIZATION
        )
        if p.mux is Mux.ATTACHED and partner_in_sync:
            p.mux = Mux.COLLECTING_DISTRIBUTING
        elif p.mux is Mux.COLLECTING_DISTRIBUTING and not partner_in_sync:
            p.mux = Mux.ATTACHED
        # Plain ints here: this runs for every port on every input, and IntFlag
        # arithmetic costs a function call per operator.
        state = (int(p.state) & ~_MUX_FLAGS) | _AGGREGATION
        if p.config.mode is Mode.ACTIVE:
            state |= _ACTIVITY
        if p.config.rate is Rate.FAST:
            state |= _TIMEOUT
        if p.mux is Mux.ATTACHED:
            state |= _SYNCHRONIZATION
        elif p.mux is Mux.COLLECTING_DISTRIBUTING:
            state |= _SYNCHRONIZATION | _COLLECTING | _DISTRIBUTING
        if state != p.state:
            p.state, p.ntt = LacpState(state), True
        report = (self.bundle(p.number), p.mux is Mux.COLLECTING_DISTRIBUTING)
        if report != p.reported:
            p.reported = report
            self._actions.append(SetMember(p.number, *report))

    def _periodic(self, p: _Port, now: float) -> None:
        """5.4.13: fast if the partner wants a short timeout, slow otherwise, none if
        nobody on the link is active."""
        active = p.config.mode is Mode.ACTIVE or bool(p.partner.state & LacpState.ACTIVITY)
        if not p.enabled or not active:
            p.periodic = None
            return
        period = FAST_PERIODIC_TIME if p.partner.state & LacpState.TIMEOUT else SLOW_PERIODIC_TIME
        if p.periodic is None or p.periodic > now + period:
            p.periodic = now + period

    def _transmit(self, p: _Port, now: float) -> None:
        """5.4.16: send what we know when there is news, at most 3 per second."""
        active = p.config.mode is Mode.ACTIVE or bool(p.partner.state & LacpState.ACTIVITY)
        if not (p.ntt and p.enabled and active):
            return
        # Written as ``t + period > now`` on purpose: the retry below is due at exactly
        # ``sent[0] + period``, and then this same sum drops ``sent[0]`` (no float slack).
        p.sent = [t for t in p.sent if t + FAST_PERIODIC_TIME > now]
        if len(p.sent) >= 3:
            retry = p.sent[0] + FAST_PERIODIC_TIME
            p.periodic = retry if p.periodic is None else min(p.periodic, retry)
            return
        p.sent.append(now)
        p.ntt = False
        partner = p.partner
        self._actions.append(Transmit(p.number, Lacpdu(self._actor_info(p), partner)))

    def _settle(self, now: float, cause: _Port) -> None:
        """Run selection, mux, periodic and transmit for the ports that share ``cause``'s
        key: only they can bundle with it, so only they can change."""
        siblings = self._by_key[cause.config.key]
        self._settled.update(q.number for q in siblings)
        self._select(siblings)
        for p in siblings:
            self._mux(p, now)
            self._periodic(p, now)
            self._transmit(p, now)
        self._group_due[cause.config.key] = self._earliest(siblings)

    def _run(self, now: float, cause: _Port) -> list[Action]:
        self._settle(now, cause)
        return self._flush_actions()

    def _flush_actions(self) -> list[Action]:
        actions, self._actions = self._actions, []
        self.settled, self._settled = frozenset(self._settled), set()
        return actions


def _with_state(info: LacpInfo, state: LacpState) -> LacpInfo:
    return LacpInfo(
        info.system_priority, info.system, info.key, info.port_priority, info.port, state
    )
