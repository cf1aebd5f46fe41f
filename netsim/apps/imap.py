"""``traffic: kind: imap``: IMAP sessions across the fabric, every command timed (imap.csv).

The server is netsim's own IMAP4rev1 server (:mod:`netsim.mail`), the very code that
``netsim serve-mail`` runs on real sockets, here on a simulated host's TCP. Each client
host runs one session as the user named after it: connect, LOGIN, SELECT INBOX, then a
workload repeated with think times, then LOGOUT. A command's latency runs from the moment
the client hands it to TCP (its first byte goes out then, unless TCP is still busy) to
the moment the tagged reply has fully arrived.

Named workloads, modelled on what mail clients do:

- ``check-new-mail``: NOOP, UID SEARCH UNSEEN, UID FETCH 1:* (FLAGS)
- ``read-a-message``: the headers, the BODYSTRUCTURE, then the whole message of one mail
- ``search``: SEARCH FROM, SEARCH SUBJECT, UID SEARCH UNSEEN SINCE
- ``file-to-folder``: MOVE one message to Archive
- ``idle``: IDLE (timed to the server's ``+``), wait, DONE (timed to the tagged OK)

Anything else in a session list is sent as a raw command line, e.g. ``"UID FETCH 1:10 (FLAGS)"``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Generator, Sequence
from typing import Any

import simpy

from netsim.apps.mailgen import (
    SENDERS,
    TOPICS,
    Composed,
    MailboxSpec,
    compose_messages,
    generate_mailbox,
)
from netsim.engine.sim import Simulation
from netsim.mail.imap.client import ClientConnection
from netsim.mail.imap.events import (
    NEED_DATA,
    ConnectionClosed,
    Continuation,
    Request,
    SendContinuation,
    SendDone,
    Tagged,
    Untagged,
)
from netsim.mail.imap.parser import Atom
from netsim.mail.imap.server import ImapServer, ServerSession
from netsim.mail.store import Mailbox, MailStore
from netsim.mail.users import Users
from netsim.net.sockets import TcpSocket, connect, listen
from netsim.net.stack import IpStack

WORKLOADS = ("check-new-mail", "read-a-message", "search", "file-to-folder", "idle")
PASSWORD = "netsim"
_COUNT = re.compile(rb"^(\d+) (EXISTS|EXPUNGE)\b", re.IGNORECASE)

Process = Generator[simpy.Event, Any, Any]


class SessionEnded(Exception):
    """The server closed the connection in the middle of a session."""


class ImapService:
    """netsim's IMAP server on one simulated host."""

    def __init__(
        self,
        sim: Simulation,
        stack: IpStack,
        users: dict[str, MailboxSpec],
        port: int = 143,
    ) -> None:
        self.sim = sim
        self.stack = stack
        self.store = MailStore()
        self.server = ImapServer(self.store, Users({u: PASSWORD for u in users}))
        pools: dict[MailboxSpec, list[Composed]] = {}
        for user, spec in users.items():
            if spec not in pools:
                pool_rng = sim.rng(f"mailpool:{stack.host.name}:{len(pools)}")
                pools[spec] = compose_messages(pool_rng, spec, max(spec.messages, 100))
            inbox = self.store.mailbox(user, "INBOX")
            assert inbox is not None
            self.store.append(
                inbox, generate_mailbox(sim.rng(f"mailbox:{user}"), spec, pools[spec])
            )
            self.store.create_mailbox(user, "Archive")
        self._open: dict[ServerSession, TcpSocket] = {}
        self.store.add_listener(self._mailbox_changed)
        self._listener = listen(stack, port)
        sim.env.process(self._accept())

    def _accept(self) -> Process:
        while True:
            sock = yield self._listener.accept()
            self.sim.env.process(self._serve(sock))

    def _serve(self, sock: TcpSocket) -> Process:
        # As serve-mail on real sockets (and Dovecot): TCP_NODELAY, so that a reply
        # longer than one segment is not held back by Nagle waiting for a delayed ACK.
        sock.set_nodelay(True)
        session = self.server.open_session()
        self._open[session] = sock
        try:
            yield sock.send(session.greeting())
            while not session.closed:
                data = yield sock.recv()
                out = session.receive_data(data)
                if out:
                    yield sock.send(out)
                if not data:
                    break
        except OSError:
            pass  # the client went away; the store keeps what was acknowledged
        finally:
            del self._open[session]
            sock.close()

    def _mailbox_changed(self, box: Mailbox) -> None:
        # Sessions in IDLE learn about new and expunged messages right away.
        for session, sock in list(self._open.items()):
            if session.idling:
                out = session.idle_updates()
                if out:
                    sock.send(out)


class ImapClient:
    """One client host's session, repeated workloads and all, writing rows to imap.csv."""

    def __init__(
        self,
        sim: Simulation,
        traffic: str,
        stack: IpStack,
        server: IpStack,
        server_name: str,
        *,
        port: int,
        session: Sequence[str],
        repeat: int,
        think: float,
        idle: float,
        start: float,
        stop_at: float,
    ) -> None:
        self.sim = sim
        self.traffic = traffic
        self.stack = stack
        self.server = server
        self.server_name = server_name
        self.port = port
        self.steps = list(session)
        self.repeat = repeat
        self.think = think
        self.idle = idle
        self.stop_at = stop_at
        self.user = stack.host.name
        self.session_id = f"{traffic}:{self.user}"
        self.rng: random.Random = sim.rng(f"imap:{traffic}:{self.user}")
        self.exists = 0
        self.conn = ClientConnection()
        self.sock: TcpSocket | None = None
        sim.env.process(self._run(start))

    # The session -------------------------------------------------------------------------

    def _run(self, start: float) -> Process:
        env = self.sim.env
        yield env.timeout(max(0.0, start - env.now))
        t0 = env.now
        try:
            self.sock = yield connect(self.stack, self.server.address, self.port)
            got = yield from self._until_greeting()
            self._row("", "CONNECT", t0, 0, got, "OK")
            yield from self.command(Request("LOGIN", (self.user, PASSWORD)))
            yield from self.command(Request("SELECT", ("INBOX",)))
            for r in range(self.repeat):
                if r and env.now >= self.stop_at:
                    break
                for step in self.steps:
                    yield from self._step(step)
                if self.think and r < self.repeat - 1:
                    yield env.timeout(self.think)
            yield from self.command(Request("LOGOUT"))
        except (OSError, SessionEnded) as e:
            self._row("", "SESSION", t0, 0, 0, f"failed: {e}")
        finally:
            if self.sock is not None:
                self.sock.close()

    def _step(self, step: str) -> Process:
        seq = self.rng.randint(1, self.exists) if self.exists else 1
        if step == "check-new-mail":
            yield from self.command(Request("NOOP"))
            yield from self.command(Request("UID", (Atom("SEARCH"), Atom("UNSEEN"))))
            yield from self.command(Request("UID", (Atom("FETCH"), Atom("1:*"), (Atom("FLAGS"),))))
        elif step == "read-a-message":
            if not self.exists:
                return
            headers = Atom("BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)]")
            items = (Atom("UID"), Atom("RFC822.SIZE"), Atom("FLAGS"), headers)
            yield from self.command(Request("FETCH", (seq, items)))
            yield from self.command(Request("FETCH", (seq, (Atom("BODYSTRUCTURE"),))))
            yield from self.command(Request("FETCH", (seq, Atom("BODY[]"))))
        elif step == "search":
            yield from self.command(Request("SEARCH", (Atom("FROM"), self.rng.choice(SENDERS))))
            topic = self.rng.choice(TOPICS).split()[0]
            yield from self.command(Request("SEARCH", (Atom("SUBJECT"), topic)))
            yield from self.command(
                Request("UID", (Atom("SEARCH"), Atom("UNSEEN"), Atom("SINCE"), Atom("1-Jan-2026")))
            )
        elif step == "file-to-folder":
            if self.exists:
                yield from self.command(Request("MOVE", (seq, "Archive")))
        elif step == "idle":
            yield from self._idle()
        else:
            verb, _, rest = step.strip().partition(" ")
            yield from self.command(Request(verb, (Atom(rest),) if rest else ()))

    def _idle(self) -> Process:
        env = self.sim.env
        assert self.sock is not None
        data = self.conn.send(Request("IDLE"))
        tag = self.conn.last_tag
        t0 = env.now
        yield self.sock.send(data)
        got = yield from self._until(lambda ev: isinstance(ev, Continuation))
        self._row(tag, "IDLE", t0, len(data), got, "+")
        yield env.timeout(self.idle)
        done = self.conn.send(SendDone())
        t1 = env.now
        yield self.sock.send(done)
        result: list[Tagged] = []
        got = yield from self._until(lambda ev: _is_tagged(ev, tag, result))
        self._row(tag, "DONE", t1, len(done), got, result[0].status)

    def command(self, request: Request) -> Process:
        """Send one command, wait for its tagged reply, record a row; return the reply."""
        env = self.sim.env
        assert self.sock is not None
        data = self.conn.send(request)
        tag = self.conn.last_tag
        sent = len(data)
        t0 = env.now
        yield self.sock.send(data)
        result: list[Tagged] = []

        def done(ev: object) -> bool:
            nonlocal sent
            if isinstance(ev, Continuation):  # a synchronizing literal may follow
                more = self.conn.send(SendContinuation())
                sent += len(more)
                assert self.sock is not None
                self.sock.send(more)
                return False
            return _is_tagged(ev, tag, result)

        got = yield from self._until(done)
        self._row(tag, _verb(request), t0, sent, got, result[0].status)
        return result[0]

    def _until_greeting(self) -> Process:
        return (yield from self._until(lambda ev: not isinstance(ev, Untagged)))

    def _until(self, finished: Any) -> Process:
        """Read and interpret responses until ``finished(event)``; return bytes read."""
        assert self.sock is not None
        received = 0
        while True:
            event = self.conn.next_event()
            if event is NEED_DATA:
                data = yield self.sock.recv()
                received += len(data)
                self.conn.receive_data(data)
                continue
            if isinstance(event, ConnectionClosed):
                raise SessionEnded("the server closed the connection")
            if isinstance(event, Untagged):
                match = _COUNT.match(event.payload)
                if match is not None:
                    n = int(match.group(1))
                    self.exists = n if match.group(2).upper() == b"EXISTS" else self.exists - 1
            if finished(event):
                return received

    def _row(self, tag: str, command: str, t0: float, out: int, got: int, status: str) -> None:
        now = self.sim.now
        self.sim.trace.row(
            "imap",
            traffic=self.traffic,
            client=self.user,
            server=self.server_name,
            session=self.session_id,
            tag=tag,
            command=command,
            t_start=t0,
            t_end=now,
            latency=now - t0,
            bytes_out=out,
            bytes_in=got,
            status=status,
        )


def _is_tagged(event: object, tag: str, result: list[Tagged]) -> bool:
    if isinstance(event, Tagged) and event.tag == tag:
        result.append(event)
        return True
    return False


def _verb(request: Request) -> str:
    name = request.name.upper()
    if name == "UID" and request.args:
        return f"UID {str(request.args[0]).split()[0].upper()}"
    return name
