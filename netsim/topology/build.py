"""From a topology (data) to a live network of devices, links and collision domains."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

import networkx as nx

from netsim.engine.sim import Simulation
from netsim.l2.host import Host
from netsim.l2.hub import CoaxBus, Hub
from netsim.l2.mac_table import MacEvent
from netsim.l2.switch import DEFAULT_RECORDED_EVENTS, Bridge, StackRing, Switch
from netsim.net.addressing import IpConfig, IPv4Address, IPv4Interface
from netsim.net.stack import IpStack
from netsim.net.tcp.config import TcpConfig
from netsim.phy.csma import CollisionDomain, CsmaCdStation, Path
from netsim.phy.link import Link
from netsim.phy.media import MEDIA, repeater_delay
from netsim.phy.port import Duplex, Port
from netsim.topology.catalog import STACKWISE_RING_BPS
from netsim.topology.topology import LinkSpec, Topology

Device = Host | Switch | Hub | CoaxBus


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
    """Instantiate every device and link of ``topology`` in ``sim``."""
    net = Network(sim, topology)
    recorded = frozenset(recorded_events)
    for name, spec in topology.nodes.items():
        device: Device
        if spec.kind == "host":
            assert spec.mac is not None
            device = Host(sim, name, spec.mac, spec.buffer_bytes)
        elif spec.kind == "hub":
            device = Hub(name, spec.ports, spec.repeater_delay)
        elif spec.kind == "coax":
            device = CoaxBus(name, spec.ports)
        else:
            if spec.kind == "bridge":
                device = Bridge(
                    sim,
                    name,
                    spec.aging,
                    spec.mac_table_size,
                    spec.processing_delay,
                    spec.buffer_bytes,
                    recorded,
                )
            else:
                device = Switch(
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
                )
            for mac, port in spec.static_macs:
                device.table.add_static(mac, device.port(port))
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
    _set_broadcast_audiences(net)
    _build_ip_stacks(net)
    return net


def _build_ip_stacks(net: Network) -> None:
    """Give every host with an address its IPv4 stack (ARP, IPv4, ICMP, TCP)."""
    names = {h.mac: name for name, h in net.hosts.items()}
    for name, host in net.hosts.items():
        spec = net.topology.nodes[name]
        if spec.ip is None:
            continue
        gateway = IPv4Address(spec.gateway) if spec.gateway else None
        config = IpConfig(IPv4Interface(spec.ip), gateway)
        tcp = TcpConfig(
            nagle=spec.nagle, delayed_ack=spec.delayed_ack, receive_buffer=spec.tcp_window
        )
        net.stacks[name] = IpStack(net.sim, host, config, tcp, host_names=names)


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


def _component_key(component: set[object]) -> str:
    return min(str(v) for v in component)


def _set_broadcast_audiences(net: Network) -> None:
    """A broadcast is delivered when every other host it can reach has it."""
    g = net.topology.graph()
    for component in nx.connected_components(g):
        hosts = [n for n in component if isinstance(net.devices[n], Host)]
        for h in hosts:
            host = net.devices[h]
            assert isinstance(host, Host)
            host.broadcast_audience = len(hosts) - 1
