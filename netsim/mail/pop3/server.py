"""The POP3 server: a user's INBOX as a maildrop, downloaded and deleted at QUIT.

:class:`Pop3Server` holds what sessions share (the store, the users, the maildrop locks,
the failed-login ledger); :class:`Pop3Session` is one client's session, free of I/O and
driven like the IMAP and SMTP sessions (``greeting``, ``receive_data``, ``resume``).

At login the session takes a snapshot of the INBOX: message numbers 1..n stay fixed for
the session (RFC 1939 5), whatever IMAP clients do meanwhile.  ``DELE`` only marks a
message; the marks take effect in the UPDATE state, after ``QUIT``, as one expunge of the
store (and messages downloaded with ``RETR`` get ``\\Seen`` then, as Dovecot does).  A
connection that drops deletes nothing.  One POP3 session per maildrop at a time: a
second login gets ``-ERR [IN-USE]`` (RFC 2449 8.1.1).

A message goes out with CRLF line ends, as RFC 1939 requires; its size in STAT and LIST
is counted that way.  The unique id in UIDL is the mailbox's UIDVALIDITY and the
message's UID, which never change and are never reused.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from netsim.mail.imap.limits import UNKNOWN_USER, LoginThrottle
from netsim.mail.lines import on_the_wire
from netsim.mail.pop3.connection import (
    NEED_DATA,
    PAUSED,
    BadInput,
    Command,
    ConnectionClosed,
    Reply,
    ServerConnection,
)
from netsim.mail.pop3.states import State
from netsim.mail.store import Mailbox, MailStore, Message, StoreError
from netsim.mail.users import Users

#: Octets of rendered RETR answers one session keeps for a message asked for again
#: (a client that re-reads a message, or a download restarted on the same connection);
#: beyond them answers are rendered each time, so a session's memory stays bounded.
RETR_MEMO_OCTETS = 4 << 20


@dataclass(frozen=True)
class Pop3Config:
    """Settings shared by every session of one POP3 server."""

    #: Offer STLS (the I/O layer must then be able to do the handshake).
    starttls: bool = False
    #: Refuse USER/PASS without TLS (and leave USER out of CAPA).
    login_requires_tls: bool = False
    #: Seconds before answering a first failed login, doubled by each further one.
    login_failure_delay: float = 1.0
    #: Refused commands after which the server hangs up.
    max_errors: int = 10
    #: Longest command line (RFC 2449 4: 255 octets; some clients send more).
    max_line: int = 1024
    #: Greeting text.
    greeting: str = "netsim POP3 server ready"
    #: Let unexpected exceptions propagate (tests) instead of answering ``-ERR``.
    debug: bool = False


class Pop3Server:
    """A mail store and a user list served over POP3; creates sessions."""

    def __init__(
        self,
        store: MailStore,
        users: Users,
        config: Pop3Config | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.users = users
        self.config = config or Pop3Config()
        self.logins = LoginThrottle(self.config.login_failure_delay, clock=clock)
        #: Users whose maildrop a session holds now.
        self.locked: set[str] = set()
        for user in users.names():
            store.ensure_user(user)

    def open_session(self, tls: bool = False) -> Pop3Session:
        """A new session; ``tls`` says whether the transport is already encrypted."""
        return Pop3Session(self, tls)


class _NoSuchMessage(Exception):
    """A message number that is not (or no longer) in the maildrop."""


class Pop3Session:
    """One client's POP3 session, sans-IO: bytes in, bytes out."""

    def __init__(self, server: Pop3Server, tls: bool = False) -> None:
        self.server = server
        self.connection = ServerConnection(server.config.max_line)
        #: The authenticated user, once there is one (and holds the maildrop lock).
        self.user: str | None = None
        self.tls = tls
        self.starttls_requested = False
        self.closed = False
        self.hold = 0.0
        self.backlog = False
        self.errors = 0
        self.failed_logins = 0
        #: The name given with USER, waiting for PASS.
        self._name: str | None = None
        self._box: Mailbox | None = None
        #: The maildrop as it was at login; message n is ``_messages[n - 1]``.
        self._messages: list[Message] = []
        self._deleted: set[int] = set()
        self._retrieved: set[int] = set()
        self._wire: dict[int, bytes] = {}
        # RETR answers as they go on the wire (dot-stuffed, with their status line),
        # up to RETR_MEMO_OCTETS in all: rendering one costs more than the lookup.
        self._retr_answers: dict[int, Reply] = {}
        self._retr_octets = 0
        # STAT, LIST and UIDL answers, kept until DELE or RSET changes the maildrop:
        # a client that polls asks the same again and again.
        self._answers: dict[str, Reply] = {}
        self._out: list[bytes] = []

    # -- the I/O owner's interface -------------------------------------------------------

    @property
    def idling(self) -> bool:
        """POP3 has no IDLE."""
        return False

    def idle_updates(self) -> bytes:
        """Nothing: a POP3 session sees its snapshot only."""
        return b""

    @property
    def state(self) -> State:
        """The RFC 1939 state."""
        return self.connection.state

    def greeting(self) -> bytes:
        """The ``+OK`` greeting, to be sent first."""
        return Reply(True, self.server.config.greeting).render()

    def receive_data(self, data: bytes, max_commands: int | None = None) -> bytes:
        """Process bytes from the client; returns the replies (``b""``: end of input)."""
        lone = self.connection.lone_command(data) if max_commands != 0 else None
        if lone is not None:
            # The short path of a polling client's repeated STAT (and LIST, UIDL,
            # NOOP): one whole line alone, dispatched without the line buffer.
            self.backlog = False
            self.hold = 0.0
            self._dispatch(lone)
            return self._flush()
        self.connection.receive_data(data)
        return self.resume(max_commands)

    def resume(self, max_commands: int | None = None) -> bytes:
        """Go on with input already received."""
        self.backlog = False
        self.hold = 0.0
        handled = 0
        while not self.closed:
            if self.hold or self.starttls_requested:
                self.backlog = not self.starttls_requested
                break
            if max_commands is not None and handled >= max_commands:
                # Come back only if there is more to do (saves the owner a call).
                self.backlog = self.connection.input_waiting()
                break
            event = self.connection.next_event()
            if event is NEED_DATA or event is PAUSED:
                break
            handled += 1
            if isinstance(event, ConnectionClosed):
                self.close()
            elif isinstance(event, BadInput):
                self._refuse(event.reason)
            elif isinstance(event, Command):
                self._dispatch(event)
        return self._flush()

    def shutdown(self, reason: str) -> bytes:
        """End the session from the server's side; deletes nothing."""
        if self.closed:
            return b""
        self._out.append(Reply(False, reason).render())
        self.close()
        return self._flush()

    def tls_started(self) -> None:
        """The owner finished the STLS handshake."""
        self.starttls_requested = False
        self.tls = True

    def close(self) -> None:
        """End the session and give the maildrop back."""
        self.closed = True
        self.backlog = False
        self.connection.close()
        if self.user is not None:
            self.server.locked.discard(self.user)

    # -- plumbing -------------------------------------------------------------------------

    def _flush(self) -> bytes:
        data = b"".join(self._out)
        self._out.clear()
        return data

    def _emit(self, reply: Reply) -> None:
        self._out.append(self.connection.send(reply))
        if self.connection.state is State.CLOSED:
            self.close()

    def _refuse(self, reason: str) -> None:
        self.errors += 1
        if self.errors >= self.server.config.max_errors:
            self._out.append(Reply(False, "too many bad commands, closing").render())
            self.close()
            return
        self._out.append(Reply(False, reason).render())

    def _dispatch(self, cmd: Command) -> None:
        try:
            if cmd.verb == "PASS":
                reply = self.pass_(cmd.rest)
            else:
                reply = _HANDLERS[cmd.verb](self, cmd.args)
        except _NoSuchMessage:
            reply = Reply(False, "no such message")
        except StoreError as exc:
            reply = Reply(False, f"[SYS/TEMP] {exc}")
        except Exception:
            if self.server.config.debug:
                raise
            reply = Reply(False, "[SYS/TEMP] internal server error")
        self._emit(reply)

    def login_disabled(self) -> bool:
        """True while passwords must not be taken (no TLS yet)."""
        return self.server.config.login_requires_tls and not self.tls

    def _number(self, text: str) -> int:
        """The index of message number ``text``, if it exists and is not deleted."""
        if not text.isdigit() or len(text) > 9:
            raise _NoSuchMessage
        index = int(text) - 1
        if not 0 <= index < len(self._messages) or index in self._deleted:
            raise _NoSuchMessage
        return index

    def _data(self, index: int) -> bytes:
        """Message ``index`` as it goes on the wire (CRLF line ends), kept for reuse."""
        data = self._wire.get(index)
        if data is None:
            data = self._wire[index] = on_the_wire(self._messages[index].data)
        return data

    def _uid(self, index: int) -> str:
        box = self._box
        assert box is not None
        return f"{box.uidvalidity}.{self._messages[index].uid}"

    def _live(self) -> list[int]:
        return [i for i in range(len(self._messages)) if i not in self._deleted]

    # -- AUTHORIZATION ----------------------------------------------------------------------

    def capa(self, args: tuple[str, ...]) -> Reply:
        """CAPA (RFC 2449): what this server can do, now."""
        caps = ["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"]
        if self.state is State.AUTHORIZATION:
            if not self.login_disabled():
                caps.append("USER")
            if self.server.config.starttls and not self.tls:
                caps.append("STLS")
        caps.append("IMPLEMENTATION netsim")
        return Reply(True, "Capability list follows", "".join(f"{c}\r\n" for c in caps).encode())

    def stls(self, args: tuple[str, ...]) -> Reply:
        """STLS (RFC 2595): ``+OK``, then the owner does the handshake."""
        if self.tls:
            return Reply(False, "TLS is already active")
        if not self.server.config.starttls:
            return Reply(False, "TLS is not available")
        self.starttls_requested = True
        self._name = None
        return Reply(True, "Begin TLS negotiation now")

    def user_(self, args: tuple[str, ...]) -> Reply:
        """USER name: remember the name for PASS."""
        if self.login_disabled():
            return Reply(False, "[AUTH] Plaintext authentication disallowed without TLS (STLS)")
        if len(args) != 1:
            return Reply(False, "USER needs exactly one name")
        self._name = args[0]
        return Reply(True, "send your password")

    def pass_(self, password: str) -> Reply:
        """PASS: check the password, lock the maildrop, enter TRANSACTION.

        RFC 1939 7: the password is the rest of the line, spaces included.
        """
        name, self._name = self._name, None
        if name is None:
            return Reply(False, "USER first")
        if self.login_disabled():
            return Reply(False, "[AUTH] Plaintext authentication disallowed without TLS (STLS)")
        server = self.server
        if not server.users.check(name, password):
            self.failed_logins += 1
            key = name if name in server.users else UNKNOWN_USER
            self.hold = server.logins.failed(key, self.failed_logins)
            return Reply(False, "[AUTH] authentication failed")
        server.logins.succeeded(name)
        if name in server.locked:
            return Reply(False, "[IN-USE] the maildrop is in use by another POP3 session")
        server.store.ensure_user(name)
        box = server.store.mailbox(name, "INBOX")
        assert box is not None
        server.locked.add(name)
        self.user, self._box = name, box
        self._messages = list(box.messages)
        return Reply(True, f"maildrop has {len(self._messages)} messages")

    def quit(self, args: tuple[str, ...]) -> Reply:
        """QUIT: in TRANSACTION, the UPDATE state: remove what DELE marked."""
        box = self._box
        if self.state is State.TRANSACTION and box is not None:
            store = self.server.store
            seen = [self._messages[i].uid for i in self._retrieved - self._deleted]
            if seen:
                store.store_flags(box, seen, ["\\Seen"], "add")
            if self._deleted:
                store.expunge(box, [self._messages[i].uid for i in self._deleted])
        return Reply(True, "bye")

    # -- TRANSACTION ------------------------------------------------------------------------

    def _answer(self, name: str) -> Reply:
        """STAT, LIST or UIDL of the whole maildrop, from the cache if unchanged."""
        answer = self._answers.get(name)
        if answer is None:
            live = self._live()
            if name == "STAT":
                answer = Reply(True, f"{len(live)} {sum(len(self._data(i)) for i in live)}")
            elif name == "LIST":
                lines = "".join(f"{i + 1} {len(self._data(i))}\r\n" for i in live)
                answer = Reply(True, f"{len(live)} messages", lines.encode())
            else:
                lines = "".join(f"{i + 1} {self._uid(i)}\r\n" for i in live)
                answer = Reply(True, "unique ids follow", lines.encode())
            self._answers[name] = answer
        return answer

    def stat(self, args: tuple[str, ...]) -> Reply:
        """STAT: number of messages and their total size."""
        return self._answer("STAT")

    def list_(self, args: tuple[str, ...]) -> Reply:
        """LIST [n]: the size of one or of every message."""
        if args:
            index = self._number(args[0])
            return Reply(True, f"{index + 1} {len(self._data(index))}")
        return self._answer("LIST")

    def uidl(self, args: tuple[str, ...]) -> Reply:
        """UIDL [n]: the unique id of one or of every message."""
        if args:
            index = self._number(args[0])
            return Reply(True, f"{index + 1} {self._uid(index)}")
        return self._answer("UIDL")

    def retr(self, args: tuple[str, ...]) -> Reply:
        """RETR n: the whole message (its answer rendered once, see RETR_MEMO_OCTETS)."""
        if len(args) != 1:
            return Reply(False, "RETR needs a message number")
        index = self._number(args[0])
        self._retrieved.add(index)
        answer = self._retr_answers.get(index)
        if answer is None:
            data = self._data(index)
            answer = Reply(True, f"{len(data)} octets", data)
            if self._retr_octets + len(data) <= RETR_MEMO_OCTETS:
                self._retr_octets += len(data)
                self._retr_answers[index] = answer
        return answer

    def top(self, args: tuple[str, ...]) -> Reply:
        """TOP n k: the header, the blank line, and the first k lines of the body."""
        if len(args) != 2 or not args[1].isdigit():
            return Reply(False, "TOP needs a message number and a line count")
        index = self._number(args[0])
        data = self._data(index)
        end = data.find(b"\r\n\r\n")
        if end < 0:
            return Reply(True, "no body", data)
        body_start = end + 4
        wanted = int(args[1])
        cut = body_start
        for _ in range(wanted):
            found = data.find(b"\r\n", cut)
            if found < 0:
                cut = len(data)
                break
            cut = found + 2
        return Reply(True, "top of message follows", data[:cut])

    def dele(self, args: tuple[str, ...]) -> Reply:
        """DELE n: mark the message; it goes at QUIT."""
        if len(args) != 1:
            return Reply(False, "DELE needs a message number")
        index = self._number(args[0])
        self._deleted.add(index)
        self._answers.clear()
        return Reply(True, f"message {index + 1} deleted")

    def noop(self, args: tuple[str, ...]) -> Reply:
        """NOOP: nothing."""
        return Reply(True, "")

    def rset(self, args: tuple[str, ...]) -> Reply:
        """RSET: unmark every message marked with DELE."""
        self._deleted.clear()
        self._answers.clear()
        live = self._live()
        return Reply(True, f"maildrop has {len(live)} messages")


_Handler = Callable[[Pop3Session, tuple[str, ...]], Reply]

#: Command -> what it does.
_HANDLERS: dict[str, _Handler] = {
    "CAPA": Pop3Session.capa,
    "STLS": Pop3Session.stls,
    "USER": Pop3Session.user_,
    "QUIT": Pop3Session.quit,
    "STAT": Pop3Session.stat,
    "LIST": Pop3Session.list_,
    "UIDL": Pop3Session.uidl,
    "RETR": Pop3Session.retr,
    "TOP": Pop3Session.top,
    "DELE": Pop3Session.dele,
    "NOOP": Pop3Session.noop,
    "RSET": Pop3Session.rset,
}
