"""Bounds on the work a scenario asks for, estimated before anything runs.

A scenario is a few lines of YAML, and a few lines can ask for a billion frames
(``interval: 1ps`` with no count), a million hosts (templates whose counts multiply) or
a hundred terabytes of generated mail. Such a run would not finish, or would exhaust
memory first, so validation estimates the work and refuses it beyond a limit, with a
message that says how to raise the limit when the work is really meant::

    limits: {events: 100M, bytes: 4GB, nodes: 20000, runs: 5000}

- ``events``: simulator events, estimated as every frame or packet a traffic source
  sends times the links it crosses (the fabric costs about one event per frame per link);
  about 200,000 events take a second. A background ``load`` frame counts as one, though
  on a full-duplex port it is generated lazily, without an event, for much less.
- ``bytes``: data the run generates and holds in memory: the IMAP mailboxes (messages x
  mean size, attachments included, for every client) and TCP payloads.
- ``nodes``: devices in the topology once templates, counts and the campus are expanded.
- ``runs``: points of a ``sweep:`` grid.

The estimates are deliberately simple, so a teacher can redo them by hand: they are
meant to catch mistakes by orders of magnitude, not to predict a run's cost.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from netsim.scenario import model as m
from netsim.scenario.errors import Problem
from netsim.scenario.source import SourceMap, YamlPath
from netsim.topology.graph_walk import hop_distances, undirected
from netsim.topology.topology import Topology

Graph = dict[str, list[str]]
"""The topology as an adjacency: each node's neighbours, once per link between them."""

MSS = 1460
"""TCP payload bytes per segment (Ethernet MTU minus IPv4 and TCP headers)."""
WIRE_OVERHEAD = 20
"""Preamble, SFD and inter-frame gap: bytes a frame occupies on the wire beyond its own."""
IMAP_PACKETS_PER_STEP = 40
"""Packets a workload step costs (commands, replies, ACKs), a generous round figure."""
FRAMES_PER_SEND = 2
"""A ping or a TCP segment is answered (echo reply, ACK): two frames per packet sent."""
SHARED_MEDIUM_COST = 10
"""Events per frame per link on a shared (half-duplex) segment: carrier sense, collisions,
jam and backoff are simulated step by step (measured: 4 to 10 on the bundled hub labs)."""


def _hint(key: str, needed: float) -> str:
    return f"raise limits.{key} (like limits: {{{key}: {_round_up(needed)}}}) to run it anyway"


def _round_up(x: float) -> str:
    """A round number at least ``x``, written as YAML would take it: 3e7 -> ``30000000``."""
    magnitude = 10 ** max(0, int(math.log10(max(x, 1))))
    return f"{math.ceil(x / magnitude) * magnitude:d}"


def count_nodes(data: dict[str, Any]) -> Iterator[tuple[YamlPath, int]]:
    """The devices each part of raw scenario data will expand into, before expanding it.

    Yields (YAML path, devices) for every node (``count`` copies) and every template use
    (``count`` times the template's devices). Whatever is not the expected shape counts
    one: validation will say what is wrong with it.
    """
    topology = data.get("topology")
    if not isinstance(topology, dict):
        return
    templates = data.get("templates")
    templates = templates if isinstance(templates, dict) else {}
    nodes = topology.get("nodes")
    if isinstance(nodes, dict):
        for name, spec in nodes.items():
            yield ("topology", "nodes", name), _copies(spec)
    uses = topology.get("use")
    if isinstance(uses, list):
        for i, use in enumerate(uses):
            if not isinstance(use, dict):
                continue
            template = templates.get(use.get("template"))
            inner = template.get("nodes") if isinstance(template, dict) else None
            size = sum(_copies(s) for s in inner.values()) if isinstance(inner, dict) else 0
            yield ("topology", "use", i), _copies(use) * size


def _copies(spec: Any) -> int:
    count = spec.get("count", 1) if isinstance(spec, dict) else 1
    return count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else 1


def check_nodes(
    data: dict[str, Any], limit: int, source: SourceMap, expanded: bool = False
) -> list[Problem]:
    """Refuse data that expands into more than ``limit`` devices (at the largest part)."""
    parts: list[tuple[YamlPath, int]]
    if expanded:
        nodes = (data.get("topology") or {}).get("nodes")
        parts = [(("topology", "nodes"), len(nodes))] if isinstance(nodes, dict) else []
    else:
        parts = list(count_nodes(data))
    total = sum(n for _, n in parts)
    if total <= limit:
        return []
    path, biggest = max(parts, key=lambda part: part[1])
    part = "" if biggest == total else f" ({biggest:,} of them from here)"
    return [
        source.problem(
            path,
            f"the topology would have {total:,} devices{part}, over the limit of {limit:,}; "
            f"check the counts, or {_hint('nodes', total)}",
        )
    ]


def link_graph(topo: Topology) -> Graph:
    """Which nodes each node is cabled to (a breadth-first walk of it counts hops)."""
    return undirected(topo.nodes, ((link.a[0], link.b[0]) for link in topo.links))


def _hops(graph: Graph, src: str, dst: str) -> int:
    """Links crossed from ``src`` to ``dst``; for a broadcast (or no path), every link."""
    if dst != "broadcast" and src in graph and dst in graph:
        hops = hop_distances(graph, src).get(dst)
        if hops is not None:
            return hops
    edges = sum(len(ends) for ends in graph.values()) // 2  # each link is listed at both ends
    return max(1, edges)


def _host_rate(topo: Topology, host: str) -> float:
    for link in topo.links:
        if host in (link.a[0], link.b[0]):
            return link.rate_bps
    return 1e9


def _medium_cost(topo: Topology, host: str) -> int:
    """Events per frame-link from ``host``: more on a shared segment (CSMA/CD)."""
    for link in topo.links:
        if host in (link.a[0], link.b[0]):
            return SHARED_MEDIUM_COST if link.shared else 1
    return 1


def _mean(size: int | list[int]) -> float:
    sizes = size if isinstance(size, list) else [size]
    return sum(sizes) / len(sizes)


def _frames_sent(t: m.FramesTraffic | m.LoadTraffic, duration: float, rate_bps: float) -> float:
    """Frames a source sends: its count, or as many as fit between start and duration."""
    if isinstance(t, m.FramesTraffic) and t.count is not None:
        return float(t.count)
    if isinstance(t, m.FramesTraffic) and t.interval is not None:
        interval = t.interval
    else:
        assert t.rate is not None
        interval = (_mean(t.size) + WIRE_OVERHEAD) * 8 / (t.rate * rate_bps)
    return max(0.0, duration - t.start) / interval + 1


def _traffic_work(t: Any, spec: m.Scenario, topo: Topology, graph: Graph) -> tuple[float, float]:
    """(events, bytes) one traffic source costs."""
    if isinstance(t, m.FramesTraffic):
        frames = _frames_sent(t, spec.duration, _host_rate(topo, t.from_))
        return frames * _hops(graph, t.from_, t.to) * _medium_cost(topo, t.from_), 0.0
    if isinstance(t, m.LoadTraffic):
        rate = next((lk.rate_bps for lk in topo.links if {lk.a[0], lk.b[0]} == set(t.link)), 1e9)
        return _frames_sent(t, spec.duration, rate), 0.0
    if isinstance(t, m.PingTraffic):
        return float(t.count) * FRAMES_PER_SEND * _hops(graph, t.from_, t.to), 0.0
    if isinstance(t, m.TcpTraffic):
        if t.bytes is not None:
            payload = float(t.bytes)
        else:
            request = t.request if isinstance(t.request, list) else [t.request or 0]
            payload = float(t.count) * (sum(request) + (t.response or 0))
        segments = payload / MSS + 4.0 * t.count  # handshake, FIN, a partial last segment
        return segments * FRAMES_PER_SEND * _hops(graph, t.from_, t.to), payload
    if isinstance(t, m.ImapTraffic):
        box = t.mailbox
        mail = float(box.messages) * (box.mean_size + box.multipart * box.attachment_size)
        if t.server in graph:
            distance = hop_distances(graph, t.server)
            hops = max((distance.get(c, 1) for c in t.clients), default=1)
        else:
            hops = 1
        steps = 3 + t.repeat * len(t.steps)  # LOGIN, SELECT, LOGOUT and the workload
        fetched = mail / MSS  # at most the whole mailbox read once per session, in segments
        packets = steps * IMAP_PACKETS_PER_STEP + fetched * FRAMES_PER_SEND
        return len(t.clients) * packets * hops, len(t.clients) * mail
    if isinstance(t, m.SmtpTraffic):
        # A session per message: about ten commands, and the message in segments.
        messages = float(len(t.schedule) if t.schedule is not None else t.count)
        packets = messages * (10 * IMAP_PACKETS_PER_STEP / 4 + t.size / MSS * FRAMES_PER_SEND)
        return len(t.clients) * packets * _mail_hops(graph, t.server, t.clients), (
            len(t.clients) * messages * t.size
        )
    if isinstance(t, m.Pop3Traffic):
        polls = float(t.polls) if t.polls is not None else spec.duration / t.poll + 1
        box = t.mailbox
        mail = float(box.messages) * (box.mean_size + box.multipart * box.attachment_size)
        packets = polls * 8 * IMAP_PACKETS_PER_STEP / 4 + mail / MSS * FRAMES_PER_SEND
        return len(t.clients) * packets * _mail_hops(graph, t.server, t.clients), (
            len(t.clients) * mail
        )
    return 0.0, 0.0


def _mail_hops(graph: Graph, server: str, clients: list[str]) -> int:
    """Links between a mail server and its farthest client."""
    if server not in graph:
        return 1
    distance = hop_distances(graph, server)
    return max((distance.get(c, 1) for c in clients), default=1)


def check_work(spec: m.Scenario, topo: Topology, source: SourceMap) -> list[Problem]:
    """Refuse a scenario whose estimated events or bytes exceed ``spec.limits``."""
    graph = link_graph(topo)
    costs = [_traffic_work(t, spec, topo, graph) for t in spec.traffic]
    problems: list[Problem] = []
    limits = spec.limits
    for index, key, limit, unit in (
        (0, "events", limits.events, "events"),
        (1, "bytes", limits.bytes, "bytes"),
    ):
        total = sum(c[index] for c in costs)
        if total <= limit:
            continue
        worst = max(range(len(costs)), key=lambda i: costs[i][index])
        path: YamlPath = ("traffic", worst)
        share = costs[worst][index]
        part = "" if share >= total else f" ({share:.3g} of them from this source)"
        problems.append(
            source.problem(
                path,
                f"this scenario would take about {total:.3g} {unit}{part}, over the limit "
                f"of {limit:,}; check counts, intervals, rates and sizes, or "
                f"{_hint(key, total)}",
            )
        )
    return problems
