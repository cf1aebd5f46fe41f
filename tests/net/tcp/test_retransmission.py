"""Loss recovery: fast retransmit on three duplicate ACKs, and Karn's rule for RTT samples."""

from __future__ import annotations

import pytest

from netsim.net.tcp.config import TcpConfig
from netsim.net.tcp.connection import TcpConnection
from netsim.net.tcp.demux import OutgoingSegment
from netsim.net.tcp.endpoint import Endpoint
from netsim.net.tcp.events import DataReceived, TcpEvent

from .harness import A, B, Impairments, Network


class Reader:
    """Reads everything it is given."""

    def __init__(self) -> None:
        self.received = bytearray()

    def __call__(self, net: Network, conn: TcpConnection, event: TcpEvent) -> None:
        if isinstance(event, DataReceived):
            self.received += conn.read()


def drop_first_copy_of(positions: set[int]) -> tuple[list[float], object]:
    """A dropper for data segments of A whose payload starts at one of ``positions``
    (byte offsets in the stream); only the first transmission of each is dropped."""
    dropped: list[float] = []
    seen: set[int] = set()
    base: list[int] = []

    def drop(out: OutgoingSegment) -> bool:
        seg = out.segment
        if out.src != A or not seg.payload:
            return False
        if not base:
            base.append(seg.seq)
        offset = (seg.seq - base[0]) % 2**32
        if offset in positions and offset not in seen:
            seen.add(offset)
            dropped.append(offset)
            return True
        return False

    return dropped, drop


def setup(config: TcpConfig, drop: object, **kw: object) -> tuple[Network, TcpConnection, Reader]:
    net = Network(**kw)  # type: ignore[arg-type]
    net.impairments = Impairments(drop=drop)  # type: ignore[arg-type]
    reader = Reader()
    net.add_host(A, config)
    net.add_host(B, config, reader).listen(143)
    conn = net.hosts[A].connect(Endpoint(B, 143), 0.0)
    net.run(until=0.05)
    return net, conn, reader


def test_three_duplicate_acks_trigger_fast_retransmit() -> None:
    """Lose one segment in a flight of ten: the receiver's duplicate ACKs make the sender
    resend it after about one RTT, long before the 200 ms retransmission timeout."""
    dropped, drop = drop_first_copy_of({2 * 1460})
    net, conn, reader = setup(TcpConfig(initial_window=10), drop)
    data = bytes(i % 256 for i in range(10 * 1460))
    start = net.now
    conn.send(data)
    net.pump(A)
    net.run(until=5.0)
    assert dropped == [2920]
    assert bytes(reader.received) == data
    assert conn.stats.fast_retransmits == 1
    assert conn.stats.timeouts == 0
    assert conn.stats.retransmissions == 1
    assert conn.stats.duplicate_acks >= 3
    resent = [t for t, s in net.data_segments(A) if (s.seq - conn.iss - 1) % 2**32 == 2920]
    assert len(resent) == 2
    assert resent[1] - start == pytest.approx(0.001, abs=0.0005), "one RTT, not an RTO"
    assert conn.cc.ssthresh == 4 * 1460, "half of the 8 segments in flight at the 3rd dup ACK"


def test_two_duplicate_acks_are_not_enough() -> None:
    """With only two segments after the hole, recovery has to wait for the timer."""
    _dropped, drop = drop_first_copy_of({1460})
    net, conn, reader = setup(TcpConfig(initial_window=10), drop)
    data = bytes(4 * 1460)
    conn.send(data)
    net.pump(A)
    net.run(until=5.0)
    assert bytes(reader.received) == data
    assert conn.stats.fast_retransmits == 0
    assert conn.stats.timeouts == 1


def test_newreno_repairs_two_holes_without_a_timeout() -> None:
    """Two losses in one window: the partial ACK after the first repair resends the second."""
    dropped, drop = drop_first_copy_of({2 * 1460, 6 * 1460})
    net, conn, reader = setup(TcpConfig(initial_window=12), drop)
    data = bytes(12 * 1460)
    conn.send(data)
    net.pump(A)
    net.run(until=5.0)
    assert bytes(reader.received) == data
    assert dropped == [2920, 8760]
    assert conn.stats.timeouts == 0 and conn.stats.retransmissions == 2


def test_karn_no_rtt_sample_from_a_retransmitted_segment() -> None:
    """Karn's rule: the ACK of a segment that was sent twice is ambiguous, so it gives no
    RTT sample, and the backed-off RTO stays until a segment sent once is acknowledged."""
    dropped, drop = drop_first_copy_of({0})
    net, conn, reader = setup(TcpConfig(delayed_ack=False), drop, delay=0.005)
    samples_before = list(conn.stats.rtt_samples)
    assert samples_before == [pytest.approx(0.010)], "the handshake's SYN was timed"
    conn.send(b"a" * 100)
    net.pump(A)
    net.run(until=1.0)
    assert dropped == [0] and conn.stats.timeouts == 1
    assert reader.received == b"a" * 100
    assert conn.stats.rtt_samples == samples_before, "no sample from the retransmission"
    assert conn.rto.rto == pytest.approx(0.4), "the backed-off RTO (2 × 200 ms) is kept"
    conn.send(b"b" * 100)
    net.pump(A)
    net.run(until=2.0)
    assert conn.stats.rtt_samples[-1] == pytest.approx(0.010)
    assert len(conn.stats.rtt_samples) == 2
    assert conn.rto.rto == pytest.approx(0.2), "a clean sample ends the back-off"
