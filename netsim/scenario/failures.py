"""Which parts of a topology fail at random, and at what rates; which paths to measure.

A scenario's ``failures:`` entries select parts by kind, model, name or cable. Each part
ends up with one MTBF and one MTTR, from the most specific entry that names it (a
named device or cable, then a model, then a kind; ``uplink`` before ``link``). A
StackWise stack fails member by member: an entry that selects the stack gives each
member those rates.

Paths whose availability is measured are (host, server) pairs: those written under
``measure: availability:``, or those of the traffic (``from``/``to`` of frames, ping and
TCP, each IMAP client and its server).
"""

from __future__ import annotations

from dataclasses import dataclass

from netsim.metrics.availability import link_element, member_element
from netsim.scenario import model as m
from netsim.scenario.resolve import is_endpoint, some
from netsim.scenario.source import YamlPath
from netsim.topology.topology import LinkSpec, Topology

FAILING_KINDS = ("host", "switch", "bridge", "hub", "router")
"""Kinds of device that can fail (a coax cable is a cable: cut it with link-down)."""


@dataclass(frozen=True)
class FailingPart:
    """One part that fails at random: a device, a stack member or a cable."""

    element: str
    """Its availability element name (see :mod:`netsim.metrics.availability`)."""
    mtbf: float
    mttr: float
    device: str | None = None
    member: int | None = None
    link: LinkSpec | None = None

    @property
    def availability(self) -> float:
        """``MTBF / (MTBF + MTTR)``: the fraction of time it works, in the long run."""
        return self.mtbf / (self.mtbf + self.mttr)


Problem = tuple[YamlPath, str]
"""Where a scenario is wrong, and what is wrong there."""


def check(scenario: m.Scenario, topo: Topology) -> list[Problem]:
    """Problems with device failure events, ``failures:`` and ``measure.availability``."""
    problems: list[Problem] = []
    for i, event in enumerate(scenario.events):
        if isinstance(event, m.DeviceFailureEvent):
            problems += _check_device(topo, ("events", i), event.device, event.member)
    for i, entry in enumerate(scenario.failures):
        path: YamlPath = ("failures", i)
        if entry.device is not None:
            problems += _check_device(topo, path, entry.device, entry.member)
        elif entry.link is not None and not find_links(topo, entry.link):
            problems.append(((*path, "link"), f"no link joins {entry.link[0]} and {entry.link[1]}"))
        elif entry.model is not None and not any(
            n.model == entry.model for n in topo.nodes.values()
        ):
            problems.append(((*path, "model"), f"no device is a {entry.model}"))
    if not problems:
        try:
            parts = failing_parts(scenario, topo)
        except _Overlap as overlap:
            problems.append((overlap.path, str(overlap)))
        else:
            problems += _check_work(scenario, topo, parts)
    hosts = set(topo.hosts())
    measure = scenario.measure.availability
    if isinstance(measure, list):
        for i, pair in enumerate(measure):
            for j, name in enumerate(pair):
                if name not in hosts:
                    problems.append((("measure", "availability", i, j), f"{name!r} is not a host"))
            if pair[0] == pair[1]:
                problems.append((("measure", "availability", i), "a path joins two hosts"))
    return problems


CHECK_COST = 0.1
"""Simulator events one connectivity check costs per vertex of the availability graph
(networkx walks a graph at about a twentieth of the speed SimPy processes events)."""


def _check_work(scenario: m.Scenario, topo: Topology, parts: list[FailingPart]) -> list[Problem]:
    """Refuse failures so frequent that the run would not finish: each failure and each
    repair is an event, and checks every measured path."""
    if not parts:
        return []
    changes = sum(2 * scenario.duration / (p.mtbf + p.mttr) for p in parts)
    size = len(topo.nodes) + len(topo.links)
    work = changes * (1 + len(measured_paths(scenario)) * size * CHECK_COST)
    limit = scenario.limits.events
    if work <= limit:
        return []
    return [
        (
            ("failures",),
            f"about {changes:.3g} failures and repairs over {scenario.duration:g} s would "
            f"take about {work:.3g} events, over the limit of {limit:,}; check mtbf and "
            "mttr, or raise limits.events",
        )
    ]


def _check_device(topo: Topology, path: YamlPath, device: str, member: int | None) -> list[Problem]:
    node = topo.nodes.get(device)
    if node is None:
        known = some(list(topo.nodes))
        return [((*path, "device"), f"unknown device {device!r} (devices: {known})")]
    if node.kind not in FAILING_KINDS:
        return [((*path, "device"), f"{device} is a {node.kind}; cut its cable instead")]
    if member is not None and not 1 <= member <= node.stack_members:
        has = (
            f"{device} is not a stack"
            if node.stack_members <= 1
            else f"{device} has members 1 to {node.stack_members}"
        )
        return [((*path, "member"), has)]
    return []


class _Overlap(ValueError):
    def __init__(self, path: YamlPath, message: str) -> None:
        super().__init__(message)
        self.path = path


def failing_parts(scenario: m.Scenario, topo: Topology) -> list[FailingPart]:
    """Every part that fails at random, with its rates, in topology order."""
    # (specificity, entry index, entry) per part; the most specific entry wins.
    chosen: dict[tuple[str, str | int | LinkSpec], tuple[int, int, m.Failures]] = {}

    def offer(key: tuple[str, str | int | LinkSpec], level: int, i: int, entry: m.Failures) -> None:
        held = chosen.get(key)
        if held is not None and held[0] == level:
            raise _Overlap(
                ("failures", i),
                f"failures[{held[1]}] already gives these parts their rates; "
                "name each part in one entry of the same kind",
            )
        if held is None or level > held[0]:
            chosen[key] = (level, i, entry)

    bridging = ("switch", "bridge")
    for i, entry in enumerate(scenario.failures):
        if entry.kind == "link":
            for link in topo.links:
                offer(("link", link), 0, i, entry)
        elif entry.kind == "uplink":
            for link in topo.links:
                if {topo.nodes[n].kind for n in (link.a[0], link.b[0])} <= set(bridging):
                    offer(("link", link), 1, i, entry)  # more specific than every link
        elif entry.kind is not None:
            for name, node in topo.nodes.items():
                if node.kind == entry.kind:
                    offer(("device", name), 0, i, entry)
        elif entry.model is not None:
            for name, node in topo.nodes.items():
                if node.model == entry.model:
                    offer(("device", name), 1, i, entry)
        elif entry.link is not None:
            for named in find_links(topo, entry.link):
                offer(("link", named), 2, i, entry)
        elif entry.device is not None:
            if entry.member is not None:
                offer(("member", f"{entry.device}[{entry.member}]"), 3, i, entry)
            else:
                offer(("device", entry.device), 2, i, entry)
    parts: list[FailingPart] = []
    for name, node in topo.nodes.items():
        held = chosen.get(("device", name))
        if node.stack_members > 1:
            for k in range(1, node.stack_members + 1):
                own = chosen.get(("member", member_element(name, k)))
                pick = own or held
                if pick is not None:
                    e = pick[2]
                    parts.append(
                        FailingPart(member_element(name, k), e.mtbf, e.mttr, name, member=k)
                    )
        elif held is not None:
            e = held[2]
            parts.append(FailingPart(name, e.mtbf, e.mttr, device=name))
    for link in topo.links:
        held = chosen.get(("link", link))
        if held is not None:
            e = held[2]
            parts.append(FailingPart(link_element(link), e.mtbf, e.mttr, link=link))
    return parts


def find_links(topo: Topology, ends: tuple[str, str]) -> list[LinkSpec]:
    """Every cable between ``ends`` (``node`` or ``node:port``, either order): two nodes
    joined twice (redundant uplinks, an EtherChannel) have two cables that fail apart."""
    x, y = ends
    return [
        link
        for link in topo.links
        if (is_endpoint(link.a, x) and is_endpoint(link.b, y))
        or (is_endpoint(link.a, y) and is_endpoint(link.b, x))
    ]


def measured_paths(scenario: m.Scenario) -> list[tuple[str, str]]:
    """The (host, server) paths to measure, each once, in the order first named."""
    measure = scenario.measure.availability
    if isinstance(measure, list):
        pairs = [tuple(p) for p in measure]
    elif measure is None and not scenario.failures:
        return []
    else:
        pairs = []
        for t in scenario.traffic:
            if isinstance(t, m.ImapTraffic):
                pairs += [(c, t.server) for c in t.clients]
            elif (
                isinstance(t, m.FramesTraffic | m.PingTraffic | m.TcpTraffic)
                and t.to != "broadcast"
            ):
                pairs.append((t.from_, t.to))
    out: list[tuple[str, str]] = []
    for a, b in pairs:
        if (a, b) not in out:
            out.append((a, b))
    return out
