"""``traffic: kind: imap``: IMAP sessions across the fabric, every command timed (imap.csv).

The server is netsim's own IMAP4rev1 server (:mod:`netsim.mail`), the very code that
``netsim serve-mail`` runs on real sockets, here on a simulated host's TCP. Each client
host runs one session as the user named after it: connect, LOGIN, SELECT INBOX, then a
workload repeated with think times, then LOGOUT. A command's latency runs from the moment
the client hands it to TCP (its first byte goes out then, unless TCP is still busy) to
the moment the tagged reply has fully arrived; its octets are what TCP carried for it
(TLS records and, on the CONNECT row, the TLS handshake included).

Named workloads, modelled on what mail clients do:

- ``check-new-mail``: NOOP, UID SEARCH UNSEEN, UID FETCH 1:* (FLAGS)
- ``read-a-message``: the headers, the BODYSTRUCTURE, then the whole message of one mail
  (only its header with ``fetch: headers``, as a client on a slow link does)
- ``search``: SEARCH FROM, SEARCH SUBJECT, UID SEARCH UNSEEN SINCE
- ``file-to-folder``: MOVE one message to Archive
- ``idle``: IDLE (timed to the server's ``+``), wait, DONE (timed to the tagged OK)
- ``wait-for-mail``: IDLE until the server pushes new mail (``* n EXISTS``) or ``idle``
  has passed, then DONE

With ``pipelining``, a workload's commands go out back to back and their replies are
read as they come (RFC 3501 5.5: none of them depends on another's result). When mail
is delivered during the run (``smtp`` traffic), a client that learns of new messages
(a push in IDLE, or an EXISTS in a poll's reply) fetches their Message-IDs, and the
moment it learned of each goes to the ``delivery`` table.

Anything else in a session list is sent as a raw command line, e.g. ``"UID FETCH 1:10 (FLAGS)"``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Generator, Sequence
from typing import Any

import simpy

from netsim.apps.mailclient import MailConnection, SessionEnded
from netsim.apps.mailgen import SENDERS, TOPICS
from netsim.apps.mailhost import PASSWORD, DeliveryLog, MailHost, command_row, message_id
from netsim.apps.mailservice import MailService
from netsim.engine.sim import Simulation
from netsim.mail.imap.client import ClientConnection
from netsim.mail.imap.events import (
    NEED_DATA,
    Command,
    ConnectionClosed,
    Continuation,
    Request,
    SendContinuation,
    SendDone,
    Tagged,
    Untagged,
    UntaggedStatus,
)
from netsim.mail.imap.parser import Atom
from netsim.mail.imap.server import ImapServer, ServerConfig, ServerSession
from netsim.net.stack import IpStack

WORKLOADS = (
    "check-new-mail",
    "read-a-message",
    "search",
    "file-to-folder",
    "idle",
    "wait-for-mail",
)
_COUNT = re.compile(rb"^(\d+) (EXISTS|EXPUNGE)\b", re.IGNORECASE)
_UID = re.compile(rb"\bUID (\d+)")
_MESSAGE_ID_FIELD = Atom("BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]")

Process = Generator[simpy.Event, Any, Any]


class _CountedSession(ServerSession):
    """An IMAP server session that notes the name of each command it dispatches.

    The cost model charges by command, and only the session knows where one command
    ends and the next begins.
    """

    def __init__(self, server: ImapServer, tls: bool = False) -> None:
        super().__init__(server, tls)
        self.dispatched: list[str] = []

    def _dispatch(self, cmd: Command) -> None:
        self.dispatched.append(cmd.name)
        super()._dispatch(cmd)


class ImapService(MailService):
    """netsim's IMAP server on one port of a simulated mail host.

    ``implicit_tls`` serves IMAPS (TLS from the first byte, port 993); ``starttls``
    offers STARTTLS on a clear-text port.
    """

    def __init__(
        self, host: MailHost, port: int = 143, *, implicit_tls: bool = False, starttls: bool = False
    ) -> None:
        self.server = ImapServer(host.store, host.users, ServerConfig(starttls=starttls))
        super().__init__(
            host,
            port,
            "imap",
            lambda tls: _CountedSession(self.server, tls),
            implicit_tls=implicit_tls,
        )


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
        tls: str = "none",
        tls_version: str = "1.3",
        pipelining: bool = False,
        headers_only: bool = False,
        deliveries: DeliveryLog | None = None,
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
        self.tls_mode = tls
        self.tls_version = tls_version
        self.pipelining = pipelining
        self.headers_only = headers_only
        self.deliveries = deliveries
        self.user = stack.host.name
        self.session_id = f"{traffic}:{self.user}"
        self.rng: random.Random = sim.rng(f"imap:{traffic}:{self.user}")
        self.exists = 0
        self.conn = ClientConnection()
        #: The session's TCP (or TLS) connection, which counts the octets it carries.
        self.channel: MailConnection | None = None
        # Delivery tracking: the highest UID whose Message-ID the client has looked at,
        # and when it first learned that there is more.
        self._tracking = False
        self._known_uid = 0
        self._news_at: float | None = None
        sim.env.process(self._run(start))

    # The session -------------------------------------------------------------------------

    def _run(self, start: float) -> Process:
        env = self.sim.env
        yield env.timeout(max(0.0, start - env.now))
        t0 = env.now
        try:
            yield from self._connect(t0)
            yield from self.command(Request("LOGIN", (self.user, PASSWORD)))
            yield from self.command(Request("SELECT", ("INBOX",)))
            self._tracking = self.deliveries is not None
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
            if self.channel is not None:
                self.channel.close()

    def _connect(self, t0: float) -> Process:
        """Open a fresh connection, read the greeting, and STARTTLS if asked (rows
        CONNECT and TLS, the handshake's octets in them)."""
        env = self.sim.env
        self.conn = ClientConnection()
        self.channel = MailConnection(self.stack, self.tls_version)
        yield from self.channel.open(
            self.server.address, self.port, self.tls_mode == "implicit", nodelay=False
        )
        yield from self._until(lambda ev: not isinstance(ev, Untagged))
        self._row("", "CONNECT", t0, *self._octets(), "OK")
        if self.tls_mode == "starttls":
            reply = yield from self.command(Request("STARTTLS"))
            if reply.status == "OK":
                t1, before = env.now, self._octets()
                yield from self.channel.start_tls()
                self._row("", "TLS", t1, *self._since(before), "OK")

    def _step(self, step: str) -> Process:
        seq = self.rng.randint(1, self.exists) if self.exists else 1
        if step == "check-new-mail":
            yield from self.commands(
                [
                    Request("NOOP"),
                    Request("UID", (Atom("SEARCH"), Atom("UNSEEN"))),
                    Request("UID", (Atom("FETCH"), Atom("1:*"), (Atom("FLAGS"),))),
                ]
            )
        elif step == "read-a-message":
            if not self.exists:
                return
            headers = Atom("BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)]")
            items = (Atom("UID"), Atom("RFC822.SIZE"), Atom("FLAGS"), headers)
            body = Atom("BODY.PEEK[HEADER]") if self.headers_only else Atom("BODY[]")
            yield from self.commands(
                [
                    Request("FETCH", (seq, items)),
                    Request("FETCH", (seq, (Atom("BODYSTRUCTURE"),))),
                    Request("FETCH", (seq, body)),
                ]
            )
        elif step == "search":
            topic = self.rng.choice(TOPICS).split()[0]
            yield from self.commands(
                [
                    Request("SEARCH", (Atom("FROM"), self.rng.choice(SENDERS))),
                    Request("SEARCH", (Atom("SUBJECT"), topic)),
                    Request(
                        "UID", (Atom("SEARCH"), Atom("UNSEEN"), Atom("SINCE"), Atom("1-Jan-2026"))
                    ),
                ]
            )
        elif step == "file-to-folder":
            if self.exists:
                yield from self.command(Request("MOVE", (seq, "Archive")))
        elif step == "idle":
            yield from self._idle(until_mail=False)
        elif step == "wait-for-mail":
            yield from self._idle(until_mail=True)
        else:
            verb, _, rest = step.strip().partition(" ")
            yield from self.command(Request(verb, (Atom(rest),) if rest else ()))
        if step != "wait-for-mail":
            yield from self._look_at_new_mail("imap-poll")

    def _idle(self, until_mail: bool) -> Process:
        """IDLE for ``idle`` seconds, or (``until_mail``) until new mail is pushed first."""
        env = self.sim.env
        data = self.conn.send(Request("IDLE"))
        tag = self.conn.last_tag
        t0, mark = env.now, self._octets()
        yield self._send(data)
        yield from self._until(lambda ev: isinstance(ev, Continuation))
        self._row(tag, "IDLE", t0, *self._since(mark), "+")
        deadline = env.now + self.idle
        if until_mail:
            had = self.exists
            yield from self._until(lambda ev: self.exists > had, deadline=deadline)
        else:
            yield env.timeout(self.idle)
        done = self.conn.send(SendDone())
        t1, mark = env.now, self._octets()
        yield self._send(done)
        result: list[Tagged] = []
        yield from self._until(lambda ev: _is_tagged(ev, tag, result))
        self._row(tag, "DONE", t1, *self._since(mark), result[0].status)
        yield from self._look_at_new_mail("imap-idle")

    def _look_at_new_mail(self, via: str) -> Process:
        """Fetch the Message-IDs of messages the client just learned of (delivery table)."""
        if self.deliveries is None or self._news_at is None:
            return
        seen_at, self._news_at = self._news_at, None
        items = (Atom("UID"), _MESSAGE_ID_FIELD)
        first = self._known_uid + 1
        found: list[tuple[int, str]] = []

        def note(event: object) -> None:
            if isinstance(event, Untagged) and b" FETCH " in event.payload[:24]:
                uid = _UID.search(event.payload)
                mid = message_id(event.payload.split(b"\r\n", 1)[-1])
                if uid is not None and mid is not None:
                    found.append((int(uid.group(1)), mid))

        yield from self.command(Request("UID", (Atom("FETCH"), Atom(f"{first}:*"), items)), note)
        for uid, mid in found:
            if uid >= first:
                self.deliveries.seen(mid, self.user, via, at=seen_at)
                self._known_uid = max(self._known_uid, uid)

    # Commands ----------------------------------------------------------------------------

    def command(self, request: Request, watch: Callable[[object], None] | None = None) -> Process:
        """Send one command, wait for its tagged reply, record a row; return the reply."""
        replies = yield from self.commands([request], watch, pipelined=False)
        return replies[0]

    def commands(
        self,
        requests: Sequence[Request],
        watch: Callable[[object], None] | None = None,
        pipelined: bool | None = None,
    ) -> Process:
        """Run ``requests``, back to back if pipelining, else each after the last's reply."""
        if pipelined is None:
            pipelined = self.pipelining
        if not pipelined:
            replies = []
            for request in requests:
                got = yield from self._exchange([request], watch)
                replies += got
            return replies
        return (yield from self._exchange(list(requests), watch))

    def _exchange(self, requests: list[Request], watch: Callable[[object], None] | None) -> Process:
        env = self.sim.env
        sent: dict[str, tuple[str, float, int]] = {}
        # One write for the lot, as a pipelining client does: written one by one,
        # Nagle would hold the later commands until the first is acknowledged.
        burst: list[bytes] = []
        order: list[str] = []
        for request in requests:
            burst.append(self.conn.send(request))
            order.append(self.conn.last_tag)
        before, t0 = self._octets()[0], env.now
        yield self._send(b"".join(burst))
        framing = self._octets()[0] - before - sum(len(data) for data in burst)
        for i, (request, tag, data) in enumerate(zip(requests, order, burst, strict=True)):
            sent[tag] = (_verb(request), t0, len(data) + (framing if i == 0 else 0))
        results: dict[str, Tagged] = {}
        mark = self._octets()

        def done(ev: object) -> bool:
            nonlocal mark
            if watch is not None:
                watch(ev)
            if isinstance(ev, Continuation):  # a synchronizing literal may follow
                more = self.conn.send(SendContinuation())
                self._send(more)
                tag = order[-1]
                verb, t0, out = sent[tag]
                sent[tag] = (verb, t0, out + len(more))
                return False
            if isinstance(ev, Tagged) and ev.tag in sent:
                results[ev.tag] = ev
                verb, t0, out = sent[ev.tag]
                got = self._octets()[1] - mark[1]
                mark = self._octets()
                self._row(ev.tag, verb, t0, out, got, ev.status)
                return len(results) == len(sent)
            return False

        yield from self._until(done)
        return [results[tag] for tag in order]

    def _until(
        self,
        finished: Callable[[object], bool],
        deadline: float | simpy.Event | None = None,
    ) -> Process:
        """Read and interpret responses until ``finished(event)``, or until ``deadline``
        (a time, or an event such as the user going offline)."""
        env = self.sim.env
        while True:
            event = self.conn.next_event()
            if event is NEED_DATA:
                assert self.channel is not None
                reading = self.channel.reading()
                if deadline is not None:
                    if isinstance(deadline, simpy.Event):
                        timer = deadline
                    else:
                        timer = env.timeout(max(0.0, deadline - env.now))
                    happened = yield env.any_of([reading, timer])
                    if reading not in happened:
                        return  # the read stays in progress: its bytes are for the next reader
                yield reading
                self.conn.receive_data(self.channel.received(reading))
                continue
            if isinstance(event, ConnectionClosed):
                raise SessionEnded("the server closed the connection")
            if isinstance(event, Untagged):
                match = _COUNT.match(event.payload)
                if match is not None:
                    n = int(match.group(1))
                    if match.group(2).upper() == b"EXISTS":
                        if n > self.exists and self._tracking and self._news_at is None:
                            self._news_at = env.now
                        self.exists = n
                    else:
                        self.exists -= 1
            elif isinstance(event, UntaggedStatus) and event.code is not None:
                code = event.code.split()
                if code[0].upper() == "UIDNEXT" and len(code) == 2 and code[1].isdigit():
                    self._known_uid = max(self._known_uid, int(code[1]) - 1)
            if finished(event):
                return

    # Octets on the wire ------------------------------------------------------------------

    def _send(self, data: bytes) -> simpy.Event:
        assert self.channel is not None
        return self.channel.send(data)

    def _octets(self) -> tuple[int, int]:
        """Octets sent and received so far on the wire (TLS records included)."""
        assert self.channel is not None
        return self.channel.octets()

    def _since(self, mark: tuple[int, int]) -> tuple[int, int]:
        now = self._octets()
        return now[0] - mark[0], now[1] - mark[1]

    def _row(
        self, tag: str, command: str, t0: float, out: int, got: int, status: str, **extra: object
    ) -> None:
        command_row(
            self.sim, "imap", self, self.session_id, command, t0, out, got, status, tag, **extra
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
