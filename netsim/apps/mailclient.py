"""A simulated mail client's connection: TCP, TLS when asked, and the octets it carried.

IMAP, SMTP and POP3 clients in the simulation open one of these per session. It hides whether
the bytes go in clear text or inside TLS records (from the first byte, or after
STARTTLS/STLS), and counts the octets TCP carried each way, TLS records and handshake
included, which is what a results row reports.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import Any, Protocol

import simpy

from netsim.apps.mailservice import Transport
from netsim.net.addressing import IPv4Address
from netsim.net.sockets import TcpSocket, connect
from netsim.net.stack import IpStack
from netsim.net.tls import Role
from netsim.net.tls.socket import TlsSocket

Process = Generator[simpy.Event, Any, Any]
#: Writes a command's results row: verb, time sent, octets out, octets in, the reply.
RowWriter = Callable[[str, float, int, int, Any], None]


class ReplyReader(Protocol):
    """A sans-IO client (SMTP's, POP3's) as :meth:`MailConnection.reply` uses it."""

    def next_event(self) -> object: ...
    def receive_data(self, data: bytes) -> None: ...


class SessionEnded(Exception):
    """The server closed the connection in the middle of a session."""


class MailConnection:
    """One client connection to a mail server, clear text or TLS."""

    def __init__(self, stack: IpStack, tls_version: str = "1.3") -> None:
        self.stack = stack
        self.tls_version = tls_version
        self._tcp: TcpSocket | None = None
        self._tls: TlsSocket | None = None
        self._transport: Transport | None = None
        self._nodelay = False
        self._reading: simpy.Event | None = None
        self._clear_out = 0
        self._clear_in = 0

    def open(
        self, address: IPv4Address, port: int, implicit_tls: bool, nodelay: bool = True
    ) -> Process:
        """Connect (and, with ``implicit_tls``, do the TLS handshake first).

        ``nodelay`` (TCP_NODELAY, as the servers): a message's last, short segment must
        not wait for the ACK of the previous ones, which the server delays (lab 5's
        40 ms). The IMAP client, like imaplib, leaves Nagle on in clear text.
        """
        self._tcp = yield connect(self.stack, address, port)
        if nodelay:
            self._set_nodelay()
        self._transport = self._tcp
        if implicit_tls:
            yield from self.start_tls()

    def _set_nodelay(self) -> None:
        assert self._tcp is not None
        self._tcp.set_nodelay(True)
        self._nodelay = True

    def start_tls(self) -> Process:
        """The TLS handshake, on a connection open in clear text until now."""
        assert self._tcp is not None
        if not self._nodelay:
            self._set_nodelay()  # the handshake's flights must not wait for Nagle
        self._tls = TlsSocket(self._tcp, Role.CLIENT, self.tls_version)
        self._transport = self._tls
        yield self._tls.handshake()

    def send(self, data: bytes) -> simpy.Event:
        """Send ``data``; the event succeeds once TCP has taken it."""
        assert self._transport is not None
        if self._tls is None:
            self._clear_out += len(data)
        return self._transport.send(data)

    def recv(self) -> Process:
        """Bytes from the server (``b""`` once it has closed)."""
        reading = self.reading()
        yield reading
        return self.received(reading)

    def reading(self) -> simpy.Event:
        """The read in progress: an event whose value is the server's next bytes.

        A client may stop waiting for it (a deadline came first); the read stays in
        progress, and the next call returns it, so that no byte is lost.
        """
        if self._reading is None:
            assert self._transport is not None
            self._reading = self._transport.recv()
        return self._reading

    def received(self, reading: simpy.Event) -> bytes:
        """The bytes of a finished :meth:`reading`, now counted and consumed."""
        assert reading is self._reading and reading.triggered
        self._reading = None
        data = reading.value
        assert isinstance(data, bytes)
        if self._tls is None:
            self._clear_in += len(data)
        return data

    def reply(self, client: ReplyReader, need_data: object, reply_type: type[Any]) -> Process:
        """The next reply of the sans-IO ``client``, reading from the server as it needs
        (``client.next_event()`` answers ``need_data`` until a whole reply is in).

        Anything but a ``reply_type`` (the connection closed) raises :class:`SessionEnded`.
        """
        while True:
            event = client.next_event()
            if event is need_data:
                data = yield from self.recv()
                client.receive_data(data)
                continue
            if not isinstance(event, reply_type):
                raise SessionEnded("the server closed the connection")
            return event

    def pipeline(
        self,
        sent_at: float,
        commands: Sequence[tuple[str, bytes]],
        read_reply: Callable[[], Process],
        row: RowWriter,
    ) -> Process:
        """Send ``commands`` (verb, octets) back to back, then read a reply for each and
        write its results row; the replies, in order.

        One write for the lot (RFC 2920 3.1, RFC 2449 6.6), or Nagle would hold all but the
        first. The write's framing (a TLS record's header and tag) counts to the first
        command; each reply counts the octets received while it was read.
        """
        before = self.octets()[0]
        yield self.send(b"".join(wire for _, wire in commands))
        framing = self.octets()[0] - before - sum(len(wire) for _, wire in commands)
        replies = []
        mark = self.octets()
        for i, (verb, wire) in enumerate(commands):
            got = yield from read_reply()
            received = self.octets()[1] - mark[1]
            mark = self.octets()
            row(verb, sent_at, len(wire) + (framing if i == 0 else 0), received, got)
            replies.append(got)
        return replies

    def octets(self) -> tuple[int, int]:
        """Octets sent and received so far on the wire (TLS records included)."""
        if self._tls is None:
            return self._clear_out, self._clear_in
        return self._clear_out + self._tls.octets_sent, self._clear_in + self._tls.octets_received

    def close(self) -> None:
        """Close (close_notify first over TLS)."""
        if self._transport is not None:
            self._transport.close()
