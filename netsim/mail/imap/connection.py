"""The server side of an IMAP connection as a sans-IO protocol object.

:class:`ServerConnection` knows the syntax and the state machine of IMAP and nothing of
mailboxes: feed it bytes with :meth:`~ServerConnection.receive_data`, take events with
:meth:`~ServerConnection.next_event`, and turn responses into bytes with
:meth:`~ServerConnection.send`.  It tracks the connection state by watching the
responses go out: a tagged ``OK`` to ``LOGIN`` means authenticated, and so on
(:mod:`netsim.mail.imap.states`).

Commands are parsed lazily, one per call, and only after the previous command has been
answered; so a pipelined burst is judged against the state each command really meets.
"""

from __future__ import annotations

from netsim.mail.imap import states
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
    Sentinel,
    ServerInput,
    ServerOutput,
    Tagged,
    UntaggedStatus,
)
from netsim.mail.imap.framing import FramingError, LineFramer, LiteralAnnounced, LiteralGate
from netsim.mail.imap.parser import ParseError, parse_command, split_tag
from netsim.mail.imap.responses import render
from netsim.mail.imap.states import Mode, State

#: Largest literal accepted before authentication (a user name or password).
_ANONYMOUS_LITERAL = 8192


class ProtocolMisuse(RuntimeError):
    """The owner sent something the protocol cannot send now (a programming error)."""


class ServerConnection:
    """An IMAP server connection's syntax and state, without I/O."""

    def __init__(self, max_literal: int = 50 * 1024 * 1024, max_line: int = 65536) -> None:
        #: The RFC 3501 state; changed only by responses passing through :meth:`send`.
        self.state = State.NOT_AUTHENTICATED
        #: How the next input line is read.
        self.mode = Mode.COMMAND
        self.max_literal = max_literal
        # Until someone has logged in, nobody gets to make us buffer megabytes.
        self._framer = LineFramer(
            max_line=max_line, max_literal=min(max_literal, _ANONYMOUS_LITERAL)
        )
        self._pending: Command | LiteralRequest | None = None
        self._eof = False

    @property
    def pending(self) -> Command | LiteralRequest | None:
        """The command (or literal request) that awaits its answer, if any."""
        return self._pending

    def receive_data(self, data: bytes) -> None:
        """Add bytes from the peer; ``b""`` means the peer closed the connection."""
        if data:
            self._framer.feed(data)
        else:
            self._eof = True

    def input_waiting(self) -> bool:
        """True if :meth:`next_event` may have an event without more bytes."""
        return self._eof or self._framer.buffered > 0

    def next_event(self) -> ServerInput | Sentinel:
        """The next event, or :data:`NEED_DATA` / :data:`PAUSED`."""
        if self.mode is Mode.CLOSED:
            return NEED_DATA
        if self.mode in (Mode.IDLE, Mode.SASL):
            assert isinstance(self._pending, Command)
            line = self._framer.raw_line()
            if line is None:
                return self._closed_or(NEED_DATA)
            if self.mode is Mode.IDLE:
                return IdleDone(self._pending.tag, line)
            return SaslResponse(self._pending.tag, line)
        if self._pending is not None:
            return PAUSED
        frame = self._framer.next_frame()
        if frame is None:
            return self._closed_or(NEED_DATA)
        if isinstance(frame, FramingError):
            if frame.code is not None:
                return LiteralTooLarge(split_tag(frame.head), frame.reason, frame.code)
            return BadCommand(split_tag(frame.head), frame.reason)
        if isinstance(frame, LiteralAnnounced):
            tag = split_tag(frame.head)
            words = frame.head.split(b" ")
            name = words[1].decode("ascii", "replace").upper() if len(words) > 1 else ""
            if name == "UID" and len(words) > 2:
                name += " " + words[2].decode("ascii", "replace").upper()
            problem = self._check(tag, name)
            if problem is not None:
                self._framer.reject_literal()
                return problem
            assert tag is not None
            self._pending = LiteralRequest(tag, name, frame.size)
            self.mode = Mode.LITERAL
            return self._pending
        try:
            tag, name, args = parse_command(frame)
        except ParseError as exc:
            return BadCommand(split_tag(frame.parts[0]), str(exc))
        problem = self._check(tag, name)
        if problem is not None:
            return problem
        self._pending = Command(tag, name, tuple(args))
        return self._pending

    def send(self, event: ServerOutput) -> bytes:
        """Bytes for ``event``; tagged, BYE and ``OK [CLOSED]`` responses move the state."""
        if isinstance(event, Continuation):
            self._continue()
        elif isinstance(event, Tagged):
            self._complete(event)
        elif isinstance(event, UntaggedStatus) and event.status == "BYE":
            self.state = states.next_state(self.state, states.Trigger.BYE)
        elif isinstance(event, UntaggedStatus) and event.code == "CLOSED":
            self.state = states.next_state(self.state, states.Trigger.CLOSED)
        return render(event)

    def set_literal_gate(self, gate: LiteralGate | None) -> None:
        """Have ``gate`` admit literals from now on (a memory budget shared with others)."""
        self._framer.set_gate(gate)

    def release(self) -> None:
        """Give back whatever budget the line in progress holds (the session is over)."""
        self._framer.release()

    def start_tls(self) -> None:
        """STARTTLS succeeded: drop any bytes pipelined in clear text (RFC 3501 6.2.1)."""
        self._framer.discard_buffer()

    # -- internals --------------------------------------------------------------------

    def _closed_or(self, sentinel: Sentinel) -> ServerInput | Sentinel:
        if self._eof:
            self.mode = Mode.CLOSED
            self.state = State.LOGOUT
            return ConnectionClosed()
        return sentinel

    def _check(self, tag: str | None, name: str) -> BadCommand | None:
        if tag is None:
            return BadCommand(None, "invalid tag")
        allowed = states.COMMAND_STATES.get(name)
        if allowed is None:
            return BadCommand(tag, f"unknown command {name[:40]}")
        if self.state not in allowed:
            return BadCommand(tag, f"{name} not allowed in the {self.state.value} state")
        return None

    def _continue(self) -> None:
        pending = self._pending
        if self.mode is Mode.LITERAL:
            self._framer.accept_literal()
            self._pending = None
            self.mode = Mode.COMMAND
        elif isinstance(pending, Command) and pending.name in states.CONTINUATION_MODES:
            self.mode = states.CONTINUATION_MODES[pending.name]
        else:
            raise ProtocolMisuse("continuation sent with nothing to continue")

    def _complete(self, event: Tagged) -> None:
        pending = self._pending
        if pending is None or pending.tag != event.tag:
            return  # answering a BadCommand: no state involved
        if isinstance(pending, LiteralRequest):
            self._framer.reject_literal()
        else:
            table = states.ON_OK if event.status == "OK" else {}
            if event.status == "NO":
                table = states.ON_FAILURE
            trigger = table.get(pending.name)
            if trigger is not None:
                self.state = states.next_state(self.state, trigger)
                if self.state is State.AUTHENTICATED:
                    self._framer.max_literal = self.max_literal
        self._pending = None
        self.mode = Mode.COMMAND
