"""The egress scheduler on its own: random arrivals into four queues of one port.

Whatever arrives, when and where, a correct scheduler

- loses nothing silently: every frame offered is sent or counted as dropped;
- keeps each queue first-in first-out, and never exceeds a queue's byte limit;
- never overlaps two frames on the wire, and keeps the 12-byte gap between them;
- is work-conserving: the transmitter rests only when every queue is empty;
- is strict about priority: a frame of another queue starts only when the expedite
  queue is empty at that instant.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.engine.sim import Simulation
from netsim.l2.frame import Frame
from netsim.phy.link import Link
from netsim.phy.port import WHOLE_FRAME, Port
from netsim.phy.queues import EgressQueues, QueueSettings

RATE = 100e6
BYTE_TIME = 8 / RATE


@dataclass
class Sink:
    """A device that records when each frame's first bit left the sender."""

    name: str = "sink"
    arrivals: list[tuple[float, Frame]] = field(default_factory=list)

    def bytes_needed(self, port: Port, frame: Frame) -> int:
        return WHOLE_FRAME

    def receive(self, port: Port, frame: Frame, hops: int, t_first: float, t_last: float) -> None:
        self.arrivals.append((t_first, frame))


arrival = st.tuples(
    st.floats(min_value=0.0, max_value=5e-4),  # when: often faster than the link
    st.integers(min_value=0, max_value=3),  # which queue
    st.sampled_from([64, 128, 594, 1000, 1518]),  # frame size
)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(
    arrivals=st.lists(arrival, min_size=1, max_size=120),
    expedite=st.booleans(),
    weights=st.lists(st.integers(min_value=1, max_value=8), min_size=4, max_size=4),
)
def test_random_arrivals_obey_the_scheduler_rules(arrivals, expedite, weights):
    sim = Simulation(1)
    sender, sink = Sink("sender"), Sink()
    port, far = Port(sender, "out", 20_000), Port(sink, "in", 20_000)
    Link(sim, port, far, RATE, 0.0)
    chosen: dict[int, int] = {}
    settings_ = QueueSettings(tuple(weights), (0.4, 0.4, 0.4, 0.4), 0 if expedite else None)
    queues = EgressQueues(sim, port, settings_, lambda f: chosen[f.frame_id])
    waiting: list[list[Frame]] = [[] for _ in range(4)]
    offered = accepted = 0

    def offer(queue: int, size: int) -> None:
        nonlocal offered, accepted
        frame = Frame(sim.next_frame_id(), 0x02_0000_0000_02, 0x02_0000_0000_01, size)
        chosen[frame.frame_id] = queue
        offered += 1
        if queues.enqueue(frame, 0, sim.now):
            accepted += 1
            waiting[queue].append(frame)
        for q in queues.queues:
            assert q.bytes <= q.limit_bytes

    for t, queue, size in arrivals:
        sim.call_at(t, offer, queue, size)
    sim.run()

    sent = [f for _, f in sink.arrivals]
    dropped = sum(q.counters.dropped for q in queues.queues)
    assert len(sent) + dropped == offered
    assert len(sent) == accepted
    for q in range(4):  # FIFO within each queue
        assert [f.frame_id for f in sent if chosen[f.frame_id] == q] == [
            f.frame_id for f in waiting[q]
        ]
    times = [t for t, _ in sink.arrivals]
    for (t0, f0), t1 in zip(sink.arrivals, times[1:], strict=False):
        assert t1 >= t0 + (f0.wire_bytes + 12) * BYTE_TIME - 1e-15
    # Work-conserving: a frame starts at its arrival or right after the previous gap.
    for i, (t, frame) in enumerate(sink.arrivals):
        arrived = arrivals_time(arrivals, frame.frame_id)
        if i == 0:
            assert t == arrived
        else:
            t0, f0 = sink.arrivals[i - 1]
            free = t0 + (f0.wire_bytes + 12) * BYTE_TIME
            assert abs(t - max(arrived, free)) < 1e-12
    if expedite:
        # No frame of another queue starts while an expedite frame that arrived earlier
        # is still waiting.
        start_of = {f.frame_id: t for t, f in sink.arrivals}
        priority = [f for f in sent if chosen[f.frame_id] == 0]
        for t, frame in sink.arrivals:
            if chosen[frame.frame_id] == 0:
                continue
            for p in priority:
                assert not (arrivals_time(arrivals, p.frame_id) < t < start_of[p.frame_id])


def arrivals_time(arrivals: list[tuple[float, int, int]], frame_id: int) -> float:
    """Frame ids are handed out in arrival order (ties in list order)."""
    ordered = sorted(range(len(arrivals)), key=lambda i: (arrivals[i][0], i))
    return arrivals[ordered[frame_id - 1]][0]
