"""Cutting a byte stream into IMAP lines, literals included (RFC 3501 section 4.3).

An IMAP line ends with CRLF, except that a line ending in ``{n}`` (or ``{n+}``, RFC 7888
LITERAL+) continues after exactly *n* octets of literal data.  The framer assembles such
a *logical line* out of its text and literal parts, whatever the chunks the bytes came
in, and enforces the size limits that protect the server.

With a *synchronizing* literal ``{n}`` the client waits for the server's ``+``
continuation before sending the data, so the framer stops and reports a
:class:`LiteralAnnounced`; its owner then calls :meth:`LineFramer.accept_literal` or
:meth:`LineFramer.reject_literal`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

# The very end of the line (\Z: "$" would also match before a final LF).
_LITERAL_MARK = re.compile(rb"\{(\d{1,10})(\+?)\}\Z")


@dataclass(frozen=True, slots=True)
class Line:
    """A complete logical line: text, literal, text, ... (an odd number of parts).

    Text parts exclude the CRLF; a text part followed by a literal ends in its ``{n}``.
    """

    parts: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class LiteralAnnounced:
    """The line so far ends in a synchronizing literal of ``size`` octets."""

    head: bytes
    size: int


@dataclass(frozen=True, slots=True)
class FramingError:
    """A line that broke a limit; ``head`` is its start (to recover the tag).

    ``code`` is set when a literal was refused: ``TOOBIG`` when it exceeded the size
    limit (RFC 7889), ``LIMIT`` when the :class:`LiteralGate` had no room for it.
    """

    head: bytes
    reason: str
    code: str | None = None

    @property
    def too_big(self) -> bool:
        """True when the line was refused for a literal (answer NO, not BAD)."""
        return self.code is not None


class LiteralGate(Protocol):
    """Who decides whether a literal may be buffered (a shared memory budget)."""

    def admit(self, size: int) -> str | None:
        """Reserve ``size`` octets; ``None`` if granted, else the reason for refusing."""

    def release(self, size: int) -> None:
        """Give back ``size`` octets reserved earlier."""


Frame = Line | LiteralAnnounced | FramingError


class LineFramer:
    """Incremental line-and-literal assembler; feed bytes, take frames."""

    def __init__(
        self,
        max_line: int = 65536,
        max_literal: int | None = None,
        synchronizing: bool = True,
        gate: LiteralGate | None = None,
    ) -> None:
        self.max_line = max_line
        self.max_literal = max_literal
        #: Asked before each literal is buffered; its reservations last until the
        #: line is complete or abandoned.
        self.gate = gate
        self._reserved = 0
        #: False on the client side: servers never wait for a continuation.
        self.synchronizing = synchronizing
        self._buffer = bytearray()
        self._scan = 0
        self._parts: list[bytes] = []
        self._literal_left = 0
        self._literal = bytearray()
        self._discard_literal = False
        self._waiting = False
        self._error: str | None = None
        self._code: str | None = None
        self._line_bytes = 0

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> None:
        """Add received bytes."""
        self._buffer += data

    def discard_buffer(self) -> None:
        """Forget everything received so far (after STARTTLS, RFC 3501 6.2.1)."""
        self._buffer.clear()
        self._scan = 0
        self._parts.clear()
        self._literal_left = 0
        self._literal.clear()
        self._waiting = False
        self._error = None
        self._code = None
        self._line_bytes = 0
        self.release()

    def release(self) -> None:
        """Give back to the gate what the line in progress reserved (also at close)."""
        if self._reserved and self.gate is not None:
            self.gate.release(self._reserved)
        self._reserved = 0

    def set_gate(self, gate: LiteralGate | None) -> None:
        """Ask ``gate`` from now on (a login changes whose budget literals come from)."""
        self.release()
        self.gate = gate

    def accept_literal(self) -> None:
        """The server sent ``+``: the announced literal's octets come next."""
        self._waiting = False

    def reject_literal(self) -> None:
        """The server refused the literal; the client abandons the whole command."""
        self._waiting = False
        self._literal_left = 0
        self._literal.clear()
        self._parts.clear()
        self._error = None
        self._code = None
        self._line_bytes = 0
        self.release()

    def raw_line(self) -> bytes | None:
        """The next CRLF-terminated line, without literal processing (IDLE, SASL)."""
        end = self._buffer.find(b"\r\n")
        if end < 0:
            if len(self._buffer) > self.max_line:
                self._buffer.clear()
                return b""  # an absurd line: hand back something invalid to reject
            return None
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 2]
        self._scan = 0
        return line

    def next_frame(self) -> Frame | None:
        """The next complete frame, or ``None`` until more bytes arrive."""
        while True:
            if self._waiting:
                return None
            if self._literal_left:
                take = min(self._literal_left, len(self._buffer))
                if take == 0:
                    return None
                if not self._discard_literal:
                    self._literal += self._buffer[:take]
                del self._buffer[:take]
                self._literal_left -= take
                if self._literal_left:
                    return None
                self._parts.append(bytes(self._literal))
                self._literal.clear()
                continue
            end = self._buffer.find(b"\r\n", self._scan)
            if end < 0:
                if len(self._buffer) > self.max_line:
                    # Keep the last byte: it may be the CR of a CRLF split across reads.
                    if self._error is None:
                        self._parts.append(bytes(self._buffer[:200]))
                    self._error = self._error or "line too long"
                    del self._buffer[:-1]
                self._scan = max(0, len(self._buffer) - 1)
                return None
            text = bytes(self._buffer[:end])
            del self._buffer[: end + 2]
            self._scan = 0
            self._line_bytes += len(text)
            if self._error is None and self._line_bytes > self.max_line:
                self._error = "line too long"
            self._parts.append(text)
            # A literal is announced at the very end of a line; most lines have none.
            mark = _LITERAL_MARK.search(text) if text.endswith(b"}") else None
            if mark is None:
                return self._finish()
            size = int(mark.group(1))
            sync = self.synchronizing and not mark.group(2)
            self._literal_left = size
            refusal = self._refusal(size) if self._error is None else None
            self._discard_literal = refusal is not None or self._error is not None
            if refusal is not None:
                reason, code = refusal
                if sync:
                    head = self._parts[0]
                    self.reject_literal()
                    return FramingError(head, reason, code)
                self._error, self._code = reason, code
            if size == 0:
                self._parts.append(b"")  # an empty literal is complete at once
            if sync and self._error is None:
                self._waiting = True
                return LiteralAnnounced(self._parts[0], size)
            if sync:
                # Poisoned line: refuse now rather than make the client send the data.
                head = self._parts[0]
                error, error_code = self._error or "bad line", self._code
                self.reject_literal()
                return FramingError(head, error, error_code)

    def _refusal(self, size: int) -> tuple[str, str] | None:
        """Why a literal of ``size`` octets may not be buffered, and the response code."""
        if self.max_literal is not None and size > self.max_literal:
            return f"literal of {size} octets exceeds the limit of {self.max_literal}", "TOOBIG"
        if self.gate is not None and size:
            reason = self.gate.admit(size)
            if reason is not None:
                return reason, "LIMIT"
            self._reserved += size
        return None

    def _finish(self) -> Frame:
        parts = tuple(self._parts)
        error, code = self._error, self._code
        self._parts = []
        self._error = None
        self._code = None
        self._line_bytes = 0
        # The line goes to its command now and is done with before the next one is
        # framed, so its literals stop counting against the budget here.
        self.release()
        if error is not None:
            return FramingError(parts[0] if parts else b"", error, code)
        return Line(parts)
