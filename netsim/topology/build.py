"""From a topology (data) to a live network of devices, links and collision domains."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from netsim.engine.sim import Simulation
from netsim.l2.etherchannel import EtherChannels, PortChannel
from netsim.l2.frame import MacAddress
from netsim.l2.host import Host
from netsim.l2.hub import CoaxBus, Hub
from netsim.l2.lacp.engine import LacpPortConfig, Mode
from netsim.l2.mac_table import DEFAULT_VLAN, MacEvent
from netsim.l2.qos import PortQos, SwitchQos
from netsim.l2.span import MonitorSession
from netsim.l2.storm import StormGuard
from netsim.l2.stp.config import StpMode
from netsim.l2.switch import DEFAULT_RECORDED_EVENTS, Bridge, StackRing, Switch
from netsim.l3.dhcp_server.server import DhcpServer
from netsim.l3.dhcp_server.service import DhcpService
from netsim.l3.engine import RoutingEngine
from netsim.l3.fhrp.common import StateChanged
from netsim.l3.fhrp.service import FhrpService
from netsim.l3.router import Router, router_mac
from netsim.l3.switch import Layer3Switch
from netsim.net.addressing import IpConfig, IPv4Address, IPv4Interface, IPv4Network
from netsim.net.dhcp_host import DhcpHost
from netsim.net.stack import IpStack
from netsim.net.tcp.config import TcpConfig
from netsim.phy.csma import CollisionDomain, CsmaCdStation, Path
from netsim.phy.link import Link
from netsim.phy.media import MEDIA, repeater_delay
from netsim.phy.port import Duplex, Port
from netsim.phy.queues import EgressQueues
from netsim.topology.catalog import MODELS, STACKWISE_RING_BPS
from netsim.topology.faults import Faults
from netsim.topology.graph_walk import reachable
from netsim.topology.topology import LinkSpec, NodeSpec, Topology

if TYPE_CHECKING:
    import networkx as nx

Device = Host | Switch | Hub | CoaxBus | Router
UNCONFIGURED = IPv4Interface("0.0.0.0/32")
"""The placeholder address of a DHCP host's stack until its lease arrives."""


@dataclass
class Network:
    """The live devices of one run, by name, and what joins them."""

    sim: Simulation
    topology: Topology
    devices: dict[str, Device] = field(default_factory=dict)
    links: dict[LinkSpec, Link] = field(default_factory=dict)
    domains: list[CollisionDomain] = field(default_factory=list)
    stacks: dict[str, IpStack] = field(default_factory=dict)
    """Each host's IPv4 stack, by host name."""
    engines: dict[str, RoutingEngine] = field(default_factory=dict)
    """Each routing device's layer-3 engine (routers, switches with an SVI), by name."""
    names: dict[MacAddress, str] = field(default_factory=dict)
    """Every station's MAC (hosts' NICs, routers' interfaces) -> its device's name."""
    fhrp: list[FhrpService] = field(default_factory=list)
    """Every HSRP group and VRRP instance running on a router interface."""
    fhrp_log: list[tuple[str, str, StateChanged]] = field(default_factory=list)
    """(device, interface, state change) of every FHRP group, in time order."""
    dhcp_hosts: dict[str, DhcpHost] = field(default_factory=dict)
    """Each ``ip: dhcp`` host's DHCP client, by host name."""
    dhcp_servers: dict[str, DhcpServer] = field(default_factory=dict)
    """Each router's DHCP server (routers with pools), by router name."""
    faults: Faults = field(init=False)
    """What is down now: failed devices, stack members and cut cables."""

    def __post_init__(self) -> None:
        self.faults = Faults(self)

    @property
    def hosts(self) -> dict[str, Host]:
        """The hosts, by name."""
        return {n: d for n, d in self.devices.items() if isinstance(d, Host)}

    def port(self, node: str, port: str) -> Port:
        """The port ``node:port``."""
        for p in self.devices[node].ports:
            if p.name == port:
                return p
        raise KeyError(f"{node} has no port {port}")


def build(
    topology: Topology,
    sim: Simulation,
    recorded_events: Iterable[MacEvent] = DEFAULT_RECORDED_EVENTS,
) -> Network:
    """Instantiate every device and link of ``topology`` in ``sim``.

    Control protocols (spanning tree, LACP, HSRP/VRRP, DHCP) schedule their timers up to
    ``sim.horizon`` (:meth:`Simulation.call_timer_at`), so that the run can end.
    """
    net = Network(sim, topology)
    recorded = frozenset(recorded_events)
    l3_index = 0
    for name, spec in topology.nodes.items():
        device: Device
        if spec.kind == "host":
            assert spec.mac is not None
            device = Host(sim, name, spec.mac, spec.buffer_bytes, spec.vlan, spec.cos)
            net.names[spec.mac] = name
        elif spec.kind == "router":
            l3_index += 1
            device = Router(
                sim,
                name,
                spec.ports,
                spec.processing_delay,
                spec.forwarding_rate,
                spec.buffer_bytes,
                names=net.names,
            )
            for i, (port, ip) in enumerate(spec.routed_ports.items()):
                mac = router_mac(l3_index, i)
                net.names[mac] = name
                device.add_interface(port, IPv4Interface(ip), mac)
            net.engines[name] = device.engine
        elif spec.kind == "hub":
            device = Hub(name, spec.ports, spec.repeater_delay)
        elif spec.kind == "coax":
            device = CoaxBus(name, spec.ports)
        else:
            vlans = {port: iface.vlan for port, iface in spec.interfaces}
            if spec.kind == "bridge":
                device = Bridge(
                    sim,
                    name,
                    spec.aging,
                    spec.mac_table_size,
                    spec.processing_delay,
                    spec.buffer_bytes,
                    recorded,
                    vlans=vlans,
                )
            else:
                layer3 = bool(spec.svis or spec.routed_ports)
                device = (Layer3Switch if layer3 else Switch)(
                    sim,
                    name,
                    spec.ports,
                    spec.mode,
                    spec.aging,
                    spec.mac_table_size,
                    spec.processing_delay,
                    spec.buffer_bytes,
                    recorded,
                    forwarding_rate=spec.forwarding_rate,
                    stack=StackRing(spec.stack_members, STACKWISE_RING_BPS)
                    if spec.stack_members > 1
                    else None,
                    vlans=vlans,
                )
                if isinstance(device, Layer3Switch):
                    l3_index += 1
                    mac = router_mac(l3_index, 0)
                    net.names[mac] = name
                    net.engines[name] = device.enable_routing(
                        mac, routing=spec.routing, names=net.names
                    )
                    for vid, ip in spec.svis:
                        device.add_svi(vid, IPv4Interface(ip))
                    for port, ip in spec.routed_ports.items():
                        device.add_routed_port(port, IPv4Interface(ip))
            for mac, port in spec.static_macs:
                # A static entry lives in the VLAN of its port (a trunk's: the native one).
                cfg = spec.interface(port).vlan
                vlan = cfg.native if cfg.is_trunk else cfg.access_vlan
                device.table.add_static(mac, device.port(port), vlan)
        net.devices[name] = device
    for spec_link in topology.links:
        a = net.port(*spec_link.a)
        b = net.port(*spec_link.b)
        net.links[spec_link] = Link(
            sim,
            a,
            b,
            spec_link.rate_bps,
            spec_link.delay_s,
            Duplex(spec_link.duplex),
            spec_link.ber,
        )
        if spec_link.duplex_b is not None:
            b.duplex = Duplex(spec_link.duplex_b)  # a duplex mismatch
    _build_collision_domains(net)
    for index, (name, device) in enumerate(
        (n, d) for n, d in net.devices.items() if isinstance(d, Switch)
    ):
        _configure_qos(net, device, topology.nodes[name])
        _start_monitor_sessions(net, device, topology.nodes[name])
        _bundle_port_channels(net, device, topology.nodes[name], switch_mac(index + 1))
        _start_spanning_tree(device, topology.nodes[name], index + 1)
    _set_broadcast_audiences(net)
    _build_ip_stacks(net)
    for name, engine in net.engines.items():
        for prefix, via in topology.nodes[name].routes:
            engine.add_static_route(IPv4Network(prefix), IPv4Address(via))
    _start_fhrp(net)
    _start_dhcp(net)
    return net


def _start_dhcp(net: Network) -> None:
    """A DHCP server on each router with pools, relays on its ports with helpers."""
    for name, engine in net.engines.items():
        spec = net.topology.nodes[name]
        helpers = {
            p: IPv4Address(i.helper) for p, i in (*spec.interfaces, *spec.svi_services) if i.helper
        }
        server = DhcpServer(None, spec.dhcp_pools) if spec.dhcp_pools else None
        if server is None and not helpers:
            continue
        if server is not None:
            net.dhcp_servers[name] = server
        DhcpService(net.sim, engine, server, helpers)


def _start_fhrp(net: Network) -> None:
    """Run each interface's HSRP and VRRP groups from time 0; a failed router's stop, and
    start afresh when it is repaired (a reboot)."""

    def record(device: str, interface: str, change: StateChanged) -> None:
        net.fhrp_log.append((device, interface, change))

    for name, engine in net.engines.items():
        node = net.topology.nodes[name]
        for port, spec in (*node.interfaces, *node.svi_services):
            for config in spec.fhrp:
                iface = engine.interfaces[port]
                service = FhrpService(net.sim, name, engine, iface, config, record, net.names)
                net.fhrp.append(service)
                net.sim.call_at(0.0, service.start)
    if not net.fhrp:
        return

    def follow_failures(now: float) -> None:
        down = net.faults.devices_down
        for service in net.fhrp:
            if service.device in down:
                service.stop()
            elif not service.running:
                service.start()

    net.faults.watch(follow_failures)


def _build_ip_stacks(net: Network) -> None:
    """Give every host with an address its IPv4 stack (ARP, IPv4, ICMP, TCP); a DHCP
    host's stack starts without one, and its DHCP client asks for it at time 0."""
    names = net.names
    for name, host in net.hosts.items():
        spec = net.topology.nodes[name]
        if spec.ip is None and not spec.dhcp:
            continue
        gateway = IPv4Address(spec.gateway) if spec.gateway else None
        address = IPv4Interface(spec.ip) if spec.ip else UNCONFIGURED
        config = IpConfig(address, gateway)
        tcp = TcpConfig(
            nagle=spec.nagle, delayed_ack=spec.delayed_ack, receive_buffer=spec.tcp_window
        )
        net.stacks[name] = IpStack(net.sim, host, config, tcp, host_names=names)
        if spec.dhcp:
            net.dhcp_hosts[name] = DhcpHost(net.sim, net.stacks[name])


@dataclass(frozen=True)
class TapPoint:
    """A point along a coax bus where one or more stations are clamped on."""

    bus: str
    position_m: float


def _build_collision_domains(net: Network) -> None:
    """Group half-duplex links, hubs and coax buses into collision domains of stations.

    A hub is one vertex: it repeats between all its ports, adding its repeater delay to
    every path through it. A coax bus is a row of tap points along its cable, a signal
    between two taps taking the cable's delay over the distance between them. Any other
    device contributes one vertex per port, since a switch or host port is a station of
    its own. A path's ``links`` counts the segments it crosses (a coax bus is one).
    """
    if not any(spec.shared for spec in net.links):
        return  # every link is switched and full duplex: nothing shares a medium
    import networkx as nx

    g = nx.Graph()

    def vertex(node: str, port: str, link: LinkSpec) -> str | tuple[str, str] | TapPoint:
        device = net.devices[node]
        if isinstance(device, Hub):
            return node
        if isinstance(device, CoaxBus):
            assert link.tap_m is not None
            return TapPoint(node, link.tap_m)
        return (node, port)

    buses: dict[str, set[float]] = {}
    for spec in net.links:
        if not spec.shared:
            continue
        u, v = vertex(*spec.a, spec), vertex(*spec.b, spec)
        coax = isinstance(v, TapPoint)
        if isinstance(v, TapPoint):
            buses.setdefault(v.bus, set()).add(v.position_m)
        g.add_edge(
            u,
            v,
            delay=spec.delay_s,
            ber=spec.ber,
            rate=spec.rate_bps,
            segment=spec.b[0] if coax else spec.label,
            medium=MEDIA.get(spec.media or ""),
        )
    for bus, positions in buses.items():
        node = net.topology.nodes[bus]
        medium = MEDIA[node.media or ""]
        for x, y in itertools.pairwise(sorted(positions)):
            g.add_edge(
                TapPoint(bus, x),
                TapPoint(bus, y),
                delay=medium.propagation_delay(y - x),
                ber=0.0,
                rate=medium.rate_bps,
                segment=bus,
                medium=medium,
            )
    for index, component in enumerate(sorted(nx.connected_components(g), key=_component_key)):
        sub = g.subgraph(component)
        rate = next(iter(sub.edges(data=True)))[2]["rate"]
        stations: dict[tuple[str, str], CsmaCdStation] = {}
        names = sorted(str(v) for v in component)
        domain = CollisionDomain(net.sim, rate, f"domain{index}:{names[0]}")
        for v in sorted((v for v in component if isinstance(v, tuple)), key=str):
            port = net.port(*v)
            assert port.link is not None
            peer = port.link.peer(port)
            hub_port = peer if isinstance(peer.owner, Hub) else None
            stations[v] = domain.attach(port, hub_port, carrier_sense=port.duplex is Duplex.HALF)
        ordered = sorted(stations)
        for i, u in enumerate(ordered):
            for v in ordered[i + 1 :]:
                route = nx.shortest_path(sub, u, v, weight="delay")
                domain.connect(stations[u], stations[v], _signal_path(net, sub, route, rate))
        net.domains.append(domain)


def _signal_path(net: Network, g: nx.Graph, route: list[object], rate: float) -> Path:
    """Delay, segments crossed and bit-error odds along ``route`` (a list of vertices)."""
    edges = [g.edges[x, y] for x, y in itertools.pairwise(route)]
    delay = sum(e["delay"] for e in edges)
    for before, hub, after in zip(edges, route[1:-1], edges[1:], strict=False):
        device = net.devices.get(hub) if isinstance(hub, str) else None
        if isinstance(device, Hub):
            delay += (
                device.repeater_delay
                if device.repeater_delay is not None
                else repeater_delay(rate, before["medium"], after["medium"])
            )
    # A segment's bit errors count once, however many of its tap points the path passes.
    worst: dict[str, float] = {}
    for e in edges:
        worst[e["segment"]] = max(worst.get(e["segment"], 0.0), e["ber"])
    clean = 1.0
    for ber in worst.values():
        clean *= 1.0 - ber
    return Path(delay, len(worst), 1.0 - clean)


def _configure_qos(net: Network, switch: Switch, spec: NodeSpec) -> None:
    """``mls qos``: egress queues on every port, trust on each, the switch's maps."""
    if spec.qos is None:
        return  # one FIFO per port, exactly as an unmanaged switch
    model = MODELS.get(spec.model or "generic-switch", MODELS["generic-switch"])
    settings: dict[Port, PortQos] = {
        port: spec.interface(port.name).qos or model.port_qos for port in switch.ports
    }
    qos = SwitchQos(spec.qos, {port: s.trust for port, s in settings.items()})
    for port, s in settings.items():
        port.queues = EgressQueues(net.sim, port, s.queue_settings(), qos.queue_of)
    switch.enable_qos(qos)


def _start_monitor_sessions(net: Network, switch: Switch, spec: NodeSpec) -> None:
    """SPAN: each session taps its source ports and owns its destination port."""
    for m in spec.monitor:
        sources = [switch.port(p) for p in m.sources]
        destination = switch.port(m.destination)
        switch.add_monitor_session(
            MonitorSession(
                net.sim,
                m.number,
                sources,
                m.direction,
                destination,
                frozenset(m.vlans),
                switch.frame_vlan,
            )
        )


SWITCH_MAC_BASE = 0x02_01_00_00_00_00
"""Switch ``n`` (in the order the scenario declares switches and bridges) has the base
MAC address 02:01:00:00:00:00 + n x 4096 (switch 1: 02:01:00:00:10:00), and its port
``p`` sends BPDUs from that address + p: locally administered, never a host's (02:00:...).
At equal priorities the first switch declared has the lowest bridge ID: it is root."""


def switch_mac(index: int) -> int:
    """The base MAC address of the ``index``-th switch (1, 2, ...)."""
    return SWITCH_MAC_BASE | (index << 12)


def _bundle_port_channels(net: Network, switch: Switch, spec: NodeSpec, system: int) -> None:
    """EtherChannel: each channel group's ports become one port-channel; the ports in
    LACP groups get an LACP agent, which starts as the run does."""
    groups: dict[int, list[Port]] = {}
    lacp: dict[int, tuple[Port, LacpPortConfig]] = {}
    modes = {}
    for number, port in enumerate(switch.ports, start=1):
        channel = spec.interface(port.name).channel
        if channel is None:
            continue
        groups.setdefault(channel.group, []).append(port)
        modes[channel.group] = channel.mode
        if channel.mode.lacp:
            config = LacpPortConfig(channel.group, Mode(channel.mode.value), channel.rate)
            lacp[number] = (port, config)
    if not groups:
        return
    channels = [
        PortChannel(switch, group, members, modes[group], spec.load_balance)
        for group, members in sorted(groups.items())
    ]
    bundles = EtherChannels(net.sim, switch.name, system, channels, lacp, switch.table)
    switch.add_port_channels(bundles)
    bundles.start()


def guard_against_storms(net: Network, limit: int) -> StormGuard:
    """Give every switch of ``net`` one shared storm guard (:mod:`netsim.l2.storm`)."""
    guard = StormGuard(limit)
    for device in net.devices.values():
        if isinstance(device, Switch):
            device.storm_guard = guard
    return guard


def _start_spanning_tree(switch: Switch, spec: NodeSpec, index: int) -> None:
    """Run the spanning tree the scenario asks for (none: nothing to do)."""
    if spec.spanning_tree.mode is StpMode.NONE:
        return
    ports = {name: iface.stp for name, iface in spec.interfaces if iface.stp is not None}
    switch.run_spanning_tree(spec.spanning_tree, ports, switch_mac(index))


def _component_key(component: set[object]) -> str:
    return min(str(v) for v in component)


_BRIDGES = ("switch", "bridge")
"""Node kinds that classify frames into VLANs; hosts take or refuse them, the rest repeat."""

Vertex = tuple[str, str, int | None]
"""A step of a broadcast's walk: ``("in", device, VLAN or tag)`` while a device handles it,
``("rx", host, None)`` once a host's interface has taken it."""


def _set_broadcast_audiences(net: Network) -> None:
    """A broadcast is delivered when every other host it can reach has it.

    With VLANs, "can reach" follows the frame: from the sender's tag, through each
    switch port's classification and each egress port's tagging, to the hosts whose
    interface takes it. The walk is directed (an access port takes a frame tagged with
    its own VLAN but sends untagged); hubs repeat whatever tag comes. A SPAN destination
    port forwards nothing but copies, so it reaches nobody.
    """
    topo = net.topology
    tags: set[int | None] = {None, DEFAULT_VLAN}
    for spec in topo.nodes.values():
        tags.add(spec.vlan)
        for _, iface in spec.interfaces:
            cfg = iface.vlan
            tags.update([cfg.access_vlan, cfg.native, *(cfg.allowed or ())])

    def arrive(node: str, port: str, tag: int | None) -> Vertex | None:
        """Where a frame tagged ``tag`` is once it enters ``node:port`` (None: refused)."""
        spec = topo.nodes[node]
        if spec.kind == "host":
            return ("rx", node, None) if tag == spec.vlan else None
        if spec.kind == "router" or spec.interface(port).ip is not None:
            # A routed port takes untagged broadcasts for its router, and repeats nothing.
            routed = spec.interface(port).ip is not None
            return ("rx", node, None) if routed and tag is None else None
        if spec.kind not in _BRIDGES:
            return ("in", node, tag)  # a hub or coax segment repeats every tag
        vlan = spec.interface(port).vlan.classify(tag)
        return None if vlan is None else ("in", node, vlan)

    def leave(node: str, port: str, inside: int | None) -> tuple[bool, int | None]:
        """Does a frame of ``inside`` leave ``node:port``, and with which tag?"""
        spec = topo.nodes[node]
        if spec.kind not in _BRIDGES:
            return True, inside  # a host sends its tag, a hub repeats what came
        cfg = spec.interface(port).vlan
        if inside is None or not cfg.carries(inside):
            return False, None
        return True, inside if cfg.tags(inside) else None

    monitors = {(n, m.destination) for n, spec in topo.nodes.items() for m in spec.monitor}
    g: dict[Vertex, set[Vertex]] = {}  # the walk's directed steps, from each vertex
    for link in topo.links:
        if link.a in monitors or link.b in monitors:
            continue
        for here, there in ((link.a, link.b), (link.b, link.a)):
            for inside in tags:
                goes, tag = leave(*here, inside)
                target = arrive(*there, tag) if goes else None
                if target is not None:
                    g.setdefault(("in", here[0], inside), set()).add(target)
    for name, spec in topo.nodes.items():
        for vid, _ in spec.svis:
            g.setdefault(("in", name, vid), set()).add(("rx", name, None))  # the SVI hears it
    hosts_reached: dict[Vertex, frozenset[str]] = {}

    def audience(name: str, tag: int | None) -> int:
        """Hosts other than ``name`` that a broadcast it sends tagged ``tag`` reaches."""
        start: Vertex = ("in", name, tag)
        reached: set[str] = set()
        for first in g.get(start, ()):
            if first not in hosts_reached:
                walk = reachable(g, first)
                hosts_reached[first] = frozenset(n for kind, n, _ in walk if kind == "rx")
            reached |= hosts_reached[first]
        return len(reached - {name})

    for name, host in net.hosts.items():
        host.broadcast_audience = audience(name, host.vlan)
        host.tagged_audiences = {tag: audience(name, tag) for tag in tags if tag != host.vlan}

    def audience_from_port(name: str, port: str) -> int:
        """Stations a broadcast sent untagged out of the routed port ``name:port`` reaches."""
        link = next((lk for lk in topo.links if (name, port) in (lk.a, lk.b)), None)
        if link is None:
            return 0
        first = arrive(*(link.b if link.a == (name, port) else link.a), None)
        if first is None:
            return 0
        walk = reachable(g, first)
        return len({n for kind, n, _ in walk if kind == "rx"} - {name})

    for name, engine in net.engines.items():
        svis = dict(topo.nodes[name].svis)
        for l3 in engine.interfaces.values():
            if l3.name.startswith("Vlan") and int(l3.name[4:]) in svis:
                l3.broadcast_audience = audience(name, int(l3.name[4:]))
            else:
                l3.broadcast_audience = audience_from_port(name, l3.name)
