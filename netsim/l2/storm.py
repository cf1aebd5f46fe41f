"""The storm guard: a per-run budget of flooded frames, so a broadcast storm ends a run.

Without spanning tree, a loop of switches floods every broadcast round the loop for
ever: each switch sends each copy on to all its other ports, copies multiply, MAC
addresses flap between ports. A real network melts down; a simulation of one would run
until memory runs out. So every switch of a run shares one :class:`StormGuard`: each
flood decision (broadcast, multicast or unknown unicast sent out of more than one port)
spends one unit of the run's budget (``limits: {floods: N}``), and the switch counts it
against the port the frame came in on. When the budget is spent the guard raises
:class:`BroadcastStorm`; the run stops there and saves what it has, its summary saying
why and which ports flooded most.

Only floods are counted, so the frames a switch forwards to one known port cost nothing
extra; a legitimate run floods far less than the default budget (2,000,000).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

DEFAULT_FLOOD_BUDGET = 2_000_000
"""Flood decisions all switches of one run may make together."""


class BroadcastStorm(Exception):
    """The run's flood budget is spent: most likely a loop without spanning tree."""

    def __init__(self, message: str, report: dict[str, Any]) -> None:
        super().__init__(message)
        self.report = report
        """What summary.json says about it (``storm``)."""


class StormGuard:
    """The flood budget of one run, and the floods counted per ingress port."""

    def __init__(self, budget: int = DEFAULT_FLOOD_BUDGET) -> None:
        self.budget = budget
        self.left = budget
        self.by_port: Counter[str] = Counter()
        """``device:port`` -> floods of frames that came in there (the storm counters)."""

    def flooded(self, port_label: str, now: float) -> None:
        """A switch flooded a frame that came in on ``port_label``."""
        self.by_port[port_label] += 1
        self.left -= 1
        if self.left < 0:
            worst = self.by_port.most_common(5)
            ports = ", ".join(f"{label} ({n})" for label, n in worst)
            message = (
                f"broadcast storm: switches flooded {self.budget} frames by t = {now:.6f} s, "
                f"the run's limit (limits.floods); a loop without spanning tree? "
                f"most floods came in on {ports}"
            )
            raise BroadcastStorm(
                message,
                {
                    "stopped_at": now,
                    "floods": self.budget,
                    "message": message,
                    "top_ingress_ports": dict(worst),
                },
            )

    def report(self) -> dict[str, Any]:
        """The storm counters for summary.json, when the run ended normally."""
        return {"floods": self.budget - self.left, "budget": self.budget}
