"""``netsim serve-mail``: the sans-IO IMAP, SMTP and POP3 servers on real sockets.

Stock clients (imaplib, smtplib, poplib, mbsync, fetchmail, swaks, Thunderbird) can
then test the same server code that runs inside simulations.  The adapter is thin and
the same for the three protocols: bytes from the socket go to the session's
``receive_data`` (:class:`MailSession`), and whatever it returns goes back in a single
write (TCP_NODELAY is set, so one response is one segment rather than waiting for
Nagle).  STARTTLS, STLS and the implicit-TLS ports use the :mod:`ssl` module.  The
three servers share one mail store: a message accepted over SMTP is in the INBOX at
once, and an IMAP client idling there hears of it.

IMAP and SMTP connections run on one event loop (uvloop when installed).  POP3
connections each get a thread with a blocking socket (:mod:`netsim.apps.serve_threads`),
which answers a one-round-trip command with fewer system calls; accepting, limits and
shutdown stay with the loop.  Every call into a session, on either side, holds one
lock (``_Hub.lock``), because all sessions share the store.

Usage::

    netsim serve-mail --imap 1143 --smtp 1025 --submission 1587 --pop3 1110 \
                      --users users.txt [--store DIR] [--host 127.0.0.1]
                      [--imaps 1993 --smtps 1465 --pop3s 1995 --cert cert.pem --key key.pem
                       | --allow-plaintext-login]
    netsim serve-mail --check --store DIR      # verify a store, change nothing

Because it faces real networks, it defends itself: passwords travel only over TLS
unless ``--allow-plaintext-login`` says otherwise; connections are limited in number,
per server and per client address, and closed when silent before login; literals in
flight share a memory budget; failed logins are answered ever more slowly; and a client
that pipelines heavy commands gets the loop for a few milliseconds at a time, so the
others are still answered promptly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import importlib.util
import logging
import signal
import socket
import ssl
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from netsim.apps.serve_threads import (
    RESOURCE_ERRORS,
    ThreadedConnection,
    ThreadedListener,
    join_all,
)
from netsim.mail import store_check
from netsim.mail.imap.events import UntaggedStatus
from netsim.mail.imap.responses import render
from netsim.mail.imap.server import ImapServer, ServerConfig
from netsim.mail.pop3 import Pop3Config, Pop3Server
from netsim.mail.smtp import SmtpConfig, SmtpServer
from netsim.mail.store import FSYNC_POLICIES, Mailbox, MailStore, StoreError
from netsim.mail.users import UserFileError, Users

_log = logging.getLogger("netsim.serve_mail")


@dataclass(frozen=True)
class ConnectionLimits:
    """What clients may hold of a server on real sockets (see ``--help``)."""

    #: Connections open at once, all clients together.
    max_connections: int = 1000
    #: Connections open at once from one IP address.
    max_connections_per_ip: int = 100
    #: Seconds of silence before login after which the connection is closed (RFC 9051
    #: 5.4 allows a shorter timer before login than after; clients need a minute).
    login_timeout: float = 60.0
    #: Seconds of silence after login before autologout (RFC 3501 5.4: at least 30
    #: minutes); 0 never.
    autologout: float = 1800.0


class MailSession(Protocol):
    """What a sans-IO server session offers its I/O owner (IMAP, SMTP and POP3 alike)."""

    closed: bool
    hold: float
    backlog: bool
    starttls_requested: bool
    tls: bool

    @property
    def user(self) -> str | None:
        """The logged-in user, if any (it sets which inactivity timer applies)."""

    @property
    def idling(self) -> bool:
        """True while the session waits for news of the mailbox (IMAP IDLE)."""

    def greeting(self) -> bytes:
        """The first bytes to send."""

    def receive_data(self, data: bytes, max_commands: int | None = None) -> bytes:
        """Feed bytes (``b""``: end of input); returns the responses."""

    def resume(self, max_commands: int | None = None) -> bytes:
        """Go on with input received earlier."""

    def shutdown(self, reason: str) -> bytes:
        """End the session from the server's side; the last words."""

    def idle_updates(self) -> bytes:
        """News for an idling session."""

    def tls_started(self) -> None:
        """The owner finished the TLS handshake that the session asked for."""

    def close(self) -> None:
        """The connection is gone."""


@dataclass(frozen=True)
class Service:
    """One kind of listening port: which protocol, and whether TLS comes first."""

    #: The name printed and used in ``ready``: ``imap``, ``smtps``, ``submission`` ...
    name: str
    #: A new session; its argument says whether the transport is encrypted already.
    open_session: Callable[[bool], MailSession]
    #: The protocol's words for turning a client away at once (over a limit).
    refusal: Callable[[str], bytes]
    #: True for IMAPS, SMTPS and POP3S (RFC 8314): TLS from the first byte.
    implicit_tls: bool = False
    #: Serve each connection in a thread of its own, on a blocking socket, instead of
    #: on the event loop (:mod:`netsim.apps.serve_threads`); the session must never
    #: idle, as the loop could not deliver its news.
    threaded: bool = False


def imap_services(imap: ImapServer) -> list[Service]:
    """IMAP on 143 and IMAPS on 993."""

    def refusal(reason: str) -> bytes:
        return render(UntaggedStatus("BYE", reason, "LIMIT"))

    return [
        Service("imap", imap.open_session, refusal),
        Service("imaps", imap.open_session, refusal, implicit_tls=True),
    ]


def smtp_services(smtp: SmtpServer) -> list[Service]:
    """SMTP on 25 (mail for local users), submission on 587, and on 465 over TLS."""

    def refusal(reason: str) -> bytes:
        return f"421 4.7.0 {reason}\r\n".encode()

    def submission(tls: bool) -> MailSession:
        return smtp.open_session(tls, submission=True)

    return [
        Service("smtp", smtp.open_session, refusal),
        Service("submission", submission, refusal),
        Service("smtps", submission, refusal, implicit_tls=True),
    ]


def pop3_services(pop3: Pop3Server) -> list[Service]:
    """POP3 on 110 and POP3S on 995, a thread per connection.

    Each POP3 command of a client is one round trip, and a thread blocked in ``recv``
    answers it with fewer system calls than the event loop
    (``benchmarks/pop3_io_paths.py``).
    """

    def refusal(reason: str) -> bytes:
        return f"-ERR [SYS/TEMP] {reason}\r\n".encode()

    return [
        Service("pop3", pop3.open_session, refusal, threaded=True),
        Service("pop3s", pop3.open_session, refusal, implicit_tls=True, threaded=True),
    ]


#: Seconds of work one connection may do before the loop serves the others: commands
#: are handled one at a time, and a client that pipelines many waits its turn.
TIME_SLICE = 0.005


def _port(text: str) -> int:
    """A TCP port number for argparse, 0 meaning any free port."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port {value} is outside 0..65535")
    return value


def _count(text: str) -> int:
    """A positive whole number for argparse."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not positive")
    return value


def _seconds(text: str) -> float:
    """A finite, non-negative number of seconds for argparse."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= value < 1e9:
        raise argparse.ArgumentTypeError(f"{text} seconds is out of range")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``serve-mail`` options to ``parser``."""
    parser.add_argument("--imap", type=_port, metavar="PORT", help="IMAP port (0: any)")
    parser.add_argument(
        "--smtp", type=_port, metavar="PORT", help="SMTP port: mail for local users (25)"
    )
    parser.add_argument(
        "--submission",
        type=_port,
        metavar="PORT",
        help="message submission port, AUTH PLAIN required (587)",
    )
    parser.add_argument("--pop3", type=_port, metavar="PORT", help="POP3 port (110)")
    parser.add_argument(
        "--postmaster",
        metavar="USER",
        help="the user who gets mail sent to postmaster (RFC 5321 4.5.1)",
    )
    parser.add_argument("--users", metavar="FILE", help="user file, one name:password per line")
    parser.add_argument(
        "--store", metavar="DIR", help="keep mail durably in DIR (default: in memory)"
    )
    parser.add_argument("--host", default="127.0.0.1", metavar="ADDR", help="address to bind")
    parser.add_argument("--imaps", type=_port, metavar="PORT", help="IMAP over TLS port (993)")
    parser.add_argument(
        "--smtps", type=_port, metavar="PORT", help="submission over TLS port (465)"
    )
    parser.add_argument("--pop3s", type=_port, metavar="PORT", help="POP3 over TLS port (995)")
    parser.add_argument("--cert", metavar="F", help="TLS certificate (PEM), enables STARTTLS")
    parser.add_argument("--key", metavar="F", help="TLS private key (PEM)")
    tls = parser.add_mutually_exclusive_group()
    tls.add_argument(
        "--login-requires-tls",
        action="store_true",
        help="refuse LOGIN and AUTHENTICATE before STARTTLS, advertising LOGINDISABLED "
        "(the default; needs --cert and --key)",
    )
    tls.add_argument(
        "--allow-plaintext-login",
        action="store_true",
        help="accept passwords without TLS (a lab on loopback or a trusted network)",
    )
    limits = ConnectionLimits()
    parser.add_argument(
        "--max-connections",
        type=_count,
        default=limits.max_connections,
        metavar="N",
        help=f"connections open at once, all clients (default {limits.max_connections})",
    )
    parser.add_argument(
        "--max-connections-per-ip",
        type=_count,
        default=limits.max_connections_per_ip,
        metavar="N",
        help=f"connections open at once from one address (default {limits.max_connections_per_ip})",
    )
    parser.add_argument(
        "--login-timeout",
        type=_seconds,
        default=limits.login_timeout,
        metavar="SECONDS",
        help="close connections silent this long before login "
        f"(RFC 9051: at least a minute; default {limits.login_timeout:g}; 0: never)",
    )
    parser.add_argument(
        "--autologout",
        type=_seconds,
        default=limits.autologout,
        metavar="SECONDS",
        help="log out sessions silent this long after login "
        f"(RFC 3501: at least 30 minutes; default {limits.autologout:g}; 0: never)",
    )
    parser.add_argument(
        "--max-literal",
        type=_count,
        default=ServerConfig.max_literal,
        metavar="OCTETS",
        help="largest IMAP literal (APPEND) and SMTP message (SIZE) accepted "
        f"(default {ServerConfig.max_literal})",
    )
    parser.add_argument(
        "--max-literal-total",
        type=_count,
        metavar="OCTETS",
        help="literal octets all clients together may be sending at once "
        "(default 4 x --max-literal)",
    )
    parser.add_argument(
        "--max-literal-per-user",
        type=_count,
        metavar="OCTETS",
        help="literal octets one user's sessions may be sending at once "
        "(default 2 x --max-literal)",
    )
    parser.add_argument(
        "--login-failure-delay",
        type=_seconds,
        default=ServerConfig.login_failure_delay,
        metavar="SECONDS",
        help="delay before answering a failed login, doubled by each further failure of "
        f"the connection or the user, up to 30 s (default {ServerConfig.login_failure_delay:g})",
    )
    parser.add_argument(
        "--fsync",
        choices=FSYNC_POLICIES,
        default="always",
        help="with --store: fsync every change before answering OK (always, the default),"
        " or only new and removed mail and mailboxes, as Dovecot's default mail_fsync ="
        " optimized does (flag changes then survive a killed server, not a power cut)",
    )
    parser.add_argument(
        "--event-loop",
        choices=EVENT_LOOPS,
        default="auto",
        help="uvloop (libuv, in C: about twice the commands per second) or asyncio's own"
        " loop (which logs running out of file descriptors, where libuv silently drops"
        " the excess connections); auto: uvloop if installed (default)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="verify the --store DIR and print a report instead of serving"
        " (exit 0: clean, 1: damaged, 2: no store)",
    )


class _Connection(asyncio.Protocol):
    """One client socket driving one session (:class:`MailSession`: IMAP, SMTP or POP3).

    Reading stops while the client does not read our answers, while a failed login's
    delay runs, and while commands already received wait for their turn; so what one
    client sends is buffered a read or two at most, whatever it sends.
    """

    def __init__(self, hub: _Hub, service: Service) -> None:
        self.hub = hub
        self.service = service
        #: Held around every call into the session: the store is shared with the
        #: threads that serve POP3 (see ``_Hub.lock``).
        self.lock = hub.lock
        # Kept, not looked up per command: asyncio.get_running_loop() makes a getpid()
        # system call each time (it checks for a fork): one of the four a NOOP made.
        self._loop = asyncio.get_running_loop()
        with self.lock:
            self.session: MailSession = service.open_session(service.implicit_tls)
        self.transport: asyncio.Transport | None = None
        #: The client's IP address, as counted against the per-address limit.
        self.peer_ip = ""
        #: False for a connection refused at once (over a limit).
        self.admitted = False
        self._tls_task: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        #: When the armed timer fires (loop time), and when the client last spoke.
        self._timer_due = 0.0
        self._last_heard = 0.0
        self._write_paused = False
        self._held = False
        self._reading = True
        self._turn_pending = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Admit the client (or say BYE at once), set TCP_NODELAY, greet."""
        # uvloop's transports implement asyncio.Transport without subclassing it.
        transport = cast(asyncio.Transport, transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.peer_ip = str(peer[0]) if isinstance(peer, tuple) and peer else ""
        refusal = self.hub.admit(self)
        if refusal is not None:
            transport.write(self.service.refusal(refusal))
            transport.close()
            return
        self.admitted = True
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.lock:
            greeting = self.session.greeting()
        transport.write(greeting)
        self._arm_timer()

    def data_received(self, data: bytes) -> None:
        """Feed the session and handle what it can now; answer in one write."""
        if not self.admitted or self.session.closed:
            return
        if self._held:
            # Bytes already on their way when reading paused: keep them for later.
            with self.lock:
                self.session.receive_data(data, max_commands=0)
            return
        session = self.session
        with self.lock:
            out = session.receive_data(data, max_commands=1)
        transport = self.transport
        if (
            out
            and transport is not None
            and not (session.backlog or session.hold or session.closed)
            and not (session.starttls_requested or transport.is_closing())
        ):
            # The commonest turn by far: one command in, its whole answer out, and
            # nothing else to arrange (reading goes on as it did).
            transport.write(out)
            now = self._last_heard = self._loop.time()
            if self._timer is None or self._timer_due > now + self._silence_allowed():
                self._arm_timer(now)
            return
        self._take_turn(out, incomplete=not out)

    def eof_received(self) -> bool | None:
        """The client half-closed: finish what it sent, then close."""
        if self.admitted and not self.session.closed:
            with self.lock:
                if self._held:
                    self.session.receive_data(b"", max_commands=0)  # seen after the delay
                    out = None
                else:
                    out = self.session.receive_data(b"", max_commands=1)
            if out is not None:
                self._take_turn(out)
        # Keep the transport open for the answers: the session closes it when done.
        # (A TLS transport cannot stay half-open, and says so if asked.)
        return None if self.session.tls else True

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget this connection and give back what its session held."""
        if self._timer is not None:
            self._timer.cancel()
        if self.admitted:
            self.hub.release(self)
        if not self.session.closed:
            with self.lock:
                self.session.close()

    def say_bye(self, reason: str) -> None:
        """End the session (IMAP ``* BYE``, SMTP ``421``, POP3 ``-ERR``) and close."""
        with self.lock:
            words = self.session.shutdown(reason)
        self._write(words)

    def pause_writing(self) -> None:
        """The client is not reading: stop reading its commands until it catches up."""
        self._write_paused = True
        self._update_reading()

    def resume_writing(self) -> None:
        """The send buffer drained: go on with commands, and read more."""
        self._write_paused = False
        self._update_reading()
        self._schedule_turn()

    def wake(self) -> None:
        """Deliver IDLE news, if the session is idling."""
        if self.session.idling:
            with self.lock:
                news = self.session.idle_updates()
            self._write(news)

    # -- taking turns -----------------------------------------------------------------

    def _take_turn(self, out: bytes, incomplete: bool = False) -> None:
        """Handle buffered commands for one time slice, then let others have the loop."""
        session = self.session
        loop = self._loop
        now = loop.time()
        if session.backlog:
            deadline = now + TIME_SLICE
            chunks = [out]
            while session.backlog and not session.hold and loop.time() < deadline:
                with self.lock:
                    chunks.append(session.resume(max_commands=1))
            out = b"".join(chunks)
        if session.hold:
            # A failed login: its NO, and everything after it, waits out the delay.
            self._held = True
            self._update_reading()
            loop.call_later(session.hold, self._end_hold, out)
            return
        if incomplete and not out:
            self._ack_now()
        self._write(out)
        if session.starttls_requested:
            self._tls_task = asyncio.ensure_future(self._start_tls())
        self._arm_timer(now)
        if session.backlog:
            self._schedule_turn()
        self._update_reading()

    def _schedule_turn(self) -> None:
        # Come back for the rest after the other clients had the loop; not while our
        # client is not reading what we already wrote (a huge FETCH waits for it).
        if self.session.backlog and not (self._turn_pending or self._write_paused or self._held):
            self._turn_pending = True
            self._loop.call_soon(self._next_turn)

    def _next_turn(self) -> None:
        self._turn_pending = False
        if not self.session.closed and not self._held:
            with self.lock:
                out = self.session.resume(max_commands=1)
            self._take_turn(out)

    def _end_hold(self, out: bytes) -> None:
        self._held = False
        self._write(out)
        if not self.session.closed:
            with self.lock:
                out = self.session.resume(max_commands=1)
            self._take_turn(out)

    def _update_reading(self) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        wanted = not (self._write_paused or self._held or self.session.backlog)
        if wanted != self._reading:
            self._reading = wanted
            if wanted:
                transport.resume_reading()
            else:
                transport.pause_reading()

    def _arm_timer(self, now: float | None = None) -> None:
        # RFC 3501 5.4: an inactivity autologout timer of at least 30 minutes once
        # logged in; before that a short one, so idle sockets cannot pile up.  An IDLE
        # session counts as silent too: clients re-issue IDLE within 29 minutes.
        # Every command would move the deadline, but re-arming a timer per command
        # costs more than the command itself: the timer stays, and when it fires it
        # looks at when the client last spoke (:meth:`_timer_fired`).  It is only
        # re-armed when the deadline comes sooner than the armed one.
        loop = self._loop
        self._last_heard = now = loop.time() if now is None else now
        delay = self._silence_allowed()
        if delay <= 0 or self.session.closed:
            return
        due = now + delay
        if self._timer is not None:
            if self._timer_due <= due:
                return  # fires first and then looks again
            self._timer.cancel()
        self._timer_due = due
        self._timer = loop.call_at(due, self._timer_fired)

    def _silence_allowed(self) -> float:
        """Seconds of silence allowed now: before login, after it (0: forever)."""
        limits = self.hub.limits
        return limits.login_timeout if self.session.user is None else limits.autologout

    def _timer_fired(self) -> None:
        self._timer = None
        delay = self._silence_allowed()
        if delay <= 0 or self.session.closed:
            return
        now = self._loop.time()
        if now - self._last_heard >= delay:
            reason = "Autologout: no login in time" if self.session.user is None else "Autologout"
            self.say_bye(reason)
        else:
            self._arm_timer(self._last_heard)  # the client spoke meanwhile

    def _ack_now(self) -> None:
        # Half a command arrived and we have nothing to say yet.  A client that wrote
        # the rest as a small separate segment (imaplib sends a literal and its CRLF in
        # two writes) holds it back under Nagle until our ACK comes, and delayed ACK
        # would make that 40 ms.  TCP_QUICKACK sends the ACK at once (Linux only).
        quickack = getattr(socket, "TCP_QUICKACK", None)
        sock = self.transport.get_extra_info("socket") if self.transport else None
        if quickack is not None and sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)

    def _write(self, out: bytes) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if out:
            transport.write(out)  # all responses of one turn, in one write
        if self.session.closed:
            transport.close()

    async def _start_tls(self) -> None:
        context = self.hub.tls_context
        transport = self.transport
        assert context is not None and transport is not None
        loop = self._loop
        try:
            upgraded = await loop.start_tls(transport, self, context, server_side=True)
        except (OSError, ssl.SSLError, ConnectionError):
            transport.close()
            return
        if upgraded is None:  # pragma: no cover - the transport went away meanwhile
            return
        self.transport = upgraded
        with self.lock:
            self.session.tls_started()


#: Seconds between two log lines about accept() failing.
ACCEPT_LOG_INTERVAL = 60.0
#: Seconds after which asyncio tries accept() again when it failed for lack of
#: resources (``asyncio.constants.ACCEPT_RETRY_DELAY``), with a margin.
ACCEPT_RETRY_DELAY = 1.2


class _Client(Protocol):
    """A connection as the hub counts it: on the loop or in a thread of its own."""

    @property
    def peer_ip(self) -> str:
        """The client's IP address."""

    def say_bye(self, reason: str) -> None:
        """End the session from the server's side."""

    def wake(self) -> None:
        """A mailbox changed: deliver news to an idling session."""


class _Hub:
    """What all connections of one listening server share."""

    def __init__(
        self, imap: ImapServer, tls_context: ssl.SSLContext | None, limits: ConnectionLimits
    ) -> None:
        self.imap = imap
        self.tls_context = tls_context
        self.limits = limits
        #: Held around every call into a session, by the loop and by the POP3 threads:
        #: the sessions share the store (and the POP3 maildrop locks), and each call
        #: sees it unchanged by others from start to end.
        self.lock = threading.Lock()
        self.connections: set[_Client] = set()
        #: Open connections per client address.
        self.per_ip: Counter[str] = Counter()
        #: Failed accept() calls not logged yet (one line a minute at most).
        self.accept_failures = 0
        self._accept_logged: float | None = None
        #: Loop time of the last failed accept(); asyncio retries a second later.
        self.accept_failed_at: float | None = None
        #: Set once the listeners are closed (see :meth:`loop_exception`).
        self.listeners_closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None

    def admit(self, conn: _Client) -> str | None:
        """Count ``conn`` in, or say why it may not come in."""
        limits = self.limits
        if len(self.connections) >= limits.max_connections:
            return f"Too many connections to this server (limit {limits.max_connections})"
        if self.per_ip[conn.peer_ip] >= limits.max_connections_per_ip:
            return f"Too many connections from your address (limit {limits.max_connections_per_ip})"
        self.connections.add(conn)
        self.per_ip[conn.peer_ip] += 1
        return None

    def release(self, conn: _Client) -> None:
        """Count ``conn`` out."""
        if conn in self.connections:
            self.connections.discard(conn)
            self.per_ip[conn.peer_ip] -= 1
            if self.per_ip[conn.peer_ip] <= 0:
                del self.per_ip[conn.peer_ip]

    def release_threadsafe(self, conn: _Client) -> None:
        """Count ``conn`` out, from another thread (by the loop, which owns the count)."""
        self._on_loop(self.release, conn)

    def _on_loop(self, callback: Callable[..., object], *args: object) -> None:
        """Have the loop call ``callback(*args)`` soon, from whichever thread asks (a
        POP3 thread must wake the loop); nothing once the loop is gone or closed."""
        loop = self._loop
        if loop is None:
            return
        if threading.get_ident() == self._loop_thread:
            loop.call_soon(callback, *args)
        else:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody to tell
                loop.call_soon_threadsafe(callback, *args)

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start waking idling sessions when a mailbox changes."""
        self._loop = loop
        self._loop_thread = threading.get_ident()
        self.imap.store.add_listener(self._changed)

    def detach(self) -> None:
        """Stop listening to the store."""
        self.imap.store.remove_listener(self._changed)

    def loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """Log running out of file descriptors once a minute, not a traceback per try.

        When accept() fails with EMFILE and the like, asyncio stops accepting for a
        second and then tries again: that is the back-off.  A server at the edge of
        its limit fails and recovers many times a minute; one line says it all.
        Other errors go to the default handler.
        """
        exc = context.get("exception")
        if self.listeners_closed and "_start_serving" in str(context.get("message", "")):
            # One of asyncio's accept() retries, scheduled when accept() failed, came
            # after we closed the listener, and has no socket left to watch.  (asyncio
            # schedules one per connection it failed to accept, up to 100 a second,
            # so not a traceback each.)
            return
        if not (isinstance(exc, OSError) and exc.errno in RESOURCE_ERRORS):
            loop.default_exception_handler(context)
            return
        self.accept_failed_at = loop.time()
        self.note_accept_failure(exc)

    def note_accept_failure(self, exc: OSError) -> None:
        """accept() ran out of resources: log it, once a minute at most."""
        now = time.monotonic()
        if self._accept_logged is not None and now - self._accept_logged < ACCEPT_LOG_INTERVAL:
            self.accept_failures += 1
            return
        again = f" ({self.accept_failures} more failures since)" if self.accept_failures else ""
        _log.error(
            "cannot accept connections: %s, with %d open%s; retrying every second. "
            "Raise the open-files limit (ulimit -n) or lower --max-connections.",
            exc.strerror or exc,
            len(self.connections),
            again,
        )
        self._accept_logged = now
        self.accept_failures = 0

    def _changed(self, box: Mailbox) -> None:
        # Deliver after the current command finishes, never from inside the store.
        # A POP3 thread's QUIT changes the store too: it must wake the loop.
        self._on_loop(self._wake_all)

    def _wake_all(self) -> None:
        for conn in list(self.connections):
            conn.wake()


#: The ``--event-loop`` choices.
EVENT_LOOPS = ("auto", "uvloop", "asyncio")


def new_event_loop(kind: str = "auto") -> asyncio.AbstractEventLoop:
    """An event loop of ``kind``: ``uvloop``, ``asyncio``, or ``auto`` (uvloop if installed).

    Per command, serve-mail spends more time in the event loop (poll, read, write,
    timers) than in IMAP; uvloop does that part in C (benchmarks/imap_vs_dovecot.py).
    The protocol behaves the same on both.  One difference: when accept() runs out of
    file descriptors, asyncio backs off and we log it once a minute, while libuv accepts
    and at once closes the excess connections, without a word.
    """
    if kind == "asyncio":
        return asyncio.new_event_loop()
    try:
        import uvloop
    except ImportError:
        if kind == "uvloop":
            raise
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class LoginPolicyError(ValueError):
    """A server that would take passwords in clear text unasked, or take none at all."""


def check_login_policy(
    config: ServerConfig, tls_context: ssl.SSLContext | None, allow_plaintext_login: bool
) -> None:
    """Refuse to serve sockets where passwords would cross in clear text, unless that
    was asked for, or where nobody could log in at all (TLS required, none offered)."""
    if config.login_requires_tls and tls_context is None:
        raise LoginPolicyError("login requires TLS, but there is no certificate for TLS")
    if not config.login_requires_tls and not allow_plaintext_login:
        raise LoginPolicyError(
            "passwords would be accepted in clear text: require TLS "
            "(ServerConfig(login_requires_tls=True) and a TLS context), "
            "or allow plaintext login explicitly"
        )


async def serve(
    imap: ImapServer,
    host: str,
    port: int | None,
    tls_context: ssl.SSLContext | None = None,
    imaps_port: int | None = None,
    ready: Callable[[list[tuple[str, int]]], None] | None = None,
    stop: asyncio.Event | None = None,
    limits: ConnectionLimits | None = None,
    allow_plaintext_login: bool = False,
    listeners: Sequence[tuple[Service, int]] = (),
) -> None:
    """Listen for IMAP (and IMAPS) until ``stop`` is set; ``ready`` gets the bound ports.

    ``listeners`` adds other services (SMTP, POP3 ...) on their ports; they share the
    IMAP server's store, connection limits and IDLE notifications.  A ``threaded``
    service (POP3) gets a thread per connection (:mod:`netsim.apps.serve_threads`);
    at the end those threads are waited for, so the store may then be closed.  ``port`` None
    listens for IMAP on no port.  Raises :class:`LoginPolicyError` unless logins need
    TLS (and there is a TLS context) or ``allow_plaintext_login`` says clear-text
    passwords are fine.
    """
    check_login_policy(imap.config, tls_context, allow_plaintext_login)
    loop = asyncio.get_running_loop()
    hub = _Hub(imap, tls_context, limits or ConnectionLimits())
    hub.attach(loop)
    previous_handler = loop.get_exception_handler()
    loop.set_exception_handler(hub.loop_exception)
    imap_plain, imaps = imap_services(imap)
    wanted = [] if port is None else [(imap_plain, port)]
    if imaps_port is not None and tls_context is not None:
        wanted.append((imaps, imaps_port))
    wanted += listeners
    servers: list[asyncio.Server] = []
    threaded: list[ThreadedListener] = []
    bound: list[tuple[str, int]] = []
    try:
        for service, number in wanted:
            if service.implicit_tls and tls_context is None:
                raise LoginPolicyError(f"{service.name} needs a certificate for TLS")
            if service.threaded:
                listener = ThreadedListener.open(hub, service, host, number)
                threaded.append(listener)
                bound.append((service.name, listener.port))
                continue
            server = await loop.create_server(
                functools.partial(_Connection, hub, service),
                host,
                number,
                ssl=tls_context if service.implicit_tls else None,
            )
            servers.append(server)
            bound.append((service.name, server.sockets[0].getsockname()[1]))
    except BaseException:
        hub.detach()
        for server in servers:
            server.close()
        for listener in threaded:
            listener.close()
        loop.set_exception_handler(previous_handler)
        raise
    if ready is not None:
        ready(bound)
    try:
        await (stop or asyncio.Event()).wait()
    finally:
        hub.detach()
        for server in servers:
            server.close()
        for listener in threaded:
            listener.close()
        hub.listeners_closed = True
        for conn in list(hub.connections):
            conn.say_bye("Server shutting down")
        # The POP3 threads say their last words and end before the store may close.
        join_all(c for c in hub.connections if isinstance(c, ThreadedConnection))
        for server in servers:
            await server.wait_closed()
        if hub.accept_failed_at is not None:
            # accept() failed (out of file descriptors) less than a retry delay ago:
            # asyncio's retries are still due, and must meet our handler, not the
            # default one, which would log a traceback for each of them.
            await asyncio.sleep(max(0.0, hub.accept_failed_at + ACCEPT_RETRY_DELAY - loop.time()))
        loop.set_exception_handler(previous_handler)


class BackgroundServer:
    """A server on its own event loop in a daemon thread (for tests and benchmarks)."""

    def __init__(
        self,
        imap: ImapServer,
        host: str = "127.0.0.1",
        tls_context: ssl.SSLContext | None = None,
        imaps: bool = False,
        limits: ConnectionLimits | None = None,
        allow_plaintext_login: bool = False,
        smtp: SmtpServer | None = None,
        pop3: Pop3Server | None = None,
    ) -> None:
        check_login_policy(imap.config, tls_context, allow_plaintext_login)
        self.imap = imap
        #: Other services to listen for, each on an ephemeral port (the implicit-TLS
        #: ones only with ``imaps``).
        self.services: list[Service] = []
        if smtp is not None:
            self.services += smtp_services(smtp)
        if pop3 is not None:
            self.services += pop3_services(pop3)
        if not imaps:
            self.services = [s for s in self.services if not s.implicit_tls]
        #: Bound port of every service by name (``imap``, ``smtp``, ``pop3s`` ...).
        self.ports: dict[str, int] = {}
        self.allow_plaintext_login = allow_plaintext_login
        self.limits = limits or ConnectionLimits()
        self.host = host
        self.tls_context = tls_context
        self.imaps = imaps
        #: The bound IMAP port, once started.
        self.port = 0
        #: The bound IMAPS port, if IMAPS was asked for.
        self.imaps_port = 0
        self._loop = new_event_loop()
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> BackgroundServer:
        """Start listening; returns once the ports are bound."""
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("server did not start")
        return self

    def stop(self) -> None:
        """Stop listening and close every connection."""
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        def ready(bound: list[tuple[str, int]]) -> None:
            self.ports = dict(bound)
            self.port = self.ports.get("imap", 0)
            self.imaps_port = self.ports.get("imaps", 0)
            self._started.set()

        async def main() -> None:
            self._stop = asyncio.Event()
            await serve(
                self.imap,
                self.host,
                0,
                self.tls_context,
                0 if self.imaps else None,
                ready,
                self._stop,
                self.limits,
                self.allow_plaintext_login,
                [(service, 0) for service in self.services],
            )

        self._loop.run_until_complete(main())
        self._loop.close()


#: File descriptors kept for what is not a client connection: listening sockets, the
#: store's journal and blobs, the interpreter's own files.
RESERVED_FILES = 64


def fit_file_limit(max_connections: int) -> int:
    """``max_connections``, or fewer if the open-files limit cannot hold that many.

    The soft limit is raised toward the hard one when needed.  Serving fewer clients,
    each extra one told so with a BYE, beats failing accept() for everyone (EMFILE).
    """
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return max_connections
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = max_connections + RESERVED_FILES
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return max_connections
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft >= needed:
        return max_connections
    fitted = max(1, soft - RESERVED_FILES)
    _log.warning(
        "the open-files limit is %d (ulimit -n): serving at most %d connections, not %d",
        soft,
        fitted,
        max_connections,
    )
    return fitted


def _log_to_stderr() -> None:
    """Send this module's log lines to stderr, one line each, named after the command."""
    if not _log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("netsim serve-mail: %(message)s"))
        _log.addHandler(handler)
        _log.setLevel(logging.INFO)


def _fail(message: str) -> int:
    print(f"netsim serve-mail: error: {message}", file=sys.stderr)
    return 2


def _check(directory: str | None) -> int:
    """``--check``: print the store's report; exit 0 when clean, 1 when damaged."""
    if directory is None:
        return _fail("--check needs --store DIR")
    try:
        report = store_check.check_store(directory)
    except (store_check.NotAStore, OSError) as exc:
        return _fail(f"cannot check store: {exc}")
    print(report.format())
    return 1 if report.damaged else 0


#: The options that name a port to listen on, by service name.
_PORT_OPTIONS = ("imap", "imaps", "smtp", "submission", "smtps", "pop3", "pop3s")


def run(args: argparse.Namespace) -> int:
    """Run the server until interrupted; returns the process exit status."""
    if args.check:
        return _check(args.store)
    ports = {name: getattr(args, name) for name in _PORT_OPTIONS}
    if all(port is None for port in ports.values()) or args.users is None:
        return _fail(
            "--users FILE and at least one port (--imap, --smtp, --submission, --pop3, "
            "--imaps, --smtps, --pop3s) are required (unless --check)"
        )
    try:
        users = Users.load(args.users)
    except UserFileError as exc:
        return _fail(str(exc))
    if args.event_loop == "uvloop" and importlib.util.find_spec("uvloop") is None:
        return _fail("--event-loop uvloop: uvloop is not installed (pip install uvloop)")
    if args.postmaster is not None and args.postmaster not in users:
        return _fail(f"--postmaster {args.postmaster}: no such user in {args.users}")
    if (args.cert is None) != (args.key is None):
        return _fail("--cert and --key go together")
    for name in ("imaps", "smtps", "pop3s"):
        if ports[name] is not None and args.cert is None:
            return _fail(f"--{name} needs --cert and --key")
    if args.login_requires_tls and args.cert is None:
        return _fail("--login-requires-tls needs --cert and --key: without TLS nobody can log in")
    if args.cert is None and not args.allow_plaintext_login:
        return _fail(
            "without --cert and --key there is no TLS, so passwords would cross the network "
            "in clear text: give a certificate, or --allow-plaintext-login"
        )
    context = None
    if args.cert is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(args.cert, args.key)
        except (OSError, ssl.SSLError) as exc:
            return _fail(f"cannot load certificate {args.cert} / key {args.key}: {exc}")
    _log_to_stderr()
    limits = ConnectionLimits(
        max_connections=fit_file_limit(args.max_connections),
        max_connections_per_ip=args.max_connections_per_ip,
        login_timeout=args.login_timeout,
        autologout=args.autologout,
    )
    try:
        store = MailStore(args.store, fsync=args.fsync)
    except (OSError, StoreError, ValueError) as exc:
        return _fail(f"cannot open store {args.store}: {exc}")
    config = ServerConfig(
        max_literal=args.max_literal,
        max_literal_total=args.max_literal_total,
        max_literal_per_user=args.max_literal_per_user,
        login_failure_delay=args.login_failure_delay,
        starttls=context is not None,
        login_requires_tls=not args.allow_plaintext_login,
    )
    imap = ImapServer(store, users, config)
    smtp = SmtpServer(
        store,
        users,
        SmtpConfig(
            postmaster=args.postmaster,
            max_size=args.max_literal,
            starttls=context is not None,
            login_requires_tls=not args.allow_plaintext_login,
            login_failure_delay=args.login_failure_delay,
        ),
    )
    pop3 = Pop3Server(
        store,
        users,
        Pop3Config(
            starttls=context is not None,
            login_requires_tls=not args.allow_plaintext_login,
            login_failure_delay=args.login_failure_delay,
        ),
    )
    services = {s.name: s for s in smtp_services(smtp) + pop3_services(pop3)}
    listeners = [
        (services[name], port)
        for name, port in ports.items()
        if port is not None and name in services
    ]

    def ready(bound: list[tuple[str, int]]) -> None:
        for kind, port in bound:
            print(f"netsim serve-mail: {kind} listening on {args.host}:{port}", flush=True)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
        await serve(
            imap,
            args.host,
            args.imap,
            context,
            args.imaps,
            ready,
            stop,
            limits,
            allow_plaintext_login=args.allow_plaintext_login,
            listeners=listeners,
        )

    try:
        with asyncio.Runner(loop_factory=lambda: new_event_loop(args.event_loop)) as runner:
            runner.run(main())
    except OSError as exc:
        return _fail(f"cannot listen on {args.host}: {exc.strerror or exc}")
    except KeyboardInterrupt:
        pass
    finally:
        store.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``python -m netsim.apps.serve_mail``."""
    parser = argparse.ArgumentParser(prog="netsim serve-mail", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
