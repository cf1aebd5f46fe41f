"""The routing table: connected and static routes, and the longest-prefix match.

A route says "packets for this prefix leave by this interface, to this next hop" (or,
for a connected route, straight to the destination on the interface's own subnet).
Of all routes whose prefix contains a destination, the longest prefix wins (RFC 1812
§5.2.4.3); between two routes to the same prefix, the lower administrative distance
(connected 0, static 1, as on IOS). ``0.0.0.0/0`` is the default route: it matches
everything, so it is used only when nothing more specific does.

Pure logic, no clock: :meth:`RoutingTable.lookup` caches its answers per destination
address, since a router sees the same few destinations again and again; changing the
table empties the cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from netsim.net.addressing import IPv4Address, IPv4Network


class RouteSource(StrEnum):
    """Where a route came from: the code ``show ip route`` prints in front of it."""

    CONNECTED = "C"
    STATIC = "S"


ADMIN_DISTANCE = {RouteSource.CONNECTED: 0, RouteSource.STATIC: 1}
"""IOS's administrative distances: a connected route beats a static one to the same prefix."""


@dataclass(frozen=True, slots=True)
class Route:
    """One route: ``prefix`` via ``next_hop`` (None: directly connected) out ``interface``."""

    prefix: IPv4Network
    interface: str
    next_hop: IPv4Address | None
    source: RouteSource

    @property
    def distance(self) -> int:
        """The administrative distance of the route's source."""
        return ADMIN_DISTANCE[self.source]

    def next_hop_for(self, dst: IPv4Address) -> IPv4Address:
        """The address whose MAC a packet for ``dst`` is sent to on :attr:`interface`."""
        return dst if self.next_hop is None else self.next_hop


class RoutingTable:
    """A router's routes, one per prefix (the best by administrative distance)."""

    def __init__(self) -> None:
        self._routes: dict[IPv4Network, Route] = {}
        self._by_length: list[tuple[int, dict[int, Route]]] = []
        """(prefix length, network address as int -> route), longest first."""
        self._cache: dict[IPv4Address, Route | None] = {}

    def add(self, route: Route) -> bool:
        """Install ``route`` unless a better one to the same prefix exists; True if installed."""
        current = self._routes.get(route.prefix)
        if current is not None and current.distance <= route.distance:
            return False
        self._routes[route.prefix] = route
        self._reindex()
        return True

    def remove(self, prefix: IPv4Network) -> None:
        """Withdraw the route to ``prefix`` (an interface went down, say)."""
        if self._routes.pop(prefix, None) is not None:
            self._reindex()

    def _reindex(self) -> None:
        lengths: dict[int, dict[int, Route]] = {}
        for prefix, route in self._routes.items():
            lengths.setdefault(prefix.prefixlen, {})[int(prefix.network_address)] = route
        self._by_length = sorted(lengths.items(), reverse=True)
        self._cache.clear()

    def lookup(self, dst: IPv4Address) -> Route | None:
        """The route for ``dst``: the longest matching prefix, or None (no route)."""
        cache = self._cache
        if dst in cache:
            return cache[dst]
        address = int(dst)
        found = None
        for length, routes in self._by_length:
            mask = (0xFFFF_FFFF << (32 - length)) & 0xFFFF_FFFF
            found = routes.get(address & mask)
            if found is not None:
                break
        cache[dst] = found
        return found

    def routes(self) -> list[Route]:
        """Every installed route, by prefix (address, then length), as ``show ip route``."""
        return sorted(self._routes.values(), key=lambda r: (r.prefix.network_address, r.prefix))

    def __len__(self) -> int:
        return len(self._routes)
