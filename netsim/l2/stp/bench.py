"""A tiny deterministic bench: spanning-tree engines wired together over ideal links.

No SimPy, no frames on a fabric: a priority queue of timed events, links that deliver a
BPDU after a fixed delay, and one :class:`~netsim.l2.stp.engine.BridgeControl` per bridge
that records what the engine asked for. It is how the tests check the engines against
hand-worked 802.1D examples, and how a lesson can watch a tree converge in a notebook::

    bench = Bench()
    for name, mac in [("A", 1), ("B", 2), ("C", 3)]:
        bench.add_bridge(name, StpBridge(mac, {1: PortConfig(19), 2: PortConfig(19)}))
    bench.link("A", 1, "B", 1)
    bench.link("B", 2, "C", 1)
    bench.link("C", 2, "A", 2)
    bench.run_until(60.0)
    bench.role("C", 2)            # PortRole.ALTERNATE: the blocked port of the triangle

Events that fall at the same instant run in the order they were scheduled; engines whose
timers expire at the same instant run in the order they were added. Same calls, same run.

An engine is ticked when its :meth:`~netsim.l2.stp.engine.SpanningTreeEngine.next_deadline`
says so; timers that only count down (RSTP's transmit credit, 802.1D's hold timer) are
caught up at the next call instead. ``Bench(every_timer=True)`` ticks at those too, which
must change nothing but :attr:`Bench.ticks`.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

from netsim.l2.stp.bpdu import Bpdu, ConfigBpdu, TcnBpdu
from netsim.l2.stp.engine import Action, PortRole, PortState, SpanningTreeEngine, apply

Endpoint = tuple[str, int]
"""(bridge name, port number)."""


@dataclass(frozen=True, slots=True)
class Record:
    """Something one bridge's engine did at one time (what stp.csv will hold)."""

    time: float
    bridge: str
    port: int
    event: str
    """``transmit``, ``state``, ``role``, ``flush`` or ``age_fast``."""
    value: object


@dataclass(slots=True)
class _Recorder:
    """The bench's :class:`BridgeControl`: it records, and hands BPDUs to the links."""

    bench: Bench
    name: str
    aging_time: float | None = None
    """The short aging time in force (``None``: the configured one)."""

    def transmit(self, port: int, bpdu: Bpdu) -> None:
        self.bench._record(self.name, port, "transmit", bpdu)
        self.bench._send((self.name, port), bpdu)

    def set_port_state(self, port: int, state: PortState) -> None:
        self.bench._record(self.name, port, "state", state)

    def set_port_role(self, port: int, role: PortRole) -> None:
        self.bench._record(self.name, port, "role", role)

    def flush(self, port: int) -> None:
        self.bench._record(self.name, port, "flush", None)

    def age_fast(self, aging_time: float | None) -> None:
        self.aging_time = aging_time
        self.bench._record(self.name, 0, "age_fast", aging_time)


@dataclass(order=True, slots=True)
class _Event:
    time: float
    seq: int
    run: Callable[[], None] = field(compare=False)


class Bench:
    """Bridges, links between their ports, and a clock."""

    def __init__(self, delay: float = 1e-6, *, every_timer: bool = False) -> None:
        self.delay = delay
        """Default one-way delay of a link, in seconds."""
        self.every_timer = every_timer
        """Tick engines at every timer, even one that needs no call of its own."""
        self.ticks = 0
        """How many times an engine's timers were run."""
        self.now = 0.0
        """The bench's clock."""
        self.records: list[Record] = []
        """Everything every engine did, in time order."""
        self.bridges: dict[str, SpanningTreeEngine] = {}
        self._deadlines: dict[str, float | None] = {}  # only a call to an engine moves it
        self._controls: dict[str, _Recorder] = {}
        self._peer: dict[Endpoint, tuple[Endpoint, float]] = {}
        self._up: set[Endpoint] = set()
        self._queue: list[_Event] = []
        self._seq = 0

    # -- building --------------------------------------------------------------------

    def add_bridge(self, name: str, engine: SpanningTreeEngine) -> None:
        """Add a bridge; its engine starts running at the current time."""
        self.bridges[name] = engine
        self._controls[name] = _Recorder(self, name)
        self._deadlines[name] = engine.next_deadline(self.every_timer)

    def link(
        self,
        a: str,
        port_a: int,
        b: str,
        port_b: int,
        *,
        up_at: float | None = 0.0,
        delay: float | None = None,
    ) -> None:
        """Cable ``a``'s ``port_a`` to ``b``'s ``port_b``; the link comes up at ``up_at``
        (``None``: not yet, see :meth:`link_up`)."""
        ends = ((a, port_a), (b, port_b))
        for end in ends:
            if end in self._peer:
                raise ValueError(f"port {end[1]} of {end[0]} is already cabled")
        one_way = self.delay if delay is None else delay
        self._peer[ends[0]] = (ends[1], one_way)
        self._peer[ends[1]] = (ends[0], one_way)
        if up_at is not None:
            self.link_up(a, port_a, at=up_at)

    def link_up(self, bridge: str, port: int, *, at: float) -> None:
        """Schedule the link on ``bridge``'s ``port`` to come up at ``at`` (both ends)."""
        self._schedule(at, lambda: self._set_link((bridge, port), up=True))

    def link_down(self, bridge: str, port: int, *, at: float) -> None:
        """Schedule the link on ``bridge``'s ``port`` to fail at ``at`` (both ends see it)."""
        self._schedule(at, lambda: self._set_link((bridge, port), up=False))

    def bridge_down(self, bridge: str, *, at: float) -> None:
        """Schedule ``bridge`` to die silently at ``at``: it stops sending and its links
        stay up, so neighbours notice only when its BPDUs stop (an indirect failure)."""
        self._schedule(at, lambda: self._kill(bridge))

    # -- running ---------------------------------------------------------------------

    def run_until(self, until: float) -> None:
        """Process every event and timer up to and including time ``until``."""
        while True:
            tick_at, ticking = None, None
            for name, deadline in self._deadlines.items():
                if deadline is not None and (tick_at is None or deadline < tick_at):
                    tick_at, ticking = deadline, name
            event_at = self._queue[0].time if self._queue else None
            if event_at is not None and (tick_at is None or event_at <= tick_at):
                if event_at > until:
                    break
                event = heapq.heappop(self._queue)
                self.now = event.time
                event.run()
            elif tick_at is not None and ticking is not None and tick_at <= until:
                self.now = max(self.now, tick_at)
                self.ticks += 1
                self._apply(ticking, self.bridges[ticking].tick(self.now))
            else:
                break
        self.now = max(self.now, until)

    # -- questions -------------------------------------------------------------------

    def role(self, bridge: str, port: int) -> PortRole:
        """A port's role now."""
        return self.bridges[bridge].port_role(port)

    def state(self, bridge: str, port: int) -> PortState:
        """A port's state now."""
        return self.bridges[bridge].port_state(port)

    def history(self, bridge: str, port: int, event: str = "state") -> list[tuple[float, object]]:
        """(time, value) of every ``event`` record of one port, in order."""
        return [
            (r.time, r.value)
            for r in self.records
            if r.bridge == bridge and r.port == port and r.event == event
        ]

    def last_change_to(self, bridge: str, port: int, state: PortState) -> float | None:
        """When the port last entered ``state`` (``None`` if it never did)."""
        times = [t for t, value in self.history(bridge, port) if value is state]
        return times[-1] if times else None

    def transmitted(self) -> list[tuple[float, str, int, Bpdu]]:
        """Every BPDU sent, as (time, bridge, port, bpdu)."""
        return [
            (r.time, r.bridge, r.port, r.value)
            for r in self.records
            if r.event == "transmit" and isinstance(r.value, ConfigBpdu | TcnBpdu)
        ]

    # -- machinery -------------------------------------------------------------------

    def _schedule(self, at: float, run: Callable[[], None]) -> None:
        self._seq += 1
        heapq.heappush(self._queue, _Event(at, self._seq, run))

    def _record(self, bridge: str, port: int, event: str, value: object) -> None:
        self.records.append(Record(self.now, bridge, port, event, value))

    def _apply(self, bridge: str, actions: list[Action]) -> None:
        self._deadlines[bridge] = self.bridges[bridge].next_deadline(self.every_timer)
        apply(actions, self._controls[bridge])

    def _send(self, end: Endpoint, bpdu: Bpdu) -> None:
        if end not in self._up or end not in self._peer:
            return
        far, delay = self._peer[end]
        self._schedule(self.now + delay, lambda: self._deliver(far, bpdu))

    def _deliver(self, end: Endpoint, bpdu: Bpdu) -> None:
        bridge, port = end
        if end in self._up and bridge in self.bridges:
            self._apply(bridge, self.bridges[bridge].receive(port, bpdu, self.now))

    def _set_link(self, end: Endpoint, *, up: bool) -> None:
        far, _ = self._peer[end]
        for bridge, port in (end, far):
            if up == ((bridge, port) in self._up):
                continue
            if up:
                self._up.add((bridge, port))
            else:
                self._up.discard((bridge, port))
            if bridge in self.bridges:
                engine = self.bridges[bridge]
                call = engine.enable_port if up else engine.disable_port
                self._apply(bridge, call(port, self.now))

    def _kill(self, bridge: str) -> None:
        del self.bridges[bridge]
        del self._deadlines[bridge]
