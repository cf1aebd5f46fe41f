"""VRRP version 3 (RFC 5798) for IPv4, sans-IO: a master and its backups.

**On the wire** (RFC 5798 §5). An advertisement is IP protocol 112 to 224.0.0.18 with
TTL 255 (a receiver drops any other TTL: the packet cannot have come from off-link),
sent from the virtual MAC 00:00:5E:00:01:XX (XX the virtual router id, VRID)::

    version 3 | type 1 (advertisement) | VRID | priority | count of addresses
    reserved (4 bits) | max advertise interval (12 bits, centiseconds) | checksum
    IPv4 address(es)

The checksum covers the message and the IPv4 pseudo-header (source, destination, zero,
protocol 112, length), like UDP's.

**The protocol** (§6.4). A router whose priority is 255 owns the address and starts as
master; the others start as backups and wait the *master down interval*:
3 × advertisement interval + skew, skew = (256 − priority) × interval / 256. The master
advertises every interval (1 s). A backup that hears an advertisement restarts its
master-down timer; when the timer fires, it becomes master, advertises at once and
broadcasts a gratuitous ARP for the virtual address. At the defaults (priority 100,
1 s) the master down interval is 3.609 s, so a backup takes over between 2.609 s and
3.609 s after the master dies; the higher a backup's priority, the sooner it moves.

**Preemption** is on by default: a backup of higher priority than the master ignores the
master's advertisements, so its timer fires and it takes over; the master, hearing a
better advertisement, falls back. A master that shuts down sends priority 0, and backups
then wait only the skew time.

States are :class:`VrrpState`, inputs :class:`VrrpInput`, the legal moves
:data:`TRANSITIONS`; :meth:`VrrpRouter._enter` does what entering a state means.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import Enum

from netsim.l2.frame import MacAddress
from netsim.l3.fhrp.common import FhrpEvent, Forward, Send, StateChanged, StopForwarding
from netsim.net.addressing import IPv4Address, IPv4Interface
from netsim.net.checksum import internet_checksum, ones_complement_sum
from netsim.net.errors import DecodeError

PROTOCOL = 112
"""VRRP's IP protocol number."""
GROUP = IPv4Address("224.0.0.18")
"""Where advertisements go."""
TTL = 255
"""Advertisements are sent with TTL 255 and received only with it (RFC 5798 §5.1.1.3)."""
VERSION = 3
TYPE_ADVERTISEMENT = 1
OWNER_PRIORITY = 255
"""The priority of the router that owns the virtual address as an interface address."""
HEADER_BYTES = 8

_HEADER = struct.Struct("!BBBBHH")


def virtual_mac(vrid: int) -> MacAddress:
    """The virtual router's MAC, 00:00:5E:00:01:XX (RFC 5798 §7.3)."""
    return 0x0000_5E00_0100 | (vrid & 0xFF)


@dataclass(frozen=True, slots=True)
class VrrpAdvertisement:
    """One VRRPv3 advertisement: the virtual router, the sender's priority and interval."""

    vrid: int
    priority: int
    addresses: tuple[IPv4Address, ...]
    interval: float = 1.0
    """The advertisement interval in seconds (sent in centiseconds)."""

    def to_bytes(self, src: IPv4Address, dst: IPv4Address = GROUP) -> bytes:
        """The IP payload with its checksum over the pseudo-header of ``src``/``dst``."""
        if not 1 <= self.vrid <= 255:
            raise ValueError(f"VRRP: VRID {self.vrid} is not 1..255")
        if not 0 <= self.priority <= 255:
            raise ValueError(f"VRRP: priority {self.priority} is not 0..255")
        centis = round(self.interval * 100)
        if not 1 <= centis <= 0xFFF:
            raise ValueError(f"VRRP: interval {self.interval} s is not 0.01..40.95 s")
        if not 1 <= len(self.addresses) <= 255:
            raise ValueError("VRRP: between 1 and 255 virtual addresses")
        body = _HEADER.pack(
            VERSION << 4 | TYPE_ADVERTISEMENT, self.vrid, self.priority, len(self.addresses),
            centis, 0,
        ) + b"".join(a.packed for a in self.addresses)  # fmt: skip
        checksum = internet_checksum(body, _pseudo_sum(src, dst, len(body)))
        return body[:6] + checksum.to_bytes(2, "big") + body[8:]

    @classmethod
    def from_bytes(
        cls, data: bytes, src: IPv4Address, dst: IPv4Address = GROUP
    ) -> VrrpAdvertisement:
        """Decode an IP payload from ``src``; :class:`DecodeError` names what is wrong."""
        if len(data) < HEADER_BYTES:
            raise DecodeError(f"VRRP: {len(data)} bytes, shorter than the 8-byte header")
        ver_type, vrid, priority, count, interval, _csum = _HEADER.unpack_from(data)
        if ver_type >> 4 != VERSION:
            raise DecodeError(f"VRRP: version {ver_type >> 4}, netsim speaks version 3")
        if ver_type & 0x0F != TYPE_ADVERTISEMENT:
            raise DecodeError(f"VRRP: type {ver_type & 0x0F}, expected 1 (advertisement)")
        length = HEADER_BYTES + 4 * count
        if count == 0 or len(data) < length:
            raise DecodeError(f"VRRP: {count} addresses need {length} bytes, got {len(data)}")
        if internet_checksum(data[:length], _pseudo_sum(src, dst, length)) != 0:
            raise DecodeError("VRRP: checksum mismatch")
        addresses = tuple(IPv4Address(data[i : i + 4]) for i in range(HEADER_BYTES, length, 4))
        if interval & 0xFFF == 0:
            raise DecodeError("VRRP: advertisement interval 0")
        return cls(vrid, priority, addresses, (interval & 0xFFF) / 100)


def _pseudo_sum(src: IPv4Address, dst: IPv4Address, length: int) -> int:
    return ones_complement_sum(src.packed + dst.packed + struct.pack("!BBH", 0, PROTOCOL, length))


@dataclass(frozen=True, slots=True)
class VrrpConfig:
    """``vrrp GROUP ip ADDRESS``, ``priority``, ``preempt``, ``timers advertise``."""

    vrid: int
    virtual_ip: IPv4Address
    priority: int = 100
    preempt: bool = True
    interval: float = 1.0

    @property
    def virtual_mac(self) -> MacAddress:
        """00:00:5E:00:01:{VRID}."""
        return virtual_mac(self.vrid)

    def skew_time(self, interval: float) -> float:
        """(256 − priority) × interval / 256 (RFC 5798 §6.1)."""
        return (256 - self.priority) * interval / 256

    def master_down_interval(self, interval: float) -> float:
        """3 × interval + skew: how long a backup waits without hearing the master."""
        return 3 * interval + self.skew_time(interval)


class VrrpState(Enum):
    """RFC 5798 §6.4."""

    INITIALIZE = "initialize"
    BACKUP = "backup"
    MASTER = "master"


class VrrpInput(Enum):
    """What moves a virtual router between states."""

    STARTUP_OWNER = "startup as address owner"
    STARTUP = "startup"
    MASTER_DOWN = "master down timer expired"
    BETTER_MASTER = "advertisement from a better master"
    SHUTDOWN = "shutdown"


_V, _I = VrrpState, VrrpInput
TRANSITIONS: dict[tuple[VrrpState, VrrpInput], VrrpState] = {
    (_V.INITIALIZE, _I.STARTUP_OWNER): _V.MASTER,
    (_V.INITIALIZE, _I.STARTUP): _V.BACKUP,
    (_V.BACKUP, _I.MASTER_DOWN): _V.MASTER,
    (_V.BACKUP, _I.SHUTDOWN): _V.INITIALIZE,
    (_V.MASTER, _I.BETTER_MASTER): _V.BACKUP,
    (_V.MASTER, _I.SHUTDOWN): _V.INITIALIZE,
}
"""Every legal move; any other (state, input) pair changes nothing."""


class VrrpRouter:
    """One router interface's instance of one virtual router (VRID).

    ``interface`` is the router's own address (the advertisement's source, and the tie
    break between equal priorities); ``mac`` its burned-in MAC.
    """

    def __init__(self, config: VrrpConfig, interface: IPv4Interface, mac: MacAddress) -> None:
        if config.virtual_ip not in interface.network:
            raise ValueError(
                f"VRRP group {config.vrid}: virtual IP {config.virtual_ip} is outside "
                f"the interface's subnet {interface.network}"
            )
        self.config = config
        self.interface = interface
        self.mac = mac
        self.state = VrrpState.INITIALIZE
        """Where this router stands."""
        self.master_router: IPv4Address | None = None
        """The master as last heard (this router's address when it is master)."""
        self.master_interval = config.interval
        """The master's advertisement interval, learned from its advertisements."""
        self._master_down_at: float | None = None
        self._advert_at: float | None = None
        self._events: list[FhrpEvent] = []

    @property
    def priority(self) -> int:
        """255 if this router owns the virtual address, else the configured priority."""
        owner = self.config.virtual_ip == self.interface.ip
        return OWNER_PRIORITY if owner else self.config.priority

    # -- inputs --------------------------------------------------------------------------

    def start(self, now: float) -> None:
        """Startup event (RFC 5798 §6.4.1)."""
        owner = self.priority == OWNER_PRIORITY
        self._apply(VrrpInput.STARTUP_OWNER if owner else VrrpInput.STARTUP, now)

    def shutdown(self, now: float) -> None:
        """Graceful shutdown: a master advertises priority 0 so backups move at once."""
        if self.state is VrrpState.MASTER:
            self._advertise(priority=0)
        self._apply(VrrpInput.SHUTDOWN, now)
        self._master_down_at = self._advert_at = None

    def receive(self, advert: VrrpAdvertisement, sender: IPv4Address, ttl: int, now: float) -> None:
        """An advertisement arrived from ``sender`` with IP TTL ``ttl`` (§6.4.2, §6.4.3)."""
        config = self.config
        if advert.vrid != config.vrid or ttl != TTL or sender == self.interface.ip:
            return
        if self.state is VrrpState.BACKUP:
            if advert.priority == 0:
                self._master_down_at = now + config.skew_time(self.master_interval)
            elif not config.preempt or advert.priority >= self.priority:
                self.master_router = sender
                self.master_interval = advert.interval
                self._master_down_at = now + config.master_down_interval(advert.interval)
            # else: preempting; let the master down timer fire.
        elif self.state is VrrpState.MASTER:
            if advert.priority == 0:
                self._advertise()
                self._advert_at = now + config.interval
                return
            better = (advert.priority, int(sender)) > (self.priority, int(self.interface.ip))
            if better:
                self.master_router = sender
                self.master_interval = advert.interval
                self._apply(VrrpInput.BETTER_MASTER, now)

    def tick(self, now: float) -> None:
        """Run the timers due at ``now``: the master-down timer, the advertisement timer."""
        if self._master_down_at is not None and self._master_down_at <= now:
            self._master_down_at = None
            self._apply(VrrpInput.MASTER_DOWN, now)
        if self._advert_at is not None and self._advert_at <= now:
            self._advertise()
            self._advert_at = now + self.config.interval

    def next_timer(self) -> float | None:
        """When :meth:`tick` next has work, or None."""
        times = [t for t in (self._master_down_at, self._advert_at) if t is not None]
        return min(times) if times else None

    def events(self) -> list[FhrpEvent]:
        """What the router must do, in order, since the last call (the list is drained)."""
        out, self._events = self._events, []
        return out

    # -- machinery -----------------------------------------------------------------------

    def _apply(self, event: VrrpInput, now: float) -> None:
        new = TRANSITIONS.get((self.state, event))
        if new is not None:
            self._enter(new, now, event)

    def _enter(self, new: VrrpState, now: float, cause: VrrpInput) -> None:
        old, self.state = self.state, new
        config = self.config
        self._events.append(
            StateChanged(now, "vrrp", config.vrid, old.value, new.value, cause.value)
        )
        if old is VrrpState.MASTER:
            self._events.append(StopForwarding(config.virtual_ip, config.virtual_mac))
        if new is VrrpState.MASTER:
            self.master_router = self.interface.ip
            self._master_down_at = None
            self._advertise()
            self._events.append(Forward(config.virtual_ip, config.virtual_mac))
            self._advert_at = now + config.interval
        elif new is VrrpState.BACKUP:
            self._advert_at = None
            self._master_down_at = now + config.master_down_interval(self.master_interval)

    def _advertise(self, priority: int | None = None) -> None:
        config = self.config
        advert = VrrpAdvertisement(
            config.vrid,
            self.priority if priority is None else priority,
            (config.virtual_ip,),
            config.interval,
        )
        payload = advert.to_bytes(self.interface.ip)
        self._events.append(Send(payload, GROUP, PROTOCOL, TTL, config.virtual_mac))
