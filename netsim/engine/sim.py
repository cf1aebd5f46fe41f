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
from heapq import heappush as _heappush
from typing import Any

import simpy
from simpy.core import EmptySchedule
from simpy.events import NORMAL, URGENT

from netsim.engine.trace import Trace


class _Call(simpy.Event):
    """An already-triggered event whose only callback calls ``fn(*args)``."""

    def __init__(self, env: simpy.Environment, fn: Callable[..., None], args: tuple[Any, ...]):
        self.env = env
        self.callbacks = [self._fire]
        self._ok = True
        self._value = None
        self.fn = fn
        self.args = args

    def _fire(self, _event: simpy.Event) -> None:
        self.fn(*self.args)


class Simulation:
    """One run: a SimPy environment, a master seed, and the trace that devices write to.

    Random numbers come from named streams (:meth:`rng`) derived from the seed and the
    stream's name, so adding a device or a traffic source does not shift the numbers
    another one draws: results stay comparable across small scenario edits.
    """

    def __init__(self, seed: int = 1) -> None:
        self.env = simpy.Environment()
        self.seed = seed
        self.trace = Trace()
        self.events_processed = 0
        self._streams: dict[str, random.Random] = {}
        self._frame_ids = itertools.count(1)
        self.horizon = math.inf
        """The scenario's end: periodic control traffic (spanning-tree hellos) is not
        scheduled beyond it, so that a run whose traffic is over comes to an end."""

    @property
    def now(self) -> float:
        """Simulated time in seconds."""
        return float(self.env.now)

    def rng(self, stream: str) -> random.Random:
        """The random stream called ``stream``, seeded from the run's seed and the name."""
        r = self._streams.get(stream)
        if r is None:
            r = random.Random((self.seed << 32) ^ zlib.crc32(stream.encode()))
            self._streams[stream] = r
        return r

    def next_frame_id(self) -> int:
        """A fresh frame id: 1, 2, 3, ... in the order frames are created."""
        return next(self._frame_ids)

    def call_at(self, time: float, fn: Callable[..., None], *args: Any) -> None:
        """Call ``fn(*args)`` at absolute simulated ``time`` (never earlier than now).

        Times are pushed as computed, not as ``now + delay``, so arithmetic on frame
        timings stays exact to the last bit of the float. Calls due at the same instant run
        in the order they were scheduled, which keeps runs deterministic.
        """
        env = self.env
        if time < env._now:
            time = env._now
        _heappush(env._queue, (time, NORMAL, next(env._eid), _Call(env, fn, args)))

    def call_soon(self, fn: Callable[..., None], *args: Any) -> None:
        """Call ``fn(*args)`` at the current instant, before other events due now."""
        env = self.env
        _heappush(env._queue, (env._now, URGENT, next(env._eid), _Call(env, fn, args)))

    def run(
        self,
        until: float | None = None,
        progress: Callable[[float], None] | None = None,
        every: int = 20_000,
    ) -> None:
        """Process events until none are left, or until simulated time ``until``.

        ``progress``, if given, is called with the simulated time every ``every`` events.
        """
        env = self.env
        step = env.step
        queue = env._queue
        n = 0
        try:
            if until is None:
                if progress is not None:
                    while True:
                        for _ in range(every):
                            step()
                            n += 1
                        progress(env._now)
                while True:
                    step()
                    n += 1
            else:
                # A hard stop: whatever is due after ``until`` stays in the queue, where
                # :meth:`pending_calls` can still see it (frames in flight at the stop).
                while queue and queue[0][0] <= until:
                    step()
                    n += 1
                    if progress is not None and n % every == 0:
                        progress(env._now)
                env._now = max(env._now, until)
        except EmptySchedule:
            pass
        finally:
            self.events_processed += n

    def pending_calls(self) -> Iterator[tuple[float, tuple[Any, ...]]]:
        """The time and arguments of every :meth:`call_at` call not made yet.

        After a run stopped at a time limit, these are what was still on its way: a frame
        on a wire, a frame waiting for its switch's decision.
        """
        for time, _priority, _eid, event in self.env._queue:
            if isinstance(event, _Call):
                yield time, event.args
