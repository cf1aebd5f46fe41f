"""One mail protocol on one port of a simulated mail host: the I/O owner of its sessions.

netsim's IMAP, SMTP and POP3 sessions are sans-IO objects with one interface (the same
one ``serve-mail`` drives on real sockets): ``greeting()``, ``receive_data(bytes,
max_commands)``, ``resume()``, ``closed``, ``starttls_requested``/``tls_started()``,
``idling``/``idle_updates()``. :class:`MailService` runs them over the simulated TCP of
the server host, with TLS from the first byte (IMAPS, POP3S, SMTPS) or after STARTTLS.

Without a cost model a session answers everything that arrived at once, in zero time.
With one (the host's ``mail_servers:`` entry), it handles one command at a time and each
costs its measured CPU time on one of the host's cores, then its fsyncs on the disk,
before its reply goes out; what the command changed (a new message) reaches other
sessions only then.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, Protocol

import simpy

from netsim.apps.mailhost import MailHost
from netsim.apps.server_cost import measured
from netsim.mail.store import Mailbox
from netsim.net.sockets import TcpSocket, listen
from netsim.net.tls import Role
from netsim.net.tls.socket import TlsSocket

Process = Generator[simpy.Event, Any, Any]


class Transport(Protocol):
    """What a session talks through: a TCP socket, or TLS over one."""

    def send(self, data: bytes) -> simpy.Event: ...
    def recv(self, max_bytes: int = 65536) -> simpy.Event: ...
    def close(self) -> None: ...


class Session(Protocol):
    """The sans-IO session interface every netsim mail server shares."""

    closed: bool
    backlog: bool
    starttls_requested: bool
    #: Names of the commands handled since the owner last cleared it (the cost model's
    #: input; see the counted sessions of each protocol's app module).
    dispatched: list[str]

    @property
    def idling(self) -> bool: ...
    def idle_updates(self) -> bytes: ...
    def greeting(self) -> bytes: ...
    def receive_data(self, data: bytes, max_commands: int | None = None) -> bytes: ...
    def resume(self, max_commands: int | None = None) -> bytes: ...
    def tls_started(self) -> None: ...


class MailService:
    """Sessions of one protocol on ``port`` of ``host``.

    ``open_session(tls)`` makes a session; ``protocol`` names the cost model's table.
    """

    def __init__(
        self,
        host: MailHost,
        port: int,
        protocol: str,
        open_session: Callable[[bool], Session],
        *,
        implicit_tls: bool = False,
    ) -> None:
        self.host = host
        self.sim = host.sim
        self.protocol = protocol
        self.open_session = open_session
        self.implicit_tls = implicit_tls
        self.model = measured(protocol) if host.cost is not None else None
        self._open: dict[Session, Transport] = {}
        self._idle: dict[Session, int] = {}
        """The open sessions in IDLE, each with its place among all opened (see
        :meth:`_note_idle`): a change to the store is pushed to these alone."""
        self._opened = 0
        self._unbilled: dict[Session, int] = {}
        host.store.add_listener(self._mailbox_changed)
        self._listener = listen(host.stack, port)
        self.sim.env.process(self._accept())

    def _accept(self) -> Process:
        while True:
            sock = yield self._listener.accept()
            self.sim.env.process(self._serve(sock))

    def _serve(self, sock: TcpSocket) -> Process:
        # As serve-mail on real sockets (and Dovecot): TCP_NODELAY, so that a reply
        # longer than one segment is not held back by Nagle waiting for a delayed ACK.
        sock.set_nodelay(True)
        transport: Transport = sock
        session = self.open_session(self.implicit_tls)
        try:
            if self.implicit_tls:
                transport = TlsSocket(sock, Role.SERVER)
                yield transport.handshake()
            self._open[session] = transport
            self._opened += 1
            place = self._opened
            yield transport.send(session.greeting())
            while not session.closed:
                data = yield transport.recv()
                yield from self._process(session, transport, data, place)
                if session.starttls_requested and not session.closed:
                    transport = TlsSocket(sock, Role.SERVER)
                    yield transport.handshake()
                    session.tls_started()
                    self._open[session] = transport
                    yield from self._process(session, transport, b"", place, resume=True)
                if not data:
                    break
        except OSError:
            pass  # the client went away; the store keeps what was acknowledged
        finally:
            self._open.pop(session, None)
            self._idle.pop(session, None)
            self._unbilled.pop(session, None)
            transport.close()

    def _process(
        self, session: Session, transport: Transport, data: bytes, place: int, resume: bool = False
    ) -> Process:
        """Handle what arrived: at once without a cost model, else command by command.

        ``place`` is the session's rank among those opened (the order IDLE news goes out).
        """
        if self.model is None or self.host.cost is None:
            out = session.resume() if resume else session.receive_data(data)
            self._note_idle(session, place)
            session.dispatched.clear()
            if out:
                yield transport.send(out)
            return
        # Octets received since the last command was charged: a message after DATA
        # (or an APPEND's literal) arrives over many reads and is paid for at its end.
        self._unbilled[session] = self._unbilled.get(session, 0) + len(data)
        first = True
        while first or (session.backlog and not session.closed):
            self.host.defer_announcements()
            if first and not resume:
                out = session.receive_data(data, max_commands=1)
            else:
                out = session.resume(max_commands=1)
            self._note_idle(session, place)
            first = False
            held = self.host.release_announcements()
            for verb in session.dispatched:
                octets = self._unbilled.pop(session, 0) + len(out)
                yield from self.host.cost.serve(self.model, verb, octets)
            session.dispatched.clear()
            for push in held:
                push()
            if out:
                yield transport.send(out)
            if session.starttls_requested:
                return

    def _mailbox_changed(self, box: Mailbox) -> None:
        # Sessions in IDLE learn about new and expunged messages right away (once the
        # command that changed the mailbox has paid its cost, with a cost model).
        self.host.announce(self._push_idle_updates)

    def _note_idle(self, session: Session, place: int) -> None:
        # A session enters or leaves IDLE only while it handles what it received: here.
        if session.idling:
            self._idle[session] = place
        else:
            self._idle.pop(session, None)

    def _push_idle_updates(self) -> None:
        # In the order the sessions were opened, as a walk over all of them would go.
        for session in sorted(self._idle, key=self._idle.__getitem__):
            out = session.idle_updates()
            if out:
                self._open[session].send(out)
