"""How an ESTABLISHED connection treats odd segments (RFC 9293 §3.10.7.4, RFC 5961).

These tests skip the network: two connections are wired by hand, and the test plays
the attacker or the confused peer by crafting segments itself.
"""

from __future__ import annotations

from netsim.net.addressing import IPv4Address
from netsim.net.tcp.config import TcpConfig
from netsim.net.tcp.connection import TcpConnection
from netsim.net.tcp.endpoint import Endpoint
from netsim.net.tcp.events import Closed, Connected, DataReceived, Reset
from netsim.net.tcp.segment import TcpFlags, TcpSegment
from netsim.net.tcp.states import TcpState

CLIENT = Endpoint(IPv4Address("10.0.0.1"), 50000)
SERVER = Endpoint(IPv4Address("10.0.0.2"), 143)


def shuttle(a: TcpConnection, b: TcpConnection, now: float) -> None:
    """Deliver everything each side wants to send until both are quiet (a perfect wire)."""
    for _ in range(50):
        moved = False
        for src, dst in ((a, b), (b, a)):
            for segment in src.segments_to_send(now):
                dst.receive_segment(segment, now)
                moved = True
        if not moved:
            return


def established(config: TcpConfig | None = None) -> tuple[TcpConnection, TcpConnection]:
    client = TcpConnection.connect(CLIENT, SERVER, iss=1000, now=0.0, config=config)
    (syn,) = client.segments_to_send(0.0)
    server = TcpConnection.accept(syn, SERVER, CLIENT, iss=5000, now=0.0, config=config)
    shuttle(client, server, 0.0)
    assert client.state is server.state is TcpState.ESTABLISHED
    assert client.events() == [Connected()] and server.events() == [Connected()]
    return client, server


def from_client(seq: int, flags: TcpFlags, payload: bytes = b"", ack: int = 5001) -> TcpSegment:
    return TcpSegment(CLIENT.port, SERVER.port, seq, ack, flags, 65535, payload)


def test_handshake_by_hand_uses_the_given_isns() -> None:
    """ISS 1000 and 5000: the first data byte of each side is ISS + 1."""
    client, _server = established()
    client.send(b"x")
    (segment,) = client.segments_to_send(0.1)
    assert (segment.seq, segment.ack) == (1001, 5001)


def test_exact_rst_resets() -> None:
    """A RST whose sequence number is exactly RCV.NXT ends the connection."""
    _, server = established()
    server.receive_segment(from_client(1001, TcpFlags.RST), 0.1)
    assert server.events() == [Reset(), Closed()]
    assert server.state is TcpState.CLOSED


def test_in_window_rst_gets_a_challenge_ack() -> None:
    """RFC 5961 §3: a RST merely inside the window is answered with an ACK, not obeyed,
    so a blind attacker must guess the exact sequence number."""
    _, server = established()
    server.receive_segment(from_client(1500, TcpFlags.RST), 0.1)
    assert server.state is TcpState.ESTABLISHED
    (challenge,) = server.segments_to_send(0.1)
    assert challenge.flags == TcpFlags.ACK and challenge.ack == 1001


def test_out_of_window_rst_is_ignored_silently() -> None:
    """A RST outside the window gets no answer at all (never answer a RST)."""
    _, server = established()
    server.receive_segment(from_client(1001 + 70000, TcpFlags.RST), 0.1)
    assert server.state is TcpState.ESTABLISHED
    assert server.segments_to_send(0.1) == []


def test_syn_on_an_established_connection_gets_a_challenge_ack() -> None:
    """RFC 5961 §4: a SYN in a synchronized state is answered with an ACK."""
    _, server = established()
    server.receive_segment(from_client(1001, TcpFlags.SYN), 0.1)
    assert server.state is TcpState.ESTABLISHED
    (challenge,) = server.segments_to_send(0.1)
    assert challenge.flags == TcpFlags.ACK


def test_ack_of_unsent_data_is_answered_and_dropped() -> None:
    """An ACK for bytes never sent gets an ACK back and its data is not accepted."""
    _, server = established()
    server.receive_segment(from_client(1001, TcpFlags.ACK, b"data", ack=9999), 0.1)
    assert server.readable == 0
    (reply,) = server.segments_to_send(0.1)
    assert reply.flags == TcpFlags.ACK and reply.ack == 1001


def test_old_duplicate_is_acked_not_delivered_twice() -> None:
    """A retransmitted segment the receiver already has is re-ACKed and ignored."""
    _, server = established()
    server.receive_segment(from_client(1001, TcpFlags.ACK, b"hello"), 0.1)
    assert server.read() == b"hello"
    server.events()
    server.receive_segment(from_client(1001, TcpFlags.ACK, b"hello"), 0.2)
    assert server.read() == b"" and server.events() == []
    assert server.segments_to_send(0.2)[-1].ack == 1006


def test_overlapping_segments_are_trimmed() -> None:
    """A segment that starts in old data delivers only its new part."""
    _, server = established()
    server.receive_segment(from_client(1001, TcpFlags.ACK, b"abc"), 0.1)
    server.receive_segment(from_client(1002, TcpFlags.ACK, b"bcdef"), 0.1)
    assert server.read() == b"abcdef"


def test_out_of_order_data_waits_for_the_gap_and_is_acked_at_once() -> None:
    """Data past a hole is kept; each such segment draws an immediate duplicate ACK, and
    the segment that fills the hole releases everything (and is ACKed at once too)."""
    _, server = established()
    server.receive_segment(from_client(1004, TcpFlags.ACK, b"def"), 0.1)
    server.receive_segment(from_client(1007, TcpFlags.ACK, b"ghi"), 0.1)
    assert server.readable == 0
    dup_acks = server.segments_to_send(0.1)
    assert [s.ack for s in dup_acks] == [1001]
    server.receive_segment(from_client(1001, TcpFlags.ACK, b"abc"), 0.1)
    assert server.events() == [DataReceived(9)]
    assert server.read() == b"abcdefghi"
    assert server.segments_to_send(0.1)[-1].ack == 1010


def test_fin_out_of_order_is_processed_when_the_gap_closes() -> None:
    """A FIN that overtakes data takes effect only after the data before it arrives."""
    _, server = established()
    server.receive_segment(from_client(1004, TcpFlags.ACK | TcpFlags.FIN, b"def"), 0.1)
    assert server.state is TcpState.ESTABLISHED
    server.receive_segment(from_client(1001, TcpFlags.ACK, b"abc"), 0.1)
    assert server.state is TcpState.CLOSE_WAIT
    assert server.read() == b"abcdef" and server.at_eof


def test_data_beyond_the_window_is_cut_off() -> None:
    """Bytes past the advertised window are not accepted; the FIN riding on them neither."""
    _, server = established(TcpConfig(receive_buffer=4))
    server.receive_segment(from_client(1001, TcpFlags.ACK | TcpFlags.FIN, b"abcdefgh"), 0.1)
    assert server.read() == b"abcd"
    assert server.state is TcpState.ESTABLISHED


def test_simultaneous_open() -> None:
    """Both ends send a SYN at once (RFC 9293 §3.5, figure 7): each answers with SYN,ACK,
    passes through SYN-RECEIVED and reaches ESTABLISHED; data then flows both ways."""
    a = TcpConnection.connect(CLIENT, SERVER, iss=100, now=0.0)
    b = TcpConnection.connect(SERVER, CLIENT, iss=300, now=0.0)
    (syn_a,) = a.segments_to_send(0.0)
    (syn_b,) = b.segments_to_send(0.0)
    a.receive_segment(syn_b, 0.001)
    b.receive_segment(syn_a, 0.001)
    assert a.state is b.state is TcpState.SYN_RECEIVED
    shuttle(a, b, 0.002)
    assert a.state is b.state is TcpState.ESTABLISHED
    a.send(b"ping")
    b.send(b"pong")
    shuttle(a, b, 0.003)
    assert (a.read(), b.read()) == (b"pong", b"ping")
