"""The client side of POP3 as a small sans-IO protocol object.

:class:`Pop3Client` writes commands and parses replies: a status line (``+OK`` or
``-ERR``, RFC 1939 3) and, for a command that returns a list or a message and is
answered ``+OK``, the multi-line body up to the line holding a single dot, un-stuffed.
Whether a reply is multi-line depends on the command, so the client remembers what it
sent (in order: commands may be pipelined, RFC 2449 6.6). No I/O, no measurement.
"""

from __future__ import annotations

from collections import deque
from enum import Enum

from netsim.mail.lines import BlockReader, LineReader, LineTooLong
from netsim.mail.pop3.connection import NEED_DATA, ConnectionClosed, Reply, Sentinel

#: Commands whose ``+OK`` reply carries a body (RFC 1939, RFC 2449 CAPA); LIST and UIDL
#: only without an argument.
_MULTILINE = {"CAPA", "RETR", "TOP"}
_LIST_LIKE = {"LIST", "UIDL"}
#: RFC 2449 4: a reply line is at most 512 octets; allow servers some slack.
MAX_REPLY_LINE = 4096


class ClientError(RuntimeError):
    """The server's bytes are not POP3 replies."""


class Stage(Enum):
    """Reading a status line or a multi-line body."""

    STATUS = "status"
    BODY = "body"
    CLOSED = "closed"


#: The legal transitions: (stage, what happened) -> next stage.
TRANSITIONS: dict[tuple[Stage, str], Stage] = {
    (Stage.STATUS, "single"): Stage.STATUS,
    (Stage.STATUS, "multi"): Stage.BODY,
    (Stage.BODY, "end"): Stage.STATUS,
    (Stage.STATUS, "closed"): Stage.CLOSED,
    (Stage.BODY, "closed"): Stage.CLOSED,
    (Stage.CLOSED, "closed"): Stage.CLOSED,
}


class Pop3Client:
    """A POP3 client connection's syntax, without I/O."""

    def __init__(self, max_message: int = 1 << 30) -> None:
        self.stage = Stage.STATUS
        self.max_message = max_message
        # What each awaited reply is: multi-line if +OK, or not. The greeting is single.
        self._awaiting: deque[bool] = deque([False])
        self._lines = LineReader(MAX_REPLY_LINE)
        self._block: BlockReader | None = None
        self._status: tuple[bool, str] | None = None
        self._eof = False

    @property
    def expected(self) -> int:
        """Replies still to come."""
        return len(self._awaiting)

    def command(self, line: str) -> bytes:
        """The bytes of command ``line`` (``RETR 1``)."""
        if "\r" in line or "\n" in line:
            raise ValueError("a POP3 command is one line")
        verb, _, rest = line.partition(" ")
        verb = verb.upper()
        self._awaiting.append(verb in _MULTILINE or (verb in _LIST_LIKE and not rest.strip()))
        return line.encode() + b"\r\n"

    def receive_data(self, data: bytes) -> None:
        """Bytes from the server; ``b""`` means it closed the connection."""
        if data:
            self._lines.feed(data)
        else:
            self._eof = True

    def next_event(self) -> Reply | ConnectionClosed | Sentinel:
        """The next complete reply, :class:`ConnectionClosed`, or :data:`NEED_DATA`."""
        if self.stage is Stage.BODY:
            return self._body()
        line = self._lines.next_line()
        if line is None:
            if self._eof and self.stage is not Stage.CLOSED:
                self.stage = TRANSITIONS[(self.stage, "closed")]
                return ConnectionClosed()
            return NEED_DATA
        if isinstance(line, LineTooLong):
            raise ClientError(f"a status line longer than {line.limit} octets")
        if line.startswith(b"+OK"):
            ok = True
        elif line.startswith(b"-ERR"):
            ok = False
        else:
            raise ClientError(f"not a POP3 status line: {line[:60]!r}")
        text = line[3 if ok else 4 :].strip().decode("utf-8", "replace")
        multi = self._awaiting.popleft() if self._awaiting else False
        if ok and multi:
            self.stage = TRANSITIONS[(self.stage, "multi")]
            self._status = (ok, text)
            self._block = BlockReader(self.max_message)
            return self._body()
        self.stage = TRANSITIONS[(self.stage, "single")]
        return Reply(ok, text)

    def _body(self) -> Reply | ConnectionClosed | Sentinel:
        assert self._block is not None and self._status is not None
        block = self._block.feed(self._lines.take_buffer())
        if block is None:
            if self._eof:
                self.stage = TRANSITIONS[(self.stage, "closed")]
                return ConnectionClosed()
            return NEED_DATA
        self._lines.feed(block.rest)
        ok, text = self._status
        self._block = self._status = None
        self.stage = TRANSITIONS[(self.stage, "end")]
        return Reply(ok, text, block.data if block.data is not None else b"")
