"""The structured trace of a run: what happened to every frame and every MAC table.

Devices append plain tuples here while the simulation runs (cheap, no logging, no
DataFrames on the hot path); :mod:`netsim.metrics` turns them into tables at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass, field

SentRecord = tuple[int, str, str, int, float, str]
"""frame_id, source host, destination (host name or ``broadcast``), size, t_queued, traffic."""
DeliveryRecord = tuple[int, str, float, int]
"""frame_id, receiving host, t_last_bit_in, hops (links crossed)."""
DropRecord = tuple[int, str, str, float, int]
"""frame_id, device, reason, time, hops."""
MacRecord = tuple[float, str, str, int, str, int]
"""time, device, event, mac, port, vlan."""
HopRecord = tuple[int, str, str, float, float, float, float, int]
"""frame_id, from port, to port, first bit out, last bit out, first bit in, last bit in, bytes."""


@dataclass
class Trace:
    """Append-only lists of the events that results are built from."""

    sent: list[SentRecord] = field(default_factory=list)
    delivered: list[DeliveryRecord] = field(default_factory=list)
    dropped: list[DropRecord] = field(default_factory=list)
    mac_events: list[MacRecord] = field(default_factory=list)
    expected_receivers: dict[int, int] = field(default_factory=dict)
    """frame_id -> how many hosts must receive a group-addressed frame for it to count."""
    followed: Container[int] = frozenset()
    """Frames whose every hop is recorded in :attr:`hops` (ladder diagrams, replays): a set
    of ids, or a :class:`FrameWindow` that takes every frame sent in a stretch of time."""
    hops: list[HopRecord] = field(default_factory=list)
    carried: dict[int, object] = field(default_factory=dict)
    """frame_id -> the first copy of each followed frame put on a link (for its bytes)."""
    on_hop: Callable[[float, object, object], None] | None = None
    """If set, called for each followed hop with (time its last bit arrives, sending
    port, receiving port): a replay copies the counters it changed at that instant."""
    tables: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    """Rows written by applications (``ping``, ``tcp``, ``imap``): one CSV file each."""
    first_bit_out: dict[int, float] = field(default_factory=dict)
    """frame_id -> when its first bit left the source host (the last attempt, on a hub)."""
    sample: int = 1
    """Which frames :attr:`sent`, :attr:`delivered` and :attr:`dropped` record: 1 every
    frame, N one frame in N (chosen by :meth:`keeps`), 0 none. A run of ten million
    frames need not hold ten million records."""
    frames_sent: int = 0
    """Frames hosts sent, recorded or not."""

    def keeps(self, frame_id: int) -> bool:
        """Is ``frame_id`` one of the frames recorded?

        A sample takes the frames whose id, scrambled by a multiplicative hash, falls in
        one residue class: ids of interleaved flows (odd one flow, even the other) would
        make a plain ``id % N`` pick one flow only.
        """
        sample = self.sample
        if sample == 1:
            return True
        return sample != 0 and ((frame_id * 0x9E3779B97F4A7C15) >> 16) % sample == 0

    def frame_sent(
        self, frame_id: int, src: str, dst: str, size: int, t_queued: float, traffic: str
    ) -> None:
        """A host handed a new frame to its NIC at ``t_queued``."""
        self.frames_sent += 1
        if self.sample == 1 or self.keeps(frame_id):
            self.sent.append((frame_id, src, dst, size, t_queued, traffic))

    def frame_delivered(self, frame_id: int, host: str, t_last_bit_in: float, hops: int) -> None:
        """A host accepted an intact copy addressed to it."""
        if self.sample == 1 or self.keeps(frame_id):
            self.delivered.append((frame_id, host, t_last_bit_in, hops))

    def frame_dropped(
        self, frame_id: int, device: str, reason: str, time: float, hops: int
    ) -> None:
        """A copy of a frame was discarded, and why."""
        if self.sample == 1 or self.keeps(frame_id):
            self.dropped.append((frame_id, device, reason, time, hops))

    def first_bit(self, frame_id: int, time: float) -> None:
        """The first bit of frame ``frame_id`` left its source host at ``time``."""
        if self.sample == 1 or self.keeps(frame_id):
            self.first_bit_out[frame_id] = time

    def receivers_expected(self, frame_id: int, count: int) -> None:
        """Group-addressed frame ``frame_id`` counts as delivered once ``count`` hosts have it."""
        if self.sample == 1 or self.keeps(frame_id):
            self.expected_receivers[frame_id] = count

    def row(self, table: str, **columns: object) -> None:
        """Append a row to an application's results table (e.g. one ping, one transfer)."""
        self.tables.setdefault(table, []).append(columns)

    def mac_event(
        self, time: float, device: str, event: str, mac: int, port: str, vlan: int = 1
    ) -> None:
        """A MAC address table learned, refreshed, moved, aged out, flooded or was full,
        for ``mac`` in ``vlan``."""
        self.mac_events.append((time, device, event, mac, port, vlan))


class FrameWindow:
    """Follow every frame put on a link between ``start`` and ``end`` (a replay's window).

    A frame taken in is followed to the end of its journey; at most ``limit`` frames are
    taken, so that a long run does not fill memory: :attr:`cut_at` then says when the
    window filled up. Only runs that ask for a window pay for this check; others follow
    a plain (usually empty) set of ids.
    """

    def __init__(self, clock: Callable[[], float], start: float, end: float, limit: int) -> None:
        self.clock = clock
        self.start = start
        self.end = end
        self.limit = limit
        self.taken: set[int] = set()
        self.cut_at: float | None = None
        """The first time a frame was left out because :attr:`limit` frames were taken."""

    def __contains__(self, frame_id: object) -> bool:
        if frame_id in self.taken:
            return True
        now = self.clock()
        if not self.start <= now <= self.end or not isinstance(frame_id, int):
            return False
        if len(self.taken) >= self.limit:
            if self.cut_at is None:
                self.cut_at = now
            return False
        self.taken.add(frame_id)
        return True
