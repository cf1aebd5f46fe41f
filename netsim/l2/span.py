"""SPAN: a monitor session copies the frames of source ports to a destination port.

Cisco's ``monitor session 1 source interface Gi0/1 - 2 both`` and ``monitor session 1
destination interface Gi0/24``: every frame received (``rx``) and/or sent (``tx``, or
``both``) on a source port is copied to the destination port, where an analyzer listens.

The copies are real frames on the destination's egress: they wait in its queue and take
their time on its wire, so mirroring two busy ports onto one port of the same speed
oversubscribes it, and the copies that do not fit are dropped (counted per session; the
originals are not affected). A received frame is copied once it is whole and its FCS
checked (a switch mirrors what it accepted); a sent frame when its first bit leaves.

A session's sources may be VLANs instead (VSPAN, ``monitor session 1 source vlan 10``):
then its taps sit on every port that carries one of them, and copy only the frames of
those VLANs (a trunk carries others too).

A destination port belongs to the session alone: the switch forwards nothing else to
it, and ignores what arrives on it (Catalyst's default, without ``ingress``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from netsim.engine.sim import Simulation
from netsim.phy.port import Port, WireFrame


class Direction(StrEnum):
    """Which traffic of a source port is copied."""

    RX = "rx"
    TX = "tx"
    BOTH = "both"


@dataclass(frozen=True)
class MonitorSpec:
    """A monitor session as data: what a scenario's ``monitor:`` entry resolves to."""

    number: int
    sources: tuple[str, ...]
    """The source ports (for source VLANs: every port that carries one of them)."""
    direction: Direction
    destination: str
    vlans: tuple[int, ...] = ()
    """Source VLANs: copy only their frames. Empty: every frame of the source ports."""


@dataclass
class SessionCounters:
    """What one monitor session did (a row of span.csv)."""

    rx_copies: int = 0
    """Copies of received frames handed to the destination."""
    tx_copies: int = 0
    """Copies of sent frames handed to the destination."""
    dropped: int = 0
    """Copies the destination could not take (its queue was full, or its link down)."""


class MonitorSession:
    """One SPAN session on one switch: source ports, a direction, a destination port."""

    def __init__(
        self,
        sim: Simulation,
        number: int,
        sources: Sequence[Port],
        direction: Direction,
        destination: Port,
        vlans: frozenset[int] = frozenset(),
        vlan_of: Callable[[Port, Any], int | None] | None = None,
    ) -> None:
        """``vlans`` (with ``vlan_of``, which tells a frame's VLAN on a port) limits the
        copies to frames of those VLANs."""
        if destination in sources:
            raise ValueError(f"{destination.label} cannot be both source and destination")
        self.sim = sim
        self.number = number
        self.sources = tuple(sources)
        self.direction = direction
        self.destination = destination
        self.counters = SessionCounters()
        self._rx = direction in (Direction.RX, Direction.BOTH)
        self._tx = direction in (Direction.TX, Direction.BOTH)
        if vlans and vlan_of is None:
            raise ValueError("source VLANs need a way to tell a frame's VLAN")
        self.vlans = vlans
        self._vlan_of = vlan_of
        for port in self.sources:
            if port.span is not None:
                raise ValueError(f"{port.label} is already a source of another session")
            port.span = self

    def received(self, port: Port, frame: WireFrame, hops: int, t_last: float) -> None:
        """``port`` received ``frame`` (its last bit at ``t_last``)."""
        if self._rx and frame.fcs_ok and self._watched(port, frame):
            self.counters.rx_copies += 1
            self._copy_at(t_last, frame, hops)

    def sent(self, port: Port, frame: WireFrame, hops: int, t_start: float) -> None:
        """``port`` starts sending ``frame`` at ``t_start``."""
        if self._tx and self._watched(port, frame):
            self.counters.tx_copies += 1
            self._copy_at(t_start, frame, hops)

    def _watched(self, port: Port, frame: WireFrame) -> bool:
        """Is ``frame`` one this session copies (any frame, or one of its VLANs)?"""
        if not self.vlans:
            return True
        assert self._vlan_of is not None
        return self._vlan_of(port, frame) in self.vlans

    def _copy_at(self, t: float, frame: WireFrame, hops: int) -> None:
        if t > self.sim.now:
            self.sim.call_at(t, self._copy, frame, hops)
        else:
            self._copy(frame, hops)

    def _copy(self, frame: WireFrame, hops: int) -> None:
        if not self.destination.transmit(frame, hops, self.sim.now):
            self.counters.dropped += 1

    def row(self, device: str) -> dict[str, object]:
        """This session as a row of span.csv."""
        return {
            "device": device,
            "session": self.number,
            "sources": " ".join(p.name for p in self.sources)
            if not self.vlans
            else "vlan " + ",".join(str(v) for v in sorted(self.vlans)),
            "direction": str(self.direction),
            "destination": self.destination.name,
            "rx_copies": self.counters.rx_copies,
            "tx_copies": self.counters.tx_copies,
            "dropped": self.counters.dropped,
        }
