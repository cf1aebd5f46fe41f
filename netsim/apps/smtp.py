"""``traffic: kind: smtp``: mail submitted during the run, every command timed (smtp.csv).

The server is netsim's own SMTP server (:mod:`netsim.mail.smtp`, the code ``serve-mail
--smtp/--submission`` runs), delivering into the mail host's store, so the message shows
up at once in IMAP sessions (an IDLE push) and in the next POP3 poll. Each submission is
one SMTP session from a client host:

    connect, 220 greeting, EHLO, [STARTTLS, handshake, EHLO], [AUTH PLAIN],
    MAIL FROM, RCPT TO, DATA (one flight with PIPELINING), the message, QUIT

A row's latency runs from the command's first byte handed to TCP to its reply's last
byte; with PIPELINING, MAIL, RCPT and DATA leave together and each row ends at its own
reply. The message's Message-ID ties the ``delivery`` table's rows together: when it was
submitted (MAIL FROM), accepted (the 250 after the message), stored, and seen.
"""

from __future__ import annotations

import base64
import math
import random
from collections.abc import Generator, Sequence
from email.utils import formatdate
from typing import Any

import simpy

from netsim.apps.mailclient import MailConnection, SessionEnded
from netsim.apps.mailgen import WORDS
from netsim.apps.mailhost import EPOCH, PASSWORD, DeliveryLog, MailHost, command_row
from netsim.apps.mailservice import MailService
from netsim.engine.sim import Simulation
from netsim.mail.smtp import SmtpConfig, SmtpServer, SmtpSession
from netsim.mail.smtp.client import Extensions, SmtpClient
from netsim.mail.smtp.events import NEED_DATA, Command, Message, Reply
from netsim.net.stack import IpStack

Process = Generator[simpy.Event, Any, Any]
DOMAIN = "netsim.example.org"


class _CountedSmtpSession(SmtpSession):
    """An SMTP session that notes each command, and each message taken, for the cost model."""

    def __init__(self, server: SmtpServer, tls: bool = False, submission: bool = False) -> None:
        super().__init__(server, tls, submission)
        self.dispatched: list[str] = []

    def _dispatch(self, cmd: Command) -> None:
        self.dispatched.append(cmd.verb)
        super()._dispatch(cmd)

    def _message(self, message: Message) -> Reply:
        # The end of DATA: parsing, delivery into the store, its fsyncs.
        self.dispatched.append("MESSAGE")
        return super()._message(message)


class SmtpService(MailService):
    """netsim's SMTP server on one port of a simulated mail host."""

    def __init__(
        self,
        host: MailHost,
        port: int,
        *,
        submission: bool,
        implicit_tls: bool = False,
        starttls: bool = False,
    ) -> None:
        config = SmtpConfig(hostname=f"{host.name}.{DOMAIN}", starttls=starttls)
        self.server = SmtpServer(host.store, host.users, config)
        super().__init__(
            host,
            port,
            "smtp",
            lambda tls: _CountedSmtpSession(self.server, tls, submission),
            implicit_tls=implicit_tls,
        )


def compose(
    rng: random.Random, mid: str, sender: str, recipient: str, size: int, when: float
) -> bytes:
    """A plain-text message of about ``size`` octets with Message-ID ``mid``."""
    stamp = EPOCH + when
    head = (
        f"From: {sender} <{sender}@{DOMAIN}>\r\n"
        f"To: {recipient} <{recipient}@{DOMAIN}>\r\n"
        f"Subject: {rng.choice(WORDS)} {rng.choice(WORDS)}\r\n"
        f"Date: {formatdate(stamp, usegmt=True)}\r\n"
        f"Message-ID: {mid}\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
    ).encode()
    body = bytearray()
    line = bytearray()
    while len(head) + len(body) + len(line) < size - 2:
        word = rng.choice(WORDS).encode()
        if len(line) + len(word) + 1 > 72:
            body += line + b"\r\n"
            line = bytearray()
        line += (b" " if line else b"") + word
    body += line + b"\r\n"
    return head + bytes(body)


class SmtpSender:
    """One client host submitting messages, one SMTP session each, rows to smtp.csv."""

    def __init__(
        self,
        sim: Simulation,
        traffic: str,
        stack: IpStack,
        server: IpStack,
        server_name: str,
        *,
        port: int,
        recipients: Sequence[str],
        times: Sequence[float],
        sizes: Sequence[int],
        tls: str,
        tls_version: str,
        submission: bool,
        pipelining: bool,
        deliveries: DeliveryLog,
    ) -> None:
        self.sim = sim
        self.traffic = traffic
        self.stack = stack
        self.server = server
        self.server_name = server_name
        self.port = port
        self.recipients = list(recipients)
        self.tls_mode = tls
        self.tls_version = tls_version
        self.submission = submission
        self.pipelining = pipelining
        self.deliveries = deliveries
        self.user = stack.host.name
        self.rng = sim.rng(f"smtp:{traffic}:{self.user}")
        for n, (when, size) in enumerate(zip(times, sizes, strict=True)):
            sim.env.process(self._submit(n, when, size))

    def _submit(self, n: int, when: float, size: int) -> Process:
        env = self.sim.env
        yield env.timeout(max(0.0, when - env.now))
        recipient = self.recipients[n % len(self.recipients)]
        mid = f"<{self.traffic}.{self.user}.{n + 1}@{DOMAIN}>"
        data = compose(self.rng, mid, self.user, recipient, size, env.now)
        session = _Session(self, f"{self.traffic}:{self.user}:{n + 1}")
        yield from session.run(mid, recipient, data)


class _Session:
    """One SMTP session of a sender."""

    def __init__(self, sender: SmtpSender, session_id: str) -> None:
        self.sender = sender
        self.sim = sender.sim
        self.session_id = session_id
        self.client = SmtpClient()
        self.conn = MailConnection(sender.stack, sender.tls_version)

    def run(self, mid: str, recipient: str, data: bytes) -> Process:
        s = self.sender
        env = self.sim.env
        t0 = env.now
        try:
            yield from self.conn.open(s.server.address, s.port, s.tls_mode == "implicit")
            greeting = yield from self._reply()
            self._row("CONNECT", t0, *self.conn.octets(), greeting)
            if greeting.code != 220:
                return
            ehlo = yield from self.exchange([f"EHLO {s.user}.{DOMAIN}"])
            extensions = Extensions.parse(ehlo[0])
            if s.tls_mode == "starttls" and "STARTTLS" in extensions:
                (ok,) = yield from self.exchange(["STARTTLS"])
                if ok.code == 220:
                    t1, before = env.now, self.conn.octets()
                    yield from self.conn.start_tls()
                    self._row("TLS", t1, *_minus(self.conn.octets(), before), None)
                    ehlo = yield from self.exchange([f"EHLO {s.user}.{DOMAIN}"])
                    extensions = Extensions.parse(ehlo[0])
            if s.submission:
                token = base64.b64encode(f"\0{s.user}\0{PASSWORD}".encode()).decode()
                (auth,) = yield from self.exchange([f"AUTH PLAIN {token}"])
                if auth.code != 235:
                    return
            envelope = [
                f"MAIL FROM:<{s.user}@{DOMAIN}> SIZE={len(data)}",
                f"RCPT TO:<{recipient}@{DOMAIN}>",
                "DATA",
            ]
            s.deliveries.submitted(mid, s.user, recipient)
            pipelined = s.pipelining and "PIPELINING" in extensions
            replies = yield from self.exchange(envelope, pipelined=pipelined)
            if replies[-1].code == 354:
                (done,) = yield from self.exchange([data], message=True)
                if done.code == 250:
                    s.deliveries.accepted(mid)
            yield from self.exchange(["QUIT"])
        except (OSError, SessionEnded) as e:
            self._row("SESSION", t0, 0, 0, None, f"failed: {e}")
        finally:
            self.conn.close()

    def exchange(
        self, commands: Sequence[str | bytes], pipelined: bool = False, message: bool = False
    ) -> Process:
        """Send ``commands`` (back to back if ``pipelined``), read a reply for each."""
        replies: list[Reply] = []
        if not pipelined:
            for command in commands:
                got = yield from self._one_by_one(command, message)
                replies.append(got)
                if got.code >= 400:
                    break  # a refused MAIL or RCPT: the rest would be refused too
            return replies
        burst = [(_verb(c, message), self.client.command(str(c))) for c in commands]
        replies = yield from self.conn.pipeline(self.sim.env.now, burst, self._reply, self._row)
        return replies

    def _one_by_one(self, command: str | bytes, message: bool) -> Process:
        env = self.sim.env
        t, before = env.now, self.conn.octets()
        wire = (
            self.client.message(command)
            if isinstance(command, bytes)
            else self.client.command(command)
        )
        yield self.conn.send(wire)
        got = yield from self._reply()
        self._row(_verb(command, message), t, *_minus(self.conn.octets(), before), got)
        return got

    def _reply(self) -> Process:
        reply: Reply = yield from self.conn.reply(self.client, NEED_DATA, Reply)
        return reply

    def _row(
        self, command: str, t0: float, out: int, got: int, reply: Reply | None, status: str = ""
    ) -> None:
        status = str(reply.code) if reply is not None else (status or "OK")
        command_row(self.sim, "smtp", self.sender, self.session_id, command, t0, out, got, status)


def _verb(command: str | bytes, message: bool) -> str:
    if message or isinstance(command, bytes):
        return "MESSAGE"
    return command.split(" ", 1)[0].upper()


def _minus(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return a[0] - b[0], a[1] - b[1]


def submission_times(
    rng: random.Random,
    *,
    schedule: Sequence[float] | None,
    start: float,
    count: int,
    interval: float,
    poisson: bool,
) -> list[float]:
    """When one client submits: the schedule, or ``count`` times ``interval`` apart."""
    if schedule is not None:
        return sorted(schedule)
    times, t = [], start
    for _ in range(count):
        times.append(t)
        t += rng.expovariate(1.0 / interval) if poisson and interval > 0 else interval
    return times


def message_sizes(rng: random.Random, count: int, mean: int, lognormal: bool) -> list[int]:
    """``count`` message sizes of mean ``mean`` (log-normal, sigma 1, or all the same)."""
    if not lognormal:
        return [mean] * count
    sigma = 1.0
    mu = math.log(max(mean, 1)) - sigma * sigma / 2
    return [max(300, int(rng.lognormvariate(mu, sigma))) for _ in range(count)]
