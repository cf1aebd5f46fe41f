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
"""

from __future__ import annotations

from dataclasses import dataclass

from netsim.mail.imap import names
from netsim.mail.imap.arguments import Arguments, Bad, No
from netsim.mail.imap.commands import HANDLERS, auth, idle
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
from netsim.mail.imap.responses import astring
from netsim.mail.imap.selected import SelectedView
from netsim.mail.imap.states import State
from netsim.mail.store import Mailbox, MailStore, StoreError
from netsim.mail.users import Users

# RFC 3501 7.4.1: no EXPUNGE while answering FETCH, STORE or SEARCH, whose sequence
# numbers the client is about to interpret.  The UID forms are exempt: UIDs do not move.
_NO_EXPUNGE_NEWS = frozenset({"FETCH", "STORE", "SEARCH"})


@dataclass(frozen=True)
class ServerConfig:
    """Settings shared by every session of one server."""

    #: Largest literal accepted, in octets; bigger ones are refused (APPEND size limit).
    max_literal: int = 50 * 1024 * 1024
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

    def __init__(self, store: MailStore, users: Users, config: ServerConfig | None = None) -> None:
        self.store = store
        self.users = users
        self.config = config or ServerConfig()
        for user in users.names():
            store.ensure_user(user)

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

    # -- the I/O owner's interface ----------------------------------------------------

    def greeting(self) -> bytes:
        """The server greeting, to be sent first."""
        self.emit(
            UntaggedStatus("OK", self.server.config.greeting, f"CAPABILITY {self.capabilities()}")
        )
        return self._flush()

    def receive_data(self, data: bytes) -> bytes:
        """Process bytes from the client; returns every response they produce.

        ``b""`` signals end of input.
        """
        self.connection.receive_data(data)
        while not self.closed:
            event = self.connection.next_event()
            if event is NEED_DATA or event is PAUSED:
                break
            if isinstance(event, ConnectionClosed):
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
                    self.emit(Tagged(event.tag, "NO", event.reason, "TOOBIG"))
            elif isinstance(event, LiteralRequest):
                self.emit(Continuation("Ready for literal data"))
            elif isinstance(event, IdleDone):
                idle.finish_idle(self, event)
            elif isinstance(event, SaslResponse):
                auth.continue_authenticate(self, event)
            elif isinstance(event, Command):
                self._dispatch(event)
            if self.starttls_requested:
                break  # nothing more may be read in clear text
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
        self.closed = True
        self.view = None

    def login_disabled(self) -> bool:
        """True while LOGIN and AUTHENTICATE must be refused (no TLS yet)."""
        return self.server.config.login_requires_tls and not self.tls

    def _dispatch(self, cmd: Command) -> None:
        self._run(cmd)
        # Whatever happened, the view and the state machine must agree.
        if self.connection.state is not State.SELECTED:
            self.view = None

    def _run(self, cmd: Command) -> None:
        handler = HANDLERS[cmd.name]
        try:
            result = handler(self, cmd.tag, Arguments(cmd.args))
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
