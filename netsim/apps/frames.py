"""The raw frame generator: ``traffic: kind: frames``.

A source sends frames from one host to another host (or to broadcast) at a constant
interval or as a Poisson process, with a fixed size or sizes drawn from a list. A rate
given as a share of the link is converted to an interval counting preamble and gap, so
``rate: 100%`` of constant 64-byte frames is wire speed: 148,809.5 frames/s at 100 Mb/s.
"""

from __future__ import annotations

from collections.abc import Sequence

from netsim.engine.sim import Simulation
from netsim.l2.frame import (
    INTERFRAME_GAP_BYTES,
    PREAMBLE_SFD_BYTES,
    Frame,
    MacAddress,
)
from netsim.l2.host import Host


class FrameSource:
    """Sends frames from ``host`` until ``count`` are sent or time ``stop_at`` is reached."""

    def __init__(
        self,
        sim: Simulation,
        name: str,
        host: Host,
        dst_mac: MacAddress,
        dst_name: str,
        sizes: Sequence[int],
        *,
        count: int | None,
        start: float,
        stop_at: float,
        interval: float | None = None,
        rate: float | None = None,
        poisson: bool = False,
        vlan: int | None = None,
    ) -> None:
        if interval is None:
            if rate is None:
                interval = 1.0  # only one frame will be sent (validated upstream)
            else:
                mean = sum(sizes) / len(sizes) + PREAMBLE_SFD_BYTES + INTERFRAME_GAP_BYTES
                interval = mean * 8 / (rate * host.port.rate)
        self.sim = sim
        self.name = name
        self.host = host
        self.dst_mac = dst_mac
        self.dst_name = dst_name
        self.sizes = list(sizes)
        self.count = count
        self.stop_at = stop_at
        self.interval = interval
        self.poisson = poisson
        self.vlan = vlan
        self.sent = 0
        self._rng = sim.rng(f"traffic:{name}")
        first = start + (self._rng.expovariate(1.0 / interval) if poisson else 0.0)
        sim.call_at(first, self._emit)

    def _emit(self) -> None:
        sim = self.sim
        now = sim.now
        if now >= self.stop_at:
            return
        sizes = self.sizes
        size = sizes[0] if len(sizes) == 1 else self._rng.choice(sizes)
        frame = Frame(sim.next_frame_id(), self.dst_mac, self.host.mac, size, vlan=self.vlan)
        self.host.send(frame, self.dst_name, self.name)
        self.sent += 1
        if self.count is not None and self.sent >= self.count:
            return
        gap = self._rng.expovariate(1.0 / self.interval) if self.poisson else self.interval
        sim.call_at(now + gap, self._emit)
