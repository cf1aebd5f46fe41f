"""The IMAP4rev1 server: what each command means, on top of the sans-IO connection.

:class:`ImapServer` holds what all sessions share (the store, the users, settings);
:class:`ServerSession` is one client's session.  A session is still free of I/O: its
owner passes received bytes to :meth:`ServerSession.receive_data` and writes back the
bytes it returns, so the same session runs over asyncio sockets and simulated TCP.

Each command handler reads its arguments with :class:`Arguments`, does its work through
the store, and returns; errors travel as exceptions that become a tagged ``BAD``
(malformed) or ``NO`` (well-formed but refused), after which the session goes on.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from netsim import __version__
from netsim.mail.imap import fetch, names, search, utf7
from netsim.mail.imap.connection import ServerConnection
from netsim.mail.imap.dates import DateError, parse_date_time
from netsim.mail.imap.events import (
    NEED_DATA,
    PAUSED,
    BadCommand,
    Command,
    ConnectionClosed,
    Continuation,
    IdleDone,
    LiteralRequest,
    SaslResponse,
    ServerOutput,
    Tagged,
    Untagged,
    UntaggedStatus,
)
from netsim.mail.imap.parser import Atom, LiteralBytes, Value
from netsim.mail.imap.responses import astring, flag_list, plist, string
from netsim.mail.imap.selected import BadSequence, SelectedView
from netsim.mail.imap.sequence import SequenceSet, SequenceSetError, format_set
from netsim.mail.imap.states import COMMAND_STATES, State
from netsim.mail.store import ALL_RIGHTS, DELIMITER, Mailbox, MailStore, StoreError
from netsim.mail.users import Users

_SYSTEM_FLAGS = frozenset({"\\ANSWERED", "\\FLAGGED", "\\DELETED", "\\SEEN", "\\DRAFT"})
_CANONICAL_FLAG = {
    f.upper(): f for f in ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft")
}
_STATUS_ITEMS = ("MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN")
_NO_EXPUNGE_NEWS = frozenset({"FETCH", "STORE", "SEARCH", "UID FETCH", "UID STORE", "UID SEARCH"})


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


class _Bad(Exception):
    """Answer the command with BAD."""

    def __init__(self, reason: str, code: str | None = None) -> None:
        super().__init__(reason)
        self.code = code


class _No(_Bad):
    """Answer the command with NO."""


class Arguments:
    """A cursor over a command's arguments that raises BAD on anything unexpected."""

    def __init__(self, values: tuple[Value, ...]) -> None:
        self.values = values
        self.pos = 0

    def more(self) -> bool:
        """True while arguments remain."""
        return self.pos < len(self.values)

    def peek(self) -> Value | None:
        """The next argument without consuming it."""
        return self.values[self.pos] if self.more() else None

    def take(self, what: str) -> Value:
        """The next argument, whatever it is."""
        if not self.more():
            raise _Bad(f"missing {what}")
        value = self.values[self.pos]
        self.pos += 1
        return value

    def atom(self, what: str) -> str:
        """An atom, upper-cased."""
        value = self.take(what)
        if not isinstance(value, Atom):
            raise _Bad(f"{what} must be an atom")
        return value.upper()

    def astring(self, what: str) -> str:
        """An atom or a string, as text."""
        value = self.take(what)
        if isinstance(value, tuple):
            raise _Bad(f"{what} must be a string")
        if isinstance(value, bytes):
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                raise _Bad(f"{what} is not UTF-8") from None
        return str(value)

    def mailbox(self) -> str:
        """A mailbox name, decoded from modified UTF-7."""
        try:
            return names.decode_name(self.astring("mailbox name"))
        except names.NameError_ as exc:
            raise _Bad(str(exc)) from exc

    def plist(self, what: str) -> tuple[Value, ...]:
        """A parenthesized list."""
        value = self.take(what)
        if not isinstance(value, tuple):
            raise _Bad(f"{what} must be a parenthesized list")
        return value

    def sequence(self) -> SequenceSet:
        """A sequence set."""
        value = self.take("sequence set")
        if not isinstance(value, Atom):
            raise _Bad("sequence set must be an atom")
        try:
            return SequenceSet.parse(value)
        except SequenceSetError as exc:
            raise _Bad(f"bad sequence set: {exc}") from exc

    def rest(self) -> list[Value]:
        """All remaining arguments."""
        rest = list(self.values[self.pos :])
        self.pos = len(self.values)
        return rest

    def end(self) -> None:
        """Insist there is nothing more."""
        if self.more():
            raise _Bad("unexpected extra arguments")


def parse_flags(values: list[Value] | tuple[Value, ...], allow_recent: bool = False) -> set[str]:
    """Flags from a flag list: system flags canonically capitalized, keywords as given."""
    flags: set[str] = set()
    for value in values:
        if not isinstance(value, Atom) or not value:
            raise _Bad("flags must be atoms")
        if value.startswith("\\"):
            upper = value.upper()
            if upper == "\\RECENT" and allow_recent:
                continue
            if upper not in _SYSTEM_FLAGS:
                raise _Bad(f"unknown system flag {value[:40]}")
            flags.add(_CANONICAL_FLAG[upper])
        else:
            if any(c in value for c in '(){%*"\\]'):
                raise _Bad(f"bad keyword {value[:40]}")
            flags.add(str(value))
    return flags


Handler = Callable[["ServerSession", str, Arguments], "str | tuple[str, str | None]"]


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
        self._idle_tag: str | None = None
        self._out: list[bytes] = []

    # -- the I/O owner's interface ----------------------------------------------------

    def greeting(self) -> bytes:
        """The server greeting, to be sent first."""
        self._emit(
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
                self._close()
            elif isinstance(event, BadCommand):
                if event.tag is None:
                    self._emit(UntaggedStatus("BAD", event.reason))
                else:
                    self._emit(Tagged(event.tag, "BAD", event.reason))
            elif isinstance(event, LiteralRequest):
                self._emit(Continuation("Ready for literal data"))
            elif isinstance(event, IdleDone):
                self._idle_done(event)
            elif isinstance(event, SaslResponse):
                self._sasl_response(event)
            elif isinstance(event, Command):
                self._dispatch(event)
            if self.starttls_requested:
                break  # nothing more may be read in clear text
        return self._flush()

    def idle_updates(self) -> bytes:
        """While idling, the untagged news about the selected mailbox (else nothing)."""
        if self._idle_tag is not None and self.view is not None:
            for payload in self.view.updates(allow_expunge=True):
                self._emit(Untagged(payload))
        return self._flush()

    @property
    def idling(self) -> bool:
        """True between IDLE's continuation and DONE."""
        return self._idle_tag is not None

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
        if self.connection.state is State.NOT_AUTHENTICATED:
            if self.server.config.starttls and not self.tls:
                caps.append("STARTTLS")
            if self._login_disabled():
                caps.append("LOGINDISABLED")
            else:
                caps.append("AUTH=PLAIN")
        return " ".join(caps)

    # -- plumbing ---------------------------------------------------------------------

    def _emit(self, event: ServerOutput) -> None:
        self._out.append(self.connection.send(event))

    def _flush(self) -> bytes:
        data = b"".join(self._out)
        self._out.clear()
        return data

    def _untagged(self, payload: bytes) -> None:
        self._out.append(b"* " + payload + b"\r\n")

    def _close(self) -> None:
        self.closed = True
        self.view = None

    def _login_disabled(self) -> bool:
        return self.server.config.login_requires_tls and not self.tls

    def _dispatch(self, cmd: Command) -> None:
        handler = _HANDLERS[cmd.name]
        try:
            result = handler(self, cmd.tag, Arguments(cmd.args))
        except _No as exc:
            self._news(cmd.name)
            self._emit(Tagged(cmd.tag, "NO", str(exc), exc.code))
            return
        except _Bad as exc:
            self._emit(Tagged(cmd.tag, "BAD", str(exc), exc.code))
            return
        except StoreError as exc:
            self._emit(Tagged(cmd.tag, "NO", str(exc)))
            return
        if result == "":
            return  # the handler answers later (IDLE, AUTHENTICATE) or already did
        text, code = result if isinstance(result, tuple) else (result, None)
        self._news(cmd.name)
        self._emit(Tagged(cmd.tag, "OK", text, code))

    def _news(self, name: str) -> None:
        """Tell the client what other sessions changed, as the command allows."""
        if self.view is not None:
            for payload in self.view.updates(allow_expunge=name not in _NO_EXPUNGE_NEWS):
                self._untagged(payload)

    def _require_user(self) -> str:
        assert self.user is not None, "the state machine admits this command only when logged in"
        return self.user

    def _require_view(self) -> SelectedView:
        assert self.view is not None, "the state machine admits this command only when selected"
        return self.view

    # -- mailbox lookup and access control --------------------------------------------

    def _find(self, name: str, need: str = "") -> Mailbox:
        """The mailbox ``name`` names for this user, checking rights ``need``."""
        user = self._require_user()
        owner, path = names.split_name(user, name)
        box = self.store.mailbox(owner, path) if path else None
        if box is None:
            raise _No("mailbox does not exist", "NONEXISTENT")
        rights = box.rights_of(user)
        if owner != user and not ("l" in rights or "r" in rights):
            raise _No("mailbox does not exist", "NONEXISTENT")
        missing = [r for r in need if r not in rights]
        if missing:
            raise _No(f"permission denied (need right {''.join(missing)})", "NOPERM")
        return box

    def _wire(self, box: Mailbox) -> bytes:
        """``box``'s name as this user sees it, ready for a response."""
        return astring(names.encode_name(names.visible_name(self._require_user(), box)))

    # -- any state --------------------------------------------------------------------

    def do_capability(self, tag: str, args: Arguments) -> str:
        """CAPABILITY: list what this server can do."""
        args.end()
        self._untagged(b"CAPABILITY " + self.capabilities().encode())
        return "CAPABILITY completed"

    def do_noop(self, tag: str, args: Arguments) -> str:
        """NOOP: do nothing, which gives the server a chance to report news."""
        args.end()
        return "NOOP completed"

    def do_logout(self, tag: str, args: Arguments) -> str:
        """LOGOUT: say BYE, complete, and close."""
        args.end()
        self._emit(UntaggedStatus("BYE", "netsim IMAP server logging out"))
        self._emit(Tagged(tag, "OK", "LOGOUT completed"))
        self._close()
        return ""

    def do_id(self, tag: str, args: Arguments) -> str:
        """ID (RFC 2971): exchange implementation names."""
        value = args.take("ID parameter list")
        if not (isinstance(value, tuple) or (isinstance(value, Atom) and value.upper() == "NIL")):
            raise _Bad("ID takes NIL or a parenthesized list")
        if isinstance(value, tuple) and (len(value) % 2 or len(value) > 60):
            raise _Bad("ID list must hold field-value pairs")
        args.end()
        self._untagged(b'ID ("name" "netsim" "version" ' + string(__version__) + b")")
        return "ID completed"

    # -- not authenticated ------------------------------------------------------------

    def do_starttls(self, tag: str, args: Arguments) -> str:
        """STARTTLS: after OK, the owner upgrades the transport to TLS."""
        args.end()
        if self.tls:
            raise _Bad("TLS is already active")
        if not self.server.config.starttls:
            raise _No("TLS is not available")
        self._emit(Tagged(tag, "OK", "Begin TLS negotiation now"))
        self.connection.start_tls()
        self.starttls_requested = True
        return ""

    def do_login(self, tag: str, args: Arguments) -> str | tuple[str, str | None]:
        """LOGIN: a user name and a password in the clear."""
        user = args.astring("user name")
        password = args.astring("password")
        args.end()
        if self._login_disabled():
            raise _No("LOGIN is disabled without TLS", "PRIVACYREQUIRED")
        return self._authenticate(user, password)

    def do_authenticate(self, tag: str, args: Arguments) -> str | tuple[str, str | None]:
        """AUTHENTICATE PLAIN (RFC 4616), with or without an initial response (SASL-IR)."""
        mechanism = args.atom("mechanism")
        initial = args.astring("initial response") if args.more() else None
        args.end()
        if mechanism != "PLAIN":
            raise _No(f"unsupported mechanism {mechanism[:20]}")
        if self._login_disabled():
            raise _No("authentication is disabled without TLS", "PRIVACYREQUIRED")
        if initial is None:
            self._emit(Continuation(""))
            return ""
        return self._sasl_plain(b"" if initial == "=" else initial.encode())

    def _sasl_response(self, event: SaslResponse) -> None:
        try:
            if event.line.strip() == b"*":
                raise _Bad("AUTHENTICATE cancelled")
            text, code = self._sasl_plain(event.line.strip())
        except _No as exc:
            self._emit(Tagged(event.tag, "NO", str(exc), exc.code))
        except _Bad as exc:
            self._emit(Tagged(event.tag, "BAD", str(exc), exc.code))
        else:
            self._emit(Tagged(event.tag, "OK", text, code))

    def _sasl_plain(self, encoded: bytes) -> tuple[str, str | None]:
        try:
            message = base64.b64decode(encoded, validate=True)
            authzid, authcid, password = message.decode("utf-8").split("\0")
        except (binascii.Error, ValueError):
            raise _Bad("malformed PLAIN response") from None
        if authzid and authzid != authcid:
            raise _No("cannot act as another user", "AUTHORIZATIONFAILED")
        return self._authenticate(authcid, password)

    def _authenticate(self, user: str, password: str) -> tuple[str, str | None]:
        if not self.server.users.check(user, password):
            raise _No("invalid user name or password", "AUTHENTICATIONFAILED")
        self.user = user
        self.store.ensure_user(user)
        caps = self.capabilities().replace(" STARTTLS", "").replace(" AUTH=PLAIN", "")
        return "logged in", f"CAPABILITY {caps.replace(' LOGINDISABLED', '')}"

    # -- authenticated ----------------------------------------------------------------

    def do_select(self, tag: str, args: Arguments) -> tuple[str, str | None]:
        """SELECT: open a mailbox read-write; EXAMINE: read-only."""
        return self._open(args, examine=False)

    def do_examine(self, tag: str, args: Arguments) -> tuple[str, str | None]:
        """EXAMINE: like SELECT, but nothing in the mailbox changes."""
        return self._open(args, examine=True)

    def _open(self, args: Arguments, examine: bool) -> tuple[str, str | None]:
        name = args.mailbox()
        args.end()
        self.view = None  # a failed SELECT leaves no mailbox selected (RFC 3501 6.3.1)
        box = self._find(name, "r")
        if box.noselect:
            raise _No("mailbox cannot be selected")
        rights = box.rights_of(self._require_user())
        readonly = examine or not any(r in rights for r in "swte")
        view = SelectedView(box, readonly)
        self.view = view
        for payload in view.flags_response()[:1]:
            self._untagged(payload)
        self._untagged(b"%d EXISTS" % view.exists)
        self._untagged(b"%d RECENT" % len(view.recent))
        for seq, uid in enumerate(view.uids, start=1):
            if "\\Seen" not in box.by_uid[uid].flags:
                self._untagged(b"OK [UNSEEN %d] First unseen message" % seq)
                break
        self._untagged(view.flags_response()[1])
        self._untagged(b"OK [UIDVALIDITY %d] UIDs valid" % box.uidvalidity)
        self._untagged(b"OK [UIDNEXT %d] Predicted next UID" % box.uidnext)
        mode = "READ-ONLY" if readonly else "READ-WRITE"
        return ("EXAMINE completed" if examine else "SELECT completed"), mode

    def do_create(self, tag: str, args: Arguments) -> str:
        """CREATE: a new mailbox, with any missing superior names."""
        name = args.mailbox()
        args.end()
        user = self._require_user()
        name = name.rstrip(DELIMITER) if name.endswith(DELIMITER) else name
        owner, path = names.split_name(user, name)
        if owner == user:
            try:
                names.check_new_name(path)
            except names.NameError_ as exc:
                raise _No(str(exc), "CANNOT") from exc
        else:
            parent = DELIMITER.join(path.split(DELIMITER)[:-1])
            if not parent:
                raise _No("cannot create top-level mailboxes of another user", "NOPERM")
            self._find(names.OTHER_USERS + DELIMITER + owner + DELIMITER + parent, "k")
        if path.upper() == "INBOX":
            raise _No("INBOX always exists", "ALREADYEXISTS")
        if self.store.mailbox(owner, path) is not None:
            raise _No("mailbox already exists", "ALREADYEXISTS")
        self.store.create_mailbox(owner, path)
        return "CREATE completed"

    def do_delete(self, tag: str, args: Arguments) -> str:
        """DELETE: remove a mailbox (INBOX never)."""
        name = args.mailbox()
        args.end()
        if name == "INBOX":
            raise _No("INBOX cannot be deleted", "CANNOT")
        box = self._find(name, "x")
        if box.noselect and self.store.children(box):
            raise _No("mailbox has inferior hierarchical names", "INUSE")
        self.store.delete_mailbox(box)
        return "DELETE completed"

    def do_rename(self, tag: str, args: Arguments) -> str:
        """RENAME: a mailbox and its inferiors; renaming INBOX moves its messages."""
        old = args.mailbox()
        new = args.mailbox()
        args.end()
        user = self._require_user()
        box = self._find(old, "x")
        owner, path = names.split_name(user, new)
        if owner != box.owner:
            raise _No("cannot rename into another user's hierarchy", "CANNOT")
        if box.owner == user:
            try:
                names.check_new_name(path)
            except names.NameError_ as exc:
                raise _No(str(exc), "CANNOT") from exc
        if path.upper() == "INBOX" or self.store.mailbox(owner, path) is not None:
            raise _No("destination mailbox already exists", "ALREADYEXISTS")
        if path.startswith(box.name + DELIMITER):
            raise _No("cannot rename a mailbox into itself", "CANNOT")
        self.store.rename_mailbox(box, path)
        return "RENAME completed"

    def do_subscribe(self, tag: str, args: Arguments) -> str:
        """SUBSCRIBE: add a name to the LSUB list."""
        name = args.mailbox()
        args.end()
        self._find(name)
        self.store.subscribe(self._require_user(), name, True)
        return "SUBSCRIBE completed"

    def do_unsubscribe(self, tag: str, args: Arguments) -> str:
        """UNSUBSCRIBE: remove a name from the LSUB list."""
        name = args.mailbox()
        args.end()
        user = self._require_user()
        if name not in self.store.subscriptions(user):
            raise _No("not subscribed to that name", "NONEXISTENT")
        self.store.subscribe(user, name, False)
        return "UNSUBSCRIBE completed"

    def _visible(self) -> dict[str, Mailbox]:
        """Every mailbox this user may see, by the name the user sees."""
        user = self._require_user()
        found: dict[str, Mailbox] = {}
        for box in self.store.mailboxes():
            if box.owner == user or "l" in box.rights_of(user):
                found[names.visible_name(user, box)] = box
        return found

    def _list_args(self, args: Arguments) -> tuple[str, str]:
        reference = args.astring("reference")
        value = args.take("mailbox pattern")
        if isinstance(value, tuple):
            raise _Bad("mailbox pattern must be a string")
        pattern = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        args.end()
        try:
            return names.decode_name(reference) if reference else "", utf7.decode(pattern)
        except (names.NameError_, utf7.Utf7Error) as exc:
            raise _Bad(str(exc)) from exc

    def do_list(self, tag: str, args: Arguments) -> str:
        """LIST: names matching a pattern, with attributes (CHILDREN, SPECIAL-USE)."""
        reference, pattern = self._list_args(args)
        if not pattern:
            root = reference.split(DELIMITER)[0] + DELIMITER if DELIMITER in reference else ""
            self._untagged(b'LIST (\\Noselect) "/" ' + string(root))
            return "LIST completed"
        visible = self._visible()
        listed: dict[str, Mailbox | None] = dict(visible)
        for name in visible:
            for parent in names.ancestors(name):
                listed.setdefault(parent, None)
        regex = names.pattern(reference, pattern)
        for name in sorted(listed, key=lambda n: (n != "INBOX", n)):
            if not regex.fullmatch(name):
                continue
            box = listed[name]
            has_children = any(other.startswith(name + DELIMITER) for other in listed)
            attrs = []
            if box is None or box.noselect:
                attrs.append("\\Noselect")
            attrs.append("\\HasChildren" if has_children else "\\HasNoChildren")
            if box is not None and box.special_use and box.owner == self.user:
                attrs.append(box.special_use)
            self._untagged(
                b"LIST (" + " ".join(attrs).encode() + b') "/" ' + astring(names.encode_name(name))
            )
        return "LIST completed"

    def do_lsub(self, tag: str, args: Arguments) -> str:
        """LSUB: subscribed names matching a pattern."""
        reference, pattern = self._list_args(args)
        subscribed = self.store.subscriptions(self._require_user())
        regex = names.pattern(reference, pattern)
        shown: dict[str, bool] = {}
        for name in subscribed:
            if regex.fullmatch(name):
                shown[name] = True
            elif pattern.endswith("%"):
                # A subscribed inferior makes a matching superior show as \Noselect.
                for parent in names.ancestors(name):
                    if regex.fullmatch(parent) and parent not in subscribed:
                        shown.setdefault(parent, False)
        for name in sorted(shown):
            attrs = b"()" if shown[name] else b"(\\Noselect)"
            self._untagged(b"LSUB " + attrs + b' "/" ' + astring(names.encode_name(name)))
        return "LSUB completed"

    def do_status(self, tag: str, args: Arguments) -> str:
        """STATUS: counters of a mailbox without selecting it."""
        name = args.mailbox()
        items = args.plist("status items")
        args.end()
        if not items:
            raise _Bad("empty status item list")
        box = self._find(name, "r")
        if box.noselect:
            raise _No("mailbox cannot be selected")
        values = {
            "MESSAGES": len(box.messages),
            "RECENT": box.unclaimed_recent(),
            "UIDNEXT": box.uidnext,
            "UIDVALIDITY": box.uidvalidity,
            "UNSEEN": box.unseen_count(),
        }
        out = []
        for item in items:
            if not isinstance(item, Atom) or item.upper() not in _STATUS_ITEMS:
                raise _Bad(f"unknown status item {str(item)[:40]}")
            out.append(b"%s %d" % (item.upper().encode(), values[item.upper()]))
        self._untagged(b"STATUS " + self._wire(box) + b" " + plist(out))
        return "STATUS completed"

    def do_append(self, tag: str, args: Arguments) -> tuple[str, str | None]:
        """APPEND (and MULTIAPPEND, RFC 3502): add messages to a mailbox, atomically."""
        name = args.mailbox()
        items: list[tuple[bytes, set[str], dt.datetime | None]] = []
        while args.more() or not items:
            flags: set[str] = set()
            when = None
            value = args.take("message literal")
            if isinstance(value, tuple):
                flags = parse_flags(value, allow_recent=True)
                value = args.take("message literal")
            if isinstance(value, bytes) and not isinstance(value, LiteralBytes):
                try:
                    when = parse_date_time(value.decode("ascii"))
                except (DateError, UnicodeDecodeError) as exc:
                    raise _Bad(f"bad date-time: {exc}") from exc
                value = args.take("message literal")
            if not isinstance(value, LiteralBytes):
                raise _Bad("message must be a literal")
            if not value:
                raise _No("empty message")
            items.append((value, flags, when))
        try:
            box = self._find(name, "i")
        except _No as exc:
            if exc.code == "NONEXISTENT":
                raise _No("mailbox does not exist", "TRYCREATE") from exc
            raise
        if box.noselect:
            raise _No("mailbox cannot hold messages", "CANNOT")
        rights = box.rights_of(self._require_user())
        for _, flags, _ in items:
            self._check_flag_rights(rights, flags)
        added = self.store.append(box, items)
        uids = format_set(m.uid for m in added)
        return "APPEND completed", f"APPENDUID {box.uidvalidity} {uids}"

    def do_namespace(self, tag: str, args: Arguments) -> str:
        """NAMESPACE (RFC 2342): personal and other users' prefixes."""
        args.end()
        self._untagged(b'NAMESPACE (("" "/")) (("user/" "/")) NIL')
        return "NAMESPACE completed"

    def do_enable(self, tag: str, args: Arguments) -> str:
        """ENABLE (RFC 5161): none of our extensions need enabling, so none are."""
        if not args.more():
            raise _Bad("ENABLE needs capability names")
        for value in args.rest():
            if not isinstance(value, Atom):
                raise _Bad("capability names are atoms")
        self._untagged(b"ENABLED")
        return "ENABLE completed"

    def do_idle(self, tag: str, args: Arguments) -> str:
        """IDLE (RFC 2177): report news as it happens until the client says DONE."""
        args.end()
        self._emit(Continuation("idling"))
        self._idle_tag = tag
        for payload in self.view.updates(allow_expunge=True) if self.view else ():
            self._untagged(payload)
        return ""

    def _idle_done(self, event: IdleDone) -> None:
        self._idle_tag = None
        if event.line.strip().upper() != b"DONE":
            self._emit(Tagged(event.tag, "BAD", "expected DONE"))
            return
        self._news("IDLE")
        self._emit(Tagged(event.tag, "OK", "IDLE terminated"))

    # -- ACL (RFC 4314) ---------------------------------------------------------------

    def do_setacl(self, tag: str, args: Arguments) -> str:
        """SETACL: grant, add (+) or remove (-) rights of an identifier."""
        name = args.mailbox()
        identifier = args.astring("identifier")
        rights = args.astring("rights")
        args.end()
        box = self._find(name, "a")
        current = set(box.acl.get(identifier, ""))
        mode, letters = ("+", rights[1:]) if rights.startswith("+") else ("=", rights)
        if rights.startswith("-"):
            mode, letters = "-", rights[1:]
        letters = letters.replace("c", "k").replace("d", "xte")  # RFC 2086 obsolete rights
        bad = [c for c in letters if c not in ALL_RIGHTS]
        if bad:
            raise _Bad(f"unknown rights {''.join(bad)}")
        if identifier == box.owner:
            raise _No("the owner's rights cannot be changed", "CANNOT")
        new = (
            set(letters)
            if mode == "="
            else current | set(letters)
            if mode == "+"
            else current - set(letters)
        )
        text = "".join(r for r in ALL_RIGHTS if r in new)
        self.store.set_acl(box, identifier, text or None)
        return "SETACL completed"

    def do_deleteacl(self, tag: str, args: Arguments) -> str:
        """DELETEACL: remove an identifier's entry."""
        name = args.mailbox()
        identifier = args.astring("identifier")
        args.end()
        box = self._find(name, "a")
        self.store.set_acl(box, identifier, None)
        return "DELETEACL completed"

    def do_getacl(self, tag: str, args: Arguments) -> str:
        """GETACL: every identifier and its rights."""
        name = args.mailbox()
        args.end()
        box = self._find(name, "a")
        entries = [astring(box.owner) + b" " + ALL_RIGHTS.encode()]
        for who, rights in sorted(box.acl.items()):
            entries.append(astring(who) + b" " + astring(rights))
        self._untagged(b"ACL " + self._wire(box) + b" " + b" ".join(entries))
        return "GETACL completed"

    def do_listrights(self, tag: str, args: Arguments) -> str:
        """LISTRIGHTS: which rights an identifier always has and which can be granted."""
        name = args.mailbox()
        identifier = args.astring("identifier")
        args.end()
        box = self._find(name, "a")
        if identifier == box.owner:
            fixed, optional = ALL_RIGHTS, []
        else:
            fixed, optional = "", list(ALL_RIGHTS)
        line = b"LISTRIGHTS " + self._wire(box) + b" " + astring(identifier) + b" " + string(fixed)
        if optional:
            line += b" " + b" ".join(r.encode() for r in optional)
        self._untagged(line)
        return "LISTRIGHTS completed"

    def do_myrights(self, tag: str, args: Arguments) -> str:
        """MYRIGHTS: the rights this user holds."""
        name = args.mailbox()
        args.end()
        box = self._find(name)
        rights = box.rights_of(self._require_user())
        self._untagged(b"MYRIGHTS " + self._wire(box) + b" " + string(rights))
        return "MYRIGHTS completed"

    # -- selected ---------------------------------------------------------------------

    def do_check(self, tag: str, args: Arguments) -> str:
        """CHECK: a checkpoint; the store is always consistent, so only news is due."""
        args.end()
        return "CHECK completed"

    def do_close(self, tag: str, args: Arguments) -> str:
        """CLOSE: silently expunge \\Deleted messages (if writable) and deselect."""
        args.end()
        view = self._require_view()
        box = view.box
        if not view.readonly and "e" in box.rights_of(self._require_user()) and not box.deleted:
            self.store.expunge(box, [m.uid for m in box.messages if "\\Deleted" in m.flags])
        self.view = None
        return "CLOSE completed"

    def do_unselect(self, tag: str, args: Arguments) -> str:
        """UNSELECT (RFC 3691): deselect without expunging."""
        args.end()
        self.view = None
        return "UNSELECT completed"

    def do_expunge(self, tag: str, args: Arguments) -> str:
        """EXPUNGE: remove every \\Deleted message for good."""
        return self._expunge(args, by_uid=False)

    def do_uid_expunge(self, tag: str, args: Arguments) -> str:
        """UID EXPUNGE (UIDPLUS): expunge only \\Deleted messages with the given UIDs."""
        return self._expunge(args, by_uid=True)

    def _expunge(self, args: Arguments, by_uid: bool) -> str:
        view = self._require_view()
        wanted = args.sequence() if by_uid else None
        args.end()
        if view.readonly:
            raise _No("mailbox is read-only", "READ-ONLY")
        box = view.box
        if "e" not in box.rights_of(self._require_user()):
            raise _No("permission denied (need right e)", "NOPERM")
        largest = box.messages[-1].uid if box.messages else 0
        doomed = [
            m.uid
            for m in box.messages
            if "\\Deleted" in m.flags and (wanted is None or wanted.contains(m.uid, largest))
        ]
        self.store.expunge(box, doomed)
        return "EXPUNGE completed"

    def do_search(self, tag: str, args: Arguments) -> str:
        """SEARCH: sequence numbers of the messages that match."""
        return self._search(args, by_uid=False)

    def do_uid_search(self, tag: str, args: Arguments) -> str:
        """UID SEARCH: UIDs of the messages that match."""
        return self._search(args, by_uid=True)

    def _search(self, args: Arguments, by_uid: bool) -> str:
        view = self._require_view()
        try:
            criteria = search.parse_criteria(search.split_charset(args.rest()))
        except search.UnknownCharset as exc:
            raise _No(
                f"unsupported charset {str(exc)[:40]}", "BADCHARSET (UTF-8 US-ASCII)"
            ) from exc
        except search.SearchError as exc:
            raise _Bad(str(exc)) from exc
        max_seq = view.exists
        max_uid = view.uids[-1] if view.uids else 0
        found = []
        for seq, uid in enumerate(view.uids, start=1):
            msg = view.message(uid)
            if msg is None:
                continue
            candidate = search.Candidate(seq, msg, uid in view.recent, max_seq, max_uid)
            if criteria(candidate):
                found.append(uid if by_uid else seq)
        self._untagged(b"SEARCH" + b"".join(b" %d" % n for n in found))
        return "SEARCH completed"

    def do_fetch(self, tag: str, args: Arguments) -> str:
        """FETCH: data items of messages by sequence number."""
        return self._fetch(args, by_uid=False)

    def do_uid_fetch(self, tag: str, args: Arguments) -> str:
        """UID FETCH: data items of messages by UID (UID always included)."""
        return self._fetch(args, by_uid=True)

    def _pick(self, view: SelectedView, seqset: SequenceSet, by_uid: bool) -> list[tuple[int, int]]:
        try:
            return view.select(seqset, by_uid)
        except BadSequence as exc:
            raise _Bad(str(exc)) from exc

    def _fetch(self, args: Arguments, by_uid: bool) -> str:
        view = self._require_view()
        seqset = args.sequence()
        try:
            items = fetch.parse_items(args.rest())
        except fetch.FetchError as exc:
            raise _Bad(str(exc)) from exc
        if by_uid and not any(i.name == "UID" for i in items):
            items.insert(0, fetch.FetchItem("UID"))
        picked = self._pick(view, seqset, by_uid)
        box = view.box
        if (
            not view.readonly
            and any(i.sets_seen for i in items)
            and "s" in box.rights_of(self._require_user())
        ):
            unseen = [
                uid
                for _, uid in picked
                if uid in box.by_uid and "\\Seen" not in box.by_uid[uid].flags
            ]
            changed = {m.uid for m in self.store.store_flags(box, unseen, ["\\Seen"], "add")}
        else:
            changed = set()
        wants_flags = any(i.name == "FLAGS" for i in items)
        missing = False
        out = self._out
        for seq, uid in picked:
            msg = view.message(uid)
            if msg is None:
                missing = True
                continue
            flags = view.flags(msg)
            rendered = [fetch.render(item, msg, flags, uid) for item in items]
            if uid in changed and not wants_flags:
                rendered.append(b"FLAGS " + flag_list(flags))
            if wants_flags or uid in changed:
                view.reported(msg)
            out.append(b"* %d FETCH (" % seq + b" ".join(rendered) + b")\r\n")
        if missing:
            return "FETCH completed; some messages were expunged meanwhile"
        return "FETCH completed"

    def do_store(self, tag: str, args: Arguments) -> str:
        """STORE: replace, add or remove flags by sequence number."""
        return self._store(args, by_uid=False)

    def do_uid_store(self, tag: str, args: Arguments) -> str:
        """UID STORE: the same by UID."""
        return self._store(args, by_uid=True)

    def _check_flag_rights(self, rights: str, flags: set[str]) -> None:
        for flag in flags:
            need = "s" if flag == "\\Seen" else "t" if flag == "\\Deleted" else "w"
            if need not in rights:
                raise _No(f"permission denied (need right {need})", "NOPERM")

    def _store(self, args: Arguments, by_uid: bool) -> str:
        view = self._require_view()
        seqset = args.sequence()
        item = args.atom("data item")
        value = args.rest()
        flag_values: tuple[Value, ...] | list[Value] = (
            value[0] if len(value) == 1 and isinstance(value[0], tuple) else value
        )
        assert isinstance(flag_values, (tuple, list))
        flags = parse_flags(flag_values)
        base, _, suffix = item.partition(".")
        modes = {"FLAGS": "set", "+FLAGS": "add", "-FLAGS": "remove"}
        if base not in modes or suffix not in ("", "SILENT"):
            raise _Bad(f"unknown STORE item {item[:40]}")
        picked = self._pick(view, seqset, by_uid)
        if view.readonly:
            raise _No("mailbox is read-only", "READ-ONLY")
        rights = view.box.rights_of(self._require_user())
        self._check_flag_rights(rights, flags)
        changed = self.store.store_flags(view.box, [uid for _, uid in picked], flags, modes[base])
        if suffix == "SILENT":
            for done in changed:
                view.reported(done)  # the client knows what it asked for
            return "STORE completed"
        for seq, uid in picked:
            msg = view.message(uid)
            if msg is None:
                continue
            view.reported(msg)
            uid_part = b"UID %d " % uid if by_uid else b""
            self._untagged(b"%d FETCH (%sFLAGS %s)" % (seq, uid_part, flag_list(view.flags(msg))))
        return "STORE completed"

    def do_copy(self, tag: str, args: Arguments) -> tuple[str, str | None]:
        """COPY: messages to the end of another mailbox (COPYUID, RFC 4315)."""
        return self._copy(args, by_uid=False, move=False)

    def do_uid_copy(self, tag: str, args: Arguments) -> tuple[str, str | None]:
        """UID COPY: the same by UID."""
        return self._copy(args, by_uid=True, move=False)

    def do_move(self, tag: str, args: Arguments) -> tuple[str, str | None]:
        """MOVE (RFC 6851): copy, then expunge from here, atomically."""
        return self._copy(args, by_uid=False, move=True)

    def do_uid_move(self, tag: str, args: Arguments) -> tuple[str, str | None]:
        """UID MOVE: the same by UID."""
        return self._copy(args, by_uid=True, move=True)

    def _copy(self, args: Arguments, by_uid: bool, move: bool) -> tuple[str, str | None]:
        view = self._require_view()
        seqset = args.sequence()
        name = args.mailbox()
        args.end()
        picked = self._pick(view, seqset, by_uid)
        try:
            target = self._find(name, "i")
        except _No as exc:
            if exc.code == "NONEXISTENT":
                raise _No("mailbox does not exist", "TRYCREATE") from exc
            raise
        if target.noselect:
            raise _No("mailbox cannot hold messages", "CANNOT")
        verb = "MOVE" if move else "COPY"
        uids = [uid for _, uid in picked if uid in view.box.by_uid]
        if move:
            if view.readonly:
                raise _No("mailbox is read-only", "READ-ONLY")
            rights = view.box.rights_of(self._require_user())
            if "t" not in rights or "e" not in rights:
                raise _No("permission denied (need rights t and e)", "NOPERM")
            if target is view.box:
                raise _No("cannot move to the same mailbox", "CANNOT")
            pairs = self.store.move(view.box, uids, target)
        else:
            pairs = self.store.copy(view.box, uids, target)
        if not pairs:
            return f"{verb} completed (nothing to do)", None
        sources = ",".join(str(p[0]) for p in pairs)
        copies = ",".join(str(p[1]) for p in pairs)
        code = f"COPYUID {target.uidvalidity} {sources} {copies}"
        if move:
            self._untagged(b"OK [" + code.encode() + b"] Moved")
            return f"{verb} completed", None
        return f"{verb} completed", code


def _handler_table() -> dict[str, Handler]:
    """Command name -> method, found by the ``do_<name>`` naming convention."""
    table: dict[str, Handler] = {}
    for name in COMMAND_STATES:
        method = getattr(ServerSession, "do_" + name.lower().replace(" ", "_"))
        table[name] = method
    return table


_HANDLERS = _handler_table()
