"""Egress queues with a scheduler: one strict-priority queue and shared round robin.

A port with QoS has several egress queues (four on a Catalyst 2960/3750). Each frame is
put in one of them by a *selector* that the switch supplies (its CoS/DSCP-to-queue map,
:mod:`netsim.l2.qos`); this module only knows queue numbers. When the transmitter is
free, the scheduler picks the next frame:

1. the **expedite** (strict-priority) queue first, whenever it holds a frame: queue 1 on
   a Catalyst with ``priority-queue out``. The scheduler never pre-empts a frame on the
   wire, so a priority frame waits at most the rest of one frame and its gap;
2. otherwise the other queues share the link by **deficit round robin** over their
   *shared weights* (Catalyst SRR in shared mode): each visit adds ``weight`` quanta of
   credit to a queue, which sends frames while its credit covers them. Under saturation
   each queue gets ``weight / sum(weights)`` of the bytes; an empty queue's share goes to
   the others (the mode is work-conserving, as SRR shared mode is).

Each queue has a tail-drop limit (a share of the port's buffer) and the port as a whole
its buffer: a frame that would exceed either is dropped and counted.

Unlike a FIFO port (:class:`~netsim.phy.port.Port` does those arithmetically, with no
event per frame), the order of departures here depends on frames that have not arrived
yet, so the transmitter schedules one event per frame: the instant its inter-frame gap
ends, when it chooses again.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from netsim.engine.sim import Simulation
    from netsim.phy.port import Port, WireFrame

INTERFRAME_GAP_BYTES = 12
MAX_WIRE_BYTES = 1522 + 8
"""The longest frame on the wire (tagged, with preamble): the round-robin quantum."""

QueueSelector = Callable[[Any], int]
"""Given a frame, the queue index (0-based) it goes to."""


@dataclass(frozen=True)
class QueueSettings:
    """How one port's egress queues are set up.

    ``weights`` and ``limits`` have one entry per queue. A weight of the expedite queue is
    ignored (it is served first, whatever its weight). ``limits`` are shares of the
    port's buffer (0 < limit <= 1) beyond which a queue tail-drops.
    """

    weights: tuple[int, ...]
    limits: tuple[float, ...]
    expedite: int | None = None
    """Index of the strict-priority queue, or None for pure shared round robin."""

    def __post_init__(self) -> None:
        if len(self.weights) != len(self.limits) or not self.weights:
            raise ValueError("one weight and one limit per queue")
        if any(w <= 0 for w in self.weights):
            raise ValueError("a shared weight must be positive")
        if any(not 0.0 < x <= 1.0 for x in self.limits):
            raise ValueError("a queue limit is a share of the buffer: above 0, at most 100 %")
        if self.expedite is not None and not 0 <= self.expedite < len(self.weights):
            raise ValueError(f"no queue {self.expedite + 1} to expedite")
        if self.expedite is not None and len(self.weights) < 2:
            raise ValueError("an expedite queue needs at least one other queue to share")


@dataclass
class QueueCounters:
    """What one egress queue saw during a run (a row of queues.csv)."""

    enqueued: int = 0
    """Frames accepted into the queue."""
    dropped: int = 0
    """Frames refused: the queue's limit or the port's buffer was full (tail drop)."""
    tx_frames: int = 0
    tx_octets: int = 0
    max_depth_bytes: int = 0
    """The most bytes waiting in the queue at once (frames not yet started)."""
    max_depth_frames: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counters as a plain dict, in declaration order."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


class _Queue:
    """One FIFO of frames waiting, with its byte count, limit and DRR credit."""

    __slots__ = ("bytes", "counters", "credit", "frames", "limit_bytes", "quantum")

    def __init__(self, limit_bytes: int, quantum: int) -> None:
        self.frames: deque[tuple[WireFrame, int, bool]] = deque()
        """(frame, hops, consumed): consumed frames are background load (no receiver)."""
        self.bytes = 0
        self.limit_bytes = limit_bytes
        self.quantum = quantum
        self.credit = 0
        self.counters = QueueCounters()


class EgressQueues:
    """The queues and scheduler of one full-duplex port (see the module docstring)."""

    def __init__(
        self,
        sim: Simulation,
        port: Port,
        settings: QueueSettings,
        select: QueueSelector,
    ) -> None:
        self.sim = sim
        self.port = port
        self.settings = settings
        self.select = select
        # Quanta in proportion to the weights, the smallest one frame of the largest size,
        # so every visit to a backlogged queue sends at least one frame.
        smallest = min(w for i, w in enumerate(settings.weights) if i != settings.expedite)
        buffer = port.buffer_bytes
        self.queues = [
            _Queue(int(limit * buffer), -(-weight * MAX_WIRE_BYTES // smallest))
            for weight, limit in zip(settings.weights, settings.limits, strict=True)
        ]
        self.expedite = settings.expedite
        self._shared = [i for i in range(len(self.queues)) if i != self.expedite]
        self._turn = 0
        """Position in the round of the shared queue being served."""
        self._fresh_visit = True
        """The queue at ``_turn`` has not had its quantum for this visit yet."""
        self._waiting_bytes = 0
        self._tx_free = 0.0
        self._wake_pending = False

    @property
    def waiting_bytes(self) -> int:
        """Bytes of frames queued and not yet started."""
        return self._waiting_bytes

    @property
    def is_idle(self) -> bool:
        """Nothing waiting and the transmitter (gap included) free now."""
        return not self._waiting_bytes and self._tx_free <= self.sim.now

    def enqueue(self, frame: WireFrame, hops: int, now: float, consumed: bool = False) -> bool:
        """Queue ``frame`` in the queue its selector picks; False if tail-dropped."""
        queue = self.queues[self.select(frame)]
        size = frame.length
        port = self.port
        counters = queue.counters
        if queue.bytes + size > queue.limit_bytes or self._waiting_bytes + size > port.buffer_bytes:
            counters.dropped += 1
            port.counters.discards += 1
            return False
        queue.frames.append((frame, hops, consumed))
        queue.bytes += size
        self._waiting_bytes += size
        counters.enqueued += 1
        if queue.bytes > counters.max_depth_bytes:
            counters.max_depth_bytes = queue.bytes
        if len(queue.frames) > counters.max_depth_frames:
            counters.max_depth_frames = len(queue.frames)
        if self._waiting_bytes > port.counters.max_queue_bytes:
            port.counters.max_queue_bytes = self._waiting_bytes
        if not self._wake_pending:
            if self._tx_free <= now:
                self._send_next()
            else:
                self._wake_pending = True
                self.sim.call_at(self._tx_free, self._wake)
        return True

    def _wake(self) -> None:
        self._wake_pending = False
        if self._waiting_bytes:
            self._send_next()

    def _pick(self) -> _Queue:
        """The queue whose head frame goes next: expedite first, then deficit round robin."""
        queues = self.queues
        if self.expedite is not None and queues[self.expedite].frames:
            return queues[self.expedite]
        shared = self._shared
        while True:
            queue = queues[shared[self._turn]]
            if queue.frames:
                if self._fresh_visit:
                    queue.credit += queue.quantum
                    self._fresh_visit = False
                if queue.frames[0][0].wire_bytes <= queue.credit:
                    return queue
            else:
                queue.credit = 0  # an empty queue keeps no credit (DRR)
            self._turn = (self._turn + 1) % len(shared)
            self._fresh_visit = True

    def _send_next(self) -> None:
        """Start the chosen frame now and wake when its inter-frame gap is over."""
        port = self.port
        link = port.link
        now = self.sim.now
        if link is None or not link.up:
            self._drop_all(now)
            return
        queue = self._pick()
        frame, hops, consumed = queue.frames.popleft()
        size = frame.length
        queue.bytes -= size
        self._waiting_bytes -= size
        if self.expedite is None or queue is not self.queues[self.expedite]:
            queue.credit -= frame.wire_bytes  # the expedite queue needs no credit
        counters = queue.counters
        counters.tx_frames += 1
        counters.tx_octets += size
        byte_time = 8.0 / port.rate
        self._tx_free = now + (frame.wire_bytes + INTERFRAME_GAP_BYTES) * byte_time
        port.count_tx(frame)
        if port.span is not None:
            port.span.sent(port, frame, hops, now)
        if consumed:
            port.count_consumed_at_peer(frame, now)
        else:
            if port.captured is not None:
                port.captured.append((now, frame))
            link.carry(port, frame, hops, now)
        if self._waiting_bytes:
            self._wake_pending = True
            self.sim.call_at(self._tx_free, self._wake)

    def _drop_all(self, now: float) -> None:
        """The link went down with frames waiting: they are lost."""
        trace = self.sim.trace
        device = self.port.owner.name
        for queue in self.queues:
            for frame, hops, consumed in queue.frames:
                queue.counters.dropped += 1
                if not consumed:
                    trace.frame_dropped(frame.frame_id, device, "link-down", now, hops)
            queue.frames.clear()
            queue.bytes = 0
        self._waiting_bytes = 0

    def rows(self) -> list[dict[str, Any]]:
        """One row per queue for queues.csv: settings and counters."""
        out: list[dict[str, Any]] = []
        weights: Sequence[int] = self.settings.weights
        for i, queue in enumerate(self.queues):
            row: dict[str, Any] = {
                "queue": i + 1,
                "expedite": i == self.expedite,
                "weight": weights[i],
                "limit_bytes": queue.limit_bytes,
            }
            row.update(queue.counters.as_dict())
            out.append(row)
        return out
