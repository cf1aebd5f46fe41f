"""One DHCP address pool: a subnet's leasable addresses and who holds which.

An address is *free*, *offered* to a client (reserved for a short while, RFC 2131
§4.3.1 asks the server not to hand it to anyone else meanwhile), *leased* until the
lease's end, or *declined* (a client found it in use, so it is set aside). Addresses are
handed out lowest first, and a client that already holds or was offered an address gets
the same one back, so a run is reproducible and a client keeps its address.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from netsim.net.addressing import IPv4Address, IPv4Network

OFFER_HOLD = 60.0
"""How long an offered address stays reserved without a REQUEST (seconds)."""
DEFAULT_LEASE = 86400.0
"""IOS ``lease`` default: one day."""


@dataclass(frozen=True, slots=True)
class PoolConfig:
    """How a pool is configured (``ip dhcp pool NAME`` in IOS).

    ``first``/``last`` bound the range handed out (default: every host address of
    ``network``); ``excluded`` lists addresses never handed out (``ip dhcp
    excluded-address``), typically the gateway and the routers' own addresses.
    """

    name: str
    network: IPv4Network
    gateway: IPv4Address | None = None
    dns: tuple[IPv4Address, ...] = ()
    lease_time: float = DEFAULT_LEASE
    first: IPv4Address | None = None
    last: IPv4Address | None = None
    excluded: frozenset[IPv4Address] = frozenset()

    def __post_init__(self) -> None:
        first, last = self.range()
        if first > last:
            raise ValueError(f"pool {self.name}: range {first}..{last} is empty")
        for bound in (first, last):
            if bound not in self.network:
                raise ValueError(f"pool {self.name}: {bound} is outside {self.network}")
        if self.gateway is not None and self.gateway not in self.network:
            raise ValueError(f"pool {self.name}: gateway {self.gateway} is outside {self.network}")
        if self.lease_time <= 0:
            raise ValueError(f"pool {self.name}: lease time must be positive")

    def range(self) -> tuple[IPv4Address, IPv4Address]:
        """The first and last address this pool may hand out."""
        net = self.network
        first = self.first if self.first is not None else net.network_address + 1
        last = self.last if self.last is not None else net.broadcast_address - 1
        return first, last

    def candidates(self) -> Iterator[IPv4Address]:
        """The addresses this pool may hand out, lowest first."""
        first, last = self.range()
        net = self.network
        for value in range(int(first), int(last) + 1):
            address = IPv4Address(value)
            if address in (net.network_address, net.broadcast_address):
                continue
            if address in self.excluded or address == self.gateway:
                continue
            yield address


@dataclass(slots=True)
class Binding:
    """One address held for one client: offered or leased, until ``expires``."""

    address: IPv4Address
    client_id: bytes
    expires: float
    leased: bool = False


@dataclass(slots=True)
class AddressPool:
    """The live state of one pool: bindings by client and by address."""

    config: PoolConfig
    by_client: dict[bytes, Binding] = field(default_factory=dict)
    by_address: dict[IPv4Address, Binding] = field(default_factory=dict)
    declined: set[IPv4Address] = field(default_factory=set)

    def holding(self, client_id: bytes, now: float) -> Binding | None:
        """The client's current (unexpired) binding in this pool, if any."""
        binding = self.by_client.get(client_id)
        if binding is not None and binding.expires <= now:
            self._drop(binding)
            return None
        return binding

    def offer(self, client_id: bytes, now: float, wanted: IPv4Address | None) -> Binding | None:
        """Reserve an address for ``client_id`` (its own, ``wanted`` if free, else the lowest).

        None if the pool is exhausted.
        """
        binding = self.holding(client_id, now)
        if binding is not None:
            if not binding.leased:
                binding.expires = now + OFFER_HOLD
            return binding
        address = None
        if wanted is not None and self._is_free(wanted, now) and wanted in self._eligible():
            address = wanted
        if address is None:
            address = next((a for a in self.config.candidates() if self._is_free(a, now)), None)
        if address is None:
            return None
        binding = Binding(address, client_id, now + OFFER_HOLD)
        self.by_client[client_id] = binding
        self.by_address[address] = binding
        return binding

    def lease(self, client_id: bytes, address: IPv4Address, now: float) -> Binding | None:
        """Turn the client's offer (or lease) of ``address`` into a lease; None if not its own."""
        binding = self.holding(client_id, now)
        if binding is None:
            if not self._is_free(address, now) or address not in self._eligible():
                return None
            binding = Binding(address, client_id, now)
            self.by_client[client_id] = binding
            self.by_address[address] = binding
        if binding.address != address:
            return None
        binding.leased = True
        binding.expires = now + self.config.lease_time
        return binding

    def release(self, client_id: bytes) -> None:
        """The client gave its address back (RELEASE)."""
        binding = self.by_client.get(client_id)
        if binding is not None:
            self._drop(binding)

    def decline(self, client_id: bytes, address: IPv4Address) -> None:
        """The client found ``address`` in use (DECLINE): never hand it out again."""
        binding = self.by_client.get(client_id)
        if binding is not None and binding.address == address:
            self._drop(binding)
        self.declined.add(address)

    def leases(self) -> list[Binding]:
        """Every lease (not mere offers), by address."""
        return sorted((b for b in self.by_client.values() if b.leased), key=lambda b: b.address)

    def size(self) -> int:
        """How many addresses this pool can hand out in all."""
        return sum(1 for _ in self.config.candidates())

    def _eligible(self) -> set[IPv4Address]:
        return set(self.config.candidates())

    def _is_free(self, address: IPv4Address, now: float) -> bool:
        if address in self.declined:
            return False
        binding = self.by_address.get(address)
        if binding is None:
            return True
        if binding.expires <= now:
            self._drop(binding)
            return True
        return False

    def _drop(self, binding: Binding) -> None:
        self.by_client.pop(binding.client_id, None)
        if self.by_address.get(binding.address) is binding:
            del self.by_address[binding.address]
