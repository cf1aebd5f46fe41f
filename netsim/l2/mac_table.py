"""The MAC address table of a learning switch or bridge (IEEE 802.1D filtering database).

Pure logic, no simulation: the switch tells the table what it saw and when, the table
answers where an address lives and reports what it did through a listener:

- ``learn``: a new source address is bound to the port it arrived on;
- ``refresh``: a known address seen again on the same port restarts its aging timer;
- ``move``: a known address seen on another port (the host moved) is re-bound;
- ``age-out``: an entry not refreshed for the aging time is removed;
- ``full``: the table has no room, so the address is not learned (frames to it flood).

Learning is per VLAN (IEEE 802.1Q independent VLAN learning, IVL): an entry is keyed by
the VLAN and the address, so one station seen in VLANs 10 and 20 on two ports has two
entries, and a lookup in VLAN 10 never finds a port learned in VLAN 20. Every method takes
the VLAN, defaulting to 1 (where every port of an unconfigured switch is).

Aging is exact but lazy: entries are kept in the order they were last refreshed, so the
oldest are at the front and every call removes those whose time has come, reporting the
instant each one expired, not the instant the removal was noticed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Collection
from enum import StrEnum
from typing import Generic, TypeVar

from netsim.l2.frame import MacAddress

DEFAULT_VLAN = 1
"""The VLAN of every port of a switch that has no VLAN configuration."""
_MAC_MASK = (1 << 48) - 1


def _key(vlan: int, mac: MacAddress) -> int:
    """One int for (VLAN, address), cheap to hash: VLAN - 1 above the 48 address bits, so
    VLAN 1's keys are the bare addresses and an unconfigured switch computes nothing."""
    return mac if vlan == 1 else ((vlan - 1) << 48) | mac


def _split(key: int) -> tuple[MacAddress, int]:
    """(address, VLAN) of a key made by :func:`_key`."""
    return key & _MAC_MASK, (key >> 48) + 1


P = TypeVar("P")
"""Whatever the owner uses to name a port."""


class MacEvent(StrEnum):
    """What happened in a MAC table (the ``event`` column of mac_events.csv)."""

    LEARN = "learn"
    REFRESH = "refresh"
    MOVE = "move"
    AGE_OUT = "age-out"
    FLOOD = "flood"
    FULL = "full"


Listener = Callable[[float, MacEvent, MacAddress, P, int], None]
"""Told (time, event, address, port, VLAN) of everything the table does."""


class MacTable(Generic[P]):
    """(VLAN, address) -> port bindings with aging, a capacity, and static entries.

    ``aging_time`` of 0 means entries never age (as ``mac address-table aging-time 0``).
    ``capacity`` counts dynamic entries; ``None`` is unlimited. The ``listener`` hears of
    every event, or only of those in ``reported``: a refresh happens on every frame, and
    a listener that ignores refreshes should not be called for each one.
    """

    def __init__(
        self,
        aging_time: float = 300.0,
        capacity: int | None = None,
        listener: Listener[P] | None = None,
        reported: Collection[MacEvent] = frozenset(MacEvent),
    ) -> None:
        self.aging_time = aging_time
        self.capacity = capacity
        self.listener = listener
        self._report_refresh = MacEvent.REFRESH in reported
        self._dynamic: OrderedDict[int, tuple[P, float]] = OrderedDict()
        """(VLAN, address) key -> (port, last seen), least recently seen first."""
        self._static: dict[int, P] = {}
        self._check_at = float("inf")
        """No entry can expire before this time (the oldest entry's expiry, or earlier)."""

    def __len__(self) -> int:
        return len(self._dynamic) + len(self._static)

    def __contains__(self, mac: object) -> bool:
        """Is ``mac`` known in VLAN 1? (``table.has(mac, vlan)`` asks about any VLAN.)"""
        return isinstance(mac, int) and self.has(mac, DEFAULT_VLAN)

    def has(self, mac: MacAddress, vlan: int = DEFAULT_VLAN) -> bool:
        """Is ``mac`` known (static or dynamic) in ``vlan``?"""
        key = _key(vlan, mac)
        return key in self._static or key in self._dynamic

    def add_static(self, mac: MacAddress, port: P, vlan: int = DEFAULT_VLAN) -> None:
        """Bind ``mac`` in ``vlan`` to ``port`` for good: never aged, never moved by learning."""
        key = _key(vlan, mac)
        self._dynamic.pop(key, None)
        self._static[key] = port

    def learn(self, mac: MacAddress, port: P, now: float, vlan: int = DEFAULT_VLAN) -> None:
        """Record that a frame from ``mac`` in ``vlan`` arrived on ``port`` at ``now``."""
        if now >= self._check_at:
            self.age(now)
        key = mac if vlan == 1 else ((vlan - 1) << 48) | mac  # _key, inlined: every frame
        if self._static and key in self._static:
            return
        dynamic = self._dynamic
        entry = dynamic.get(key)
        listener = self.listener
        if entry is not None and entry[0] == port:
            # A refresh, the common case (every frame from a known station): no event
            # unless the listener asked for refreshes.
            dynamic.move_to_end(key)
            dynamic[key] = (port, now)
            if self.aging_time > 0 and now + self.aging_time < self._check_at:
                self._check_at = now + self.aging_time
            if self._report_refresh and listener is not None:
                listener(now, MacEvent.REFRESH, mac, port, vlan)
            return
        if entry is None:
            if self.capacity is not None and len(dynamic) >= self.capacity:
                if listener is not None:
                    listener(now, MacEvent.FULL, mac, port, vlan)
                return
            event = MacEvent.LEARN
        else:
            event = MacEvent.MOVE
            dynamic.move_to_end(key)
        dynamic[key] = (port, now)
        if self.aging_time > 0 and now + self.aging_time < self._check_at:
            self._check_at = now + self.aging_time
        if listener is not None:
            listener(now, event, mac, port, vlan)

    def lookup(self, mac: MacAddress, now: float, vlan: int = DEFAULT_VLAN) -> P | None:
        """The port ``mac`` was last seen on in ``vlan``, or None if unknown (flood)."""
        key = mac if vlan == 1 else ((vlan - 1) << 48) | mac  # _key, inlined: every frame
        if self._static:
            port = self._static.get(key)
            if port is not None:
                return port
        if now >= self._check_at:
            self.age(now)
        entry = self._dynamic.get(key)
        return None if entry is None else entry[0]

    def age(self, now: float) -> None:
        """Remove every dynamic entry whose aging time has run out by ``now``."""
        if now < self._check_at:
            return  # the common case, on every frame: nothing can have expired yet
        aging = self.aging_time
        if aging <= 0:
            self._check_at = float("inf")
            return
        dynamic = self._dynamic
        while dynamic:
            key, (port, seen) = next(iter(dynamic.items()))
            if seen + aging > now:
                self._check_at = seen + aging
                return
            del dynamic[key]
            if self.listener is not None:
                mac, vlan = _split(key)
                self.listener(seen + aging, MacEvent.AGE_OUT, mac, port, vlan)
        self._check_at = float("inf")

    def flush_port(self, port: P, now: float) -> None:
        """Forget the dynamic entries on ``port`` (its link went down), reporting them aged out."""
        for key, (bound, _) in list(self._dynamic.items()):
            if bound == port:
                del self._dynamic[key]
                if self.listener is not None:
                    mac, vlan = _split(key)
                    self.listener(now, MacEvent.AGE_OUT, mac, port, vlan)

    def set_aging(self, aging_time: float, now: float) -> None:
        """Change the aging time; entries now expire ``aging_time`` after they were last seen."""
        self.age(now)
        self.aging_time = aging_time
        self._check_at = float("-inf")  # expiry times moved: look again at the next call
        if aging_time <= 0:
            return
        # Entries already older than the new aging time go now, not at some past instant.
        dynamic = self._dynamic
        while dynamic:
            key, (port, seen) = next(iter(dynamic.items()))
            if seen + aging_time > now:
                break
            del dynamic[key]
            if self.listener is not None:
                mac, vlan = _split(key)
                self.listener(now, MacEvent.AGE_OUT, mac, port, vlan)

    def clear(self, now: float) -> None:
        """Forget every dynamic entry (``clear mac address-table dynamic``), reporting each
        as aged out at ``now``, so that the event log still tells what the table holds."""
        for key, (port, _) in list(self._dynamic.items()):
            del self._dynamic[key]
            if self.listener is not None:
                mac, vlan = _split(key)
                self.listener(now, MacEvent.AGE_OUT, mac, port, vlan)
        self._check_at = float("inf")

    def entries(self, vlan: int = DEFAULT_VLAN) -> dict[MacAddress, P]:
        """A snapshot of the bindings of ``vlan``, static and dynamic, by address."""
        return {mac: port for (v, mac), port in self.vlan_entries().items() if v == vlan}

    def vlan_entries(self) -> dict[tuple[int, MacAddress], P]:
        """A snapshot of every binding, static and dynamic, by (VLAN, address)."""
        out: dict[tuple[int, MacAddress], P] = {}
        for key, (port, _) in self._dynamic.items():
            mac, vlan = _split(key)
            out[vlan, mac] = port
        for key, port in self._static.items():
            mac, vlan = _split(key)
            out[vlan, mac] = port
        return out
