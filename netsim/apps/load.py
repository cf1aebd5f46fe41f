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
from collections.abc import Sequence

from netsim.engine.sim import Simulation
from netsim.l2.frame import (
    BRIDGE_GROUP_BASE,
    INTERFRAME_GAP_BYTES,
    PREAMBLE_SFD_BYTES,
    Frame,
)
from netsim.phy.port import Port

LOAD_DESTINATION = BRIDGE_GROUP_BASE | 0x0E
"""01:80:C2:00:00:0E, the LLDP address: link-local by definition."""


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
        self._rng = sim.rng(f"load:{name}")
        self._due = start + self._gap()
        """When the next load frame is due."""
        self.lazy = lazy and port.takes_lazy_background()
        if self.lazy:
            port.background = self
            sim.add_catch_up(self.catch_up)
        else:
            sim.call_at(self._due, self._emit)

    def _gap(self) -> float:
        return self._rng.expovariate(1.0 / self.interval) if self.poisson else self.interval

    def _frame(self) -> Frame:
        size = self.sizes[0] if len(self.sizes) == 1 else self._rng.choice(self.sizes)
        return Frame(self.sim.next_background_id(), LOAD_DESTINATION, self.mac, size)

    def _emit(self) -> None:
        """One load frame now, and the next one scheduled (the frame-by-frame way)."""
        now = self.sim.now
        if now >= self.stop_at:
            return
        self.port.transmit_consumed(self._frame(), now)
        self.offered += 1
        self._due = now + self._gap()
        self.sim.call_at(self._due, self._emit)

    def catch_up(self, until: float) -> None:
        """Put in the port's queue every load frame due by ``until`` (the lazy way).

        The frames, their times and the random numbers drawn are those of
        :meth:`_emit`, in the same order; only no Frame object and no event is made.
        """
        due, stop_at = self._due, self.stop_at
        if due > until or due >= stop_at:
            return
        sizes = self.sizes
        choice = self._rng.choice
        gap = self._gap
        arrivals: list[tuple[float, int]] = []
        while due <= until and due < stop_at:
            arrivals.append((due, sizes[0] if len(sizes) == 1 else choice(sizes)))
            due = due + gap()
        self._due = due
        self.offered += len(arrivals)
        self.port.send_consumed_burst(arrivals, PREAMBLE_SFD_BYTES)
