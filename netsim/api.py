"""The Python API: load a scenario, run it, get results.

import netsim
sc = netsim.load("scenarios/two-switches.yaml", overrides={"seed": 3})
res = netsim.run(sc)
res.frames, res.ports, res.mac_events
res.save("results/two-switches")
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from netsim import __version__
from netsim.apps.frames import FrameSource
from netsim.apps.load import LoadSource
from netsim.apps.mailgen import MailboxSpec
from netsim.apps.ping import Pinger
from netsim.apps.tcp import TcpTraffic
from netsim.engine.sim import Simulation
from netsim.engine.trace import FrameWindow
from netsim.l2.frame import BROADCAST, FCS_BYTES, Frame
from netsim.l2.host import Host
from netsim.l2.mac_table import MacEvent
from netsim.l2.switch import DEFAULT_RECORDED_EVENTS, Switch
from netsim.metrics.in_flight import frames_in_flight
from netsim.metrics.results import Results, summarize_frames, summarize_table
from netsim.metrics.snapshots import Snapshots
from netsim.metrics.tables import (
    app_tables,
    frames_table,
    hops_table,
    mac_events_table,
    network_tables,
    ports_table,
)
from netsim.net.addressing import IPv4Address
from netsim.phy.link import Link
from netsim.phy.port import Port
from netsim.scenario import model as m
from netsim.scenario.load import LoadedScenario, from_data, load, loads
from netsim.scenario.resolve import find_link, is_endpoint, tcp_ports
from netsim.topology.build import Network, build

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
    net = build(scenario.topology, sim, _recorded_mac_events(spec.measure))
    captured = {text: _capture(net, text) for text in spec.measure.capture}
    snapshot = Snapshots(net)
    if frame_window is not None:
        sim.trace.on_hop = snapshot.hop_arrives
    for at in sorted(set(snapshots)):
        sim.call_at(at, snapshot.take, at)
    _start_traffic(sim, net, spec)
    _schedule_events(sim, net, scenario)
    interrupted = False
    try:
        if on_start is not None:
            on_start()
        sim.run(until=spec.stop, progress=progress)
    except KeyboardInterrupt:
        interrupted = True
    in_flight: set[int] = set()
    if interrupted or spec.stop is not None:
        # Ctrl-C or a hard stop: what is still on its way is in flight, not lost.
        end = sim.now if interrupted or spec.stop is None else spec.stop
        in_flight = frames_in_flight(sim, (p for d in net.devices.values() for p in d.ports))
    else:
        end = max(sim.now, spec.duration)
    for device in net.devices.values():
        if isinstance(device, Switch):
            device.table.age(end)
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
    extra = app_tables(sim.trace)
    extra.update(network_tables(net))
    for table_name, table in extra.items():
        summary[table_name] = summarize_table(table_name, table)
    return Results(
        frames=frames,
        ports=ports_table(net),
        mac_events=mac_events_table(sim.trace),
        summary=json_safe(summary),
        wall_seconds=time.perf_counter() - started,
        extra=extra,
        captures={text: sorted(frames_, key=lambda r: r[0]) for text, frames_ in captured.items()},
        topology=scenario.topology,
        hops=hops_table(sim.trace),
        counters=snapshot.counters,
        mac_tables=snapshot.mac_tables,
        counter_changes=snapshot.changes,
        frame_bytes={i: _octets(f) for i, f in sim.trace.carried.items()},
        window_cut=frame_window.cut_at if frame_window is not None else None,
    )


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


def _start_mail_servers(sim: Simulation, net: Network, spec: m.Scenario) -> None:
    """One IMAP server per (host, port), with a generated INBOX for every client user."""
    users: dict[tuple[str, int], dict[str, MailboxSpec]] = {}
    for t in spec.traffic:
        if isinstance(t, m.ImapTraffic):
            box = t.mailbox
            mailbox = MailboxSpec(box.messages, box.mean_size, box.multipart, box.attachment_size)
            for client in t.clients:
                users.setdefault((t.server, t.port), {})[client] = mailbox
    if not users:
        return
    from netsim.apps.imap import ImapService  # the IMAP server loads only when it serves

    for (server, port), accounts in users.items():
        ImapService(sim, net.stacks[server], accounts, port)


def _start_traffic(sim: Simulation, net: Network, spec: m.Scenario) -> None:
    _start_mail_servers(sim, net, spec)
    ports = tcp_ports(spec)
    for i, t in enumerate(spec.traffic):
        name = t.name or f"{t.kind}{i + 1}"
        if isinstance(t, m.PingTraffic):
            Pinger(
                sim,
                name,
                net.stacks[t.from_],
                net.stacks[t.to].address,
                t.to,
                count=t.count,
                interval=t.interval,
                size=t.size,
                start=t.start,
                timeout=t.timeout,
                identifier=i + 1,
                dscp=t.dscp or 0,
            )
            continue
        if isinstance(t, m.LoadTraffic):
            link = find_link(net.topology, t.link)
            assert link is not None
            sender = link.a if is_endpoint(link.a, t.link[0]) else link.b
            LoadSource(
                sim,
                name,
                net.port(*sender),
                t.size if isinstance(t.size, list) else [t.size],
                rate=t.rate,
                poisson=t.pattern == "poisson",
                start=t.start,
                stop_at=spec.duration,
            )
            continue
        if isinstance(t, m.ImapTraffic):
            from netsim.apps.imap import ImapClient

            if t.dscp is not None:
                for marker in (t.server, *t.clients):
                    net.stacks[marker].mark(t.port, t.dscp)
            for k, client in enumerate(t.clients):
                ImapClient(
                    sim,
                    name,
                    net.stacks[client],
                    net.stacks[t.server],
                    t.server,
                    port=t.port,
                    session=t.steps,
                    repeat=t.repeat,
                    think=t.think,
                    idle=t.idle,
                    start=t.start + k * t.spread / len(t.clients),
                    stop_at=spec.duration,
                )
            continue
        if isinstance(t, m.TcpTraffic):
            if t.dscp is not None:
                for marker in (t.from_, t.to):
                    net.stacks[marker].mark(ports[i][1], t.dscp)
            request = t.request if isinstance(t.request, list) else [t.request or 0]
            TcpTraffic(
                sim,
                name,
                net.stacks[t.from_],
                net.stacks[t.to],
                ports[i][1],
                start=t.start,
                stop_at=spec.duration,
                total_bytes=t.bytes,
                request=request,
                response=t.response or 0,
                count=t.count,
                interval=t.interval,
            )
            continue
        host = net.devices[t.from_]
        assert isinstance(host, Host)
        if t.to == "broadcast":
            dst_mac = BROADCAST
        else:
            dst = net.devices[t.to]
            assert isinstance(dst, Host)
            dst_mac = dst.mac
        FrameSource(
            sim,
            name,
            host,
            dst_mac,
            t.to,
            t.size if isinstance(t.size, list) else [t.size],
            count=t.count,
            start=t.start,
            stop_at=spec.duration,
            interval=t.interval,
            rate=t.rate,
            poisson=t.pattern == "poisson",
            vlan=t.vlan,
            cos=t.cos,
            dscp=t.dscp,
            addresses=_frame_addresses(net, t.from_, t.to) if t.dscp is not None else None,
        )


def _frame_addresses(net: Network, src: str, dst: str) -> tuple[IPv4Address, IPv4Address]:
    """The IPv4 source and destination a marked raw frame's header carries."""
    to = net.stacks[dst].address if dst != "broadcast" else IPv4Address("255.255.255.255")
    return net.stacks[src].address, to


def _schedule_events(sim: Simulation, net: Network, scenario: LoadedScenario) -> None:
    for event in scenario.model.events:
        if isinstance(event, m.LinkEvent):
            spec = find_link(scenario.topology, event.link)
            assert spec is not None
            sim.call_at(event.at, _set_link, sim, net, spec, event.action == "link-up")
        elif isinstance(event, m.DeviceEvent):
            device = net.devices[event.device]
            assert isinstance(device, Switch)
            sim.call_at(event.at, _clear_table, sim, device)
        elif isinstance(event, m.SetAgingEvent):
            device = net.devices[event.device]
            assert isinstance(device, Switch)
            sim.call_at(event.at, _set_aging, sim, device, event.aging)
        else:
            node, _, port = event.to.partition(":")
            sim.call_at(event.at, _move_host, sim, net, event.host, net.port(node, port))


def _set_link(sim: Simulation, net: Network, spec: Any, up: bool) -> None:
    link = net.links[spec]
    link.up = up
    if not up:
        # 802.1D: a port that goes down loses the addresses learned on it.
        for port in (link.a, link.b):
            if isinstance(port.owner, Switch):
                port.owner.table.flush_port(port, sim.now)


def _move_host(sim: Simulation, net: Network, name: str, target: Port) -> None:
    host = net.devices[name]
    assert isinstance(host, Host)
    old = host.port.link
    assert old is not None
    old.up = False
    old_peer = old.peer(host.port)
    if isinstance(old_peer.owner, Switch):
        old_peer.owner.table.flush_port(old_peer, sim.now)
    old.unplug()
    Link(sim, host.port, target, old.rate_bps, old.delay_s, old.duplex, old.ber)


def _set_aging(sim: Simulation, switch: Switch, aging: float) -> None:
    switch.table.set_aging(aging, sim.now)


def _clear_table(sim: Simulation, switch: Switch) -> None:
    switch.table.age(sim.now)
    switch.table.clear(sim.now)


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
