"""The client side of POP3 as a small sans-IO protocol object.

POP3 replies do not say whether a body follows: a ``+OK`` to RETR, TOP, CAPA and to
LIST or UIDL without an argument is multi-line, any other is not (RFC 1939, 2449).
:class:`ClientConnection` therefore remembers what it sent, in order (PIPELINING, RFC
2449 6.6), and turns the server's bytes into :class:`~netsim.mail.pop3.connection.Reply`
events with the body unstuffed: exactly the message octets for RETR.
"""

from __future__ import annotations

from collections import deque

from netsim.mail.lines import BlockReader, LineReader, LineTooLong
from netsim.mail.pop3.connection import NEED_DATA, ConnectionClosed, Reply, Sentinel

#: Commands whose ``+OK`` carries a multi-line body (LIST and UIDL only without argument).
_MULTI_LINE = frozenset({"RETR", "TOP", "CAPA"})


class ReplyError(ValueError):
    """The server sent something that is not a POP3 reply."""


def multi_line(command: str) -> bool:
    """True if a ``+OK`` to ``command`` has a body."""
    words = command.split()
    verb = words[0].upper() if words else ""
    return verb in _MULTI_LINE or (verb in ("LIST", "UIDL") and len(words) == 1)


class ClientConnection:
    """A POP3 client connection's syntax, without I/O."""

    def __init__(self, max_message: int = 1 << 30) -> None:
        self.max_message = max_message
        self._lines = LineReader(65536)
        # The greeting is a reply to nothing; then one entry per command sent.
        self._expected: deque[bool] = deque([False])
        self._head: Reply | None = None
        self._block: BlockReader | None = None
        self._block_pending = b""
        self._eof = False

    def command(self, text: str) -> bytes:
        """The bytes of one command line; its reply will be parsed accordingly."""
        self._expected.append(multi_line(text))
        return text.encode() + b"\r\n"

    def receive_data(self, data: bytes) -> None:
        """Add bytes from the server; ``b""`` means it closed the connection."""
        if not data:
            self._eof = True
        elif self._block is not None:
            self._block_pending += data
        else:
            self._lines.feed(data)

    def next_event(self) -> Reply | ConnectionClosed | Sentinel:
        """The next complete reply, :class:`ConnectionClosed`, or :data:`NEED_DATA`."""
        if self._block is not None:
            return self._body()
        line = self._lines.next_line()
        if line is None:
            return ConnectionClosed() if self._eof else NEED_DATA
        if isinstance(line, LineTooLong) or not self._expected:
            raise ReplyError("a reply line that is too long, or that nobody asked for")
        status, _, text = line.decode("utf-8", "replace").partition(" ")
        if status not in ("+OK", "-ERR"):
            raise ReplyError(f"not a POP3 reply: {line[:80]!r}")
        multi = self._expected.popleft()
        if status == "-ERR" or not multi:
            return Reply(status == "+OK", text)
        self._head = Reply(True, text)
        self._block = BlockReader(self.max_message)
        self._block_pending = self._lines.take_buffer()
        return self._body()

    def _body(self) -> Reply | ConnectionClosed | Sentinel:
        assert self._block is not None and self._head is not None
        data, self._block_pending = self._block_pending, b""
        done = self._block.feed(data)
        if done is None:
            return ConnectionClosed() if self._eof else NEED_DATA
        if done.data is None:
            raise ReplyError(f"a reply body over {self.max_message} octets")
        self._block = None
        self._lines.feed(done.rest)
        return Reply(True, self._head.text, done.data)
