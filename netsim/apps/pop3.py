"""``traffic: kind: pop3``: clients that poll a maildrop, every command timed (pop3.csv).

The server is netsim's own POP3 server (:mod:`netsim.mail.pop3`, the code ``serve-mail
--pop3`` runs) on the mail host's store. Every ``poll`` seconds a client does what mail
programs do (RFC 1939):

    connect, +OK greeting, [STLS, handshake], USER, PASS, STAT, UIDL,
    RETR n (or TOP n 0 for headers only) for each message it does not have yet,
    DELE n after each download (unless it keeps mail on the server), QUIT

Deletions take effect at QUIT (the UPDATE state): a connection that drops first
deletes nothing. A client that keeps its mail on the server remembers the UIDL of what
it downloaded and skips it next time. When mail is delivered during the run, each new
message's sighting (the STAT/UIDL that revealed it) goes to the ``delivery`` table.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from netsim.apps.mailclient import MailConnection, SessionEnded
from netsim.apps.mailhost import PASSWORD, DeliveryLog, MailHost, command_row, message_id
from netsim.apps.mailservice import MailService
from netsim.engine.sim import Simulation
from netsim.mail.pop3.client import Pop3Client
from netsim.mail.pop3.connection import NEED_DATA, Command, Reply
from netsim.mail.pop3.server import Pop3Config, Pop3Server, Pop3Session
from netsim.net.stack import IpStack

Process = Generator[simpy.Event, Any, Any]


class _CountedPop3Session(Pop3Session):
    """A POP3 session that notes the name of each command it dispatches (cost model)."""

    def __init__(self, server: Pop3Server, tls: bool = False) -> None:
        super().__init__(server, tls)
        self.dispatched: list[str] = []

    def _dispatch(self, cmd: Command) -> None:
        self.dispatched.append(cmd.verb)
        super()._dispatch(cmd)


class Pop3Service(MailService):
    """netsim's POP3 server on one port of a simulated mail host."""

    def __init__(
        self, host: MailHost, port: int, *, implicit_tls: bool = False, starttls: bool = False
    ) -> None:
        self.server = Pop3Server(host.store, host.users, Pop3Config(starttls=starttls))
        super().__init__(
            host,
            port,
            "pop3",
            lambda tls: _CountedPop3Session(self.server, tls),
            implicit_tls=implicit_tls,
        )


class Pop3Reader:
    """One client host polling its maildrop, writing rows to pop3.csv."""

    def __init__(
        self,
        sim: Simulation,
        traffic: str,
        stack: IpStack,
        server: IpStack,
        server_name: str,
        *,
        port: int,
        start: float,
        poll: float,
        polls: int,
        keep: bool,
        headers_only: bool,
        pipelining: bool,
        tls: str,
        tls_version: str,
        deliveries: DeliveryLog | None,
    ) -> None:
        self.sim = sim
        self.traffic = traffic
        self.stack = stack
        self.server = server
        self.server_name = server_name
        self.port = port
        self.poll = poll
        self.polls = polls
        self.keep = keep
        self.headers_only = headers_only
        self.pipelining = pipelining
        self.tls_mode = tls
        self.tls_version = tls_version
        self.deliveries = deliveries
        self.user = stack.host.name
        #: UIDLs of the messages this client has downloaded (kept on the server or not).
        self.have: set[str] = set()
        sim.env.process(self._run(start))

    def _run(self, start: float) -> Process:
        env = self.sim.env
        yield env.timeout(max(0.0, start - env.now))
        for n in range(self.polls):
            began = env.now
            yield from _Poll(self, f"{self.traffic}:{self.user}:{n + 1}").run()
            if n < self.polls - 1:
                yield env.timeout(max(0.0, began + self.poll - env.now))


class _Poll:
    """One POP3 session of a reader."""

    def __init__(self, reader: Pop3Reader, session_id: str) -> None:
        self.reader = reader
        self.sim = reader.sim
        self.session_id = session_id
        self.client = Pop3Client()
        self.conn = MailConnection(reader.stack, reader.tls_version)

    def run(self) -> Process:
        r = self.reader
        env = self.sim.env
        t0 = env.now
        try:
            yield from self.conn.open(r.server.address, r.port, r.tls_mode == "implicit")
            greeting = yield from self._reply()
            self._row("CONNECT", t0, *self.conn.octets(), greeting)
            if r.tls_mode == "starttls":
                (ok,) = yield from self.exchange(["STLS"])
                if ok.ok:
                    t1, before = env.now, self.conn.octets()
                    yield from self.conn.start_tls()
                    now = self.conn.octets()
                    self._row("TLS", t1, now[0] - before[0], now[1] - before[1], None)
            login = yield from self.exchange([f"USER {r.user}", f"PASS {PASSWORD}"])
            if not all(reply.ok for reply in login):
                yield from self.exchange(["QUIT"])
                return
            yield from self.exchange(["STAT"])
            (uidl,) = yield from self.exchange(["UIDL"])
            seen_at = env.now
            listing = _uidl(uidl)
            new = [(n, uid) for n, uid in listing if uid not in r.have]
            commands = []
            for n, _uid in new:
                commands.append(f"TOP {n} 0" if r.headers_only else f"RETR {n}")
                if not r.keep:
                    commands.append(f"DELE {n}")
            replies = yield from self.exchange(commands, pipelined=r.pipelining)
            downloads = [reply for reply, c in zip(replies, commands, strict=False) if c[0] in "RT"]
            for (_n, uid), reply in zip(new, downloads, strict=False):
                if reply.ok and reply.body is not None:
                    r.have.add(uid)
                    mid = message_id(reply.body)
                    if mid is not None and r.deliveries is not None:
                        r.deliveries.seen(mid, r.user, "pop3", at=seen_at)
            yield from self.exchange(["QUIT"])
        except (OSError, SessionEnded) as e:
            self._row("SESSION", t0, 0, 0, None, f"failed: {e}")
        finally:
            self.conn.close()

    def exchange(self, commands: list[str], pipelined: bool = False) -> Process:
        """Send ``commands`` (back to back if ``pipelined``), read a reply for each."""
        env = self.sim.env
        replies: list[Reply] = []
        batches = [commands] if pipelined else [[c] for c in commands]
        for batch in batches:
            burst = [(c.split(" ", 1)[0].upper(), self.client.command(c)) for c in batch]
            got = yield from self.conn.pipeline(env.now, burst, self._reply, self._row)
            replies.extend(got)
        return replies

    def _reply(self) -> Process:
        reply: Reply = yield from self.conn.reply(self.client, NEED_DATA, Reply)
        return reply

    def _row(
        self, command: str, t0: float, out: int, got: int, reply: Reply | None, status: str = ""
    ) -> None:
        status = ("+OK" if reply.ok else "-ERR") if reply is not None else (status or "OK")
        text = reply.text[:80] if reply is not None else ""
        r, session = self.reader, self.session_id
        command_row(self.sim, "pop3", r, session, command, t0, out, got, status, reply=text)


def _uidl(reply: Reply) -> list[tuple[int, str]]:
    """(message number, unique id) pairs of a UIDL listing."""
    out = []
    for line in (reply.body or b"").decode("ascii", "replace").splitlines():
        number, _, uid = line.partition(" ")
        if number.isdigit() and uid:
            out.append((int(number), uid.strip()))
    return out
