"""``traffic: kind: load``: background load on one link, as a share of its rate.

A teacher wants "the uplink is 60 % busy" without modelling who makes it busy. A load
source puts frames on one port's egress queue, so they compete with real traffic for the
link, and addresses them to 01:80:C2:00:00:0E, an IEEE 802.1D reserved group address
that the device at the other end consumes and never forwards: the load stays on its link.
The frames are counted by the ports (utilization, queueing, tail drops), not in
frames.csv, which lists what hosts send.
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
        sim.call_at(start + self._gap(), self._emit)

    def _gap(self) -> float:
        return self._rng.expovariate(1.0 / self.interval) if self.poisson else self.interval

    def _emit(self) -> None:
        now = self.sim.now
        if now >= self.stop_at:
            return
        size = self.sizes[0] if len(self.sizes) == 1 else self._rng.choice(self.sizes)
        frame = Frame(self.sim.next_frame_id(), LOAD_DESTINATION, self.mac, size)
        self.port.transmit_consumed(frame, now)
        self.offered += 1
        self.sim.call_at(now + self._gap(), self._emit)
