"""Which frames were still on their way when a run hit its hard stop (``stop:``).

A run that ends at ``stop`` rather than draining leaves frames behind: on a wire (a
delivery due after the stop), inside a switch (a forwarding decision or the end of
store-and-forward still to come), or queued behind a busy half-duplex medium. Such a
frame was not lost; nobody knows yet what becomes of it. frames.csv marks it
``in-flight`` so that a saturated run cut short does not look like a lossy one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from netsim.engine.sim import Simulation
from netsim.phy.port import Port


def frames_in_flight(sim: Simulation, ports: Iterable[Port]) -> set[int]:
    """Ids of the frames that a pending call carries or a half-duplex queue holds."""
    ids: set[int] = set()
    for _time, args in sim.pending_calls():
        for arg in args:
            _add_frame_id(ids, arg)
    for port in ports:
        station = port.station
        if station is not None:
            ids.update(frame.frame_id for frame, _hops in station.queue)
    return ids


def _add_frame_id(ids: set[int], arg: Any) -> None:
    # A frame travels as itself, or inside a half-duplex Transmission (its ``frame``).
    frame = getattr(arg, "frame", arg)
    frame_id = getattr(frame, "frame_id", None)
    if isinstance(frame_id, int):
        ids.add(frame_id)
