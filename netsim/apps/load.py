"""``traffic: kind: load``: background load on one link, as a share of its rate.

A teacher wants "the uplink is 60 % busy" without modelling who makes it busy. A load
source puts frames on one port's egress queue, so they compete with real traffic for the
link, and addresses them to 01:80:C2:00:00:0E, an IEEE 802.1D reserved group address
that the device at the other end consumes and never forwards: the load stays on its link.
The frames are counted by the ports (utilization, queueing, tail drops), not in
frames.csv, which lists what hosts send. They are numbered -1, -2, ... so that the frames
hosts send keep their ids whatever the load.

Load frames meet nothing but the queue of the port they load, so on a full-duplex FIFO port
they need no events at all: the source generates them *lazily*, from the same seeded
stream, whenever a real frame is about to use that queue (or a counter is read, or the
link changes state, or the run ends), and puts every load frame due by then in the queue
first, in time order. The result is the same, frame for frame, as one event per load
frame (a test compares the two), at a fraction of the cost. Where a port acts on each
frame as it is sent (CSMA/CD, QoS queues, a SPAN session), the source sends them one
event at a time as before.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from netsim.engine.sim import Simulation
from netsim.l2.frame import (
    BRIDGE_GROUP_BASE,
    INTERFRAME_GAP_BYTES,
    PREAMBLE_SFD_BYTES,
    Frame,
)
from netsim.phy.port import Port

if TYPE_CHECKING:
    import numpy as np

LOAD_DESTINATION = BRIDGE_GROUP_BASE | 0x0E
"""01:80:C2:00:00:0E, the LLDP address: link-local by definition."""


BLOCK = 4096
"""Random numbers are drawn this many at a time."""
SMALL_BURST = 16
"""Fewer load frames than this expected by the time asked: drawn one at a time."""


class _Series:
    """Random numbers drawn a block at a time from their own stream: the same numbers in
    the same order whether they are taken one by one (:meth:`one`) or many at once."""

    def __init__(self, draw: Callable[[int], np.ndarray]) -> None:
        self._draw = draw
        self._block = draw(BLOCK)
        self._next = 0

    def one(self) -> Any:
        """The next number, as a Python float or int."""
        if self._next == len(self._block):
            self._block, self._next = self._draw(BLOCK), 0
        value = self._block[self._next]
        self._next += 1
        return value.item()

    def rest(self) -> np.ndarray:
        """The numbers not taken yet from the current block (at least one)."""
        if self._next == len(self._block):
            self._block, self._next = self._draw(BLOCK), 0
        return self._block[self._next :]

    def take(self, count: int) -> np.ndarray:
        """The next ``count`` numbers."""
        import numpy as np

        parts = [self._block[:0]]
        while count > 0:
            part = self.rest()[:count]
            self._next += len(part)
            count -= len(part)
            parts.append(part)
        return np.concatenate(parts) if len(parts) > 2 else parts[-1]


class LoadSource:
    """Poisson (or constant) frames on ``port``'s egress at ``rate`` of its link speed."""

    def __init__(
        self,
        sim: Simulation,
        name: str,
        port: Port,
        sizes: Sequence[int],
        *,
        rate: float,
        poisson: bool,
        start: float,
        stop_at: float,
        lazy: bool = True,
    ) -> None:
        # NumPy is loaded here, not when the traffic registry imports this module: a
        # scenario without background load runs without it.
        import numpy as np

        self.sim = sim
        self.name = name
        self.port = port
        self.sizes = list(sizes)
        self.stop_at = stop_at
        self.poisson = poisson
        mean_wire = sum(self.sizes) / len(self.sizes) + PREAMBLE_SFD_BYTES + INTERFRAME_GAP_BYTES
        self.interval = mean_wire * 8 / (rate * port.rate)
        self.mac = 0x06_00_0000_0000 | zlib.crc32(port.label.encode())
        self.offered = 0
        # Gaps and sizes come from two streams of their own, so that taking them one at a
        # time or a block at a time gives the same frames.
        gaps = sim.generator(f"load:{name}:gaps")
        interval = self.interval
        self._gaps = _Series(
            (lambda n: gaps.exponential(interval, n))
            if poisson
            else (lambda n: np.full(n, interval))
        )
        choices = np.array(self.sizes, dtype=np.int64)
        picks = sim.generator(f"load:{name}:sizes")
        self._sizes = _Series(
            (lambda n: picks.choice(choices, n))
            if len(choices) > 1
            else (lambda n: np.full(n, choices[0]))
        )
        self._due = start + self._gaps.one()
        """When the next load frame is due."""
        self.lazy = lazy and port.takes_lazy_background()
        if self.lazy:
            port.background = self
            sim.add_catch_up(self.catch_up)
        else:
            sim.call_at(self._due, self._emit)

    def _emit(self) -> None:
        """One load frame now, and the next one scheduled (the frame-by-frame way)."""
        now = self.sim.now
        if now >= self.stop_at:
            return
        frame = Frame(self.sim.next_background_id(), LOAD_DESTINATION, self.mac, self._sizes.one())
        self.port.transmit_consumed(frame, now)
        self.offered += 1
        self._due = now + self._gaps.one()
        self.sim.call_at(self._due, self._emit)

    def catch_up(self, until: float) -> None:
        """Put in the port's queue every load frame due by ``until`` (the lazy way).

        The frames, their times and the random numbers are those of :meth:`_emit`, in the
        same order: each due time is the previous one plus a gap, added one at a time
        (``np.add.accumulate`` adds in sequence, as :meth:`_emit` does).
        """
        import numpy as np

        due, stop_at = self._due, self.stop_at
        if due > until or due >= stop_at:
            return
        if until - due < SMALL_BURST * self.interval:
            # A few frames due (a real frame touches the port often): one at a time is
            # cheaper than NumPy's cost per call; the sums are the same float additions.
            few: list[float] = []
            sizes: list[int] = []
            while due <= until and due < stop_at:
                few.append(due)
                sizes.append(self._sizes.one())
                due = due + self._gaps.one()
            self._due = due
            self.offered += len(few)
            self.port.send_consumed_burst(few, sizes, PREAMBLE_SFD_BYTES)
            return
        while due <= until and due < stop_at:
            gaps = self._gaps.rest()
            times = np.add.accumulate(np.concatenate(([due], gaps)))
            # Frames go at times[0], times[1], ...; the one after times[j] is due at times[j+1].
            candidates = times[:-1]
            count = min(
                int(np.searchsorted(candidates, until, side="right")),
                int(np.searchsorted(candidates, stop_at, side="left")),
            )
            self._gaps.take(count)
            lengths = self._sizes.take(count)
            self.port.send_consumed_burst(candidates[:count], lengths, PREAMBLE_SFD_BYTES)
            self.offered += count
            due = float(times[count])
            if count < len(gaps):
                break
        self._due = due
