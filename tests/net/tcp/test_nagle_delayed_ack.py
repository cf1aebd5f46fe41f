"""Nagle's algorithm meets delayed ACKs: the classic request/response stall.

A client writes a request in two pieces (say, a header and a body) and waits for the
reply. The first piece leaves at once. Nagle holds the second: the first is not yet
acknowledged. The server cannot answer half a request, so it has no data to carry an
ACK and delays it, 40 ms here as on Linux. Only then does the body leave. Students see
tens of milliseconds appear on a LAN whose round trip is one millisecond, and see them
vanish with TCP_NODELAY (or with the server's delayed ACKs off).
"""

from __future__ import annotations

import pytest

from netsim.net.tcp.config import TcpConfig
from netsim.net.tcp.connection import TcpConnection
from netsim.net.tcp.endpoint import Endpoint
from netsim.net.tcp.events import DataReceived, TcpEvent

from .harness import A, B, Network

HEADER = b"A001 APPEND INBOX {11}\r\n"
BODY = b"hello world\r\n"
REPLY = b"A001 OK APPEND completed\r\n"
ONE_WAY = 0.0005


def request_response(*, nagle: bool, server_delayed_ack: bool) -> float:
    """Latency from the client's first write to the reply's arrival, in seconds."""
    net = Network(delay=ONE_WAY)
    got = bytearray()
    reply_at: list[float] = []

    def server(net: Network, conn: TcpConnection, event: TcpEvent) -> None:
        if isinstance(event, DataReceived):
            got.extend(conn.read())
            if bytes(got) == HEADER + BODY:
                conn.send(REPLY)

    def client(net: Network, conn: TcpConnection, event: TcpEvent) -> None:
        if isinstance(event, DataReceived) and conn.read() == REPLY:
            reply_at.append(net.now)

    net.add_host(A, TcpConfig(nagle=nagle), client)
    net.add_host(B, TcpConfig(delayed_ack=server_delayed_ack), server).listen(143)
    conn = net.hosts[A].connect(Endpoint(B, 143), 0.0)
    net.run(until=0.5)  # handshake done, everything quiet

    start = net.now
    conn.send(HEADER)  # write ...
    net.pump(A)  # (a socket adapter pumps after every call, as the kernel does)
    conn.send(BODY)  # ... write ...
    net.pump(A)
    net.run(until=2.0)  # ... read
    assert len(reply_at) == 1
    return reply_at[0] - start


def test_nagle_and_delayed_ack_stall_by_the_delayed_ack_timeout() -> None:
    """Two round trips plus the 40 ms delayed-ACK timer: 42 ms for a 1 ms RTT."""
    latency = request_response(nagle=True, server_delayed_ack=True)
    assert latency == pytest.approx(2 * 2 * ONE_WAY + 0.040)


def test_nodelay_sends_both_pieces_at_once() -> None:
    """With TCP_NODELAY both pieces leave together: one round trip."""
    latency = request_response(nagle=False, server_delayed_ack=True)
    assert latency == pytest.approx(2 * ONE_WAY)


def test_without_delayed_acks_nagle_costs_one_round_trip() -> None:
    """Nagle alone waits only for the ACK of the first piece: two round trips."""
    latency = request_response(nagle=True, server_delayed_ack=False)
    assert latency == pytest.approx(2 * 2 * ONE_WAY)


def test_nodelay_can_be_switched_on_a_live_connection() -> None:
    """Like setsockopt(TCP_NODELAY): assigning ``nagle = False`` takes effect at once."""
    net = Network(delay=ONE_WAY)
    net.add_host(A)
    net.add_host(B).listen(143)
    conn = net.hosts[A].connect(Endpoint(B, 143), 0.0)
    net.run(until=0.1)
    conn.send(b"one")
    net.pump(A)
    conn.send(b"two")
    net.pump(A)
    assert len(net.data_segments(A)) == 1, "Nagle holds the second small write"
    conn.nagle = False
    conn.send(b"three")
    net.pump(A)
    assert [s.payload for _, s in net.data_segments(A)] == [b"one", b"twothree"]
