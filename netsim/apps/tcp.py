"""``traffic: kind: tcp``: a bulk transfer, or request/response exchanges (tcp.csv).

- Bulk (``bytes``): the client connects, sends ``bytes`` bytes and closes; the server reads
  to the end. Goodput is the payload over the time from the client's connect to the
  server's last byte, so the handshake and slow start count, as they do for a user.
- Exchanges (``request``, ``response``, ``count``): the client writes the request (a list
  of sizes is several writes, as an application that writes a header and then a body),
  then reads the whole response; ``count`` times, ``interval`` apart. With Nagle and
  delayed ACKs both on, a write-write-read exchange stalls for the delayed-ACK timeout:
  the second write waits for the ACK of the first, which the server holds back.

Payload bytes follow a known pattern, so the receiver checks that every byte arrived
once and in order (the ``intact`` column).

A connection that fails (refused, reset, or timed out after the retransmissions TCP
allows, as when a link stays down) is a row too, with the reason in the ``error``
column: ``failed`` if it never connected, otherwise the transfer or exchange it broke,
with the bytes that got through. The run goes on.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import simpy

from netsim.engine.sim import Simulation
from netsim.net.sockets import TcpSocket, connect, listen
from netsim.net.stack import IpStack
from netsim.net.tcp.config import TcpConfig

CHUNK = 64 * 1024
PERIOD = 251  # a prime, so the pattern does not line up with segment boundaries


def pattern(offset: int, length: int) -> bytes:
    """Bytes ``offset .. offset+length`` of the endless test pattern 0, 1, ..., 250, 0, ..."""
    start = offset % PERIOD
    reps = (start + length) // PERIOD + 1
    block = bytes(range(PERIOD)) * reps
    return block[start : start + length]


class TcpTraffic:
    """One client/server pair of processes and the rows they write to tcp.csv."""

    def __init__(
        self,
        sim: Simulation,
        name: str,
        client: IpStack,
        server: IpStack,
        port: int,
        *,
        start: float,
        stop_at: float,
        total_bytes: int | None = None,
        request: Sequence[int] = (),
        response: int = 0,
        count: int = 1,
        interval: float = 0.0,
        client_config: TcpConfig | None = None,
        server_config: TcpConfig | None = None,
    ) -> None:
        self.sim = sim
        self.name = name
        self.client = client
        self.server = server
        self.port = port
        self.total_bytes = total_bytes
        self.request = list(request)
        self.response = response
        self.count = count
        self.interval = interval
        self.stop_at = stop_at
        self.client_config = client_config
        self._t_connect = 0.0
        self._client_sock: TcpSocket | None = None
        self._sent = 0
        """Bulk payload bytes handed to TCP so far."""
        self._exchange: int | None = None
        """The exchange under way, and when it began."""
        self._t_exchange = 0.0
        listener = listen(server, port, config=server_config)
        env = sim.env
        env.process(self._serve(listener.accept()))
        env.process(self._run_client(start))

    # The client ----------------------------------------------------------------------------

    def _run_client(self, start: float) -> Generator[simpy.Event, Any, None]:
        env = self.sim.env
        yield env.timeout(max(0.0, start - env.now))
        self._t_connect = env.now
        try:
            sock = yield connect(self.client, self.server.address, self.port, self.client_config)
        except OSError as e:
            self._row("failed", 0, self._t_connect, env.now, None, error=str(e))
            return
        self._client_sock = sock
        try:
            if self.total_bytes is not None:
                yield from self._send_bulk(sock)
            else:
                yield from self._exchanges(sock)
        except OSError as e:
            self._failed(e)

    def _send_bulk(self, sock: TcpSocket) -> Generator[simpy.Event, Any, None]:
        assert self.total_bytes is not None
        self._sent = 0
        while self._sent < self.total_bytes:
            n = min(CHUNK, self.total_bytes - self._sent)
            yield sock.send(pattern(self._sent, n))
            self._sent += n
        sock.close()
        # The server's row says how the transfer went; a connection that is reset or
        # times out before closing in order never reaches the server's end of stream.
        yield sock.finished

    def _exchanges(self, sock: TcpSocket) -> Generator[simpy.Event, Any, None]:
        env = self.sim.env
        for i in range(self.count):
            if i and env.now >= self.stop_at:
                break
            self._exchange, self._t_exchange = i, env.now
            offset = 0
            for part in self.request:
                yield sock.send(pattern(offset, part))
                offset += part
            received = bytearray()
            while len(received) < self.response:
                data = yield sock.recv()
                if not data:
                    break
                received += data
            intact = bytes(received) == pattern(0, self.response)
            t0 = self._t_exchange
            self._row("exchange", sum(self.request) + self.response, t0, env.now, intact, i)
            if self.interval:
                yield env.timeout(self.interval)
        self._exchange = None
        sock.close()

    def _failed(self, error: OSError) -> None:
        """The connection broke: one row for the transfer or exchange it interrupted."""
        now = self.sim.now
        if self.total_bytes is not None:
            self._row("bulk", self._sent, self._t_connect, now, False, error=str(error))
        elif self._exchange is not None:
            t0 = self._t_exchange
            self._row("exchange", 0, t0, now, False, self._exchange, error=str(error))
            self._exchange = None

    # The server ----------------------------------------------------------------------------

    def _serve(self, accepted: simpy.Event) -> Generator[simpy.Event, Any, None]:
        sock = yield accepted
        try:
            if self.total_bytes is not None:
                yield from self._receive_bulk(sock)
            else:
                yield from self._answer(sock)
        except OSError as e:
            # A client waiting for a response may never hear of it (TCP has no keepalive
            # here): the exchange is recorded as failed from this side.
            if self.total_bytes is None:
                self._failed(e)

    def _receive_bulk(self, sock: TcpSocket) -> Generator[simpy.Event, Any, None]:
        received = 0
        intact = True
        while True:
            data = yield sock.recv()
            if not data:
                break
            intact = intact and data == pattern(received, len(data))
            received += len(data)
        intact = intact and received == self.total_bytes
        self._row("bulk", received, self._t_connect, self.sim.now, intact)
        sock.close()

    def _answer(self, sock: TcpSocket) -> Generator[simpy.Event, Any, None]:
        want = sum(self.request)
        while True:
            got = 0
            while got < want:
                data = yield sock.recv()
                if not data:
                    sock.close()
                    return
                got += len(data)
            yield sock.send(pattern(0, self.response))

    def _row(
        self,
        kind: str,
        nbytes: int,
        t_start: float,
        t_end: float,
        intact: bool | None,
        exchange: int | None = None,
        error: str = "",
    ) -> None:
        duration = t_end - t_start
        stats = self._client_sock.conn.stats if self._client_sock is not None else None
        self.sim.trace.row(
            "tcp",
            traffic=self.name,
            src=self.client.host.name,
            dst=self.server.host.name,
            kind=kind,
            exchange=exchange,
            bytes=nbytes,
            t_start=t_start,
            t_end=t_end,
            duration=duration,
            goodput_bps=nbytes * 8 / duration if duration > 0 else None,
            retransmissions=stats.retransmissions if stats else 0,
            timeouts=stats.timeouts if stats else 0,
            fast_retransmits=stats.fast_retransmits if stats else 0,
            intact=intact,
            error=error,
        )
