"""From a valid scenario to a topology: the checks that need the whole file.

Every problem found is reported with its YAML path and line, all at once, so a student
fixes a scenario in one pass rather than one error per run.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections import Counter
from dataclasses import dataclass
from typing import Any

from netsim.l2.frame import host_mac, mac_to_str, parse_mac
from netsim.l2.lacp.hashing import DEFAULT_LOAD_BALANCE, LoadBalance
from netsim.l2.qos import QueueMaps
from netsim.l2.span import MonitorSpec
from netsim.l2.stp.config import BridgeSettings, StpMode
from netsim.l2.switching import SwitchingMode
from netsim.net.addressing import DEFAULT_NETWORK, parse_interface
from netsim.phy.media import AUI_MAX_M, AUI_NS_PER_M, MEDIA, SIGNAL_SPEED_M_PER_S
from netsim.scenario import model as m
from netsim.scenario.dhcp import (
    DHCP,
    check_dhcp_host,
    check_traffic_to_dhcp_hosts,
    resolve_pools,
)
from netsim.scenario.errors import Problem, ScenarioError
from netsim.scenario.etherchannel import bundle_of, check_channel_groups, half_bundled
from netsim.scenario.fhrp import check_groups as check_fhrp_groups
from netsim.scenario.interfaces import resolve_interfaces
from netsim.scenario.qos_resolve import resolve_switch_qos
from netsim.scenario.routing import (
    check_gateway,
    check_svi_vlans,
    resolve_router,
    resolve_switch_l3,
    router_ports,
)
from netsim.scenario.source import SourceMap, YamlPath
from netsim.scenario.stp_resolve import effective, loop_components, written_settings
from netsim.topology import rules
from netsim.topology.catalog import MODELS
from netsim.topology.graph_walk import DisjointSets
from netsim.topology.topology import LinkSpec, NodeSpec, Topology

DEFAULT_LINK_SPEED = 1e9
DEFAULT_SWITCH_BUFFER = 512_000
"""Bytes of egress buffer per switch port unless a scenario says otherwise."""
DEFAULT_HOST_BUFFER = 1_000_000
"""Bytes of NIC transmit queue unless a scenario says otherwise."""


@dataclass
class _Ctx:
    source: SourceMap
    problems: list[Problem]

    def error(self, path: YamlPath, message: str) -> None:
        self.problems.append(self.source.problem(path, message))


def port_names(
    node: m.HostNode | m.SwitchNode | m.BridgeNode | m.RouterNode | m.HubNode | m.CoaxNode,
    taps: int = 0,
) -> tuple[str, ...]:
    """The interface names a node of this kind has (a coax node: one per tap)."""
    if isinstance(node, m.HostNode):
        return ("eth0",)
    if isinstance(node, m.RouterNode):
        return router_ports(node.ports)
    if isinstance(node, m.CoaxNode):
        return tuple(f"tap{i}" for i in range(1, max(taps, 1) + 1))
    if isinstance(node, m.BridgeNode):
        return ("1", "2")
    if isinstance(node, m.HubNode):
        return tuple(str(i) for i in range(1, node.ports + 1))
    if node.model is not None:
        return tuple(MODELS[node.model].port_names(node.members or 1))
    return tuple(str(i) for i in range(1, (node.ports or 24) + 1))


def _describe_ports(names: tuple[str, ...]) -> str:
    if len(names) > 3 and names[0] == "1" and names[-1] == str(len(names)):
        return f"1..{len(names)}"
    return ", ".join(names)


def resolve(
    scenario: m.Scenario, source: SourceMap, warnings: list[Problem] | None = None
) -> Topology:
    """Check ``scenario`` as a whole and build its :class:`Topology`, or raise ScenarioError.

    Breaking a classic Ethernet rule (:mod:`netsim.topology.rules`) is an error under
    ``strict: true``, and otherwise a problem appended to ``warnings``.
    """
    ctx = _Ctx(source, [])
    topo = Topology()
    spec = scenario.topology
    taps = Counter(text.partition(":")[0] for link in spec.links for text in link.endpoints)
    ports_of = {name: port_names(node, taps[name]) for name, node in spec.nodes.items()}

    # Endpoints: explicit ports first, so a bare name never grabs a port named later.
    used: dict[tuple[str, str], int] = {}
    endpoints: list[list[tuple[str, str] | None]] = []
    for i, link in enumerate(spec.links):
        ends: list[tuple[str, str] | None] = []
        for j, text in enumerate(link.endpoints):
            path: YamlPath = ("topology", "links", i, "endpoints", j)
            end_node, sep, port = text.partition(":")
            if end_node not in spec.nodes:
                known = some(list(spec.nodes))
                ctx.error(path, f"unknown node {end_node!r} (nodes are: {known})")
                ends.append(None)
                continue
            if not sep:
                ends.append((end_node, ""))
                continue
            if port not in ports_of[end_node]:
                ctx.error(
                    path,
                    f"{end_node} has no port {port!r} "
                    f"(its ports are {_describe_ports(ports_of[end_node])})",
                )
                ends.append(None)
                continue
            if (end_node, port) in used:
                ctx.error(
                    path,
                    f"port {end_node}:{port} is already used by "
                    f"topology.links[{used[end_node, port]}]",
                )
                ends.append(None)
                continue
            used[end_node, port] = i
            ends.append((end_node, port))
        endpoints.append(ends)
    for i, ends in enumerate(endpoints):
        for j, end in enumerate(ends):
            if end is None or end[1]:
                continue
            bare = end[0]
            free = [p for p in ports_of[bare] if (bare, p) not in used]
            if not free:
                ctx.error(
                    ("topology", "links", i, "endpoints", j),
                    f"{bare} has no free port left "
                    + (
                        "(its one port is already used)"
                        if len(ports_of[bare]) == 1
                        else f"(all {len(ports_of[bare])} are used)"
                    ),
                )
                ends[j] = None
                continue
            used[bare, free[0]] = i
            ends[j] = (bare, free[0])

    # Nodes.
    defaults = spec.defaults
    stp_written: dict[str, tuple[StpMode | None, BridgeSettings]] = {}
    macs: dict[int, str] = {}
    host_index = 0
    for name, node in spec.nodes.items():
        path = ("topology", "nodes", name)
        if isinstance(node, m.HostNode):
            host_index += 1
            mac = host_mac(host_index)
            if node.mac is not None:
                try:
                    mac = parse_mac(node.mac)
                except ValueError as e:
                    ctx.error((*path, "mac"), str(e))
            if mac in macs:
                ctx.error((*path, "mac"), f"MAC {mac_to_str(mac)} is already {macs[mac]}'s")
            macs[mac] = name
            buffer = _first(node.buffer, defaults.host.buffer, DEFAULT_HOST_BUFFER)
            topo.nodes[name] = NodeSpec(
                name,
                "host",
                ports_of[name],
                buffer_bytes=buffer,
                mac=mac,
                nagle=_first(node.nagle, defaults.host.nagle, True),
                delayed_ack=_first(node.delayed_ack, defaults.host.delayed_ack, True),
                tcp_window=_first(node.tcp_window, defaults.host.tcp_window, 65535),
                vlan=node.vlan,
                cos=node.cos or 0,
            )
        elif isinstance(node, m.RouterNode):
            interfaces, routes = resolve_router(name, node, ports_of[name], path, ctx.error)
            topo.nodes[name] = NodeSpec(
                name,
                "router",
                ports_of[name],
                processing_delay=_first(node.processing_delay, 0.0),
                forwarding_rate=node.forwarding_rate,
                buffer_bytes=_first(node.buffer, DEFAULT_SWITCH_BUFFER),
                interfaces=interfaces,
                routes=routes,
                routing=True,
                dhcp_pools=resolve_pools(name, node.dhcp, (*path, "dhcp"), ctx.error),
            )
        elif isinstance(node, m.HubNode):
            topo.nodes[name] = NodeSpec(
                name, "hub", ports_of[name], buffer_bytes=0, repeater_delay=node.delay
            )
        elif isinstance(node, m.CoaxNode):
            topo.nodes[name] = NodeSpec(
                name,
                "coax",
                ports_of[name],
                buffer_bytes=0,
                media=node.media,
                length_m=node.length,
            )
        else:
            sw = defaults.switch
            statics: list[tuple[int, str]] = []
            for mac_text, port in node.static_macs.items():
                spath = (*path, "static_macs", mac_text)
                try:
                    static = parse_mac(mac_text)
                except ValueError as e:
                    ctx.error(spath, str(e))
                    continue
                if port not in ports_of[name]:
                    ctx.error(spath, f"{name} has no port {port!r}")
                    continue
                statics.append((static, port))
            errors_before = len(ctx.problems)
            interfaces = resolve_interfaces(
                name, node.interfaces, ports_of[name], (*path, "interfaces"), ctx.error
            )
            interfaces_ok = len(ctx.problems) == errors_before
            model = MODELS.get(node.model or "") if isinstance(node, m.SwitchNode) else None
            members = (node.members or 1) if isinstance(node, m.SwitchNode) else 1
            qos_maps: QueueMaps | None = None
            monitor: tuple[MonitorSpec, ...] = ()
            if isinstance(node, m.SwitchNode):
                default_qos = (model or MODELS["generic-switch"]).port_qos
                qos_maps, interfaces, monitor = resolve_switch_qos(
                    node, ports_of[name], interfaces, default_qos, path, ctx.error
                )
            elif any(i.has_qos() for i in node.interfaces.values()):
                ctx.error((*path, "interfaces"), "QoS queues and trust are switch features")
            stp_written[name] = written_settings(node, sw, path, ctx.error)
            topo.nodes[name] = NodeSpec(
                name,
                node.kind,
                ports_of[name],
                mode=SwitchingMode(
                    _first(node.mode, sw.mode, model.mode if model else "store-and-forward")
                ),
                aging=_first(node.aging, sw.aging, 300.0),
                processing_delay=_first(node.processing_delay, sw.processing_delay, 0.0),
                mac_table_size=_first(
                    node.mac_table_size,
                    model.mac_table_size if model else None,
                    sw.mac_table_size,
                    None,
                ),
                buffer_bytes=_first(
                    node.buffer,
                    model.buffer_bytes if model else None,
                    sw.buffer,
                    DEFAULT_SWITCH_BUFFER,
                ),
                static_macs=tuple(statics),
                model=model.name if model else None,
                forwarding_rate=_first(
                    node.forwarding_rate,
                    model.forwarding_rate_pps if model else None,
                    sw.forwarding_rate,
                    None,
                ),
                stack_members=members,
                port_speeds=tuple(model.port_speeds(members).items()) if model else (),
                interfaces=interfaces,
                qos=qos_maps,
                monitor=monitor,
                load_balance=LoadBalance(
                    getattr(node, "port_channel_load_balance", None) or DEFAULT_LOAD_BALANCE
                ),
            )
            if isinstance(node, m.SwitchNode):
                topo.nodes[name] = resolve_switch_l3(
                    name, node, topo.nodes[name], path, ctx.error, interfaces_ok
                )

    check_svi_vlans(topo, lambda name: ("topology", "nodes", name), ctx.error)
    _assign_addresses(ctx, spec, topo)

    # Links.
    interface_problems = bool(ctx.problems)
    loops: DisjointSets[Any] = DisjointSets()
    bundles: set[tuple[tuple[str, int], tuple[str, int]]] = set()
    closers: list[tuple[YamlPath, str, str]] = []
    l2_edges: list[tuple[Any, Any]] = []
    written_at: dict[LinkSpec, int] = {}
    for i, (link, ends) in enumerate(zip(spec.links, endpoints, strict=True)):
        path = ("topology", "links", i)
        a, b = ends
        if a is None or b is None:
            continue
        if a[0] == b[0]:
            ctx.error((*path, "endpoints"), f"a link cannot join {a[0]} to itself")
            continue
        coax = [end for end in (a, b) if isinstance(spec.nodes[end[0]], m.CoaxNode)]
        if coax:
            station = b if coax[0] is a else a
            linkspec = _tap_spec(ctx, path, link, station, coax, spec)
        else:
            if link.at is not None:
                ctx.error((*path, "at"), "'at' places a tap on a coax node; neither end is one")
            linkspec = _link_spec(ctx, path, link, defaults.link, a, b, spec, topo)
        if linkspec is None:
            continue
        ka, kb = _domain_key(topo, a), _domain_key(topo, b)
        bundle = bundle_of(topo, linkspec)
        if bundle is not None and bundle in bundles:
            # Another member of an EtherChannel: with its siblings, one logical link.
            topo.links.append(linkspec)
            written_at[linkspec] = i
            continue
        if bundle is not None:
            bundles.add(bundle)
        if loops[ka] == loops[kb] and half_bundled(topo, linkspec):
            # A member cabled to a port of no channel group: check_channel_groups says so.
            topo.links.append(linkspec)
            written_at[linkspec] = i
            continue
        if loops[ka] == loops[kb]:
            closers.append(((*path, "endpoints"), a[0], b[0]))
        loops.union(ka, kb)
        l2_edges.append((ka, kb))
        topo.links.append(linkspec)
        written_at[linkspec] = i
    _place_spanning_tree(ctx, topo, stp_written, closers, warnings, l2_edges)

    if not interface_problems:
        # (A mistake in a member's own keys already said what is wrong with the bundle.)
        check_channel_groups(topo, written_at, ctx.error)
    _check_collision_domains(ctx, topo)
    _check_classic_rules(ctx, scenario, topo, written_at, warnings)
    _check_traffic(ctx, scenario, topo)
    _check_events(ctx, scenario, topo)
    check_fhrp_groups(scenario, ctx.error)
    check_traffic_to_dhcp_hosts(scenario, ctx.error)
    if ctx.problems:
        raise ScenarioError(ctx.problems)
    return topo


def _domain_key(topo: Topology, end: tuple[str, str]) -> str | tuple[str, str]:
    """What a link end joins at layer 2: its whole node, or only its port when the port
    is routed (a router forwards no broadcasts, so no loop closes through it)."""
    node = topo.nodes.get(end[0])
    if node is not None and (node.kind == "router" or node.interface(end[1]).ip is not None):
        return end
    return end[0]


def _place_spanning_tree(
    ctx: _Ctx,
    topo: Topology,
    written: dict[str, tuple[StpMode | None, BridgeSettings]],
    closers: list[tuple[YamlPath, str, str]],
    warnings: list[Problem] | None,
    l2_edges: list[tuple[Any, Any]],
) -> None:
    """Decide each switch's spanning tree from where the loops are, then judge each link
    that closed a loop: blocked by spanning tree, a broadcast storm, or impossible.

    ``l2_edges`` are the links as layer 2 sees them: an EtherChannel once, and a routed
    port as an end of its own (no loop closes through a router)."""
    # Every link that closed a loop is a closer: with none, the links form a forest.
    components = loop_components(topo.nodes, l2_edges) if closers else []
    component_of = {node: c for c in components for node in c}
    for name, (mode, settings) in written.items():
        spec = topo.nodes[name]
        stp = effective(mode, settings, spec.model, name in component_of)
        topo.nodes[name] = dataclasses.replace(spec, spanning_tree=stp)
        if stp.mode is not StpMode.NONE:
            _check_bundle_stp_settings(ctx, name, spec)
    for path, a, b in closers:
        loop = component_of.get(a, frozenset({a, b}))
        switches = sorted(n for n in loop if n in written)
        if not switches:
            ctx.error(
                path,
                f"this link closes a loop between {a} and {b} with no switch on it: "
                "hubs and cables alone would repeat every frame round the loop forever",
            )
            continue
        off = [n for n in switches if topo.nodes[n].spanning_tree.mode is StpMode.NONE]
        if off and warnings is not None:
            warnings.append(
                ctx.source.problem(
                    path,
                    f"this link closes a loop between {a} and {b}, and spanning tree is off "
                    f"on {', '.join(off)}: expect a broadcast storm (the run stops at "
                    "limits.floods)",
                )
            )


def _check_bundle_stp_settings(ctx: _Ctx, name: str, spec: NodeSpec) -> None:
    """Spanning tree sees a port-channel as one port, with one cost, priority and
    PortFast: the ``spanning_tree:`` settings of its members must agree."""
    by_group: dict[int, dict[str, object]] = {}
    for port, iface in spec.interfaces:
        if iface.channel is not None:
            by_group.setdefault(iface.channel.group, {})[port] = iface.stp
    for group, settings in sorted(by_group.items()):
        if len(set(settings.values())) > 1:
            ctx.error(
                ("topology", "nodes", name, "interfaces"),
                f"{name} Port-channel{group} is one port for spanning tree, so its members "
                f"({', '.join(settings)}) must have the same spanning_tree settings",
            )


def _check_classic_rules(
    ctx: _Ctx,
    scenario: m.Scenario,
    topo: Topology,
    written_at: dict[LinkSpec, int],
    warnings: list[Problem] | None,
) -> None:
    """The classic Ethernet rules: warnings, or errors under ``strict: true``.

    ``written_at`` gives each link's index in the file's ``topology.links``.
    """
    for finding in rules.check(topo):
        if finding.link is not None:
            path: YamlPath = ("topology", "links", written_at[finding.link])
        else:
            path = ("topology", "nodes", finding.node or "")
        if scenario.strict:
            ctx.error(path, finding.message + " (strict: true makes this an error)")
        elif warnings is not None:
            warnings.append(ctx.source.problem(path, finding.message))


def _assign_addresses(ctx: _Ctx, spec: m.Topology, topo: Topology) -> None:
    """Give every host an IPv4 interface: its own ``ip``, or the next free address."""
    hosts = {n: node for n, node in spec.nodes.items() if isinstance(node, m.HostNode)}
    taken: dict[ipaddress.IPv4Address, str] = {}
    for name, node_spec in topo.nodes.items():
        l3 = [ip for _, ip in node_spec.svis] + list(node_spec.routed_ports.values())
        for text in l3:
            taken[ipaddress.IPv4Interface(text).ip] = name
    chosen: dict[str, ipaddress.IPv4Interface] = {}
    for name, node in hosts.items():
        path = ("topology", "nodes", name)
        if node.ip == DHCP:
            check_dhcp_host(name, node, ctx.error)
            topo.nodes[name] = dataclasses.replace(topo.nodes[name], dhcp=True)
            continue
        if node.ip is not None:
            try:
                iface = parse_interface(node.ip)
            except ValueError as e:
                ctx.error((*path, "ip"), str(e))
                continue
            if iface.ip in taken:
                ctx.error((*path, "ip"), f"address {iface.ip} is already {taken[iface.ip]}'s")
                continue
            taken[iface.ip] = name
            chosen[name] = iface
    network = DEFAULT_NETWORK if len(hosts) <= 254 else ipaddress.IPv4Network("10.0.0.0/16")
    free = (a for a in network.hosts() if a not in taken)
    for name, node in hosts.items():
        if name not in chosen and node.ip is None:
            address = next(free, None)
            if address is None:
                ctx.error(("topology", "nodes", name), f"no free address left in {network}")
                continue
            chosen[name] = ipaddress.IPv4Interface(f"{address}/{network.prefixlen}")
    for name, iface in chosen.items():
        gateway = hosts[name].gateway
        if gateway is not None:
            where: YamlPath = ("topology", "nodes", name, "gateway")
            check_gateway(name, iface, gateway, where, ctx.error)
        topo.nodes[name] = dataclasses.replace(
            topo.nodes[name], ip=str(iface), gateway=hosts[name].gateway
        )


def _first(*values: Any) -> Any:
    for v in values:
        if v is not None:
            return v
    return values[-1]


def _link_spec(
    ctx: _Ctx,
    path: YamlPath,
    link: m.Link,
    defaults: m.LinkSettings,
    a: tuple[str, str],
    b: tuple[str, str],
    spec: m.Topology,
    topo: Topology,
) -> LinkSpec | None:
    errors = len(ctx.problems)
    media_name = _first(link.media, defaults.media, None)
    medium = MEDIA[media_name] if media_name is not None else None
    speed = _first(link.speed, defaults.speed, None)
    if medium is not None:
        # A medium fixes the rate; only a speed written on this very link can contradict it.
        if link.speed is not None and link.speed != medium.rate_bps:
            ctx.error(
                (*path, "speed"),
                f"{medium.name} runs at {_rate(medium.rate_bps)}, not {_rate(link.speed)}",
            )
        speed = medium.rate_bps
    # A catalog port has a top speed (Fa0/1: 100M); a link runs at what both ends can do.
    limits = [
        (dict(topo.nodes[node].port_speeds).get(port), f"{node}:{port}")
        for node, port in (a, b)
        if node in topo.nodes
    ]
    for limit, where in limits:
        if limit is None:
            continue
        forced = link.speed is not None or medium is not None
        if forced and speed is not None and speed > limit:
            ctx.error(
                (*path, "speed" if link.speed is not None else "media"),
                f"{where} runs at most {_rate(limit)}; {_rate(speed)} is too fast for it",
            )
        elif speed is None or speed > limit:
            speed = limit if speed is None else min(speed, limit)
    rate = speed if speed is not None else DEFAULT_LINK_SPEED

    on_hub = any(isinstance(spec.nodes[n], m.HubNode) for n in (a[0], b[0]))
    duplex_b: str | None = None
    if isinstance(link.duplex, tuple):
        duplex, duplex_b = link.duplex
        if duplex == duplex_b:
            duplex_b = None
        elif on_hub or (medium is not None and not medium.full_duplex):
            ctx.error((*path, "duplex"), "only a point-to-point cable can have a duplex mismatch")
    else:
        duplex = _first(link.duplex, defaults.duplex, None)
    shared_medium = medium is not None and not medium.full_duplex
    if duplex == "full" and shared_medium:
        assert medium is not None
        ctx.error(
            (*path, "duplex" if link.duplex else "media"),
            f"{medium.name} is a shared coax bus ({medium.description}): half duplex only",
        )
    if duplex == "full" and on_hub and link.duplex == "full":
        ctx.error((*path, "duplex"), "a hub is a repeater: links to a hub are half duplex")
    if duplex is None or ((on_hub or shared_medium) and duplex_b is None):
        duplex = "half" if (on_hub or shared_medium) else "full"

    length = _first(link.length, defaults.length, None)
    if medium is not None and length is not None and length > medium.max_segment_m:
        ctx.error(
            (*path, "length"),
            f"a {medium.name} segment is at most {medium.max_segment_m:g} m; "
            f"this link is {length:g} m",
        )
    delay = _first(link.delay, None)
    if delay is None and length is not None:
        delay = (
            medium.propagation_delay(length)
            if medium is not None
            else length / SIGNAL_SPEED_M_PER_S
        )
    if delay is None:
        delay = _first(defaults.delay, 0.0)
    ber = _first(link.ber, defaults.ber, 0.0)
    if len(ctx.problems) > errors:
        return None
    return LinkSpec(a, b, rate, delay, duplex, ber, media_name, length, duplex_b)


def _tap_spec(
    ctx: _Ctx,
    path: YamlPath,
    link: m.Link,
    station: tuple[str, str],
    coax: list[tuple[str, str]],
    spec: m.Topology,
) -> LinkSpec | None:
    """A tap on a coax bus: ``station`` clamps onto the cable ``at`` a point along it.

    The coax end is always ``b``. The link's own ``length`` is the AUI drop cable from
    the station to its transceiver (10BASE5); a 10BASE2 T-connector has none.
    """
    errors = len(ctx.problems)
    bus = spec.nodes[coax[0][0]]
    assert isinstance(bus, m.CoaxNode)
    medium = MEDIA[bus.media]
    if len(coax) == 2:
        ctx.error(
            (*path, "endpoints"), "two coax segments are joined by a repeater (a hub), not a cable"
        )
        return None
    if link.media is not None and link.media != bus.media:
        ctx.error((*path, "media"), f"this tap is on {coax[0][0]}, a {bus.media} segment")
    if link.speed is not None and link.speed != medium.rate_bps:
        ctx.error((*path, "speed"), f"{bus.media} runs at {_rate(medium.rate_bps)} only")
    if link.duplex not in (None, "half"):
        ctx.error((*path, "duplex"), f"{bus.media} is a shared coax bus: half duplex only")
    if link.at is None:
        ctx.error(
            path, f"a tap on {coax[0][0]} needs 'at': where along its {bus.length:g} m, like 0m"
        )
    elif link.at > bus.length:
        ctx.error(
            (*path, "at"),
            f"{coax[0][0]} is {bus.length:g} m long; a tap at {link.at:g} m is off its end",
        )
    drop = link.length or 0.0
    if drop and medium.name != "10BASE5":
        ctx.error(
            (*path, "length"),
            f"a {medium.name} station clamps on with a T-connector: no drop cable length",
        )
    elif drop > AUI_MAX_M:
        ctx.error((*path, "length"), f"an AUI drop cable is at most {AUI_MAX_M:g} m")
    delay = link.delay if link.delay is not None else drop * AUI_NS_PER_M * 1e-9
    if len(ctx.problems) > errors:
        return None
    ber = _first(link.ber, bus.ber, 0.0)
    return LinkSpec(
        station, coax[0], medium.rate_bps, delay, "half", ber, bus.media, drop, tap_m=link.at
    )


def _rate(bps: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if bps >= scale:
            return f"{bps / scale:g}{unit}"
    return f"{bps:g}bps"


def _check_collision_domains(ctx: _Ctx, topo: Topology) -> None:
    """A hub repeats bits; it cannot join links of different speeds."""
    if not any(link.shared for link in topo.links):
        return  # no hub, no coax: no collision domain to check
    import networkx as nx

    g = nx.Graph()
    for i, link in enumerate(topo.links):
        if link.shared:
            g.add_edge(link.a[0], link.b[0], rate=link.rate_bps, index=i)
    for component in nx.connected_components(g):
        rates = {d["rate"] for _, _, d in g.subgraph(component).edges(data=True)}
        if len(rates) > 1:
            hubs = sorted(n for n in component if topo.nodes[n].kind == "hub")
            first = min(d["index"] for _, _, d in g.subgraph(component).edges(data=True))
            ctx.error(
                ("topology", "links", first),
                f"hub {', '.join(hubs)} joins links of different speeds "
                f"({', '.join(_rate(r) for r in sorted(rates))}); a repeater cannot change speed",
            )


def _check_traffic(ctx: _Ctx, scenario: m.Scenario, topo: Topology) -> None:
    hosts = set(topo.hosts())
    connected = {n for link in topo.links for n in (link.a[0], link.b[0])}
    implicit_tls: dict[tuple[str, int], tuple[int, bool]] = {}
    for i, t in enumerate(scenario.traffic):
        path: YamlPath = ("traffic", i)
        if isinstance(t, m.LoadTraffic):
            if find_link(topo, t.link) is None:
                ctx.error((*path, "link"), f"no link joins {t.link[0]} and {t.link[1]}")
            continue
        if isinstance(t, m.ImapTraffic | m.SmtpTraffic | m.Pop3Traffic):
            if t.server not in hosts:
                ctx.error((*path, "server"), _not_a_host(t.server, topo))
            for j, client in enumerate(t.clients):
                if client not in hosts:
                    ctx.error((*path, "clients", j), _not_a_host(client, topo))
                elif client == t.server:
                    ctx.error((*path, "clients", j), f"{client} is the server itself")
            if len(set(t.clients)) != len(t.clients):
                ctx.error((*path, "clients"), "a client host is listed twice")
            if isinstance(t, m.SmtpTraffic):
                readers = _mail_readers(scenario, t.server)
                for j, user in enumerate(t.to):
                    if user not in readers:
                        ctx.error(
                            (*path, "to", j),
                            f"{user} reads no mail on {t.server} (its users are the clients "
                            f"of imap and pop3 traffic to it: {some(sorted(readers))})",
                        )
            implicit = t.tls_mode == "implicit"
            first = implicit_tls.setdefault((t.server, t.port), (i, implicit))
            if first[1] != implicit:
                ctx.error(
                    (*path, "tls"),
                    f"traffic[{first[0]}] already serves {t.server}:{t.port} "
                    f"{'with' if first[1] else 'without'} TLS from the first byte",
                )
            continue
        if t.from_ not in hosts:
            ctx.error((*path, "from"), _not_a_host(t.from_, topo))
        elif t.from_ not in connected:
            ctx.error((*path, "from"), f"host {t.from_} has no link")
        broadcast_ok = isinstance(t, m.FramesTraffic)
        if not (broadcast_ok and t.to == "broadcast") and t.to not in hosts:
            ctx.error((*path, "to"), _not_a_host(t.to, topo, broadcast_ok=broadcast_ok))
        elif t.to == t.from_:
            ctx.error((*path, "to"), "a host does not send traffic to itself")
    for name in scenario.mail_servers:
        if name not in hosts:
            ctx.error(("mail_servers", name), _not_a_host(name, topo))
    ports_in_use: dict[tuple[str, int], int] = {}
    for i, (server, port) in tcp_ports(scenario).items():
        if (server, port) in ports_in_use:
            other = ports_in_use[server, port]
            ctx.error(
                ("traffic", i, "port"),
                f"{server} already listens on TCP port {port} for traffic[{other}]",
            )
        ports_in_use[server, port] = i
    for j, text in enumerate(scenario.measure.capture):
        node, _, port_name = text.partition(":")
        if node not in topo.nodes or port_name not in topo.nodes[node].ports:
            ctx.error(("measure", "capture", j), f"no port {text!r} (write it as node:port)")
        elif topo.nodes[node].kind in ("hub", "coax"):
            what = "a hub: it repeats bits" if topo.nodes[node].kind == "hub" else "a coax cable"
            ctx.error(
                ("measure", "capture", j),
                f"{node} is {what}, it does not see frames; capture on a station of its "
                "segment instead (every station hears everything on a shared segment)",
            )


def tcp_ports(scenario: m.Scenario) -> dict[int, tuple[str, int]]:
    """(server, port) of each TCP or mail traffic source, by traffic index.

    TCP traffic listens on 5001, 5002 ... unless it names a port; IMAP on 143, SMTP on
    587, POP3 on 110 unless they name one. Mail traffic of one kind to one server port
    shares it: one server per protocol and port.
    """
    out: dict[int, tuple[str, int]] = {}
    mail_seen: set[tuple[str, str, int]] = set()
    for i, t in enumerate(scenario.traffic):
        if isinstance(t, m.TcpTraffic):
            out[i] = (t.to, t.port if t.port is not None else 5001 + i)
        elif (
            isinstance(t, m.ImapTraffic | m.SmtpTraffic | m.Pop3Traffic)
            and (t.kind, t.server, t.port) not in mail_seen
        ):
            mail_seen.add((t.kind, t.server, t.port))
            out[i] = (t.server, t.port)
    return out


def _mail_readers(scenario: m.Scenario, server: str) -> set[str]:
    """The hosts that read mail on ``server`` (clients of its imap and pop3 traffic)."""
    return {
        client
        for t in scenario.traffic
        if isinstance(t, m.ImapTraffic | m.Pop3Traffic) and t.server == server
        for client in t.clients
    }


def _not_a_host(name: str, topo: Topology, broadcast_ok: bool = False) -> str:
    extra = " or broadcast" if broadcast_ok else ""
    if name in topo.nodes:
        return f"{name} is a {topo.nodes[name].kind}; expected a host{extra}"
    return f"unknown host {name!r} (hosts are: {some(topo.hosts())})"


def some(names: list[str], shown: int = 8) -> str:
    """The first few ``names``, for a message that must stay one readable line."""
    if not names:
        return "none"
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def is_endpoint(end: tuple[str, str], text: str) -> bool:
    """Does ``text`` (``node`` or ``node:port``) name the link end ``end``?"""
    node, sep, port = text.partition(":")
    return end[0] == node and (not sep or end[1] == port)


def find_link(topo: Topology, ends: tuple[str, str]) -> LinkSpec | None:
    """The link whose endpoints are ``ends`` (``node`` or ``node:port``, either order)."""
    matches = is_endpoint
    for link in topo.links:
        x, y = ends
        if (matches(link.a, x) and matches(link.b, y)) or (
            matches(link.a, y) and matches(link.b, x)
        ):
            return link
    return None


def _check_events(ctx: _Ctx, scenario: m.Scenario, topo: Topology) -> None:
    for i, event in enumerate(scenario.events):
        path: YamlPath = ("events", i)
        if isinstance(event, m.LinkEvent):
            if find_link(topo, event.link) is None:
                ctx.error((*path, "link"), f"no link joins {event.link[0]} and {event.link[1]}")
        elif isinstance(event, m.DeviceEvent | m.SetAgingEvent):
            node = topo.nodes.get(event.device)
            if node is None or node.kind not in ("switch", "bridge"):
                ctx.error((*path, "device"), f"{event.device!r} is not a switch or bridge")
        elif isinstance(event, m.MailOfflineEvent):
            offline_clients = {
                client
                for t in scenario.traffic
                if isinstance(t, m.ImapTraffic) and "disconnected" in t.steps
                for client in t.clients
            }
            if event.host not in offline_clients:
                ctx.error(
                    (*path, "host"),
                    f"{event.host} runs no disconnected-use IMAP client (imap traffic with "
                    f"session: [disconnected]; those are: {some(sorted(offline_clients))})",
                )
        elif isinstance(event, m.HostMoveEvent):
            _check_host_move(ctx, path, event, topo)


def host_link(topo: Topology, host: str) -> LinkSpec | None:
    """The link that plugs ``host`` in, if any."""
    for link in topo.links:
        if host in (link.a[0], link.b[0]):
            return link
    return None


def _check_host_move(ctx: _Ctx, path: YamlPath, event: m.HostMoveEvent, topo: Topology) -> None:
    host = topo.nodes.get(event.host)
    if host is None or host.kind != "host":
        ctx.error((*path, "host"), f"{event.host!r} is not a host")
        return
    link = host_link(topo, event.host)
    if link is None:
        ctx.error((*path, "host"), f"host {event.host} has no link to move")
        return
    node, _, port = event.to.partition(":")
    target = topo.nodes.get(node)
    if target is None or target.kind not in ("switch", "bridge") or port not in target.ports:
        ctx.error((*path, "to"), f"expected a switch port like sw2:5, got {event.to!r}")
        return
    if any((node, port) in (lk.a, lk.b) for lk in topo.links):
        ctx.error((*path, "to"), f"port {event.to} is already in use")
        return
    if link.shared:
        ctx.error((*path, "host"), "only a host on a full-duplex link can move")
