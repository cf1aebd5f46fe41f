"""Windows: slow start fills the pipe, the receive window caps it, a slow reader stops it.

The link here has no bit rate, only a 5 ms one-way delay, so everything a sender may
send leaves at once and a round trip later the ACKs let the next burst go: counting
segments per burst shows the windows directly. The receiver ACKs every segment
(delayed ACKs off) to keep the arithmetic exact; its application reads every byte as
soon as it arrives, but just after the ACK for it left, so one segment is still unread
when each ACK's window is computed (as in a real kernel).
"""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from netsim.net.tcp.config import TcpConfig
from netsim.net.tcp.connection import TcpConnection
from netsim.net.tcp.endpoint import Endpoint
from netsim.net.tcp.events import DataReceived, TcpEvent

from .harness import A, B, Network

MSS = 1460
RTT = 0.010


def bulk(receive_buffer: int, nbytes: int = 200_000) -> tuple[Network, TcpConnection, list[int]]:
    """Send ``nbytes`` to an eager reader; return the segments sent per round trip."""
    net = Network(delay=RTT / 2)

    def reader(net: Network, conn: TcpConnection, event: TcpEvent) -> None:
        if isinstance(event, DataReceived):
            conn.read()

    net.add_host(A, TcpConfig())
    net.add_host(B, TcpConfig(receive_buffer=receive_buffer, delayed_ack=False), reader)
    net.hosts[B].listen(143)
    conn = net.hosts[A].connect(Endpoint(B, 143), 0.0)
    net.run(until=0.1)
    conn.send(bytes(nbytes))
    net.pump(A)
    net.run(until=10.0)
    per_burst = Counter(round(t, 6) for t, _ in net.data_segments(A))
    return net, conn, [per_burst[t] for t in sorted(per_burst)]


def test_slow_start_doubles_each_round_trip_until_the_window_caps_it() -> None:
    """3, 6, 12, 24 segments (RFC 5681 IW = 3), then 43: the 64075-byte window / 1460."""
    _, conn, bursts = bulk(receive_buffer=65535)
    assert bursts[:6] == [3, 6, 12, 24, 43, 43]
    assert conn.stats.retransmissions == 0


def test_window_limited_throughput_is_window_over_rtt() -> None:
    """With a 10-segment buffer the advertised window is 9 segments (one is unread when
    the ACK leaves), so the sender delivers 9 × 1460 bytes per 10 ms round trip."""
    net, _, bursts = bulk(receive_buffer=10 * MSS)
    assert bursts[:3] == [3, 6, 9]
    steady = bursts[2:-2]
    assert set(steady) == {9}
    windows = {o.segment.window for t, o in net.sent if o.src == B and t > 0.13}
    assert min(windows) == 9 * MSS
    burst_times = sorted({round(t, 6) for t, _ in net.data_segments(A)})
    gaps = {round(b - a, 6) for a, b in itertools.pairwise(burst_times)}
    assert gaps == {RTT}, "one burst per round trip"
    steady_goodput = sum(steady) * MSS / (len(steady) * RTT)
    assert steady_goodput == pytest.approx(9 * MSS / RTT)  # 1.31 MB/s


def test_slow_reader_closes_the_window_and_the_sender_probes() -> None:
    """A reader that sleeps lets the buffer fill: the window drops to 0, the sender stops
    and sends zero-window probes (RFC 9293 §3.8.6.1) until reading reopens the window."""
    net = Network(delay=RTT / 2)
    received = bytearray()
    net.add_host(A, TcpConfig())
    net.add_host(B, TcpConfig(receive_buffer=8 * MSS))
    net.hosts[B].listen(143)
    conn = net.hosts[A].connect(Endpoint(B, 143), 0.0)
    net.run(until=0.1)
    server = next(iter(net.hosts[B].connections))
    data = bytes(i % 253 for i in range(40_000))
    conn.send(data)
    net.pump(A)
    net.run(until=3.0)
    assert server.readable == 8 * MSS, "the buffer is full"
    assert conn.snd_wnd == 0
    assert conn.stats.window_probes >= 2
    probe_windows = [o.segment.window for t, o in net.sent if o.src == B and t > 1.0]
    assert probe_windows and set(probe_windows) == {0}, "each probe is answered: still 0"

    def drain() -> None:
        received.extend(server.read())
        net.pump(B)

    while len(received) < len(data) and net.now < 60.0:
        net.at(net.now + 0.05, drain)
        net.run(until=net.now + 0.05)
    assert bytes(received) == data
    assert conn.stats.retransmissions == 0, "probes are not retransmissions"


def test_receiver_silly_window_avoidance() -> None:
    """After the window closed, reading a few bytes does not advertise a tiny window:
    the window reopens only once at least one MSS is free (RFC 1122 §4.2.3.3)."""
    net = Network(delay=RTT / 2)
    net.add_host(A, TcpConfig())
    net.add_host(B, TcpConfig(receive_buffer=8 * MSS))
    net.hosts[B].listen(143)
    conn = net.hosts[A].connect(Endpoint(B, 143), 0.0)
    net.run(until=0.1)
    server = next(iter(net.hosts[B].connections))
    conn.send(bytes(20 * MSS))
    net.pump(A)
    net.run(until=0.5)
    assert conn.snd_wnd == 0
    sent_before = len(net.sent)
    server.read(100)
    net.pump(B)
    assert len(net.sent) == sent_before, "100 free bytes are not worth a window update"
    server.read(4 * MSS)
    net.pump(B)
    update = net.sent[-1][1].segment
    assert update.window >= 4 * MSS
    net.run(until=0.6)
    assert min(len(s.payload) for t, s in net.data_segments(A) if t > 0.5) == MSS


def test_trace_shows_slow_start_then_the_window_limit() -> None:
    """With ``trace`` on, each ACK records cwnd: it climbs by one MSS per ACK from the
    initial 3 segments while the flight stays within the peer's window."""
    net = Network(delay=RTT / 2)
    net.add_host(A, TcpConfig(trace=True))
    net.add_host(B, TcpConfig(delayed_ack=False, receive_buffer=10 * MSS))
    net.hosts[B].listen(143)
    conn = net.hosts[A].connect(Endpoint(B, 143), 0.0)
    net.run(until=0.1)
    conn.send(bytes(30 * MSS))
    net.pump(A)
    net.run(until=1.0)
    data_acks = [s for s in conn.trace if s.time > 0.1]
    assert [s.cwnd // MSS for s in data_acks[:5]] == [4, 5, 6, 7, 8]
    assert all(s.flight_size <= s.snd_wnd + MSS for s in conn.trace)
    assert conn.trace[-1].srtt == pytest.approx(RTT, rel=0.05)


@pytest.mark.parametrize(("restart", "expected"), [(True, 3), (False, 20)])
def test_cwnd_restarts_after_idle(restart: bool, expected: int) -> None:
    """After a pause longer than the RTO the sender starts again from the initial window
    (RFC 5681 §4.1): a second 20-segment response leaves 3 segments first, not all 20."""
    net = Network(delay=RTT / 2)

    def reader(net: Network, conn: TcpConnection, event: TcpEvent) -> None:
        if isinstance(event, DataReceived):
            conn.read()

    net.add_host(A, TcpConfig(slow_start_after_idle=restart))
    net.add_host(B, TcpConfig(delayed_ack=False), reader)
    net.hosts[B].listen(143)
    conn = net.hosts[A].connect(Endpoint(B, 143), 0.0)
    net.run(until=0.1)
    conn.send(bytes(60 * MSS))
    net.pump(A)
    net.run(until=1.0)
    assert conn.cc.cwnd > 20 * MSS
    conn.send(bytes(20 * MSS))
    net.pump(A)
    first_burst = [s for t, s in net.data_segments(A) if t == net.now]
    assert len(first_burst) == expected
