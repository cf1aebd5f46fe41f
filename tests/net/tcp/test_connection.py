"""One TCP connection's life, observed through the test harness: handshake to TIME-WAIT.

Each test builds a two-host :class:`~.harness.Network` (0.5 ms one way unless it says
otherwise), lets simulated time run, and checks what a student would check in a
packet trace.
"""

from __future__ import annotations

import itertools

import pytest

from netsim.net.tcp.config import TcpConfig
from netsim.net.tcp.connection import TcpConnection
from netsim.net.tcp.demux import OutgoingSegment
from netsim.net.tcp.endpoint import Endpoint
from netsim.net.tcp.events import (
    Closed,
    Connected,
    DataReceived,
    EndOfStream,
    Reset,
    TcpEvent,
    TimedOut,
    Writable,
)
from netsim.net.tcp.segment import TcpFlags
from netsim.net.tcp.states import TcpState, TcpStateError

from .harness import A, B, Impairments, Network


class Recorder:
    """An application that reads everything, remembers events and can echo or close."""

    def __init__(self, *, close_on_eof: bool = True) -> None:
        self.events: list[tuple[float, TcpEvent]] = []
        self.received = bytearray()
        self.close_on_eof = close_on_eof

    def __call__(self, net: Network, conn: TcpConnection, event: TcpEvent) -> None:
        self.events.append((net.now, event))
        if isinstance(event, DataReceived):
            self.received += conn.read()
        if isinstance(event, EndOfStream) and self.close_on_eof:
            conn.close()

    def kinds(self) -> list[type]:
        return [type(e) for _, e in self.events]

    def time_of(self, kind: type) -> float:
        return next(t for t, e in self.events if isinstance(e, kind))


def pair(
    config: TcpConfig | None = None,
    server_config: TcpConfig | None = None,
    **network: object,
) -> tuple[Network, Recorder, Recorder]:
    net = Network(**network)  # type: ignore[arg-type]
    client, server = Recorder(), Recorder()
    net.add_host(A, config, client)
    net.add_host(B, server_config or config, server).listen(143)
    return net, client, server


def test_three_way_handshake() -> None:
    """SYN, SYN-ACK, ACK; both carry MSS 1460; both ends hear Connected after one RTT or so."""
    net, client, server = pair()
    conn = net.hosts[A].connect(Endpoint(B, 143), 0.0)
    net.run(until=0.1)
    syn, syn_ack, ack = (o.segment for _, o in net.sent[:3])
    assert syn.flags == TcpFlags.SYN and syn.mss == 1460
    assert syn_ack.flags == TcpFlags.SYN | TcpFlags.ACK and syn_ack.ack == (syn.seq + 1) % 2**32
    assert ack.flags == TcpFlags.ACK and ack.ack == (syn_ack.seq + 1) % 2**32
    assert client.time_of(Connected) == pytest.approx(0.001)
    assert server.time_of(Connected) == pytest.approx(0.0015)
    assert conn.state is TcpState.ESTABLISHED
    assert conn.stats.rtt_samples == [pytest.approx(0.001)], "the SYN was timed"


def test_mss_is_the_smaller_of_both_offers() -> None:
    """A peer that offers MSS 536 gets segments of at most 536 bytes."""
    net, _client, server = pair(TcpConfig(), TcpConfig(mss=536))
    conn = net.hosts[A].connect(Endpoint(B, 143), 0.0)
    net.run(until=0.01)
    conn.send(bytes(5000))
    net.pump(A)
    net.run(until=1.0)
    assert conn.smss == 536
    assert max(len(s.payload) for _, s in net.data_segments(A)) == 536
    assert bytes(server.received) == bytes(5000)


def test_orderly_close_and_time_wait() -> None:
    """The closer passes FIN-WAIT-1/2 into TIME-WAIT for 2 MSL; the other side LAST-ACK."""
    net, client, server = pair(TcpConfig(msl=5.0))
    conn = net.hosts[A].connect(Endpoint(B, 143), 0.0)
    net.run(until=0.01)
    conn.send(b"bye")
    conn.close()
    assert conn.state is TcpState.FIN_WAIT_1
    net.pump(A)
    net.run(until=1.0)
    assert conn.state is TcpState.TIME_WAIT
    assert bytes(server.received) == b"bye"
    assert server.kinds() == [Connected, DataReceived, EndOfStream, Closed]
    closed_at = client.time_of(EndOfStream)
    net.run(until=20.0)
    assert conn.state is TcpState.CLOSED
    assert client.time_of(Closed) == pytest.approx(closed_at + 10.0)


def test_simultaneous_close_passes_through_closing() -> None:
    """When both FINs cross on the wire, both ends go through CLOSING to TIME-WAIT."""
    net, _client, server = pair(TcpConfig(msl=1.0), delay=0.01)
    server.close_on_eof = False
    conn = net.hosts[A].connect(Endpoint(B, 143), 0.0)
    net.run(until=0.1)
    peer = next(iter(net.hosts[B].connections))
    conn.close()
    peer.close()
    net.pump(A)
    net.pump(B)
    states = set()
    while net.now < 0.2:
        net.run(until=net.now + 0.001)
        states |= {conn.state, peer.state}
    assert TcpState.CLOSING in states
    assert conn.state is peer.state is TcpState.TIME_WAIT


def test_connection_refused() -> None:
    """A SYN to a port nobody listens on is answered with RST: the client hears Reset(refused)."""
    net, client, _ = pair()
    conn = net.hosts[A].connect(Endpoint(B, 25), 0.0)
    net.run(until=0.1)
    rst = net.sent[1][1].segment
    assert rst.flags == TcpFlags.RST | TcpFlags.ACK
    assert [e for _, e in client.events] == [Reset(refused=True), Closed()]
    assert conn.state is TcpState.CLOSED


def test_abort_resets_the_peer() -> None:
    """abort() sends a RST at once; the peer hears Reset and Closed."""
    net, client, server = pair()
    conn = net.hosts[A].connect(Endpoint(B, 143), 0.0)
    net.run(until=0.01)
    conn.abort()
    net.pump(A)
    net.run(until=0.1)
    assert server.kinds()[-2:] == [Reset, Closed]
    assert client.kinds()[-1] is Closed


def test_send_after_close_is_an_error() -> None:
    """Like a socket: once closed for writing, send() refuses."""
    net, _, _ = pair()
    conn = net.hosts[A].connect(Endpoint(B, 143), 0.0)
    net.run(until=0.01)
    conn.close()
    with pytest.raises(TcpStateError, match="cannot send"):
        conn.send(b"late")


def test_full_send_buffer_then_writable() -> None:
    """send() takes what fits; a Writable event says when ACKs have made room."""
    net, client, _server = pair(TcpConfig(send_buffer=4000))
    conn = net.hosts[A].connect(Endpoint(B, 143), 0.0)
    net.run(until=0.01)
    assert conn.send(bytes(10_000)) == 4000
    assert conn.send_buffer_free == 0
    net.pump(A)
    net.run(until=0.1)
    assert Writable in client.kinds()
    assert conn.send_buffer_free == 4000


def test_delayed_ack_waits_40ms_for_a_lone_segment() -> None:
    """One small segment is ACKed after the delayed-ACK timeout (RFC 1122 §4.2.3.2)."""
    net, _client, _server = pair()
    conn = net.hosts[A].connect(Endpoint(B, 143), 0.0)
    net.run(until=0.01)
    conn.send(b"a1 NOOP\r\n")
    net.pump(A)
    net.run(until=0.2)
    acks = [(t, o.segment) for t, o in net.sent if o.src == B and t > 0.01]
    assert len(acks) == 1
    assert acks[0][0] == pytest.approx(0.0105 + 0.040)


def test_every_second_full_segment_is_acked_at_once() -> None:
    """Two full-sized segments make the receiver ACK without waiting (RFC 5681 §4.2)."""
    net, _client, _server = pair()
    conn = net.hosts[A].connect(Endpoint(B, 143), 0.0)
    net.run(until=0.01)
    conn.send(bytes(2 * 1460))
    net.pump(A)
    net.run(until=0.02)
    acks = [t for t, o in net.sent if o.src == B and t > 0.01]
    assert acks == [pytest.approx(0.0105)]


def test_retransmission_timeout_backs_off_then_gives_up() -> None:
    """Into a black hole: retransmissions at RTO, 2·RTO, 4·RTO...; then TimedOut and Closed."""
    net, client, _server = pair(TcpConfig(max_retransmissions=5))
    conn = net.hosts[A].connect(Endpoint(B, 143), 0.0)
    net.run(until=0.01)
    net.impairments.loss = 1.0
    conn.send(b"x" * 100)
    net.pump(A)
    net.run(until=100.0)
    times = [t for t, s in net.data_segments(A)]
    gaps = [round(b - a, 6) for a, b in itertools.pairwise(times)]
    assert gaps == [0.2, 0.4, 0.8, 1.6, 3.2]
    assert conn.stats.retransmissions == 5 and conn.stats.timeouts == 5
    assert client.kinds()[-2:] == [TimedOut, Closed]


def test_syn_retransmissions_use_the_initial_rto() -> None:
    """Lost SYNs are resent after 1 s, 2 s, 4 s (RFC 6298 §2.1 and §5.5)."""
    net, client, _server = pair(TcpConfig(max_syn_retransmissions=3))
    net.impairments.loss = 1.0
    net.hosts[A].connect(Endpoint(B, 143), 0.0)
    net.run(until=60.0)
    syn_times = [t for t, o in net.sent if o.segment.has(TcpFlags.SYN)]
    assert syn_times == [0.0, 1.0, 3.0, 7.0]
    assert client.kinds() == [TimedOut, Closed]
    assert client.time_of(TimedOut) == 15.0


def test_lost_final_ack_makes_time_wait_ack_the_fin_again() -> None:
    """The passive closer resends its FIN; the TIME-WAIT end ACKs it again."""
    dropped: list[OutgoingSegment] = []

    def drop_first_final_ack(out: OutgoingSegment) -> bool:
        final_ack = out.src == A and out.segment.flags == TcpFlags.ACK
        if final_ack and conn.state is TcpState.TIME_WAIT and not dropped:
            dropped.append(out)
            return True
        return False

    net, _client, _server = pair(TcpConfig(msl=5.0))
    net.impairments = Impairments(drop=drop_first_final_ack)
    conn = net.hosts[A].connect(Endpoint(B, 143), 0.0)
    net.run(until=0.01)
    conn.close()
    net.pump(A)
    net.run(until=2.0)
    assert dropped, "the final ACK was lost once"
    server_conn = next(iter(net._conns[B].values()))
    assert server_conn.state is TcpState.CLOSED
    assert server_conn.stats.retransmissions == 1, "the FIN went twice"
    assert conn.state is TcpState.TIME_WAIT


def test_after_a_lost_syn_data_starts_with_a_three_second_rto() -> None:
    """RFC 6298 §5.7: the handshake gave no RTT sample (Karn), so the RTO is set to 3 s."""
    lost: list[OutgoingSegment] = []

    def drop_first_syn(out: OutgoingSegment) -> bool:
        if out.segment.flags == TcpFlags.SYN and not lost:
            lost.append(out)
            return True
        return False

    net, _, _ = pair()
    net.impairments = Impairments(drop=drop_first_syn)
    conn = net.hosts[A].connect(Endpoint(B, 143), 0.0)
    net.run(until=1.5)
    assert lost and conn.state is TcpState.ESTABLISHED
    assert conn.stats.rtt_samples == [] and conn.rto.rto == 3.0
