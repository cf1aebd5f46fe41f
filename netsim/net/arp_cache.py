"""The ARP cache as pure logic: mappings that expire, packets that wait, requests that retry.

Nothing here sends or sleeps. The owner (a host's stack) calls the methods with the
current simulated time and acts on what they return:

1. To send an IP packet to a next hop, call :meth:`ArpCache.resolve`. It returns the
   MAC if the cache knows a fresh one; otherwise the packet is queued for that address.
2. Call :meth:`ArpCache.poll` whenever time passes (at :meth:`ArpCache.next_timer` at
   the latest). It says which ARP requests to broadcast now and which addresses failed,
   with the packets that were waiting for them (to drop, or to answer with ICMP host
   unreachable).
3. Feed every received ARP packet to :meth:`ArpCache.handle`. It returns the reply to
   send, if the packet was a request for us, and the queued packets released by what
   it taught us, to send now.

The timing follows RFC 1122 §2.3.2: at most one request per second for one address,
and a queue of waiting packets per unresolved address (RFC 1122 asks for at least one;
like Linux's historical default we keep three, the newest, dropping the oldest).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from netsim.l2.frame import MacAddress
from netsim.net.addressing import IPv4Address
from netsim.net.arp import ArpOp, ArpPacket

P = TypeVar("P")
"""Whatever the owner queues while an address resolves: usually an IPv4 packet."""


@dataclass(frozen=True, slots=True)
class ArpConfig:
    """Timing and sizes of the cache; the defaults are those of a typical host.

    ``entry_timeout`` is how long a learned mapping is trusted (Linux keeps an entry
    reachable for 15–45 s, BSD for 20 min; 60 s is a round middle). ``retry_interval``
    is the wait between two requests for one address (RFC 1122 §2.3.2.1: at most one
    a second). After ``max_requests`` unanswered requests, and one more interval, the
    address is declared unreachable. ``max_pending`` packets wait per address.
    """

    entry_timeout: float = 60.0
    retry_interval: float = 1.0
    max_requests: int = 3
    max_pending: int = 3

    def __post_init__(self) -> None:
        if self.entry_timeout <= 0 or self.retry_interval <= 0:
            raise ValueError("ARP timeouts must be positive")
        if self.max_requests < 1 or self.max_pending < 1:
            raise ValueError("ARP needs at least one request and one pending packet")


@dataclass(slots=True)
class _Entry:
    mac: MacAddress
    expires: float


@dataclass(slots=True)
class _Pending(Generic[P]):
    packets: deque[P]
    next_action: float
    """When the next request is due, or, after the last one, when the address fails."""
    requests_sent: int = 0


@dataclass(frozen=True, slots=True)
class ArpFailure(Generic[P]):
    """Resolution of ``ip`` failed; ``packets`` were waiting for it and are now dropped."""

    ip: IPv4Address
    packets: tuple[P, ...]


@dataclass(frozen=True, slots=True)
class ArpPoll(Generic[P]):
    """What :meth:`ArpCache.poll` asks its owner to do now."""

    requests: list[IPv4Address] = field(default_factory=list)
    """Addresses to broadcast an ARP request for, in this order."""
    failures: list[ArpFailure[P]] = field(default_factory=list)
    """Addresses that did not answer ``max_requests`` requests."""


@dataclass(frozen=True, slots=True)
class ArpHandled(Generic[P]):
    """What :meth:`ArpCache.handle` asks its owner to do with one received ARP packet."""

    reply: ArpPacket | None
    """A reply to unicast to the requester, if the packet asked for our address."""
    released: list[tuple[MacAddress, P]]
    """Queued packets whose next hop is now known, with the MAC to send them to."""


@dataclass(slots=True)
class ArpStats:
    """Counters for a results table."""

    requests_sent: int = 0
    replies_sent: int = 0
    failures: int = 0
    packets_dropped: int = 0
    """Packets dropped because their queue was full or their address failed."""


class ArpCache(Generic[P]):
    """One host's ARP cache and the queue of packets waiting for resolution."""

    def __init__(self, config: ArpConfig | None = None) -> None:
        self.config = config or ArpConfig()
        self.stats = ArpStats()
        self._entries: dict[IPv4Address, _Entry] = {}
        self._pending: dict[IPv4Address, _Pending[P]] = {}

    def lookup(self, ip: IPv4Address, now: float) -> MacAddress | None:
        """The MAC for ``ip`` if a mapping is known and has not expired."""
        entry = self._entries.get(ip)
        if entry is None:
            return None
        if entry.expires <= now:
            del self._entries[ip]
            return None
        return entry.mac

    def entry(self, ip: IPv4Address, now: float) -> tuple[MacAddress, float] | None:
        """The MAC of ``ip`` and when that mapping expires, if it is valid at ``now``
        (a router keeps it at hand until then, to skip a lookup per packet)."""
        entry = self._entries.get(ip)
        if entry is None or entry.expires <= now:
            return None
        return entry.mac, entry.expires

    def entries(self, now: float) -> dict[IPv4Address, MacAddress]:
        """The mappings valid at ``now``, as ``arp -a`` would show them."""
        return {ip: e.mac for ip, e in self._entries.items() if e.expires > now}

    def is_known(self, ip: IPv4Address) -> bool:
        """Has ``ip`` an entry (even an expired one) or a resolution in progress? Then a
        packet from it updates the entry (RFC 826's merge flag)."""
        return ip in self._entries or ip in self._pending

    def is_pending(self, ip: IPv4Address) -> bool:
        """True while a resolution of ``ip`` is in progress."""
        return ip in self._pending

    def resolve(self, ip: IPv4Address, packet: P, now: float) -> MacAddress | None:
        """Return the MAC of ``ip`` to send ``packet`` now, or queue ``packet`` and return None.

        Queuing for a new address makes a request due immediately: call :meth:`poll`.
        """
        mac = self.lookup(ip, now)
        if mac is not None:
            return mac
        pending = self._pending.get(ip)
        if pending is None:
            pending = _Pending(deque(), next_action=now)
            self._pending[ip] = pending
        if len(pending.packets) == self.config.max_pending:
            # RFC 1122 §2.3.2.2: keep the most recent packets, drop the oldest.
            pending.packets.popleft()
            self.stats.packets_dropped += 1
        pending.packets.append(packet)
        return None

    def poll(self, now: float) -> ArpPoll[P]:
        """Advance the retry schedule to ``now``: requests to send and addresses that failed."""
        result: ArpPoll[P] = ArpPoll()
        for ip, pending in list(self._pending.items()):
            if pending.next_action > now:
                continue
            if pending.requests_sent < self.config.max_requests:
                pending.requests_sent += 1
                pending.next_action = now + self.config.retry_interval
                self.stats.requests_sent += 1
                result.requests.append(ip)
            else:
                del self._pending[ip]
                self.stats.failures += 1
                self.stats.packets_dropped += len(pending.packets)
                result.failures.append(ArpFailure(ip, tuple(pending.packets)))
        return result

    def next_timer(self) -> float | None:
        """The earliest time :meth:`poll` has something to do, or None if nothing is pending."""
        if not self._pending:
            return None  # the usual case, asked after every packet: answer it first
        return min(p.next_action for p in self._pending.values())

    def learn(self, ip: IPv4Address, mac: MacAddress, now: float) -> list[P]:
        """Record that ``ip`` is at ``mac`` until the entry times out; return released packets."""
        self._entries[ip] = _Entry(mac, now + self.config.entry_timeout)
        pending = self._pending.pop(ip, None)
        return list(pending.packets) if pending is not None else []

    def handle(
        self, packet: ArpPacket, my_ip: IPv4Address, my_mac: MacAddress, now: float
    ) -> ArpHandled[P]:
        """Process a received ARP packet with RFC 826's "packet reception" algorithm.

        The sender's mapping is *updated* if we already have one or are resolving it
        (the merge flag), and *added* only if the packet is addressed to us, so a
        broadcast request does not fill every host's cache with every asker. A request
        for our address is answered.
        """
        released: list[P] = []
        merged = False
        if self.is_known(packet.sender_ip):
            released = self.learn(packet.sender_ip, packet.sender_mac, now)
            merged = True
        reply = None
        if packet.target_ip == my_ip:
            if not merged:
                released = self.learn(packet.sender_ip, packet.sender_mac, now)
            if packet.op is ArpOp.REQUEST:
                reply = packet.reply(my_mac)
                self.stats.replies_sent += 1
        return ArpHandled(reply, [(packet.sender_mac, p) for p in released])
