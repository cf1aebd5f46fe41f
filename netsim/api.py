"""The Python API: load a scenario, run it, get results.

import netsim
sc = netsim.load("scenarios/two-switches.yaml", overrides={"seed": 3})
res = netsim.run(sc)
res.frames, res.ports, res.mac_events
res.save("results/two-switches")
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from netsim import __version__
from netsim.engine.sim import Simulation
from netsim.engine.trace import FrameWindow
from netsim.events import EventContext, schedule_events
from netsim.events.failures import start_failures
from netsim.l2.frame import FCS_BYTES, Frame
from netsim.l2.mac_table import MacEvent
from netsim.l2.storm import BroadcastStorm
from netsim.l2.switch import DEFAULT_RECORDED_EVENTS, Switch
from netsim.metrics.in_flight import frames_in_flight
from netsim.metrics.results import Results, summarize_frames, summarize_table
from netsim.metrics.snapshots import Snapshots
from netsim.metrics.tables import (
    app_tables,
    frames_table,
    hops_table,
    mac_events_table,
    network_summaries,
    network_tables,
    ports_table,
)
from netsim.scenario import model as m
from netsim.scenario.load import LoadedScenario, from_data, load, loads
from netsim.topology.build import Network, build, guard_against_storms
from netsim.traffic import RunContext, start_traffic

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LoadedScenario", "Results", "follow_frame", "load", "loads", "run"]


def run(
    scenario: LoadedScenario,
    seed: int | None = None,
    progress: Callable[[float], None] | None = None,
    follow: Iterable[int] = (),
    on_start: Callable[[], None] | None = None,
    snapshots: Iterable[float] = (),
    window: tuple[float, float] | None = None,
    window_frames: int = 2000,
) -> Results:
    """Simulate ``scenario`` (with ``seed`` instead of the scenario's, if given).

    ``progress`` is called now and then with the simulated time reached. Every hop of the
    frames whose ids are in ``follow`` is recorded in ``Results.hops`` (a ladder diagram).
    ``on_start`` is called once the network is built, as the simulation begins.

    Ctrl-C (KeyboardInterrupt) during the simulation stops it where it is and returns what
    it has: ``summary["interrupted"]`` is true, ``simulated_time`` is the time reached,
    and frames neither delivered nor dropped yet are ``in-flight``.

    At each time in ``snapshots`` every port's counters and every MAC table are copied
    into ``Results.counters`` and ``Results.mac_tables`` (what ``show`` prints at that
    time). ``window=(start, end)`` follows every frame put on a link in that stretch of
    time, at most ``window_frames`` of them, and keeps their bytes (a replay's data).
    """
    started = time.perf_counter()
    spec = scenario.model
    sim = Simulation(spec.seed if seed is None else seed)
    frame_window = None
    if window is not None:
        frame_window = FrameWindow(lambda: sim.now, window[0], window[1], window_frames)
        sim.trace.followed = frame_window
    else:
        sim.trace.followed = frozenset(follow)
    sim.trace.sample = spec.measure.frame_sample
    # Control protocols (spanning tree, LACP, HSRP/VRRP, DHCP) run while the run does.
    sim.horizon = max(spec.duration, spec.stop or 0.0)
    net = build(scenario.topology, sim, _recorded_mac_events(spec.measure))
    guard_against_storms(net, spec.limits.floods)
    captured = {text: _capture(net, text) for text in spec.measure.capture}
    snapshot = Snapshots(net)
    if frame_window is not None:
        sim.trace.on_hop = snapshot.hop_arrives
    for at in sorted(set(snapshots)):
        sim.call_at(at, snapshot.take, at)
    start_traffic(RunContext(sim, net, spec))
    events = EventContext(sim, net, spec)
    schedule_events(events)
    availability = start_failures(events)
    interrupted = False
    storm_report: dict[str, Any] | None = None
    # The network, the mail stores and the scheduled traffic live for the whole run:
    # the garbage collector need not walk them at every full collection (on a
    # thousand-host campus, millions of objects).
    gc.freeze()
    collecting = gc.isenabled()
    try:
        try:
            if on_start is not None:
                on_start()
            sim.run(until=spec.stop, progress=progress)
        except KeyboardInterrupt:
            interrupted = True
        except BroadcastStorm as storm:
            storm_report = storm.report  # stopped where the flood budget ran out
        in_flight: set[int] = set()
        cut_short = interrupted or storm_report is not None
        if cut_short or spec.stop is not None:
            # Ctrl-C, a storm or a hard stop: what is still on its way is in flight, not lost.
            end = sim.now if cut_short or spec.stop is None else spec.stop
            in_flight = frames_in_flight(sim, (p for d in net.devices.values() for p in d.ports))
        else:
            end = max(sim.now, spec.duration)
        # Background load generated lazily: what was due by the end is sent now.
        sim.catch_up(end)
        for device in net.devices.values():
            if isinstance(device, Switch):
                device.table.age(end)
        # The tables are rows kept to the end, never cyclic garbage: building them, a
        # collector would only walk the growing heap again and again.
        gc.disable()
        frames = frames_table(sim.trace, in_flight)
        summary: dict[str, Any] = {
            "scenario": spec.name,
            "scenario_sha256": scenario.digest,
            "seed": sim.seed,
            "netsim_version": __version__,
            "duration": spec.duration,
            "stop": spec.stop,
            "simulated_time": float(f"{end:.12g}"),
            "events_processed": sim.events_processed,
            "interrupted": interrupted,
            "frames": summarize_frames(frames),
        }
        if storm_report is not None:
            summary["storm"] = storm_report
        if spec.measure.frames != "all":
            # frames.csv is a sample (or empty): say so, and how many frames there were.
            summary["frames"]["recorded"] = spec.measure.frames
            summary["frames"]["sent_by_hosts"] = sim.trace.frames_sent
        summary.update(network_summaries(net))
        extra = app_tables(sim.trace)
        extra.update(network_tables(net))
        for table_name, table in extra.items():
            summary[table_name] = summarize_table(table_name, table)
        if availability is not None:
            # Measured up to the end of the failures (duration), or where the run stopped.
            outages, summary["availability"] = availability.results(min(end, spec.duration))
            extra["availability"] = outages
        return Results(
            frames=frames,
            ports=ports_table(net),
            mac_events=mac_events_table(sim.trace),
            summary=json_safe(summary),
            wall_seconds=time.perf_counter() - started,
            extra=extra,
            captures={
                text: sorted(frames_, key=lambda r: r[0]) for text, frames_ in captured.items()
            },
            topology=scenario.topology,
            hops=hops_table(sim.trace),
            counters=snapshot.counters,
            mac_tables=snapshot.mac_tables,
            counter_changes=snapshot.changes,
            frame_bytes={i: _octets(f) for i, f in sim.trace.carried.items()},
            window_cut=frame_window.cut_at if frame_window is not None else None,
        )
    finally:
        gc.unfreeze()
        if collecting:
            gc.enable()


def json_safe(value: Any) -> Any:
    """``value`` with every float that is not finite replaced by None (JSON has no inf/NaN).

    Quantities are finite by validation; this keeps summary.json valid JSON whatever an
    aggregate computes (a mean of nothing, a rate over zero seconds).
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def _octets(frame: object) -> bytes:
    # The frame's octets as a capture shows them: without the FCS, cut short if truncated.
    assert isinstance(frame, Frame)
    return frame.to_bytes()[: max(0, frame.length - FCS_BYTES)]


def _capture(net: Network, text: str) -> list[tuple[float, Any]]:
    node, _, port_name = text.partition(":")
    port = net.port(node, port_name)
    port.captured = []
    return port.captured


def _recorded_mac_events(measure: m.Measure) -> frozenset[MacEvent]:
    if measure.mac_events is None:
        return DEFAULT_RECORDED_EVENTS
    if measure.mac_events == "all":
        return frozenset(MacEvent)
    return frozenset(MacEvent(e) for e in measure.mac_events)


MODES = ("store-and-forward", "cut-through", "fragment-free")


def follow_frame(
    scenario: LoadedScenario, frame_id: int, modes: Iterable[str] | None = MODES
) -> dict[str, pd.DataFrame]:
    """Every hop of frame ``frame_id``, once per switching mode (all switches set to it).

    ``modes=None`` runs the scenario as it is. Returns ``{label: hops}``, where ``hops``
    has a row per link crossed (see :func:`netsim.metrics.tables.hops_table`): the data
    of a ladder (time-space) diagram.
    """
    out: dict[str, pd.DataFrame] = {}
    runs: dict[str, LoadedScenario] = {}
    if modes is None:
        runs["as configured"] = scenario
    else:
        for mode in modes:
            sets = [
                f"topology.nodes.{name}.mode={mode}"
                for name, node in scenario.topology.nodes.items()
                if node.kind == "switch"
            ]
            runs[mode] = from_data(scenario.data, scenario.source, sets=sets)
    for label, loaded in runs.items():
        hops = run(loaded, follow=[frame_id]).hops
        if hops.empty:
            raise ValueError(f"frame {frame_id} never crossed a link in {loaded.name!r}")
        out[label] = hops
    return out
