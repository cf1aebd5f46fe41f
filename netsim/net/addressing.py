"""IPv4 addresses and interfaces: who is on my link, and where a packet goes next.

Addresses are the standard library's :class:`ipaddress.IPv4Address`; an interface is
an address with its prefix (``10.0.0.25/24``), :class:`ipaddress.IPv4Interface`. A host
sends directly to a destination inside its own subnet and to its default gateway
otherwise (RFC 1122 §3.3.1.1); with no gateway, an off-link destination is unreachable.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from functools import lru_cache

IPv4Address = ipaddress.IPv4Address
IPv4Interface = ipaddress.IPv4Interface
IPv4Network = ipaddress.IPv4Network

LIMITED_BROADCAST = IPv4Address("255.255.255.255")
"""The all-ones address: every host on this link (RFC 919)."""

DEFAULT_NETWORK = IPv4Network("10.0.0.0/24")
"""Where hosts without an explicit ``ip:`` in a scenario get their addresses."""


class NoRouteError(Exception):
    """The destination is neither on the link nor reachable through a gateway."""


def parse_interface(text: str) -> IPv4Interface:
    """Parse ``10.0.0.25/24`` into an interface; raise ``ValueError`` with a clear message.

    A bare address gets a /24 prefix, which is what a lab LAN almost always uses.
    """
    spec = text if "/" in text else f"{text}/24"
    try:
        iface = IPv4Interface(spec)
    except ValueError as exc:
        raise ValueError(f"not an IPv4 interface: {text!r} (expected e.g. 10.0.0.25/24)") from exc
    if iface.network.prefixlen < 31 and iface.ip in (
        iface.network.network_address,
        iface.network.broadcast_address,
    ):
        raise ValueError(f"{text!r} is the network or broadcast address of {iface.network}")
    return iface


def auto_interface(index: int, network: IPv4Network = DEFAULT_NETWORK) -> IPv4Interface:
    """The interface of the ``index``-th host (0-based) numbered from ``network``'s first host."""
    hosts = network.num_addresses - 2
    if not 0 <= index < hosts:
        raise ValueError(f"host index {index} does not fit in {network} ({hosts} host addresses)")
    return IPv4Interface(f"{network.network_address + 1 + index}/{network.prefixlen}")


@lru_cache(maxsize=1 << 16)
def address_from_packed(packed: bytes) -> IPv4Address:
    """The address whose 4 header bytes are ``packed``, one shared object per address.

    A decoder calls this for every packet; the few addresses of a network are built
    once rather than for each packet (addresses are immutable, so sharing is safe).
    """
    return IPv4Address(packed)


@dataclass(frozen=True, slots=True)
class IpConfig:
    """A host's IPv4 configuration: its interface and, optionally, a default gateway."""

    interface: IPv4Interface
    gateway: IPv4Address | None = None
    address: IPv4Address = field(init=False, compare=False, repr=False)
    """This host's own address (the interface's, kept: ``interface.ip`` builds a new
    object at every call, and the stack asks for it with every packet)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", self.interface.ip)

    @property
    def network(self) -> IPv4Network:
        """The subnet directly reachable on the link."""
        return self.interface.network

    def is_local_broadcast(self, dst: IPv4Address) -> bool:
        """True for the limited broadcast and this subnet's directed broadcast address."""
        return dst == LIMITED_BROADCAST or dst == self.network.broadcast_address

    def next_hop(self, dst: IPv4Address) -> IPv4Address:
        """The address whose MAC the frame is sent to: ``dst`` itself if on-link, else the gateway.

        Raises :class:`NoRouteError` for an off-link destination when there is no gateway.
        """
        if dst in self.network or dst == LIMITED_BROADCAST:
            return dst
        if self.gateway is None:
            raise NoRouteError(f"no route to {dst}: not in {self.network} and no gateway")
        return self.gateway
