"""A layer-3 switch's router sits behind its MAC: SVIs in VLANs, routed ports in none.

On a WS-C3750G-12S, a frame in VLAN 10 to the switch's router MAC goes to ``interface
Vlan10``; everything else in VLAN 10 is switched as before. A 2960 may have one
management SVI: it answers ARP and ping on its address, and routes nothing. A virtual
MAC that an SVI takes on (what HSRP or VRRP do) reaches the router too.
"""

from __future__ import annotations

import netsim
from netsim.engine.sim import Simulation
from netsim.net.addressing import IPv4Address
from netsim.net.icmp import IcmpEcho, IcmpType, decode_icmp
from netsim.net.ipv4 import IpProtocol, Ipv4Packet
from netsim.topology.build import Network, build

SCENARIO = """
name: l3-switch
duration: 1s
topology:
  nodes:
    core:
      kind: switch
      model: WS-C3750G-12S
      interfaces:
        Gi1/0/1-4: {vlan: 10}
        Gi1/0/5-8: {vlan: 20}
        Vlan10: {ip: 10.0.10.1/24}
        Vlan20: {ip: 10.0.20.1/24}
    acc:
      kind: switch
      model: WS-C2960-24TT-L
      interfaces:
        Vlan1: {ip: 10.0.20.2/24}     # management only
    a: {kind: host, ip: 10.0.10.5/24, gateway: 10.0.10.1}
    b: {kind: host, ip: 10.0.20.5/24, gateway: 10.0.20.1}
    c: {kind: host, ip: 10.0.20.6/24, gateway: 10.0.20.1}
  links:
    - endpoints: [a, "core:Gi1/0/1"]
    - endpoints: ["core:Gi1/0/5", "acc:Gi0/1"]
    - endpoints: [b, "acc:Fa0/1"]
    - endpoints: [c, "acc:Fa0/2"]
"""


def network() -> tuple[Simulation, Network]:
    sim = Simulation(1)
    return sim, build(netsim.loads(SCENARIO).topology, sim)


def echo_replies(net: Network, host: str) -> list[tuple[IPv4Address, int]]:
    """(source, TTL) of every echo reply ``host`` took in."""
    out = []
    for _t, frame in net.port(host, "eth0").captured or []:
        if frame.dst != net.hosts[host].mac or frame.ethertype != 0x0800:
            continue
        packet = Ipv4Packet.from_bytes(frame.payload_bytes())
        if packet.protocol == IpProtocol.ICMP:
            message = decode_icmp(packet.payload)
            if isinstance(message, IcmpEcho) and not message.is_request:
                out.append((packet.src, packet.ttl))
    return out


def ping(sim: Simulation, net: Network, src: str, dst: str, at: float = 0.0) -> None:
    stack = net.stacks[src]
    echo = IcmpEcho.request(1, 1, b"x" * 8).to_bytes()
    packet = Ipv4Packet(stack.address, IPv4Address(dst), IpProtocol.ICMP, echo)
    sim.call_at(at, stack.send_packet, packet, "icmp")


def test_the_svis_route_between_vlans():
    sim, net = network()
    net.port("a", "eth0").captured = []
    ping(sim, net, "a", "10.0.20.5")
    sim.run(until=1.0)
    assert echo_replies(net, "a") == [(IPv4Address("10.0.20.5"), 63)]


def test_a_2960_management_svi_answers_ping_but_routes_nothing():
    sim, net = network()
    net.port("b", "eth0").captured = []
    ping(sim, net, "b", "10.0.20.2")
    sim.run(until=1.0)
    assert echo_replies(net, "b") == [(IPv4Address("10.0.20.2"), 255)]
    assert not net.engines["acc"].routing


def test_a_virtual_mac_on_an_svi_reaches_the_router():
    """What a first-hop redundancy protocol does: the SVI answers ARP for a virtual IP
    with a virtual MAC, takes the frames sent to that MAC, and routes them."""
    sim, net = network()
    svi = net.engines["core"].interfaces["Vlan20"]
    virtual_ip, virtual_mac = IPv4Address("10.0.20.254"), 0x0000_0C07_AC0A
    svi.extra_addresses[virtual_ip] = virtual_mac
    svi.extra_macs.add(virtual_mac)
    stack = net.stacks["c"]
    stack.config = type(stack.config)(stack.config.interface, virtual_ip)  # gateway .254
    net.port("c", "eth0").captured = []
    ping(sim, net, "c", "10.0.10.5")
    sim.run(until=1.0)
    assert echo_replies(net, "c") == [(IPv4Address("10.0.10.5"), 63)]
    sent_to = {
        f.dst for _t, f in net.port("c", "eth0").captured or [] if f.src == net.hosts["c"].mac
    }
    assert virtual_mac in sent_to


def test_time_exceeded_comes_from_the_svi_the_packet_came_in_on():
    sim, net = network()
    stack = net.stacks["a"]
    net.port("a", "eth0").captured = []
    echo = IcmpEcho.request(1, 1).to_bytes()
    packet = Ipv4Packet(stack.address, IPv4Address("10.0.20.5"), IpProtocol.ICMP, echo, ttl=1)
    sim.call_at(0.0, stack.send_packet, packet, "icmp")
    sim.run(until=1.0)
    errors = []
    for _t, frame in net.port("a", "eth0").captured or []:
        if frame.dst == net.hosts["a"].mac and frame.ethertype == 0x0800:
            p = Ipv4Packet.from_bytes(frame.payload_bytes())
            errors.append((p.src, decode_icmp(p.payload).type))  # type: ignore[union-attr]
    assert errors == [(IPv4Address("10.0.10.1"), IcmpType.TIME_EXCEEDED)]
