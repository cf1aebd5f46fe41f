"""The IMAP4rev1 server: sessions that join the sans-IO connection to the mail store.

:class:`ImapServer` holds what all sessions share (the store, the users, settings);
:class:`ServerSession` is one client's session.  A session is still free of I/O: its
owner passes received bytes to :meth:`ServerSession.receive_data` and writes back the
bytes it returns, so the same session runs over asyncio sockets and simulated TCP.

The session dispatches each command to its handler in :mod:`netsim.mail.imap.commands`.
A handler reads its arguments with :class:`~netsim.mail.imap.arguments.Arguments`, does
its work through the store, and returns; errors travel as exceptions that become a
tagged ``BAD`` (malformed) or ``NO`` (well-formed but refused), and the session goes on.
After each command the session reports what other sessions changed in the selected
mailbox (:meth:`ServerSession.news`).

A command that may take long (SEARCH or FETCH over a big mailbox) is a generator that
yields between bounded pieces of work; the session drives it one step per unit of work,
so an owner that asks for one unit at a time can serve other clients in between.

What sessions share to defend the server (a budget for literals in flight, the
failed-login ledger) lives in :mod:`netsim.mail.imap.limits`.  A session asks its owner
for two things it cannot do itself: to wait before answering a failed login
(:attr:`ServerSession.hold`), and, when the owner processes commands a few at a time
to keep other clients served, to come back for the rest (:attr:`ServerSession.backlog`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from netsim.mail.imap import names
from netsim.mail.imap.arguments import Arguments, Bad, No, Result
from netsim.mail.imap.commands import HANDLERS, Outcome, Steps, auth, idle
from netsim.mail.imap.connection import ServerConnection
from netsim.mail.imap.events import (
    NEED_DATA,
    PAUSED,
    BadCommand,
    Command,
    ConnectionClosed,
    Continuation,
    IdleDone,
    LiteralRequest,
    LiteralTooLarge,
    SaslResponse,
    ServerOutput,
    Tagged,
    Untagged,
    UntaggedStatus,
)
from netsim.mail.imap.limits import UNKNOWN_USER, LiteralBudget, LoginThrottle
from netsim.mail.imap.responses import astring
from netsim.mail.imap.selected import SelectedView
from netsim.mail.imap.states import COMMAND_STATES, State
from netsim.mail.store import Mailbox, MailStore, StoreError
from netsim.mail.users import Users

# RFC 3501 7.4.1: no EXPUNGE while answering FETCH, STORE or SEARCH, whose sequence
# numbers the client is about to interpret.  The UID forms are exempt: UIDs do not move.
_NO_EXPUNGE_NEWS = frozenset({"FETCH", "STORE", "SEARCH"})


def _step(steps: Steps) -> Outcome:
    """One step of a long command: ``steps`` again while it goes on, then its result."""
    try:
        next(steps)
    except StopIteration as done:
        result: Result = done.value
        return result
    return steps


@dataclass(frozen=True)
class ServerConfig:
    """Settings shared by every session of one server."""

    #: Largest literal accepted, in octets; bigger ones are refused (APPEND size limit).
    max_literal: int = 50 * 1024 * 1024
    #: Most octets of literals all sessions together may be receiving at once
    #: (``None``: four times ``max_literal``).
    max_literal_total: int | None = None
    #: Most octets of literals one user's sessions may be receiving at once
    #: (``None``: twice ``max_literal``).
    max_literal_per_user: int | None = None
    #: Seconds to wait before answering a first failed login; each further failure of
    #: the connection or the user doubles it, up to 30 s.  0 answers at once.
    login_failure_delay: float = 1.0
    #: Longest command line accepted, literals excluded.
    max_line: int = 65536
    #: Offer STARTTLS (the I/O layer must then be able to do the handshake).
    starttls: bool = False
    #: Refuse LOGIN and AUTHENTICATE without TLS, advertising LOGINDISABLED.
    login_requires_tls: bool = False
    #: Text of the greeting.
    greeting: str = "netsim IMAP4rev1 server ready"
    #: Let unexpected exceptions in command handlers propagate (tests) instead of
    #: answering ``NO [SERVERBUG]`` and carrying on (production).
    debug: bool = False


class ImapServer:
    """A mail store and a user list served over IMAP; creates sessions."""

    def __init__(
        self,
        store: MailStore,
        users: Users,
        config: ServerConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.users = users
        self.config = config = config or ServerConfig()
        #: Literal octets in flight, shared by every session.
        self.literals = LiteralBudget(
            config.max_literal_total
            if config.max_literal_total is not None
            else 4 * config.max_literal,
            config.max_literal_per_user
            if config.max_literal_per_user is not None
            else 2 * config.max_literal,
        )
        #: Failed logins per user name; ``clock`` (seconds) ages them.
        self.logins = LoginThrottle(config.login_failure_delay, clock=clock)
        self._known_users = set(users.names())
        for user in users.names():
            store.ensure_user(user)

    def throttle_key(self, user: str) -> str:
        """The ledger entry for a login name: the name if it is a user's."""
        return user if user in self._known_users else UNKNOWN_USER

    def open_session(self, tls: bool = False) -> ServerSession:
        """A new session; ``tls`` says whether the transport is already encrypted."""
        return ServerSession(self, tls)


class ServerSession:
    """One client's IMAP session, sans-IO: bytes in, bytes out."""

    def __init__(self, server: ImapServer, tls: bool = False) -> None:
        self.server = server
        self.store = server.store
        config = server.config
        self.connection = ServerConnection(max_literal=config.max_literal, max_line=config.max_line)
        self.connection.set_literal_gate(server.literals.gate(None))
        #: The authenticated user, once there is one.
        self.user: str | None = None
        #: The selected mailbox as this session sees it.
        self.view: SelectedView | None = None
        #: True when the transport is encrypted.
        self.tls = tls
        #: Set after a successful STARTTLS: the owner must now do the TLS handshake.
        self.starttls_requested = False
        #: True once the session is over and the owner should close the transport.
        self.closed = False
        #: The tag of the IDLE command in progress, if any.
        self.idle_tag: str | None = None
        #: Response bytes queued during the current call, written out by ``_flush``.
        self.out: list[bytes] = []
        #: Seconds the owner must wait before sending the output it just got and
        #: processing more input (set by a failed login; valid until the next call).
        self.hold = 0.0
        #: True when input may remain unprocessed: call :meth:`resume` for the rest.
        self.backlog = False
        #: Failed logins on this connection.
        self.failed_logins = 0
        # A long command (SEARCH, FETCH) in progress, done a step per unit of work.
        self._ongoing: tuple[Command, Steps] | None = None
        #: RFC 7162: MODSEQ goes with every FETCH of flags once CONDSTORE is on, and
        #: expunges are told as VANISHED once QRESYNC is (see :mod:`..condstore`).
        self.condstore = False
        self.qresync = False

    # -- the I/O owner's interface ----------------------------------------------------

    def greeting(self) -> bytes:
        """The server greeting, to be sent first."""
        self.emit(
            UntaggedStatus("OK", self.server.config.greeting, f"CAPABILITY {self.capabilities()}")
        )
        return self._flush()

    def receive_data(self, data: bytes, max_commands: int | None = None) -> bytes:
        """Process bytes from the client; returns every response they produce.

        ``b""`` signals end of input.  With ``max_commands``, at most that many input
        events are handled; :attr:`backlog` then says whether to :meth:`resume`.
        """
        self.connection.receive_data(data)
        return self.resume(max_commands)

    def resume(self, max_commands: int | None = None) -> bytes:
        """Go on with input already received: after a hold, or a ``max_commands`` stop."""
        self.backlog = False
        self.hold = 0.0  # being called again means the owner has waited it out
        handled = 0
        while not self.closed:
            if self.hold or self.starttls_requested:
                # Nothing more may be read: in clear text after STARTTLS, or before
                # the owner has waited out the delay of a failed login.
                self.backlog = not self.starttls_requested
                break
            if max_commands is not None and handled >= max_commands:
                # Only if there is more to do: a needless call back costs a turn.
                self.backlog = self._ongoing is not None or self.connection.input_waiting()
                break
            if self._ongoing is not None:
                self._advance()
                handled += 1
                continue
            event = self.connection.next_event()
            if event is NEED_DATA or event is PAUSED:
                break
            handled += 1
            if isinstance(event, Command):  # by far the most common: tested first
                self._dispatch(event)
                self._first_step()
            elif isinstance(event, ConnectionClosed):
                self.close()
            elif isinstance(event, BadCommand):
                if event.tag is None:
                    self.emit(UntaggedStatus("BAD", event.reason))
                else:
                    self.emit(Tagged(event.tag, "BAD", event.reason))
            elif isinstance(event, LiteralTooLarge):
                if event.tag is None:
                    self.emit(UntaggedStatus("BAD", event.reason))
                else:
                    self.emit(Tagged(event.tag, "NO", event.reason, event.code))
            elif isinstance(event, LiteralRequest):
                self.emit(Continuation("Ready for literal data"))
            elif isinstance(event, IdleDone):
                idle.finish_idle(self, event)
            elif isinstance(event, SaslResponse):
                auth.continue_authenticate(self, event)
        return self._flush()

    def shutdown(self, reason: str) -> bytes:
        """End the session from the server's side: ``* BYE reason`` (autologout, restart)."""
        if self.closed:
            return b""
        self.emit(UntaggedStatus("BYE", reason))
        self.close()
        return self._flush()

    def idle_updates(self) -> bytes:
        """While idling, the untagged news about the selected mailbox (else nothing)."""
        if self.idle_tag is not None and self.view is not None:
            for payload in self.view.updates(allow_expunge=True):
                self.emit(Untagged(payload))
        return self._flush()

    @property
    def idling(self) -> bool:
        """True between IDLE's continuation and DONE."""
        return self.idle_tag is not None

    def tls_started(self) -> None:
        """The owner finished the STARTTLS handshake."""
        self.starttls_requested = False
        self.tls = True

    def capabilities(self) -> str:
        """The CAPABILITY list for the session's current state (RFC 3501 7.2.1)."""
        caps = [
            "IMAP4rev1",
            "LITERAL+",
            "SASL-IR",
            "UIDPLUS",
            "IDLE",
            "NAMESPACE",
            "ENABLE",
            "CONDSTORE",
            "QRESYNC",
            "MOVE",
            "SPECIAL-USE",
            "CHILDREN",
            "ID",
            "MULTIAPPEND",
            "UNSELECT",
            "ACL",
            "RIGHTS=texk",
        ]
        caps.append(f"APPENDLIMIT={self.server.config.max_literal}")  # RFC 7889
        if self.connection.state is State.NOT_AUTHENTICATED:
            if self.server.config.starttls and not self.tls:
                caps.append("STARTTLS")
            if self.login_disabled():
                caps.append("LOGINDISABLED")
            else:
                caps.append("AUTH=PLAIN")
        return " ".join(caps)

    # -- plumbing ---------------------------------------------------------------------

    def emit(self, event: ServerOutput) -> None:
        """Queue a response event, passing it through the connection's state machine."""
        self.out.append(self.connection.send(event))

    def _flush(self) -> bytes:
        data = b"".join(self.out)
        self.out.clear()
        return data

    def untagged(self, payload: bytes) -> None:
        """Queue untagged data (``* payload``)."""
        self.out.append(b"* " + payload + b"\r\n")

    def close(self) -> None:
        """End the session: the owner will close the transport."""
        self._ongoing = None
        self.closed = True
        self.view = None
        self.backlog = False
        self.connection.release()

    def logged_in(self, user: str) -> None:
        """``user`` has authenticated: their literals now count against their budget."""
        self.user = user
        self.connection.set_literal_gate(self.server.literals.gate(user))

    def enable_condstore(self, qresync: bool = False) -> None:
        """Turn on CONDSTORE (and QRESYNC) for the rest of the session (RFC 7162 3.1)."""
        self.condstore = True
        self.qresync = self.qresync or qresync
        if self.view is not None:
            self.view.modseqs = True
            self.view.vanished = self.qresync

    def login_disabled(self) -> bool:
        """True while LOGIN and AUTHENTICATE must be refused (no TLS yet)."""
        return self.server.config.login_requires_tls and not self.tls

    def _dispatch(self, cmd: Command) -> None:
        if self.view is not None:
            lost = self._lost_access(self.view)
            if lost is not None:
                # RFC 7162's CLOSED code ends the selected state (the connection moves
                # to authenticated as it goes out); the command then meets that state.
                self.view = None
                self.emit(UntaggedStatus("OK", f"{lost}: mailbox closed", "CLOSED"))
                if self.connection.state not in COMMAND_STATES[cmd.name]:
                    self.emit(Tagged(cmd.tag, "NO", f"{lost}; no mailbox is selected now"))
                    return
        self._run(cmd)
        # Whatever happened, the view and the state machine must agree.
        if self.connection.state is not State.SELECTED:
            self.view = None

    def _lost_access(self, view: SelectedView) -> str | None:
        """Why the session may no longer see its selected mailbox, if it may not.

        Rights are looked up afresh before every command, so a right another session
        revokes with SETACL applies from this session's next command on.
        """
        box = view.box
        if box.deleted or box.noselect or not self.store.holds(box):
            return "the mailbox was deleted"
        if "r" not in box.rights_of(self.require_user()):
            return "read access to the mailbox was revoked"
        return None

    def _run(self, cmd: Command) -> None:
        handler = HANDLERS[cmd.name]
        if cmd.name.startswith("UID ") and self.view is not None:
            # UIDs name messages the session may not have been told of yet (another
            # session appended them): announce them first, so that "UID STORE 7"
            # reaches message 7 rather than matching nothing.  Expunges wait for the
            # end of the command, which keeps the numbers the client knows meanwhile.
            for payload in self.view.updates(allow_expunge=False):
                self.untagged(payload)
        self._attempt(cmd, handler, self, cmd.tag, Arguments(cmd.args))

    def _first_step(self) -> None:
        """A long command's first step belongs to the unit of work that started it:
        most SEARCHes and FETCHes are done in it, and answered in the same turn."""
        if self._ongoing is not None:
            self._advance()

    def _advance(self) -> None:
        """One step of the long command in progress (see :data:`commands.Steps`)."""
        assert self._ongoing is not None
        cmd, steps = self._ongoing
        self._ongoing = None
        self._attempt(cmd, _step, steps)
        if self._ongoing is None and self.connection.state is not State.SELECTED:
            self.view = None

    def _attempt(self, cmd: Command, call: Callable[..., Outcome], *args: Any) -> None:
        """Run (a step of) a command, ``call(*args)``; answer it once it is over,
        whichever way."""
        try:
            result = call(*args)
        except No as exc:
            self.news(cmd.name)
            self.emit(Tagged(cmd.tag, "NO", str(exc), exc.code))
            return
        except Bad as exc:
            self.emit(Tagged(cmd.tag, "BAD", str(exc), exc.code))
            return
        except StoreError as exc:
            self.emit(Tagged(cmd.tag, "NO", str(exc), exc.code))
            return
        except Exception:
            # A bug must cost one command, not every session on the server; tests run
            # with debug=True so that it surfaces there instead.
            if self.server.config.debug:
                raise
            self.emit(Tagged(cmd.tag, "NO", "internal server error", "SERVERBUG"))
            return
        if not isinstance(result, (str, tuple)):  # Steps: a long command goes on
            self._ongoing = (cmd, result)  # more steps to come
            return
        if result == "":
            return  # the handler answers later (IDLE, AUTHENTICATE) or already did
        text, code = result if isinstance(result, tuple) else (result, None)
        self.news(cmd.name)
        self.emit(Tagged(cmd.tag, "OK", text, code))

    def news(self, name: str) -> None:
        """Tell the client what other sessions changed, as the command allows."""
        if self.view is not None:
            for payload in self.view.updates(allow_expunge=name not in _NO_EXPUNGE_NEWS):
                self.untagged(payload)

    def require_user(self) -> str:
        """The logged-in user (handlers run only when there is one)."""
        assert self.user is not None, "the state machine admits this command only when logged in"
        return self.user

    def require_view(self) -> SelectedView:
        """The selected mailbox view (handlers run only when there is one)."""
        assert self.view is not None, "the state machine admits this command only when selected"
        return self.view

    # -- mailbox lookup and access control --------------------------------------------

    def find(self, name: str, need: str = "") -> Mailbox:
        """The mailbox ``name`` names for this user, checking rights ``need``."""
        user = self.require_user()
        owner, path = names.split_name(user, name)
        box = self.store.mailbox(owner, path) if path else None
        if box is None:
            raise No("mailbox does not exist", "NONEXISTENT")
        rights = box.rights_of(user)
        if owner != user and not ("l" in rights or "r" in rights):
            raise No("mailbox does not exist", "NONEXISTENT")
        missing = [r for r in need if r not in rights]
        if missing:
            raise No(f"permission denied (need right {''.join(missing)})", "NOPERM")
        return box

    def wire_name(self, box: Mailbox) -> bytes:
        """``box``'s name as this user sees it, ready for a response."""
        return astring(names.encode_name(names.visible_name(self.require_user(), box)))
