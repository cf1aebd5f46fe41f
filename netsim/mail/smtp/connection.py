"""The server side of an SMTP connection as a sans-IO protocol object.

:class:`ServerConnection` knows SMTP's syntax and state machine and nothing of
mailboxes: feed it bytes with :meth:`~ServerConnection.receive_data`, take events with
:meth:`~ServerConnection.next_event`, turn replies into bytes with
:meth:`~ServerConnection.send`.  It moves between states by watching the replies go
out (:mod:`netsim.mail.smtp.states`).

Input is read lazily, one command per call and only once the previous one has been
answered.  That is what makes PIPELINING (RFC 2920) safe: a client may send ``MAIL``,
``RCPT``, ``DATA`` and the message in one write, and the bytes after ``DATA`` are
read as the message only if ``DATA`` was answered ``354``.
"""

from __future__ import annotations

from netsim.mail.lines import BlockReader, LineReader, LineTooLong
from netsim.mail.smtp import states
from netsim.mail.smtp.events import (
    NEED_DATA,
    PAUSED,
    AuthResponse,
    BadInput,
    Command,
    ConnectionClosed,
    Input,
    Message,
    Reply,
    Sentinel,
)
from netsim.mail.smtp.states import Mode, State


class ProtocolMisuse(RuntimeError):
    """The owner sent a reply that cannot go out now (a programming error)."""


class ServerConnection:
    """An SMTP server connection's syntax and state, without I/O."""

    def __init__(self, max_line: int = 12288, max_size: int = 50 * 1024 * 1024) -> None:
        #: The session state; changed only by replies passing through :meth:`send`.
        self.state = State.GREETED
        #: How the next input is read.
        self.mode = Mode.COMMAND
        #: Largest message accepted after DATA, in octets (the SIZE extension's limit).
        self.max_size = max_size
        # RFC 4954 4: an AUTH line may be up to 12288 octets; the others far less.
        self._lines = LineReader(max_line)
        self._block: BlockReader | None = None
        # Bytes of the message not yet given to the block reader.
        self._block_data = b""
        self._pending: Command | None = None
        self._eof = False

    @property
    def pending(self) -> Command | None:
        """The command that awaits its reply, if any."""
        return self._pending

    def receive_data(self, data: bytes) -> None:
        """Add bytes from the client; ``b""`` means it closed the connection."""
        if not data:
            self._eof = True
        elif self._block is not None:
            self._block_data += data
        else:
            self._lines.feed(data)

    def next_event(self) -> Input | Sentinel:
        """The next event, or :data:`NEED_DATA` / :data:`PAUSED`."""
        if self.mode is Mode.CLOSED:
            return NEED_DATA
        if self.mode is Mode.DATA:
            return self._next_block()
        if self._pending is not None and self.mode is not Mode.AUTH:
            return PAUSED
        line = self._lines.next_line()
        if line is None:
            return self._closed_or(NEED_DATA)
        if isinstance(line, LineTooLong):
            return BadInput(500, "5.5.6", f"line too long (limit {line.limit} octets)")
        if self.mode is Mode.AUTH:
            return AuthResponse(line)
        return self._command(line)

    def send(self, event: Reply) -> bytes:
        """Bytes for ``event``; a reply to a command may move the state."""
        pending = self._pending
        if self.mode is Mode.DATA:
            if self._block is not None:
                raise ProtocolMisuse("a reply while the message is still arriving")
            self.state = states.next_state(self.state, "DATA", event.code)
            self.mode = Mode.COMMAND
        elif pending is not None:
            self.state = states.next_state(self.state, pending.verb, event.code)
            if event.code == 334 and pending.verb == "AUTH":
                self.mode = Mode.AUTH
                return event.render()  # the command goes on
            self._pending = None
            self.mode = Mode.COMMAND
            if self.state is State.DATA:
                self.mode = Mode.DATA
                self._block = BlockReader(self.max_size)
                self._block_data = self._lines.take_buffer()
            elif self.state is State.GREETED and pending.verb == "STARTTLS":
                # RFC 3207 5: what the client pipelined after STARTTLS was sent in
                # clear text and must not count as said over TLS.
                self._lines.discard()
        elif event.code in (221, 421):
            self.state = State.CLOSED
        if self.state is State.CLOSED:
            self.mode = Mode.CLOSED
        return event.render()

    # -- internals --------------------------------------------------------------------

    def _closed_or(self, sentinel: Sentinel) -> Input | Sentinel:
        if self._eof:
            self.mode = Mode.CLOSED
            self.state = State.CLOSED
            return ConnectionClosed()
        return sentinel

    def _next_block(self) -> Input | Sentinel:
        block = self._block
        if block is None:
            return PAUSED  # the message is in; its reply has not gone out yet
        data, self._block_data = self._block_data, b""
        done = block.feed(data)
        if done is None:
            return self._closed_or(NEED_DATA)
        self._block = None
        self._lines.feed(done.rest)
        return Message(done.data, done.size)

    def _command(self, line: bytes) -> Input:
        text = line.decode("utf-8", "replace")
        verb, _, arg = text.partition(" ")
        verb = verb.upper()
        allowed = states.COMMAND_STATES.get(verb)
        if allowed is None:
            return BadInput(500, "5.5.2", f"command not recognized: {verb[:20]!r}")
        if self.state not in allowed:
            if self.state is State.GREETED and verb in ("MAIL", "STARTTLS", "AUTH"):
                return BadInput(503, "5.5.1", "send EHLO first")
            return BadInput(503, "5.5.1", f"bad sequence of commands: {verb} now")
        self._pending = Command(verb, arg.strip())
        return self._pending
