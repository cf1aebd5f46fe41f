"""Failures: ``device-down`` / ``device-up`` events, random failures, measured availability.

A scenario fails devices at given times with events::

    events:
      - {at: 10s, action: device-down, device: f1}
      - {at: 40s, action: device-up, device: f1}
      - {at: 10s, action: device-down, device: building, member: 2}   # one stack member

and at random with a ``failures:`` section, each part on its own (an alternating renewal
process: up for an exponential time of mean MTBF, down for an exponential time of mean
MTTR, and again), drawn over the scenario's ``duration``::

    failures:
      - {kind: switch, mtbf: 200000h, mttr: 4h}
      - {link: [f1, building], mtbf: 50000h, mttr: 8h}

Each part draws from its own random stream (``failures:<part>``), seeded from the run's
seed: the same seed gives the same failures, and adding a part changes no other part's
failures, nor any other random stream of the run.

While failures happen, :class:`AvailabilityMeasurement` watches every measured path
(:func:`netsim.scenario.failures.measured_paths`) and writes availability.csv (one row
per outage) and the ``availability`` section of summary.json (measured against analytic).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from netsim.events.registry import EventContext, handles
from netsim.l2.switch import Switch
from netsim.metrics.availability import (
    AvailabilityGraph,
    PathMonitor,
    SpanningTreeForwarding,
    link_element,
    measured,
    member_element,
    path_availability,
    path_name,
)
from netsim.metrics.table import Table
from netsim.scenario import model as m
from netsim.scenario.failures import FailingPart, failing_parts, measured_paths
from netsim.topology.build import Network

OUTAGE_COLUMNS = ["path", "start", "end", "duration"]


@handles(m.DeviceFailureEvent)
def device_failure(context: EventContext, event: m.DeviceFailureEvent) -> None:
    """Fail a device (or one stack member), or bring it back."""
    up = event.action == "device-up"
    faults = context.net.faults
    if event.member is None:
        faults.set_device(event.device, up)
    else:
        faults.set_member(event.device, event.member, up)


def set_part(net: Network, part: FailingPart, up: bool) -> None:
    """Fail or repair one part that fails at random."""
    faults = net.faults
    if part.link is not None:
        faults.set_cable(part.link, up)
    elif part.member is not None:
        assert part.device is not None
        faults.set_member(part.device, part.member, up)
    else:
        assert part.device is not None
        faults.set_device(part.device, up)


@dataclass
class RandomFailures:
    """One part's failures and repairs, drawn one at a time as the run reaches them."""

    context: EventContext
    part: FailingPart

    def start(self) -> None:
        """Schedule the part's first failure (every part starts working)."""
        self._next(up=True)

    def _next(self, up: bool) -> None:
        """The part has just come up (or failed): draw when it fails (or is repaired)."""
        sim = self.context.sim
        rng = sim.rng(f"failures:{self.part.element}")
        mean = self.part.mtbf if up else self.part.mttr
        at = sim.now + rng.expovariate(1.0 / mean)
        if at < self.context.scenario.duration:
            sim.call_at(at, self._flip, not up)

    def _flip(self, up: bool) -> None:
        set_part(self.context.net, self.part, up)
        self._next(up)


class AvailabilityMeasurement:
    """The outages of every measured path, and their analytic availability."""

    def __init__(self, context: EventContext, paths: list[tuple[str, str]]) -> None:
        self.context = context
        self.paths = paths
        self.graph = AvailabilityGraph.of(context.net.topology)
        self.parts = failing_parts(context.scenario, context.net.topology)
        trees = {
            name: device.stp
            for name, device in context.net.devices.items()
            if isinstance(device, Switch) and device.stp is not None
        }
        self.monitor = PathMonitor(self.graph, paths, SpanningTreeForwarding(trees))
        self._recheck_due = False
        context.net.faults.watch(self._changed)
        for tree in trees.values():
            tree.state_watchers.append(self._port_state_changed)

    def _changed(self, now: float) -> None:
        self.monitor.observe(now, self.down())

    def _port_state_changed(self, now: float) -> None:
        # One spanning-tree event changes many ports at one instant: check the paths once,
        # when it is over.
        if not self._recheck_due:
            self._recheck_due = True
            self.context.sim.call_soon(self._recheck)

    def _recheck(self) -> None:
        self._recheck_due = False
        self.monitor.check(self.context.sim.now)

    def down(self) -> list[str]:
        """The availability elements that are down now."""
        faults = self.context.net.faults
        out: list[str] = []
        for name in sorted(faults.devices_down):
            out += self.graph.devices[name]
        out += [member_element(name, k) for name, k in sorted(faults.members_down)]
        out += sorted(link_element(spec) for spec in faults.cables_cut)
        return out

    def results(self, end: float) -> tuple[Table, dict[str, Any]]:
        """availability.csv and the summary section, measured over ``[0, end]``."""
        outages = self.monitor.finish(end)
        rows = [(o.path, o.start, o.end, o.duration) for o in outages]
        table = Table.from_rows(rows, OUTAGE_COLUMNS)
        availability = {p.element: p.availability for p in self.parts}
        section: dict[str, Any] = {"measured_over": end, "failing_parts": len(self.parts)}
        paths: dict[str, Any] = {}
        for a, b in self.paths:
            name = path_name(a, b)
            analytic = path_availability(self.graph, a, b, availability)
            mine = [o for o in outages if o.path == name]
            paths[name] = {
                "outages": len(mine),
                "downtime": sum(o.duration for o in mine),
                "measured": measured(mine, name, end),
                "analytic": analytic.availability if self.parts else None,
                "single_points_of_failure": list(analytic.single_points),
                "redundant": [list(block) for block in analytic.redundant],
            }
        section["paths"] = paths
        return table, section


def start_failures(context: EventContext) -> AvailabilityMeasurement | None:
    """Start the random failures of the scenario, and the measurement of its paths.

    Returns the measurement, or None when the scenario measures no path.
    """
    paths = measured_paths(context.scenario)
    measurement = AvailabilityMeasurement(context, paths) if paths else None
    for part in failing_parts(context.scenario, context.net.topology):
        RandomFailures(context, part).start()
    if measurement is not None:
        measurement.monitor.observe(0.0, [])
    return measurement
