"""One layer-3 interface: an address on a subnet, a MAC, an ARP cache and counters.

A router's port is one (a *routed port*); so is a layer-3 switch's ``interface Vlan10``
(an *SVI*, whose frames go through the switch's VLAN 10 to reach the wire). The
interface does not know which: it is given a ``transmit`` function that puts a frame
on its way, and the routing engine only ever calls that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

from netsim.l2.frame import Frame, MacAddress
from netsim.net.addressing import IPv4Address, IPv4Interface, IPv4Network
from netsim.net.arp_cache import ArpCache, ArpConfig

Transmit = Callable[[Frame], bool]
"""Put a frame on its way out of the interface; False if it was dropped (queue full)."""

Queued = tuple[bytes, str]
"""An IPv4 packet (its bytes) waiting for ARP, and the traffic label its frame will carry."""


@dataclass
class L3Counters:
    """What one interface did with IPv4 (``show ip interface`` and the l3 table)."""

    rx_packets: int = 0
    """IPv4 packets received on the interface (for the router or to route)."""
    tx_packets: int = 0
    """IPv4 packets sent out of it (routed through, or the router's own)."""
    forwarded: int = 0
    """Packets received here and routed on (out of any interface)."""
    to_self: int = 0
    """Packets addressed to the router itself (a ping of its address)."""
    ttl_exceeded: int = 0
    """Packets received here with TTL 1 or 0: dropped, answered with time exceeded."""
    no_route: int = 0
    """Packets received here for a destination with no route: net unreachable."""
    host_unreachable: int = 0
    """Packets dropped here because their next hop never answered ARP."""
    bad_packets: int = 0
    """Headers that did not decode or failed their checksum."""
    icmp_sent: int = 0
    """ICMP errors and echo replies this interface's address sent."""
    arp_requests: int = 0
    arp_replies: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counters as a plain dict, in declaration order."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


class L3Interface:
    """An IPv4 interface of a routing device (a routed port or an SVI)."""

    def __init__(
        self,
        name: str,
        address: IPv4Interface,
        mac: MacAddress,
        transmit: Transmit,
        arp_config: ArpConfig | None = None,
    ) -> None:
        self.name = name
        """The IOS name: ``Gi0/0``, ``Vlan10``."""
        self.address = address
        self.mac = mac
        self.transmit = transmit
        self.arp: ArpCache[Queued] = ArpCache(arp_config)
        self.counters = L3Counters()
        self.extra_addresses: dict[IPv4Address, MacAddress] = {}
        """Other addresses the interface answers ARP for, with the MAC it gives
        (a first-hop redundancy group's virtual IP and MAC)."""
        self.extra_macs: set[MacAddress] = set()
        """Other MACs whose frames the interface takes (a virtual MAC it owns now)."""
        self.neighbours: dict[bytes, tuple[MacAddress, float]] = {}
        """Next hop (4 bytes) -> (MAC, expiry of its ARP entry): the fast path's copy."""
        self.broadcast_audience = 0
        """How many stations a broadcast sent here reaches (set when built)."""
        self.up = True

    def __repr__(self) -> str:
        return f"<L3Interface {self.name} {self.address}>"

    @property
    def ip(self) -> IPv4Address:
        """The interface's own address."""
        return self.address.ip

    @property
    def network(self) -> IPv4Network:
        """The subnet the interface is on: its connected route."""
        return self.address.network

    def accepts(self, mac: MacAddress) -> bool:
        """Does a frame to ``mac`` belong to this interface (its MAC or a virtual one)?"""
        return mac == self.mac or mac in self.extra_macs
