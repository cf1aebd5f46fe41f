"""The simulation clock, its event queue, and seeded random streams.

netsim runs on SimPy's :class:`simpy.Environment`. Processes (CSMA/CD stations, traffic
generators) use it as SimPy intends; the hot path of the fabric instead schedules plain
callbacks at absolute times with :meth:`Simulation.call_at`, because a frame crossing a
switch should cost one scheduled event, not a process polling a queue.
"""

from __future__ import annotations

import itertools
import math
import random
import zlib
from collections.abc import Callable, Iterator
from heapq import heappop as _heappop
from heapq import heappush as _heappush
from typing import TYPE_CHECKING, Any, cast

import simpy
from simpy.events import NORMAL, URGENT

from netsim.engine.trace import Trace

if TYPE_CHECKING:
    import numpy as np


def _fire(event: Any) -> None:
    """Run a SimPy event's callbacks, as SimPy's ``Environment.step`` does."""
    callbacks, event.callbacks = event.callbacks, None
    for callback in callbacks:
        callback(event)
    if not event._ok and not hasattr(event, "_defused"):
        # A failed event nobody handled: crash, as SimPy's step does.
        exc = type(event._value)(*event._value.args)
        exc.__cause__ = event._value
        raise exc


class Simulation:
    """One run: a SimPy environment, a master seed, and the trace that devices write to.

    Random numbers come from named streams (:meth:`rng`) derived from the seed and the
    stream's name, so adding a device or a traffic source does not shift the numbers
    another one draws: results stay comparable across small scenario edits.
    """

    def __init__(self, seed: int = 1) -> None:
        self.env = simpy.Environment()
        self._queue = cast(list[Any], self.env._queue)
        """SimPy's event queue, which :meth:`call_at` shares (the same list, for good)."""
        self._ids = self.env._eid
        """SimPy's event ids: calls take theirs from the same counter."""
        self.seed = seed
        self.trace = Trace()
        self.events_processed = 0
        self._streams: dict[str, random.Random] = {}
        self._frame_ids = itertools.count(1)
        self._background_ids = itertools.count(-1, -1)
        self._catch_ups: list[Callable[[float], None]] = []
        self.horizon = math.inf
        """The scenario's end (the later of its duration and its hard stop): control
        protocols' timers are not scheduled beyond it (:meth:`call_timer_at`)."""

    @property
    def now(self) -> float:
        """Simulated time in seconds."""
        return float(self.env._now)

    def rng(self, stream: str) -> random.Random:
        """The random stream called ``stream``, seeded from the run's seed and the name."""
        r = self._streams.get(stream)
        if r is None:
            r = random.Random((self.seed << 32) ^ zlib.crc32(stream.encode()))
            self._streams[stream] = r
        return r

    def generator(self, stream: str) -> np.random.Generator:
        """A NumPy generator for the stream called ``stream`` (for numbers drawn in
        blocks), seeded from the run's seed and the name like :meth:`rng`."""
        import numpy as np  # only background load draws numbers in blocks

        return np.random.default_rng([self.seed, zlib.crc32(stream.encode())])

    def next_frame_id(self) -> int:
        """A fresh frame id: 1, 2, 3, ... in the order frames are created."""
        return next(self._frame_ids)

    def next_background_id(self) -> int:
        """A fresh id for a background-load frame: -1, -2, ... (hosts' frames count up
        from 1, so how much load a run carries never renumbers the frames it reports)."""
        return next(self._background_ids)

    def add_catch_up(self, catch_up: Callable[[float], None]) -> None:
        """Register work done lazily (background load): ``catch_up(t)`` does all of it
        that is due by simulated time ``t``. See :meth:`catch_up`."""
        self._catch_ups.append(catch_up)

    def catch_up(self, until: float) -> None:
        """Do all lazy work due by ``until``: before counters are read at that time, and
        at the end of the run."""
        for catch_up in self._catch_ups:
            catch_up(until)

    def call_at(self, time: float, fn: Callable[..., None], *args: Any) -> None:
        """Call ``fn(*args)`` at absolute simulated ``time`` (never earlier than now).

        Times are pushed as computed, not as ``now + delay``, so arithmetic on frame
        timings stays exact to the last bit of the float. Calls due at the same instant run
        in the order they were scheduled, which keeps runs deterministic.

        A call is a 5-tuple in SimPy's event queue, beside SimPy's own 4-tuple
        ``(time, priority, id, event)`` entries: ``(time, priority, id, fn, args)``. The
        ids are unique, so tuples never compare further; :meth:`run` tells them apart by
        length. No event object is made for a call: the fabric makes millions of them.
        """
        now = self.env._now
        _heappush(self._queue, (now if time < now else time, NORMAL, next(self._ids), fn, args))

    def call_timer_at(self, time: float, fn: Callable[..., None], *args: Any) -> bool:
        """Schedule a control protocol's timer (a spanning-tree or LACP deadline, an HSRP
        hello, a DHCP renewal) like :meth:`call_at`, unless it falls after :attr:`horizon`;
        True if it was scheduled.

        Control protocols talk for ever; traffic does not. Without this one rule a run
        whose traffic is over would never end: every protocol schedules its timers here,
        so all of them fall silent at the same moment, the scenario's end.
        """
        if time > self.horizon:
            return False
        self.call_at(time, fn, *args)
        return True

    def call_soon(self, fn: Callable[..., None], *args: Any) -> None:
        """Call ``fn(*args)`` at the current instant, before other events due now."""
        _heappush(self._queue, (self.env._now, URGENT, next(self._ids), fn, args))

    def run(
        self,
        until: float | None = None,
        progress: Callable[[float], None] | None = None,
        every: int = 20_000,
    ) -> None:
        """Process events until none are left, or until simulated time ``until``.

        ``progress``, if given, is called with the simulated time every ``every`` events.
        This is SimPy's ``Environment.step`` in a loop, with calls (:meth:`call_at`) made
        directly. After a hard stop, whatever is due after ``until`` stays in the queue,
        where :meth:`pending_calls` can still see it (frames in flight at the stop).
        """
        env = self.env
        queue = self._queue
        limit = math.inf if until is None else until
        # Events are counted without a counter in the loop: every entry the loop pops was
        # in the queue at the start or pushed since, and pushes take consecutive ids.
        queued_before = len(queue)
        first_id = next(self._ids)
        failed = True
        try:
            if progress is None:
                while queue and queue[0][0] <= limit:
                    entry = _heappop(queue)
                    env._now = entry[0]
                    if len(entry) == 5:
                        entry[3](*entry[4])
                    else:
                        _fire(entry[3])
            else:
                n = 0
                while queue and queue[0][0] <= limit:
                    entry = _heappop(queue)
                    env._now = entry[0]
                    if len(entry) == 5:
                        entry[3](*entry[4])
                    else:
                        _fire(entry[3])
                    n += 1
                    if n % every == 0:
                        failed = False  # the event is done: progress may stop the run (Ctrl-C)
                        progress(env._now)
                        failed = True
            if until is not None:
                env._now = max(env._now, until)
            failed = False
        finally:
            pushed = next(self._ids) - first_id - 1
            # An event whose callback raised (a broadcast storm stops the run) was popped
            # but is not counted as processed.
            self.events_processed += queued_before + pushed - len(queue) - failed

    def pending_calls(self) -> Iterator[tuple[float, tuple[Any, ...]]]:
        """The time and arguments of every :meth:`call_at` call not made yet.

        After a run stopped at a time limit, these are what was still on its way: a frame
        on a wire, a frame waiting for its switch's decision.
        """
        for entry in self._queue:
            if len(entry) == 5:
                yield entry[0], entry[4]
