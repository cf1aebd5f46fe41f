"""The server side of a POP3 connection as a sans-IO protocol object.

Like its IMAP and SMTP siblings: :meth:`~ServerConnection.receive_data` takes bytes,
:meth:`~ServerConnection.next_event` gives one command at a time (and only once the
previous one is answered, which makes RFC 2449 PIPELINING safe), and
:meth:`~ServerConnection.send` turns a :class:`Reply` into bytes and moves the state.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from netsim.mail.lines import LineReader, LineTooLong, stuff
from netsim.mail.pop3 import states
from netsim.mail.pop3.states import State


class Sentinel(Enum):
    """What ``next_event()`` returns when there is no event."""

    NEED_DATA = "NEED_DATA"
    PAUSED = "PAUSED"


NEED_DATA = Sentinel.NEED_DATA
PAUSED = Sentinel.PAUSED


@dataclass(frozen=True, slots=True)
class Command:
    """A command valid in the current state: verb upper case, then its arguments."""

    verb: str
    args: tuple[str, ...]
    #: Everything after the verb and one space (PASS takes it whole: spaces and all).
    rest: str = ""


@dataclass(frozen=True, slots=True)
class BadInput:
    """A line to refuse with ``-ERR reason``."""

    reason: str


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """The client closed its side."""


Input = Command | BadInput | ConnectionClosed


@dataclass(frozen=True)
class Reply:
    """``+OK`` or ``-ERR`` with text; ``body`` makes it multi-line (RFC 1939 3).

    ``body`` holds lines ending in CRLF; :meth:`render` dot-stuffs it and adds the
    terminating ``.`` line.
    """

    ok: bool
    text: str
    body: bytes | None = None

    def render(self) -> bytes:
        """The reply on the wire (worked out once: a session may send it again)."""
        wire: bytes | None = self.__dict__.get("_wire")
        if wire is None:
            status = b"+OK" if self.ok else b"-ERR"
            wire = status + (b" " + self.text.encode() if self.text else b"") + b"\r\n"
            if self.body is not None:
                wire += stuff(self.body)
            self.__dict__["_wire"] = wire
        return wire


#: Whole lines that :meth:`ServerConnection.lone_command` takes without parsing: the
#: TRANSACTION-state commands without arguments that a polling client repeats.
LONE_COMMANDS: dict[bytes, Command] = {
    f"{verb}\r\n".encode(): Command(verb, ()) for verb in ("STAT", "LIST", "UIDL", "NOOP")
}


class ServerConnection:
    """A POP3 server connection's syntax and state, without I/O."""

    def __init__(self, max_line: int = 1024) -> None:
        #: The RFC 1939 state, changed only by replies passing through :meth:`send`.
        self.state = State.AUTHORIZATION
        self._lines = LineReader(max_line)
        self._pending: Command | None = None
        self._eof = False

    @property
    def pending(self) -> Command | None:
        """The command awaiting its reply, if any."""
        return self._pending

    def receive_data(self, data: bytes) -> None:
        """Add bytes from the client; ``b""`` means it closed the connection."""
        if data:
            self._lines.feed(data)
        else:
            self._eof = True

    def next_event(self) -> Input | Sentinel:
        """The next event, or :data:`NEED_DATA` / :data:`PAUSED`."""
        if self.state is State.CLOSED:
            return NEED_DATA
        if self._pending is not None:
            return PAUSED
        line = self._lines.next_line()
        if line is None:
            if self._eof:
                self.state = State.CLOSED  # never UPDATE: nothing is deleted
                return ConnectionClosed()
            return NEED_DATA
        if isinstance(line, LineTooLong):
            return BadInput(f"line too long (limit {line.limit} octets)")
        text = line.decode("utf-8", "replace")
        words = text.split(" ")
        verb = words[0].upper()
        allowed = states.COMMAND_STATES.get(verb)
        if allowed is None:
            return BadInput(f"unknown command {verb[:20]!r}")
        if self.state not in allowed:
            return BadInput(f"{verb} is not allowed in the {self.state.value} state")
        self._pending = Command(verb, tuple(filter(None, words[1:])), text.partition(" ")[2])
        return self._pending

    def lone_command(self, data: bytes) -> Command | None:
        """The command ``data`` holds, if it is a whole line alone and a polling
        client's usual one (see :data:`LONE_COMMANDS`), taken as :meth:`next_event`
        would take it; None otherwise (then :meth:`receive_data` as usual).

        A client that polls sends ``STAT`` again and again, each in a read of its own
        with nothing else buffered: such a line needs no line buffer and no parsing.
        """
        command = LONE_COMMANDS.get(data)
        if (
            command is None
            or self.state is not State.TRANSACTION
            or self._pending is not None
            or self._eof
            or not self._lines.idle()
        ):
            return None
        self._pending = command
        return command

    def input_waiting(self) -> bool:
        """True if :meth:`next_event` may have an event without more bytes."""
        return self._eof or self._lines.ready()

    def send(self, reply: Reply) -> bytes:
        """Bytes for ``reply``; the reply to a command may move the state."""
        pending = self._pending
        if pending is not None:
            self._pending = None
            self.state = states.next_state(self.state, pending.verb, reply.ok)
            if pending.verb == "STLS" and reply.ok:
                # RFC 2595 4: bytes pipelined after STLS came in clear text.
                self._lines.discard()
        return reply.render()

    def close(self) -> None:
        """No more input will be read (the server hung up)."""
        self.state = State.CLOSED
