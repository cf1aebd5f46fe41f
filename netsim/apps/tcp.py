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
        if self.total_bytes is not None:
            sent = 0
            while sent < self.total_bytes:
                n = min(CHUNK, self.total_bytes - sent)
                yield sock.send(pattern(sent, n))
                sent += n
            sock.close()
            return
        for i in range(self.count):
            if i and env.now >= self.stop_at:
                break
            t0 = env.now
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
            self._row("exchange", sum(self.request) + self.response, t0, env.now, intact, i)
            if self.interval:
                yield env.timeout(self.interval)
        sock.close()

    # The server ----------------------------------------------------------------------------

    def _serve(self, accepted: simpy.Event) -> Generator[simpy.Event, Any, None]:
        sock = yield accepted
        if self.total_bytes is not None:
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
            return
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
