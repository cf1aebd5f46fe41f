"""The SMTP server: sessions that deliver accepted mail into the shared mail store.

:class:`SmtpServer` holds what every session shares (the store, the users, settings,
the failed-login ledger); :class:`SmtpSession` is one client's session, free of I/O
like :class:`~netsim.mail.imap.server.ServerSession` and driven the same way: its owner
passes received bytes to :meth:`SmtpSession.receive_data` and writes back what it
returns, over asyncio sockets or over the simulated TCP of a netsim host.

Two roles share the code.  On port 25 the server is the *final destination* for its
local users (RFC 5321): anyone may send them mail, nobody may relay through it.  On the
*submission* port (587, RFC 6409; 465 with implicit TLS, RFC 8314) a client must log in
with AUTH PLAIN (RFC 4954) before ``MAIL``; passwords travel only over TLS unless the
server was told otherwise.  netsim delivers only locally: a recipient who is not a local
user is refused at ``RCPT``, never accepted and then lost.

The ``250`` after the message is a promise (RFC 5321 6.1): the message was appended to
each recipient's INBOX, and a durable store fsyncs it before the reply goes out.  The
store tells its listeners, so IMAP sessions see the new mail at once (EXISTS, IDLE).
The message is stored exactly as received, without the ``Received:`` and
``Return-Path:`` trace headers a mail transfer agent adds, so that a client gets back
byte for byte what was sent.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from netsim.mail.imap.limits import UNKNOWN_USER, LoginThrottle
from netsim.mail.smtp.connection import ServerConnection
from netsim.mail.smtp.events import (
    NEED_DATA,
    PAUSED,
    AuthResponse,
    BadInput,
    Command,
    ConnectionClosed,
    Message,
    Reply,
    reply,
)
from netsim.mail.smtp.states import Mode, State
from netsim.mail.store import MailStore, StoreError
from netsim.mail.users import Users

#: ``FROM:<path> params`` and ``TO:<path> params`` (RFC 5321 4.1.1.2-3; a space after
#: the colon is tolerated, as most servers do).
_PATH = re.compile(r"^(FROM|TO):\s*<([^<>\s]*)>\s*(.*)$", re.IGNORECASE)
#: An ESMTP parameter ``keyword[=value]`` (RFC 5321 4.1.2).
_PARAM = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]*)(?:=([!-<>-~]+))?$")


@dataclass(frozen=True)
class SmtpConfig:
    """Settings shared by every session of one SMTP server."""

    #: The name the server gives itself in the greeting and the EHLO reply.
    hostname: str = "netsim.local"
    #: Largest message accepted, in octets (advertised as SIZE, RFC 1870).
    max_size: int = 50 * 1024 * 1024
    #: Recipients per message (RFC 5321 4.5.3.1.8: at least 100 must be accepted).
    max_recipients: int = 100
    #: Refused commands after which the server hangs up with ``421``.
    max_errors: int = 10
    #: Longest command line (RFC 4954 4: 12288 octets for AUTH).
    max_line: int = 12288
    #: Offer STARTTLS (the I/O layer must then be able to do the handshake).
    starttls: bool = False
    #: Refuse AUTH without TLS (``538 5.7.11``), and do not advertise it.
    login_requires_tls: bool = False
    #: Seconds before answering a first failed AUTH, doubled by each further one.
    login_failure_delay: float = 1.0
    #: Let unexpected exceptions propagate (tests) instead of answering ``451``.
    debug: bool = False


class SmtpServer:
    """A mail store and a user list that accept mail over SMTP; creates sessions."""

    def __init__(
        self,
        store: MailStore,
        users: Users,
        config: SmtpConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.users = users
        self.config = config or SmtpConfig()
        #: Failed AUTH attempts per user name; ``clock`` (seconds) ages them.
        self.logins = LoginThrottle(self.config.login_failure_delay, clock=clock)
        #: Messages accepted since the server started (names each in its 250 reply).
        self.accepted = 0
        for user in users.names():
            store.ensure_user(user)

    def open_session(self, tls: bool = False, submission: bool = False) -> SmtpSession:
        """A new session; ``submission`` makes it a message submission agent."""
        return SmtpSession(self, tls, submission)

    def local_user(self, address: str) -> str | None:
        """The local user ``address`` names, if any (its local part, any domain)."""
        local = address.rpartition(":")[2]  # drop an RFC 5321 source route
        name = local.rpartition("@")[0] if "@" in local else local
        return name if name in self.users else None

    def deliver(self, recipients: list[str], data: bytes) -> None:
        """Append ``data`` to each recipient's INBOX (fsync'ed by a durable store)."""
        for user in recipients:
            self.store.ensure_user(user)
            inbox = self.store.mailbox(user, "INBOX")
            assert inbox is not None
            self.store.append(inbox, [(data, (), None)])
        self.accepted += 1


@dataclass
class Envelope:
    """The mail transaction in progress: reverse path and recipients (RFC 5321 3.3)."""

    sender: str
    recipients: list[str] = field(default_factory=list)


class SmtpSession:
    """One client's SMTP session, sans-IO: bytes in, bytes out."""

    def __init__(self, server: SmtpServer, tls: bool = False, submission: bool = False) -> None:
        self.server = server
        config = server.config
        self.connection = ServerConnection(max_line=config.max_line, max_size=config.max_size)
        #: True on the submission port: AUTH is offered and required before MAIL.
        self.submission = submission
        #: The authenticated user, once there is one.
        self.user: str | None = None
        #: True when the transport is encrypted.
        self.tls = tls
        #: Set after ``220`` to STARTTLS: the owner must now do the TLS handshake.
        self.starttls_requested = False
        #: True once the session is over and the owner should close the transport.
        self.closed = False
        #: Seconds the owner must wait before sending the output it just got (a failed
        #: AUTH); valid until the next call.
        self.hold = 0.0
        #: True when input may remain unprocessed: call :meth:`resume` for the rest.
        self.backlog = False
        #: The client's name from EHLO or HELO.
        self.client_name: str | None = None
        #: The transaction in progress.
        self.envelope: Envelope | None = None
        #: Commands refused so far (``max_errors`` of them end the session).
        self.errors = 0
        self.failed_logins = 0
        self._out: list[bytes] = []

    # -- the I/O owner's interface (the same as the IMAP session's) --------------------

    @property
    def idling(self) -> bool:
        """SMTP has no IDLE; here for the I/O owner, which asks every session."""
        return False

    def idle_updates(self) -> bytes:
        """Nothing: SMTP sessions are not told of other sessions' changes."""
        return b""

    def greeting(self) -> bytes:
        """The ``220`` greeting, to be sent first."""
        name = self.server.config.hostname
        role = "ESMTP submission" if self.submission else "ESMTP"
        return Reply(220, (f"{name} {role} netsim ready",)).render()

    def receive_data(self, data: bytes, max_commands: int | None = None) -> bytes:
        """Process bytes from the client; returns the replies they produce.

        ``b""`` signals end of input.  With ``max_commands``, at most that many input
        events are handled; :attr:`backlog` then says whether to :meth:`resume`.
        """
        self.connection.receive_data(data)
        return self.resume(max_commands)

    def resume(self, max_commands: int | None = None) -> bytes:
        """Go on with input already received."""
        self.backlog = False
        self.hold = 0.0
        handled = 0
        connection = self.connection
        while not self.closed:
            if self.hold or self.starttls_requested:
                self.backlog = not self.starttls_requested
                break
            if max_commands is not None and handled >= max_commands:
                self.backlog = True
                break
            event = connection.next_event()
            if event is NEED_DATA or event is PAUSED:
                break
            handled += 1
            if isinstance(event, ConnectionClosed):
                self.close()
            elif isinstance(event, BadInput):
                self._refuse(Reply(event.code, (event.reason,), event.enhanced))
            elif isinstance(event, Message):
                self._emit(self._message(event))
            elif isinstance(event, AuthResponse):
                self._emit(self._auth_response(event.line))
            elif isinstance(event, Command):
                self._dispatch(event)
        return self._flush()

    def shutdown(self, reason: str) -> bytes:
        """End the session from the server's side (``421``: timeout, restart)."""
        if self.closed:
            return b""
        self._emit(reply(421, "4.4.2", f"{self.server.config.hostname} {reason}"))
        return self._flush()

    def tls_started(self) -> None:
        """The owner finished the STARTTLS handshake."""
        self.starttls_requested = False
        self.tls = True

    def close(self) -> None:
        """End the session: the owner will close the transport."""
        self.closed = True
        self.backlog = False
        self.envelope = None

    # -- plumbing -----------------------------------------------------------------------

    def _emit(self, answer: Reply) -> None:
        self._out.append(self.connection.send(answer))
        if self.connection.mode is Mode.CLOSED:
            self.close()

    def _flush(self) -> bytes:
        data = b"".join(self._out)
        self._out.clear()
        return data

    def _refuse(self, answer: Reply) -> None:
        """Send an error reply; too many of them end the session."""
        self.errors += 1
        if self.errors >= self.server.config.max_errors:
            answer = reply(421, "4.7.0", "too many errors, closing connection")
        self._emit(answer)

    def _dispatch(self, cmd: Command) -> None:
        handler = _HANDLERS[cmd.verb]
        try:
            answer = handler(self, cmd.arg)
        except StoreError as exc:
            answer = reply(451, "4.3.0", f"local error in processing: {exc}")
        except Exception:
            if self.server.config.debug:
                raise
            answer = reply(451, "4.3.0", "internal server error")
        if answer.code >= 500:
            self._refuse(answer)
        else:
            self._emit(answer)

    def auth_offered(self) -> bool:
        """True when AUTH PLAIN may be used now (submission; over TLS unless allowed)."""
        return self.submission and (self.tls or not self.server.config.login_requires_tls)

    # -- commands -------------------------------------------------------------------------

    def ehlo(self, arg: str) -> Reply:
        """EHLO: name the client, reset any transaction, list the extensions."""
        if not arg:
            return reply(501, "5.5.4", "EHLO needs the client's domain or address literal")
        config = self.server.config
        self.client_name, self.envelope = arg.split()[0], None
        lines = [f"{config.hostname} greets {self.client_name}"]
        lines += ["PIPELINING", f"SIZE {config.max_size}", "8BITMIME", "ENHANCEDSTATUSCODES"]
        if config.starttls and not self.tls:
            lines.append("STARTTLS")
        if self.auth_offered():
            lines.append("AUTH PLAIN")
        lines.append("HELP")
        return Reply(250, tuple(lines))

    def helo(self, arg: str) -> Reply:
        """HELO: the old greeting, without extensions."""
        if not arg:
            return reply(501, "5.5.4", "HELO needs the client's domain")
        self.client_name, self.envelope = arg.split()[0], None
        return Reply(250, (self.server.config.hostname,))

    def mail(self, arg: str) -> Reply:
        """MAIL FROM: open a transaction, checking SIZE= and BODY= (RFC 1870, 6152)."""
        if self.submission and self.user is None:
            return reply(530, "5.7.0", "authentication required")
        match = _PATH.match(arg)
        if match is None or match.group(1).upper() != "FROM":
            return reply(501, "5.5.4", "syntax: MAIL FROM:<address> [parameters]")
        for param in match.group(3).split():
            keyword, value = _param(param)
            if keyword == "SIZE":
                if value is None or not value.isdigit():
                    return reply(501, "5.5.4", "SIZE needs a number of octets")
                if int(value) > self.server.config.max_size:
                    return reply(552, "5.3.4", "message size exceeds fixed maximum message size")
            elif keyword == "BODY":
                if (value or "").upper() not in ("7BIT", "8BITMIME"):
                    return reply(501, "5.5.4", "BODY must be 7BIT or 8BITMIME")
            elif keyword == "AUTH":
                pass  # RFC 4954 5: the original submitter, informational only
            else:
                return reply(555, "5.5.4", f"parameter {keyword[:20]} not recognized")
        self.envelope = Envelope(match.group(2))
        return reply(250, "2.1.0", "sender OK")

    def rcpt(self, arg: str) -> Reply:
        """RCPT TO: add a local user to the transaction; anyone else is refused."""
        envelope = self.envelope
        assert envelope is not None, "the state machine admits RCPT only after MAIL"
        match = _PATH.match(arg)
        if match is None or match.group(1).upper() != "TO" or not match.group(2):
            return reply(501, "5.5.4", "syntax: RCPT TO:<address>")
        if match.group(3):
            return reply(555, "5.5.4", "RCPT parameters are not supported")
        if len(envelope.recipients) >= self.server.config.max_recipients:
            return reply(452, "4.5.3", "too many recipients")
        user = self.server.local_user(match.group(2))
        if user is None:
            if self.submission:
                return reply(550, "5.7.1", "relaying is not offered: local users only")
            return reply(550, "5.1.1", "no such user here")
        if user not in envelope.recipients:
            envelope.recipients.append(user)
        return reply(250, "2.1.5", "recipient OK")

    def data(self, arg: str) -> Reply:
        """DATA: ``354`` and read the message, if there is someone to give it to."""
        if arg:
            return reply(501, "5.5.4", "DATA takes no arguments")
        if self.envelope is None or not self.envelope.recipients:
            return reply(554, "5.5.1", "no valid recipients")
        return Reply(354, ("End data with <CR><LF>.<CR><LF>",))

    def _message(self, message: Message) -> Reply:
        envelope, self.envelope = self.envelope, None
        assert envelope is not None
        if message.data is None:
            return reply(552, "5.3.4", "message size exceeds fixed maximum message size")
        try:
            self.server.deliver(envelope.recipients, message.data)
        except StoreError as exc:
            return reply(451, "4.3.0", f"message not stored: {exc}")
        return reply(250, "2.0.0", f"OK: message {self.server.accepted} stored")

    def rset(self, arg: str) -> Reply:
        """RSET: abandon the transaction."""
        self.envelope = None
        return reply(250, "2.0.0", "OK")

    def noop(self, arg: str) -> Reply:
        """NOOP: nothing."""
        return reply(250, "2.0.0", "OK")

    def quit(self, arg: str) -> Reply:
        """QUIT: say goodbye; the owner closes the connection."""
        return reply(221, "2.0.0", f"{self.server.config.hostname} closing connection")

    def vrfy(self, arg: str) -> Reply:
        """VRFY: only a logged-in user learns whether an address is local (RFC 5321
        7.3: the answer helps spammers harvest names)."""
        if not arg:
            return reply(501, "5.5.4", "VRFY needs an address")
        if self.user is None:
            return reply(252, "2.5.2", "cannot VRFY user, but will accept message for local users")
        user = self.server.local_user(arg.strip("<>"))
        if user is None:
            return reply(550, "5.1.1", "no such user here")
        return reply(250, "2.1.5", f"<{user}@{self.server.config.hostname}>")

    def help(self, arg: str) -> Reply:
        """HELP: the commands."""
        return reply(
            214, "2.0.0", "EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS AUTH"
        )

    def starttls(self, arg: str) -> Reply:
        """STARTTLS (RFC 3207): ``220``, then the owner does the handshake."""
        if arg:
            return reply(501, "5.5.4", "STARTTLS takes no arguments")
        if self.tls:
            return reply(503, "5.5.1", "TLS is already active")
        if not self.server.config.starttls:
            return reply(454, "4.7.0", "TLS not available")
        self.starttls_requested = True
        self.client_name, self.envelope = None, None
        return reply(220, "2.0.0", "ready to start TLS")

    def auth(self, arg: str) -> Reply:
        """AUTH PLAIN (RFC 4954, RFC 4616), with or without an initial response."""
        if not self.submission:
            return reply(503, "5.5.1", "AUTH is offered on the submission port")
        if self.user is not None:
            return reply(503, "5.5.1", "already authenticated")
        if not self.auth_offered():
            return reply(538, "5.7.11", "encryption required for requested authentication")
        mechanism, _, initial = arg.partition(" ")
        if mechanism.upper() != "PLAIN":
            return reply(504, "5.5.4", "unrecognized authentication type (PLAIN only)")
        if not initial:
            return Reply(334, ("",))
        return self._auth_response(initial.encode())

    def _auth_response(self, line: bytes) -> Reply:
        line = line.strip()
        if line == b"*":
            return reply(501, "5.0.0", "authentication cancelled")
        try:
            decoded = base64.b64decode(b"" if line == b"=" else line, validate=True)
        except (binascii.Error, ValueError):
            return reply(501, "5.5.2", "cannot decode the response (base64)")
        parts = decoded.split(b"\0")
        if len(parts) != 3:
            return reply(501, "5.5.2", "PLAIN needs authzid NUL authcid NUL password")
        try:
            authzid, name, password = (p.decode("utf-8") for p in parts)
        except UnicodeDecodeError:
            return reply(501, "5.5.2", "PLAIN credentials must be UTF-8")
        server = self.server
        if authzid in ("", name) and server.users.check(name, password):
            server.logins.succeeded(name)
            self.user = name
            return reply(235, "2.7.0", "authentication successful")
        self.failed_logins += 1
        key = name if name in server.users else UNKNOWN_USER
        self.hold = server.logins.failed(key, self.failed_logins)
        return reply(535, "5.7.8", "authentication credentials invalid")

    @property
    def state(self) -> State:
        """The connection's state (for tests and teaching)."""
        return self.connection.state


def _param(text: str) -> tuple[str, str | None]:
    match = _PARAM.match(text)
    if match is None:
        return text.upper(), None
    return match.group(1).upper(), match.group(2)


_Handler = Callable[[SmtpSession, str], Reply]

#: Command verb -> what it does.
_HANDLERS: dict[str, _Handler] = {
    "EHLO": SmtpSession.ehlo,
    "HELO": SmtpSession.helo,
    "MAIL": SmtpSession.mail,
    "RCPT": SmtpSession.rcpt,
    "DATA": SmtpSession.data,
    "RSET": SmtpSession.rset,
    "NOOP": SmtpSession.noop,
    "QUIT": SmtpSession.quit,
    "VRFY": SmtpSession.vrfy,
    "HELP": SmtpSession.help,
    "STARTTLS": SmtpSession.starttls,
    "AUTH": SmtpSession.auth,
}
