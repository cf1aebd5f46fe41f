"""Text lines and dot-terminated blocks: the framing SMTP and POP3 share.

Both protocols talk in lines ending with CRLF, and both carry a message as a block of
lines ended by a line holding a single dot (RFC 5321 4.5.2, RFC 1939 section 3).  A line
of the message that begins with a dot gets a second dot in front (*dot-stuffing*), so
that it cannot be mistaken for the end; the receiver takes the first dot away again.

:class:`LineReader` cuts a byte stream into command lines and enforces a length limit
with bounded memory; :class:`BlockReader` collects a dot-terminated block and enforces a
size limit the same way.  :func:`stuff` and :func:`unstuff` are the two directions of
dot-stuffing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CRLF = b"\r\n"
#: The end of a block, as seen with a CRLF before the first line (see BlockReader).
_END = b"\r\n.\r\n"
_LONE_LF = re.compile(rb"(?<!\r)\n")


@dataclass(frozen=True, slots=True)
class LineTooLong:
    """A line over the limit; its bytes were dropped up to and including its end."""

    limit: int


class LineReader:
    """Command lines out of a byte stream, without their line end.

    A line ends with LF; a CR before it is dropped too (clients typing in ``nc`` send
    bare LF, and accepting it costs nothing in the command phase).  A line longer than
    ``max_line`` octets is reported once as :class:`LineTooLong` and skipped, and at most
    ``max_line`` octets of it are ever held.
    """

    def __init__(self, max_line: int) -> None:
        self.max_line = max_line
        self._buffer = bytearray()
        self._skipping = False

    def feed(self, data: bytes) -> None:
        """Add bytes received from the peer."""
        self._buffer += data

    def next_line(self) -> bytes | LineTooLong | None:
        """The next complete line, a :class:`LineTooLong`, or ``None`` for "need more"."""
        buffer = self._buffer
        end = buffer.find(b"\n", 0, self.max_line + 2)
        if end < 0:
            if len(buffer) > self.max_line + 1:
                newline = buffer.find(b"\n", self.max_line + 2)
                if newline >= 0:
                    # The long line ends in this read: drop it, keep the lines after.
                    del buffer[: newline + 1]
                    if self._skipping:
                        self._skipping = False
                        return self.next_line()
                    return LineTooLong(self.max_line)
                # Keep only the last octet (it may be the CR of a CRLF to come).
                del buffer[:-1]
                if not self._skipping:
                    self._skipping = True
                    return LineTooLong(self.max_line)
            return None
        line = bytes(buffer[:end])
        del buffer[: end + 1]
        if line.endswith(b"\r"):
            line = line[:-1]
        if self._skipping:
            self._skipping = False
            return self.next_line()
        if len(line) > self.max_line:
            return LineTooLong(self.max_line)
        return line

    def ready(self) -> bool:
        """True if :meth:`next_line` would return something now."""
        return b"\n" in self._buffer or len(self._buffer) > self.max_line + 1

    def idle(self) -> bool:
        """True if nothing is buffered and no overlong line is being skipped."""
        return not self._buffer and not self._skipping

    def take_buffer(self) -> bytes:
        """Everything received and not yet read as a line (it belongs to a block)."""
        data = bytes(self._buffer)
        self._buffer.clear()
        return data

    def discard(self) -> None:
        """Forget unread bytes (RFC 3207 and 2595: nothing sent in clear text before
        the TLS handshake may be taken as said over TLS)."""
        self._buffer.clear()
        self._skipping = False

    @property
    def buffered(self) -> int:
        """Octets received and not read yet."""
        return len(self._buffer)


@dataclass(frozen=True, slots=True)
class Block:
    """A complete dot-terminated block, unstuffed; ``data`` is None if it was too big."""

    data: bytes | None
    #: Octets the block had on the wire (stuffed, terminator excluded).
    size: int
    #: Unread bytes that followed the terminator (the next commands, when pipelined).
    rest: bytes


class BlockReader:
    """Collect the lines of a dot-terminated block, up to ``max_size`` octets.

    The block ends at CRLF ``.`` CRLF; only CRLF counts as a line end here, so a bare LF
    inside a message cannot end it (that confusion is "SMTP smuggling").  A block over
    ``max_size`` octets once unstuffed (the size RFC 1870 counts) is read to its end but
    not kept: past twice the limit on the wire (stuffing adds at most one dot per line
    of two octets or more) only the last few octets are held, enough to recognise the
    terminator.
    """

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        # A CRLF in front lets the terminator look the same on the first line.
        self._buffer = bytearray(_CRLF)
        self._size = 0
        self._dropped = 0
        self._searched = 0

    def feed(self, data: bytes) -> Block | None:
        """Add bytes; returns the block once its terminator has arrived."""
        buffer = self._buffer
        buffer += data
        end = buffer.find(_END, self._searched)
        if end < 0:
            # Next time, search from where the terminator could still begin.
            self._searched = max(0, len(buffer) - len(_END) + 1)
            if self._dropped or len(buffer) - 2 > 2 * self.max_size + 2:
                keep = len(_END) - 1
                self._dropped += len(buffer) - keep
                del buffer[:-keep]
                self._searched = 0
            return None
        size = self._dropped + end
        rest = bytes(buffer[end + len(_END) :])
        if self._dropped:
            return Block(None, size, rest)
        # The CRLF that ends the last line belongs to the message.
        data = unstuff(bytes(buffer[: end + 2]))
        return Block(data if len(data) <= self.max_size else None, size, rest)


def unstuff(data: bytes) -> bytes:
    """Undo dot-stuffing of ``data`` that starts with the CRLF put in front by
    :class:`BlockReader`: a line's first dot goes (RFC 5321 4.5.2 point 2)."""
    return data.replace(b"\r\n.", _CRLF)[2:]


def on_the_wire(data: bytes) -> bytes:
    """``data`` with every line ending in CRLF, as a message travels (RFC 5322 2.1)."""
    if data.count(b"\n") != data.count(_CRLF):
        data = _LONE_LF.sub(_CRLF, data)
    if data and not data.endswith(_CRLF):
        data += _CRLF
    return data


def stuff(data: bytes) -> bytes:
    """``data`` (in :func:`on_the_wire` form) dot-stuffed and terminated for sending."""
    if data.startswith(b"."):
        data = b"." + data
    return data.replace(b"\r\n.", b"\r\n..") + b".\r\n"
