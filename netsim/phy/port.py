"""Ports: where a device meets a link, with an egress queue and the counters of a real NIC.

On a full-duplex port the egress queue is pure arithmetic: a frame accepted at time ``t``
starts when the transmitter is free (``max(t, tx_free)``), its last bit leaves ``W*8/R``
later, and the transmitter rests for the 12-byte inter-frame gap. No process polls the
queue; the buffer is the set of accepted frames whose last bit has not left yet. On a
half-duplex port the :class:`~netsim.phy.csma.CsmaCdStation` owns the queue instead, and
on a port with QoS its :class:`~netsim.phy.queues.EgressQueues`. A port that is a SPAN
source tells its session (:class:`SpanTap`) what it sends and receives.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np

    from netsim.phy.csma import CsmaCdStation
    from netsim.phy.link import Link
    from netsim.phy.queues import EgressQueues


class Duplex(StrEnum):
    """Full duplex: both directions at once, no collisions. Half: one shared channel."""

    FULL = "full"
    HALF = "half"


class WireFrame(Protocol):
    """What the physical layer needs to know about a frame (see :class:`netsim.l2.frame.Frame`)."""

    @property
    def frame_id(self) -> int: ...
    @property
    def dst(self) -> int: ...
    @property
    def length(self) -> int: ...
    @property
    def wire_bytes(self) -> int: ...
    @property
    def is_group(self) -> bool: ...
    @property
    def is_runt(self) -> bool: ...
    @property
    def fcs_ok(self) -> bool: ...
    def with_corruption(self) -> WireFrame: ...
    def truncated(self, length: int) -> WireFrame: ...


class PortOwner(Protocol):
    """A device with ports: it says how much of a frame it needs, then takes it."""

    name: str

    def bytes_needed(self, port: Port, frame: Any) -> int:
        """Wire bytes (preamble included) that must arrive before :meth:`receive` is called.

        ``frame`` is what the link layer put on the wire (a :class:`netsim.l2.frame.Frame`);
        the physical layer only relies on its :class:`WireFrame` side.
        """
        ...

    def receive(self, port: Port, frame: Any, hops: int, t_first: float, t_last: float) -> None:
        """Handle a frame whose first bit arrived at ``t_first`` and last bit at ``t_last``."""
        ...


class BackgroundFeed(Protocol):
    """Background load generated lazily on a port (see :mod:`netsim.apps.load`)."""

    def catch_up(self, until: float) -> None:
        """Put on the port every background frame due by ``until``, in time order."""
        ...


class SpanTap(Protocol):
    """A SPAN monitor session watching a source port (see :mod:`netsim.l2.span`)."""

    def received(self, port: Port, frame: WireFrame, hops: int, t_last: float) -> None:
        """``port`` received ``frame``, whose last bit arrived at ``t_last``."""
        ...

    def sent(self, port: Port, frame: WireFrame, hops: int, t_start: float) -> None:
        """``port`` sends ``frame``, whose first bit leaves at ``t_start``."""
        ...


BROADCAST_MAC = 0xFFFF_FFFF_FFFF
WHOLE_FRAME = 1 << 30
"""A ``bytes_needed`` answer meaning: call ``receive`` when the last bit is in."""
INTERFRAME_GAP_BYTES = 12
"""96 bit times of silence between two frames from one transmitter."""
SHORT_CUT_FROM = 16
"""Background bursts of this many frames or more are computed with NumPy (see
:meth:`Port.send_consumed_burst`); shorter ones go frame by frame."""


@dataclass(slots=True)
class PortCounters:
    """Interface counters, named after IF-MIB / EtherLike-MIB's."""

    rx_frames: int = 0
    rx_octets: int = 0
    tx_frames: int = 0
    tx_octets: int = 0
    rx_unicast: int = 0
    rx_multicast: int = 0
    rx_broadcast: int = 0
    tx_unicast: int = 0
    tx_multicast: int = 0
    tx_broadcast: int = 0
    discards: int = 0
    fcs_errors: int = 0
    runts: int = 0
    collisions: int = 0
    late_collisions: int = 0
    excessive_collisions: int = 0
    max_queue_bytes: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counters as a plain dict, in declaration order."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


class Port:
    """One interface of a device: its name, link, egress buffer and counters."""

    def __init__(self, owner: PortOwner, name: str, buffer_bytes: int) -> None:
        self.owner = owner
        self.name = name
        self.buffer_bytes = buffer_bytes
        self.link: Link | None = None
        self.rate = 0.0
        self.duplex = Duplex.FULL
        self.station: CsmaCdStation | None = None
        self.records_first_bit = False
        """True on a host's NIC: the trace notes when each frame's first bit leaves."""
        self.captured: list[tuple[float, WireFrame]] | None = None
        """When capturing: every frame sent (at its first bit) and received (at its last)."""
        self.counters = PortCounters()
        self.queues: EgressQueues | None = None
        """QoS egress queues (:mod:`netsim.phy.queues`); None keeps the single FIFO."""
        self.span: SpanTap | None = None
        """The SPAN session this port is a source of, if any."""
        self.background: BackgroundFeed | None = None
        """Background load that this port generates lazily: before the port's queue is
        used or looked at, at time ``t``, the load due by ``t`` is put in it first."""
        self._tx_free = 0.0
        self._backlog: deque[tuple[float, int]] = deque()
        self._backlog_bytes = 0

    def __repr__(self) -> str:
        return f"<Port {self.owner.name}:{self.name}>"

    @property
    def label(self) -> str:
        """``device:port``, as scenarios and results name a port."""
        return f"{self.owner.name}:{self.name}"

    def queued_bytes(self, now: float) -> int:
        """Bytes accepted for transmission whose last bit has not left by ``now``."""
        if self.station is not None:
            return self.station.queued_bytes
        if self.queues is not None:
            return self.queues.waiting_bytes
        if self.background is not None:
            self.background.catch_up(now)
        backlog = self._backlog
        while backlog and backlog[0][0] <= now:
            self._backlog_bytes -= backlog.popleft()[1]
        return self._backlog_bytes

    def takes_lazy_background(self) -> bool:
        """Can background load on this port be generated lazily, and stay exact?

        Yes on a full-duplex FIFO port that no SPAN session watches at either end: there
        the load meets nothing but this port's queue. A CSMA/CD station, QoS queues or a
        mirror act on each frame when it is sent, so there the load is sent frame by frame.
        """
        link = self.link
        return (
            link is not None
            and self.station is None
            and self.queues is None
            and self.span is None
            and link.peer(self).span is None
            and self.background is None
        )

    def is_idle(self, now: float) -> bool:
        """Nothing queued and the transmitter (inter-frame gap included) free at ``now``."""
        if self.station is not None:
            return self.station.is_idle
        if self.queues is not None:
            return self.queues.is_idle
        if self.background is not None:
            self.background.catch_up(now)
        return self._tx_free <= now

    def transmit(self, frame: WireFrame, hops: int, now: float) -> bool:
        """Queue ``frame`` for egress at ``now``; False if the buffer is full (tail drop).

        ``hops`` is the number of links the frame has crossed so far.
        """
        link = self.link
        if link is None or not link.up:
            return False
        if self.station is not None:
            return self.station.enqueue(frame, hops)
        if self.queues is not None:
            return self.queues.enqueue(frame, hops, now)
        if self.background is not None:
            self.background.catch_up(now)
        start = self._occupy(frame, now)
        if start is None:
            return False
        if self.captured is not None:
            self.captured.append((start, frame))
        if self.span is not None:
            self.span.sent(self, frame, hops, start)
        link.carry(self, frame, hops, start)
        return True

    def transmit_consumed(self, frame: WireFrame, now: float) -> bool:
        """Send a frame that the far end will consume without acting on it (background load).

        It takes its turn in the queue and on the wire like any frame, and is counted at
        both ends; but nothing needs to happen when it arrives, so no event is scheduled
        for it. That keeps a link loaded at 50 % of a gigabit affordable to simulate.
        """
        if self.background is not None:
            self.background.catch_up(now)
        return self.send_consumed(frame, now)

    def send_consumed(self, frame: WireFrame, now: float) -> bool:
        """:meth:`transmit_consumed` without first catching up lazy background load
        (what the lazy load itself calls)."""
        link = self.link
        if link is None or not link.up:
            return False
        if self.station is not None:
            return self.station.enqueue(frame, 0)
        if self.queues is not None:
            return self.queues.enqueue(frame, 0, now, consumed=True)
        start = self._occupy(frame, now)
        if start is None:
            return False
        if self.span is not None:
            self.span.sent(self, frame, 0, start)
        self.count_consumed_at_peer(frame, start)
        return True

    def send_consumed_burst(
        self,
        times: np.ndarray | Sequence[float],
        lengths: np.ndarray | Sequence[int],
        wire_overhead: int,
    ) -> None:
        """Send background frames to a link-local group address, as :meth:`send_consumed`
        would one by one: frame ``i`` is due at ``times[i]`` (in time order) and is
        ``lengths[i]`` bytes long, ``lengths[i] + wire_overhead`` on the wire.

        This is :meth:`_occupy`'s arithmetic, with a short cut: a frame that finds the
        transmitter free and nothing queued starts the moment it is due, and so does each
        following frame due after the one before it has left (gap included). Such runs of
        frames are computed for the whole burst at once, with the same floating-point
        operations; only frames that find the line busy go one by one. A test checks that
        this gives what frame-by-frame sending gives, to the last bit.
        """
        import numpy as np  # background load only: a plain run need not load NumPy

        link = self.link
        count = len(times)
        if link is None or not link.up or count == 0:
            return  # the link's state cannot change within a burst (see Link.__setattr__)
        c = self.counters
        byte_time = 8.0 / self.rate
        time_list = times.tolist() if isinstance(times, np.ndarray) else list(times)
        length_list = lengths.tolist() if isinstance(lengths, np.ndarray) else list(lengths)
        buffer_bytes = self.buffer_bytes
        # A frame longer than the whole buffer is dropped even on an idle port: no short cut.
        # A short burst goes frame by frame: NumPy's cost per call would outweigh the gain.
        short_cut = count >= SHORT_CUT_FROM and max(length_list) <= buffer_bytes
        waits: list[int] = []
        ends: list[float] = []
        frees: list[float] = []
        if short_cut:
            t = np.asarray(time_list, dtype=np.float64)
            ends_at = t + (np.asarray(length_list, dtype=np.int64) + wire_overhead) * byte_time
            free_at = ends_at + INTERFRAME_GAP_BYTES * byte_time
            # Frame i+1 waits for frame i (when i started at once) where i's gap outlasts it.
            waits = (np.flatnonzero(free_at[:-1] > t[1:]) + 1).tolist()
            ends, frees = ends_at.tolist(), free_at.tolist()
        backlog = self._backlog
        queued = self._backlog_bytes
        tx_free = self._tx_free
        most = c.max_queue_bytes
        sent = octets = 0
        i = 0
        while i < count:
            now, length = time_list[i], length_list[i]
            while backlog and backlog[0][0] <= now:
                queued -= backlog.popleft()[1]
            if short_cut and queued == 0 and tx_free <= now:
                # A run of frames that each start when due: up to the next that waits.
                k = bisect_left(waits, i + 1)
                last = waits[k] - 1 if k < len(waits) else count - 1
                run = length_list[i : last + 1]
                sent += len(run)
                octets += sum(run)
                most = max(most, max(run))
                tx_free = frees[last]
                backlog.append((ends[last], length_list[last]))
                queued = length_list[last]
                i = last + 1
                continue
            i += 1
            if queued + length > buffer_bytes:
                c.discards += 1
                continue
            start = now if tx_free <= now else tx_free
            end = start + (length + wire_overhead) * byte_time
            tx_free = end + INTERFRAME_GAP_BYTES * byte_time
            backlog.append((end, length))
            queued += length
            if queued > most:
                most = queued
            sent += 1
            octets += length
        self._backlog_bytes = queued
        self._tx_free = tx_free
        c.max_queue_bytes = most
        c.tx_frames += sent
        c.tx_octets += octets
        c.tx_multicast += sent
        peer = link.peer(self).counters
        peer.rx_frames += sent
        peer.rx_octets += octets
        peer.rx_multicast += sent

    def count_consumed_at_peer(self, frame: WireFrame, start: float) -> None:
        """Count a background-load frame, sent at ``start``, at the far end (which
        consumes it unseen, but may mirror it)."""
        link = self.link
        if link is None:
            return
        peer = link.peer(self)
        c = peer.counters
        c.rx_frames += 1
        c.rx_octets += frame.length
        c.rx_multicast += 1
        if peer.span is not None:
            t_last = start + link.delay_s + frame.wire_bytes * 8.0 / link.rate_bps
            peer.span.received(peer, frame, 0, t_last)

    def _occupy(self, frame: WireFrame, now: float) -> float | None:
        """Take buffer and transmitter time for ``frame``: its first bit's time, or None.

        Every frame at every hop comes through here: state is read into locals once, and
        the counting of :meth:`count_tx` is done in line.
        """
        size = frame.length
        backlog = self._backlog
        tx_free = self._tx_free
        if tx_free <= now:
            # The transmitter is free, gap included: every frame before has left.
            backlog.clear()
            queued = 0
            start = now
        else:
            queued = self._backlog_bytes
            while backlog and backlog[0][0] <= now:
                queued -= backlog.popleft()[1]
            start = tx_free
        c = self.counters
        if queued + size > self.buffer_bytes:
            self._backlog_bytes = queued
            c.discards += 1
            return None
        byte_time = 8.0 / self.rate
        end = start + frame.wire_bytes * byte_time
        self._tx_free = end + INTERFRAME_GAP_BYTES * byte_time
        backlog.append((end, size))
        queued += size
        self._backlog_bytes = queued
        if queued > c.max_queue_bytes:
            c.max_queue_bytes = queued
        c.tx_frames += 1
        c.tx_octets += size
        if frame.dst == BROADCAST_MAC:
            c.tx_broadcast += 1
        elif frame.is_group:
            c.tx_multicast += 1
        else:
            c.tx_unicast += 1
        return start

    def count_tx(self, frame: WireFrame) -> None:
        """Count a frame sent on this port."""
        c = self.counters
        c.tx_frames += 1
        c.tx_octets += frame.length
        dst = frame.dst
        if dst == BROADCAST_MAC:
            c.tx_broadcast += 1
        elif frame.is_group:
            c.tx_multicast += 1
        else:
            c.tx_unicast += 1

    def deliver(self, frame: WireFrame, hops: int, t_first: float, t_last: float) -> None:
        """A frame arriving from the link: count it and hand it to the owning device."""
        c = self.counters
        c.rx_frames += 1
        c.rx_octets += frame.length
        if frame.dst == BROADCAST_MAC:
            c.rx_broadcast += 1
        elif frame.is_group:
            c.rx_multicast += 1
        else:
            c.rx_unicast += 1
        if self.captured is not None:
            self.captured.append((t_last, frame))
        if self.span is not None:
            self.span.received(self, frame, hops, t_last)
        self.owner.receive(self, frame, hops, t_first, t_last)
