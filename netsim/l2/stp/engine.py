"""What every spanning-tree engine shares: port roles and states, timers, path costs, and
the actions an engine asks its switch to carry out.

How a switch wires an engine in
===============================

An engine (:class:`~netsim.l2.stp.stp.StpBridge` or :class:`~netsim.l2.stp.rstp.RstpBridge`)
is sans-IO: it never sends, sleeps or touches a MAC table. The switch owns one engine per
spanning-tree instance (one for plain STP/RSTP; one per VLAN for PVST+, built with
``instance=vid`` so the bridge ID carries the VLAN) and does four things:

1. Numbers its ports 1..4095 (the low 12 bits of each port ID) and tells the engine when a
   port's link comes up or goes down: ``enable_port(n, now)``, ``disable_port(n, now)``.
2. Hands it every BPDU received on a port, decoded with
   :func:`~netsim.l2.stp.bpdu.decode_bpdu_frame`: ``receive(n, bpdu, now)``. BPDUs are
   consumed, never forwarded, whatever the port's state.
3. Calls ``tick(now)`` when the simulated clock reaches ``next_deadline()`` (schedule one
   SimPy timeout for it, and reschedule after every call, since any call can move it).
   Timers that only count down (RSTP's transmit credit, 802.1D's hold timer) need no
   call of their own unless a BPDU waits for them: every call first catches them up.
4. Carries out the actions every call returns, in order, by implementing
   :class:`BridgeControl` and passing the list to :func:`apply`:

   - ``transmit(port, bpdu)``: send :func:`~netsim.l2.stp.bpdu.bpdu_frame` on that port,
     whatever its state (a blocked port still sends and hears BPDUs);
   - ``set_port_state(port, state)``: the forwarding pipeline's port-state gate. Only
     ``LEARNING`` and ``FORWARDING`` learn source addresses; only ``FORWARDING``
     forwards (see :attr:`PortState.learns` and :attr:`PortState.forwards`);
   - ``set_port_role(port, role)``: nothing to forward on, but worth a row in stp.csv;
   - ``flush(port)``: remove the MAC entries learned on that port (RSTP topology change);
   - ``age_fast(aging_time)``: age the whole table with this short time (802.1D topology
     change: forward delay, 15 s) until called again with ``None`` (back to the configured
     aging, usually 300 s).

Nothing here imports SimPy, so the engines run the same under the tiny deterministic
test bench (:mod:`netsim.l2.stp.bench`) as inside the simulator.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Generic, Protocol, TypeVar

from netsim.l2.stp.bpdu import Bpdu, BridgeId


class PortState(Enum):
    """What a port does with data frames (802.1D 7.4; RSTP folds the first three into one)."""

    DISABLED = "disabled"
    BLOCKING = "blocking"
    LISTENING = "listening"
    DISCARDING = "discarding"
    LEARNING = "learning"
    FORWARDING = "forwarding"

    @property
    def learns(self) -> bool:
        """Source addresses of frames received here go into the MAC table."""
        return self in (PortState.LEARNING, PortState.FORWARDING)

    @property
    def forwards(self) -> bool:
        """Data frames are received from and sent to this port."""
        return self is PortState.FORWARDING


class PortRole(Enum):
    """A port's part in the active tree (802.1D-2004 17.7)."""

    ROOT = "root"
    """Best path from this bridge towards the root."""
    DESIGNATED = "designated"
    """Best path from this port's LAN towards the root: it forwards for the LAN."""
    ALTERNATE = "alternate"
    """Another bridge's designated port is better: blocked, a spare way to the root."""
    BACKUP = "backup"
    """This bridge's own other port is designated on the same LAN: blocked, a spare."""
    DISABLED = "disabled"
    """Link down or administratively off."""


@dataclass(frozen=True, slots=True)
class Timers:
    """The three spanning-tree times a root announces (802.1D defaults, in seconds)."""

    hello_time: float = 2.0
    max_age: float = 20.0
    forward_delay: float = 15.0

    def __post_init__(self) -> None:
        # 802.1D-2004 17.14: 2 x (forward delay - 1) >= max age >= 2 x (hello + 1).
        if not 2 * (self.forward_delay - 1) >= self.max_age >= 2 * (self.hello_time + 1):
            raise ValueError(
                "spanning-tree times must satisfy 2 x (forward delay - 1) >= max age >= "
                f"2 x (hello + 1); got hello {self.hello_time} s, max age {self.max_age} s, "
                f"forward delay {self.forward_delay} s"
            )


DEFAULT_TIMERS = Timers()
"""Hello 2 s, max age 20 s, forward delay 15 s."""
HOLD_TIME = 1.0
"""802.1D: at most one configuration BPDU per port per second."""
MESSAGE_AGE_INCREMENT = 1.0
"""What each bridge adds to the message age it relays (the standard's overestimate)."""

SHORT_PATH_COSTS: Sequence[tuple[float, int]] = (
    (4e6, 250),
    (10e6, 100),
    (16e6, 62),
    (100e6, 19),
    (1e9, 4),
    (10e9, 2),
)
"""802.1D-1998 table 8-5 (16-bit "short" costs): link speed in b/s -> cost."""
LONG_COST_NUMERATOR = 20_000_000_000_000
"""802.1t "long" costs: 20 Tb/s divided by the link speed (10M 2,000,000 ... 10G 2,000)."""


def path_cost(speed_bps: float, method: str = "short") -> int:
    """The default port path cost for a link speed, by the short (802.1D-1998) or long
    (802.1t) method. A speed between two entries of the short table takes the slower
    entry's cost; the long method is the formula, clamped to 1..200,000,000."""
    if speed_bps <= 0:
        raise ValueError(f"link speed must be positive, not {speed_bps}")
    if method == "long":
        return max(1, min(200_000_000, round(LONG_COST_NUMERATOR / speed_bps)))
    if method != "short":
        raise ValueError(f"path cost method must be 'short' or 'long', not {method!r}")
    cost = SHORT_PATH_COSTS[0][1]
    for speed, table_cost in SHORT_PATH_COSTS:
        if speed_bps >= speed:
            cost = table_cost
    return cost


SHORT_BUNDLE_COSTS: tuple[tuple[float, int], ...] = (
    (200e6, 12),
    (300e6, 9),
    (400e6, 8),
    (2e9, 3),
    (20e9, 1),
)
"""Short (16-bit) costs a Catalyst gives a port-channel, by aggregate speed: FastEtherChannel
of 2, 3, 4 members 12, 9, 8; Gigabit EtherChannel 3; 10-Gigabit EtherChannel 1. Each lies in
the range 802.1D-1998 table 8-5 allows for its member speed (100M 10-60, 1G 3-10, 10G 1-5)."""


def bundle_path_cost(member_bps: float, members: int, method: str = "short") -> int:
    """The path cost of a bundle of ``members`` links of ``member_bps`` each: the cost of
    its aggregate speed. Long (802.1t): 20 Tb/s / aggregate (2 x 1G: 10,000). Short: the
    802.1D-1998 table extended with :data:`SHORT_BUNDLE_COSTS` (2 x 1G: 3)."""
    aggregate = member_bps * max(1, members)
    cost = path_cost(aggregate, method)
    if method != "short" or members <= 1:
        return cost
    for speed, bundle_cost in sorted((*SHORT_PATH_COSTS, *SHORT_BUNDLE_COSTS)):
        if aggregate >= speed:
            cost = bundle_cost
    return cost


@dataclass(frozen=True, slots=True)
class Transmit:
    """Send ``bpdu`` out of ``port``."""

    port: int
    bpdu: Bpdu


@dataclass(frozen=True, slots=True)
class SetPortState:
    """Gate data frames on ``port`` as ``state`` says."""

    port: int
    state: PortState


@dataclass(frozen=True, slots=True)
class SetPortRole:
    """``port`` now plays ``role`` (for the record: roles do not gate frames, states do)."""

    port: int
    role: PortRole


@dataclass(frozen=True, slots=True)
class Flush:
    """Forget the MAC addresses learned on ``port``."""

    port: int


@dataclass(frozen=True, slots=True)
class AgeFast:
    """Age MAC entries after ``aging_time`` seconds; ``None`` restores the normal aging."""

    aging_time: float | None


Action = Transmit | SetPortState | SetPortRole | Flush | AgeFast
"""Everything an engine can ask of its switch."""


class BridgeControl(Protocol):
    """The narrow interface a switch implements for its spanning-tree engines."""

    def transmit(self, port: int, bpdu: Bpdu) -> None:
        """Send a BPDU on a port."""

    def set_port_state(self, port: int, state: PortState) -> None:
        """Gate learning and forwarding on a port."""

    def set_port_role(self, port: int, role: PortRole) -> None:
        """Record a port's new role."""

    def flush(self, port: int) -> None:
        """Remove the MAC entries learned on a port."""

    def age_fast(self, aging_time: float | None) -> None:
        """Use a short aging time, or go back to the configured one (``None``)."""


def apply(actions: Iterable[Action], control: BridgeControl) -> None:
    """Carry out ``actions`` in order through ``control``."""
    for action in actions:
        match action:
            case Transmit(port, bpdu):
                control.transmit(port, bpdu)
            case SetPortState(port, state):
                control.set_port_state(port, state)
            case SetPortRole(port, role):
                control.set_port_role(port, role)
            case Flush(port):
                control.flush(port)
            case AgeFast(aging_time):
                control.age_fast(aging_time)


class SpanningTreeEngine(Protocol):
    """What a switch (or the test bench) drives: both engines have this shape."""

    bridge_id: BridgeId

    def enable_port(self, port: int, now: float) -> list[Action]:
        """The port's link came up."""
        ...

    def disable_port(self, port: int, now: float) -> list[Action]:
        """The port's link went down."""
        ...

    def set_port_cost(self, port: int, cost: int, now: float) -> list[Action]:
        """A port's path cost changed (an EtherChannel gained or lost a member)."""
        ...

    def receive(self, port: int, bpdu: Bpdu, now: float) -> list[Action]:
        """A BPDU arrived on a port."""
        ...

    def tick(self, now: float) -> list[Action]:
        """Run every timer that has expired by ``now``."""
        ...

    def next_deadline(self, every_timer: bool = False) -> float | None:
        """When :meth:`tick` must next be called, or ``None``; ``every_timer=True``:
        when the next timer expires, even one that the next call would catch up."""
        ...

    @property
    def root_id(self) -> BridgeId:
        """The bridge this engine believes is root."""
        ...

    @property
    def root_port(self) -> int | None:
        """This bridge's root port (``None`` on the root)."""
        ...

    @property
    def root_path_cost(self) -> int:
        """The cost of this bridge's best path to the root (0 on the root)."""
        ...

    def port_numbers(self) -> list[int]:
        """The numbers of this bridge's ports, in order."""
        ...

    def port_state(self, port: int) -> PortState:
        """A port's current state."""
        ...

    def port_role(self, port: int) -> PortRole:
        """A port's current role."""
        ...


class EnginePort(Protocol):
    """What :class:`EngineBase` needs of an engine's per-port record."""

    number: int
    state: PortState
    role: PortRole


PortT = TypeVar("PortT", bound=EnginePort)


class EngineBase(Generic[PortT]):
    """What the 802.1D and 802.1w engines share: the bridge ID, the ports by number,
    the queries a switch asks, and the queue of actions each call returns.

    A subclass sets :attr:`bridge_id`, :attr:`timers`, ``_ports``, ``_root_port`` and
    ``_actions`` in its constructor and says where its root ID and cost live.
    """

    bridge_id: BridgeId
    """This bridge's identifier."""
    timers: Timers
    """The times this bridge announces when it is root."""
    _ports: dict[int, PortT]
    _root_port: int | None
    _actions: list[Action]

    @property
    def root_id(self) -> BridgeId:
        """The bridge this bridge believes is root."""
        raise NotImplementedError

    @property
    def root_path_cost(self) -> int:
        """The cost of the best path from here to the root."""
        raise NotImplementedError

    @property
    def root_port(self) -> int | None:
        """The root port's number; ``None`` on the root bridge."""
        return self._root_port

    def is_root(self) -> bool:
        """Does this bridge believe it is the root?"""
        return self.root_id == self.bridge_id

    def port_numbers(self) -> list[int]:
        """The numbers of this bridge's ports, in order."""
        return list(self._ports)

    def port_state(self, port: int) -> PortState:
        """A port's state."""
        return self._ports[port].state

    def port_role(self, port: int) -> PortRole:
        """A port's role."""
        return self._ports[port].role

    def _set_state(self, p: PortT, state: PortState) -> None:
        if p.state is not state:
            p.state = state
            self._actions.append(SetPortState(p.number, state))

    def _set_role(self, p: PortT, role: PortRole) -> None:
        if p.role is not role:
            p.role = role
            self._actions.append(SetPortRole(p.number, role))

    def _flush_actions(self) -> list[Action]:
        actions, self._actions = self._actions, []
        return actions


@dataclass(frozen=True, slots=True)
class PortConfig:
    """How one bridge port takes part in spanning tree.

    ``cost`` is the port path cost (see :func:`path_cost`); ``priority`` the 4-bit port
    priority (multiple of 16, default 128) that breaks ties between two ports hearing the
    same designated bridge. An ``edge`` port (Cisco PortFast) leads to hosts only: it
    forwards at once and its going up or down is no topology change. ``point_to_point``
    (full duplex) lets RSTP use its proposal/agreement handshake on the link.
    """

    cost: int = 19
    priority: int = 128
    edge: bool = False
    point_to_point: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.cost <= 200_000_000:
            raise ValueError(f"port path cost must be 1..200000000, not {self.cost}")
