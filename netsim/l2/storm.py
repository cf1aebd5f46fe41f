"""The storm guard: one frame flooded too often ends a run, since it is going round a loop.

Without spanning tree, a loop of switches floods every broadcast round the loop for
ever: each switch sends each copy on to all its other ports, copies multiply, MAC
addresses flap between ports. A real network melts down; a simulation of one would run
until memory runs out. So every switch of a run shares one :class:`StormGuard`, told of
each flood decision (broadcast, multicast or unknown unicast sent out of every port but
one). A frame that is not going round a loop is flooded at most once per switch, and a
scenario has at most ``limits.nodes`` devices; so a frame flooded more often than
``limits.floods`` times (default 10,000, the node limit) is circling. The guard then
raises :class:`BroadcastStorm`; the run stops there and saves what it has, its summary
saying why and on which ports the floods came in (the storm counters).

Only floods are counted, so frames a switch forwards to one known port cost nothing
extra, and the guard's memory is bounded: it forgets the counts of old frames.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from netsim.phy.port import Port

DEFAULT_FLOOD_LIMIT = 10_000
"""Times one frame may be flooded, by all switches together, before it counts as a storm."""
REMEMBERED_FRAMES = 65_536
"""Flooded frames whose counts are kept; beyond that the old counts are forgotten (a
circling frame is flooded again within microseconds, long before it is forgotten)."""


class BroadcastStorm(Exception):
    """A frame went round a loop ``limits.floods`` times: a loop without spanning tree."""

    def __init__(self, message: str, report: dict[str, Any]) -> None:
        super().__init__(message)
        self.report = report
        """What summary.json says about it (``storm``)."""


class StormGuard:
    """Counts floods per frame (to find a storm) and per ingress port (to show where)."""

    def __init__(self, limit: int = DEFAULT_FLOOD_LIMIT) -> None:
        self.limit = limit
        self.by_port: Counter[Port] = Counter()
        """Ingress port -> floods of frames that came in there (the storm counters)."""
        self._by_frame: dict[int, int] = {}

    def flooded(self, frame_id: int, port: Port, now: float) -> None:
        """A switch flooded frame ``frame_id``, which came in on ``port``."""
        self.by_port[port] += 1
        by_frame = self._by_frame
        count = by_frame.get(frame_id, 0) + 1
        if count > self.limit:
            worst = [(p.label, n) for p, n in self.by_port.most_common(5)]
            ports = ", ".join(f"{label} ({n})" for label, n in worst)
            message = (
                f"broadcast storm: frame {frame_id} was flooded {self.limit} times by "
                f"t = {now:.6f} s (limits.floods): it is going round a loop without "
                f"spanning tree; most floods came in on {ports}"
            )
            raise BroadcastStorm(
                message,
                {
                    "stopped_at": now,
                    "frame_id": frame_id,
                    "floods": self.limit,
                    "message": message,
                    "top_ingress_ports": dict(worst),
                },
            )
        if len(by_frame) >= REMEMBERED_FRAMES and frame_id not in by_frame:
            by_frame.clear()
        by_frame[frame_id] = count
