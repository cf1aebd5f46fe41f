"""The MAC address table of a learning switch or bridge (IEEE 802.1D filtering database).

Pure logic, no simulation: the switch tells the table what it saw and when, the table
answers where an address lives and reports what it did through a listener:

- ``learn``: a new source address is bound to the port it arrived on;
- ``refresh``: a known address seen again on the same port restarts its aging timer;
- ``move``: a known address seen on another port (the host moved) is re-bound;
- ``age-out``: an entry not refreshed for the aging time is removed;
- ``full``: the table has no room, so the address is not learned (frames to it flood).

Aging is exact but lazy: entries are kept in the order they were last refreshed, so the
oldest are at the front and every call removes those whose time has come, reporting the
instant each one expired, not the instant the removal was noticed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from enum import StrEnum
from typing import Generic, TypeVar

from netsim.l2.frame import MacAddress

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


Listener = Callable[[float, MacEvent, MacAddress, P], None]


class MacTable(Generic[P]):
    """Address -> port bindings with aging, a capacity, and static entries.

    ``aging_time`` of 0 means entries never age (as ``mac address-table aging-time 0``).
    ``capacity`` counts dynamic entries; ``None`` is unlimited.
    """

    def __init__(
        self,
        aging_time: float = 300.0,
        capacity: int | None = None,
        listener: Listener[P] | None = None,
    ) -> None:
        self.aging_time = aging_time
        self.capacity = capacity
        self.listener = listener
        self._dynamic: OrderedDict[MacAddress, tuple[P, float]] = OrderedDict()
        self._static: dict[MacAddress, P] = {}
        self._check_at = float("inf")
        """No entry can expire before this time (the oldest entry's expiry, or earlier)."""

    def __len__(self) -> int:
        return len(self._dynamic) + len(self._static)

    def __contains__(self, mac: object) -> bool:
        return mac in self._static or mac in self._dynamic

    def add_static(self, mac: MacAddress, port: P) -> None:
        """Bind ``mac`` to ``port`` for good: never aged, never moved by learning."""
        self._dynamic.pop(mac, None)
        self._static[mac] = port

    def learn(self, mac: MacAddress, port: P, now: float) -> None:
        """Record that a frame from ``mac`` arrived on ``port`` at ``now``."""
        self.age(now)
        if mac in self._static:
            return
        entry = self._dynamic.get(mac)
        listener = self.listener
        if entry is None:
            if self.capacity is not None and len(self._dynamic) >= self.capacity:
                if listener is not None:
                    listener(now, MacEvent.FULL, mac, port)
                return
            event = MacEvent.LEARN
        else:
            event = MacEvent.REFRESH if entry[0] == port else MacEvent.MOVE
            self._dynamic.move_to_end(mac)
        self._dynamic[mac] = (port, now)
        if self.aging_time > 0 and now + self.aging_time < self._check_at:
            self._check_at = now + self.aging_time
        if listener is not None:
            listener(now, event, mac, port)

    def lookup(self, mac: MacAddress, now: float) -> P | None:
        """The port ``mac`` was last seen on, or None if unknown (the frame must flood)."""
        port = self._static.get(mac)
        if port is not None:
            return port
        self.age(now)
        entry = self._dynamic.get(mac)
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
            mac, (port, seen) = next(iter(dynamic.items()))
            if seen + aging > now:
                self._check_at = seen + aging
                return
            del dynamic[mac]
            if self.listener is not None:
                self.listener(seen + aging, MacEvent.AGE_OUT, mac, port)
        self._check_at = float("inf")

    def flush_port(self, port: P, now: float) -> None:
        """Forget the dynamic entries on ``port`` (its link went down), reporting them aged out."""
        for mac, (bound, _) in list(self._dynamic.items()):
            if bound == port:
                del self._dynamic[mac]
                if self.listener is not None:
                    self.listener(now, MacEvent.AGE_OUT, mac, port)

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
            mac, (port, seen) = next(iter(dynamic.items()))
            if seen + aging_time > now:
                break
            del dynamic[mac]
            if self.listener is not None:
                self.listener(now, MacEvent.AGE_OUT, mac, port)

    def clear(self, now: float) -> None:
        """Forget every dynamic entry (``clear mac address-table dynamic``), reporting each
        as aged out at ``now``, so that the event log still tells what the table holds."""
        for mac, (port, _) in list(self._dynamic.items()):
            del self._dynamic[mac]
            if self.listener is not None:
                self.listener(now, MacEvent.AGE_OUT, mac, port)
        self._check_at = float("inf")

    def entries(self) -> dict[MacAddress, P]:
        """A snapshot of all bindings, static and dynamic."""
        out = {mac: port for mac, (port, _) in self._dynamic.items()}
        out.update(self._static)
        return out
