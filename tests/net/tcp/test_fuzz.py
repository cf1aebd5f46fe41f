"""Hostile or confused peers: random segments never crash a connection or break its books.

Hypothesis plays a peer that sends segments with arbitrary flags, sequence and
acknowledgment numbers near (and far from) the sensible ones, and lets timers fire in
between. Whatever it does, the connection must neither raise nor violate its own
invariants: SND.UNA <= SND.NXT <= SND.MAX, the receive buffer within its size, the
advertised window within 16 bits.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.net.tcp.config import TcpConfig
from netsim.net.tcp.connection import TcpConnection
from netsim.net.tcp.segment import MAX_WINDOW, TcpFlags, TcpSegment
from netsim.net.tcp.states import TcpState

from .test_segment_arrival import CLIENT, SERVER, established

offsets = st.one_of(st.integers(-3000, 3000), st.integers(0, 2**32 - 1))
peer_segments = st.tuples(
    st.integers(0, 255).map(TcpFlags),
    offsets,
    offsets,
    st.integers(0, MAX_WINDOW),
    st.binary(max_size=3000),
)
steps = st.lists(
    st.one_of(
        peer_segments.map(lambda s: ("segment", s)),
        st.floats(0, 3).map(lambda dt: ("wait", dt)),
        st.binary(max_size=5000).map(lambda d: ("send", d)),
        st.integers(0, 5000).map(lambda n: ("read", n)),
        st.sampled_from([("close", None), ("abort", None)]),
    ),
    max_size=40,
)


def check_invariants(conn: TcpConnection, outgoing: list[TcpSegment]) -> None:
    assert conn.snd_una <= conn.snd_nxt <= conn.snd_max or conn.state is TcpState.CLOSED
    assert conn.readable <= conn.config.receive_buffer
    for segment in outgoing:
        assert 0 <= segment.window <= MAX_WINDOW
        segment.to_bytes(SERVER.ip, CLIENT.ip)  # every field fits its width


def fresh(start: str, config: TcpConfig) -> TcpConnection:
    """A connection in SYN-SENT, SYN-RECEIVED or ESTABLISHED."""
    if start == "syn-sent":
        return TcpConnection.connect(SERVER, CLIENT, iss=7, now=0.0, config=config)
    if start == "syn-received":
        syn = TcpSegment(CLIENT.port, SERVER.port, 1000, 0, TcpFlags.SYN, 65535, mss=1460)
        return TcpConnection.accept(syn, SERVER, CLIENT, iss=5000, now=0.0, config=config)
    return established(config)[1]


@settings(max_examples=150, deadline=None)
@given(steps, st.booleans(), st.sampled_from(["syn-sent", "syn-received", "established"]))
def test_random_peer_behaviour_never_breaks_the_connection(
    script: list[tuple[str, object]], small_buffer: bool, start: str
) -> None:
    """Fuzz a connection with a random peer, application and clock, from any opening state."""
    config = TcpConfig(receive_buffer=3000 if small_buffer else 65535, max_retransmissions=4)
    server = fresh(start, config)
    now = 0.0
    for action, arg in script:
        if action == "segment":
            flags, seq_off, ack_off, window, payload = arg  # type: ignore[misc]
            segment = TcpSegment(
                CLIENT.port,
                SERVER.port,
                (server.rcv_nxt + seq_off) % 2**32,
                (server.snd_una + ack_off) % 2**32,
                flags,
                window,
                payload,
            )
            server.receive_segment(segment, now)
        elif action == "wait":
            now += arg  # type: ignore[operator]
            deadline = server.next_timer()
            if deadline is not None and deadline <= now:
                server.on_timer(now)
        elif action == "send" and server.state in (
            TcpState.SYN_SENT,
            TcpState.ESTABLISHED,
            TcpState.CLOSE_WAIT,
        ):
            if not server._fin_queued:
                server.send(arg)  # type: ignore[arg-type]
        elif action == "read":
            server.read(arg)  # type: ignore[arg-type]
        elif action == "close":
            server.close()
        elif action == "abort":
            server.abort()
        check_invariants(server, server.segments_to_send(now))
        server.events()
