"""TLS over a simulated TCP socket: the same calls as :class:`~netsim.net.sockets.TcpSocket`.

A mail client or server that speaks through a :class:`TlsSocket` pays the handshake
(:meth:`TlsSocket.handshake`, a SimPy event) and the record framing of every byte, and
otherwise runs unchanged: ``send`` and ``recv`` return SimPy events as before.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from netsim.net.sockets import TcpSocket
from netsim.net.tls.connection import (
    NEED_DATA,
    ApplicationData,
    Closed,
    Role,
    State,
    TlsConnection,
    TlsError,
)
from netsim.net.tls.shapes import shape

Process = Generator[simpy.Event, Any, Any]


class TlsSocket:
    """A TCP socket with TLS ``version`` ("1.3" or "1.2") on top, as ``role``.

    A server may leave the version out: it takes the one the client's hello offers.
    """

    def __init__(self, sock: TcpSocket, role: Role, version: str | None = None) -> None:
        self.sock = sock
        self.tls = TlsConnection(role, shape(version) if version is not None else None)
        self._env = sock.stack.sim.env
        self._plain = bytearray()
        self._eof = False
        self._reading: simpy.Process | None = None

    @property
    def octets_sent(self) -> int:
        """Octets handed to TCP: records, headers and handshake included."""
        return self.tls.octets_sent

    @property
    def octets_received(self) -> int:
        """Octets read from TCP: records, headers and handshake included."""
        return self.tls.octets_received

    def handshake(self) -> simpy.Process:
        """The event succeeds when this end may send application data."""
        return self._env.process(self._handshake())

    def _handshake(self) -> Process:
        yield from self._flush()  # the client's hello; the server has nothing yet
        while self.tls.state is State.HANDSHAKING:
            data = yield self.sock.recv()
            self.tls.receive_data(data)
            self._pump()
            yield from self._flush()
        if self.tls.state is not State.CONNECTED:
            raise ConnectionResetError("the peer closed during the TLS handshake")

    def send(self, data: bytes) -> simpy.Event:
        """Queue ``data`` in records; the event succeeds with the octets put on TCP."""
        wire = self.tls.send(data)
        event = self._env.event()
        sent = self.sock.send(wire)
        sent.callbacks.append(lambda ev: _forward(ev, event, len(wire)))
        return event

    def recv(self, max_bytes: int = 65536) -> simpy.Event:
        """The event succeeds with plaintext, or ``b""`` once the peer has closed."""
        return self._env.process(self._recv(max_bytes))

    def _recv(self, max_bytes: int) -> Process:
        while not self._plain and not self._eof:
            data = yield self.sock.recv()
            self.tls.receive_data(data)
            self._pump()
            yield from self._flush()
        out = bytes(self._plain[:max_bytes])
        del self._plain[:max_bytes]
        return out

    def close(self) -> None:
        """close_notify, then FIN."""
        if self.sock.error is None:
            alert = self.tls.close()
            if alert:
                self.sock.send(alert)
        self.sock.close()

    def set_nodelay(self, on: bool) -> None:
        """TCP_NODELAY on the socket underneath."""
        self.sock.set_nodelay(on)

    def _pump(self) -> None:
        """Take every event the records received so far hold."""
        while True:
            try:
                event = self.tls.next_event()
            except TlsError as e:
                raise ConnectionResetError(f"TLS: {e}") from e
            if event is NEED_DATA:
                return
            if isinstance(event, ApplicationData):
                self._plain += event.data
            elif isinstance(event, Closed):
                self._eof = True
                return

    def _flush(self) -> Process:
        out = self.tls.data_to_send()
        if out:
            yield self.sock.send(out)


def _forward(done: simpy.Event, event: simpy.Event, octets: int) -> None:
    if done.ok:
        event.succeed(octets)
    else:
        error = done.value
        assert isinstance(error, Exception)
        event.defused = True
        event.fail(error)
