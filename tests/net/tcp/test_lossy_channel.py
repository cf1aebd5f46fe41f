"""The promise of TCP: through loss, duplication and reordering, the byte stream arrives whole.

Two connections talk through :mod:`.harness`'s channel, which drops, duplicates and
delays segments at random (seeded, so hypothesis can shrink a failure). Both sides send
at once and close when done; each must receive exactly what the other sent, once and in
order, and both must end CLOSED.
"""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from netsim.net.tcp.config import TcpConfig
from netsim.net.tcp.connection import TcpConnection
from netsim.net.tcp.endpoint import Endpoint
from netsim.net.tcp.events import Closed, Connected, DataReceived, EndOfStream, TcpEvent
from netsim.net.tcp.states import TcpState

from .harness import A, B, Impairments, Network


class Peer:
    """An application that sends ``data`` (as buffer space allows) and reads everything."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0
        self.received = bytearray()
        self.closed = False
        self.eof = False

    def push(self, conn: TcpConnection) -> None:
        if conn.state in (TcpState.ESTABLISHED, TcpState.CLOSE_WAIT) and not self.closed:
            self.offset += conn.send(self.data[self.offset :])
            if self.offset == len(self.data):
                conn.close()
                self.closed = True

    def __call__(self, net: Network, conn: TcpConnection, event: TcpEvent) -> None:
        if isinstance(event, DataReceived):
            self.received += conn.read()
        elif isinstance(event, EndOfStream):
            self.eof = True
        elif isinstance(event, Closed):
            return
        if isinstance(event, Connected) or self.offset < len(self.data):
            self.push(conn)


def exchange(
    a_data: bytes,
    b_data: bytes,
    impairments: Impairments,
    seed: int,
    config: TcpConfig | None = None,
    until: float = 3600.0,
) -> tuple[Peer, Peer, TcpConnection, Network]:
    # Under 20 % loss an exchange can back off to the 60 s RTO ceiling several times
    # (Karn keeps the backed-off RTO until a clean sample) and then lingers 2 MSL in
    # TIME-WAIT: give it an hour of simulated time; the run stops when nothing is left.
    net = Network(delay=0.001, rate_bps=100e6, impairments=impairments, seed=seed)
    client, server = Peer(a_data), Peer(b_data)
    net.add_host(A, config, client)
    net.add_host(B, config, server).listen(143)
    conn = net.hosts[A].connect(Endpoint(B, 143), 0.0)
    net.run(until=until)
    return client, server, conn, net


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    a_data=st.binary(min_size=0, max_size=30_000),
    b_size=st.integers(0, 20_000),
    loss=st.sampled_from([0.0, 0.05, 0.2]),
    duplicate=st.sampled_from([0.0, 0.1]),
    jitter=st.sampled_from([0.0, 0.002]),
    seed=st.integers(0, 2**16),
    nagle=st.booleans(),
    delayed_ack=st.booleans(),
    receive_buffer=st.sampled_from([2000, 16384, 65535]),
    mss=st.sampled_from([536, 1460]),
)
# Found by hypothesis: five RTOs at the 60 s ceiling, so the exchange ended at 543 s and
# TIME-WAIT at 603 s, after the old 600 s horizon.
@example(b"", 9301, 0.2, 0.1, 0.0, 12711, False, True, 2000, 1460)
def test_stream_arrives_exactly_once_in_order(
    a_data: bytes,
    b_size: int,
    loss: float,
    duplicate: float,
    jitter: float,
    seed: int,
    nagle: bool,
    delayed_ack: bool,
    receive_buffer: int,
    mss: int,
) -> None:
    """Whatever the channel does, each side reads exactly the other's bytes, then EOF."""
    b_data = bytes((i * 7 + seed) % 251 for i in range(b_size))
    config = TcpConfig(
        mss=mss,
        nagle=nagle,
        delayed_ack=delayed_ack,
        receive_buffer=receive_buffer,
        max_retransmissions=30,
    )
    client, server, conn, net = exchange(
        a_data, b_data, Impairments(loss, duplicate, jitter), seed, config
    )
    assert bytes(server.received) == a_data
    assert bytes(client.received) == b_data
    assert client.eof and server.eof
    assert conn.state is TcpState.CLOSED
    assert not net.hosts[B]._connections, "the server side is CLOSED and forgotten"


def test_sequence_numbers_wrap_around_2_to_the_32() -> None:
    """With both ISNs just below 2**32 the stream crosses the wrap in both directions,
    under loss: the unbounded positions inside make it a non-event."""
    net = Network(delay=0.001, impairments=Impairments(loss=0.1), seed=3)
    data = bytes(i % 241 for i in range(50_000))
    client, server = Peer(data), Peer(data[::-1])
    net.add_host(A, None, client, iss=2**32 - 5000)
    net.add_host(B, None, server, iss=2**32 - 1).listen(143)
    conn = net.hosts[A].connect(Endpoint(B, 143), 0.0)
    net.run(until=300.0)
    assert bytes(server.received) == data and bytes(client.received) == data[::-1]
    wire_seqs = [o.segment.seq for _, o in net.sent if o.src == A]
    assert max(wire_seqs) > 2**32 - 5000 and min(wire_seqs) < 50_000, "it did wrap"
    assert conn.state is TcpState.CLOSED


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), loss=st.sampled_from([0.0, 0.3]))
def test_simultaneous_open_survives_loss(seed: int, loss: float) -> None:
    """Two hosts connect to each other at the same instant, port to port, through a lossy
    channel: the crossed SYNs still make one connection, and data flows both ways."""
    net = Network(delay=0.001, impairments=Impairments(loss=loss, jitter=0.001), seed=seed)
    peer_a, peer_b = Peer(b"from A" * 500), Peer(b"from B" * 500)
    net.add_host(A, None, peer_a)
    net.add_host(B, None, peer_b)
    net.hosts[A].connect(Endpoint(B, 5000), 0.0, local_port=6000)
    net.hosts[B].connect(Endpoint(A, 6000), 0.0, local_port=5000)
    net.run(until=600.0)
    assert bytes(peer_b.received) == b"from A" * 500
    assert bytes(peer_a.received) == b"from B" * 500
