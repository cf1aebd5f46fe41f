"""The client side of IMAP as a small sans-IO protocol object.

:class:`ClientConnection` tags commands and writes them out (quoting strings, sending
literals with LITERAL+ when the server offers it, or waiting for the ``+``
continuation otherwise) and parses what the server says into events: the greeting and
other :class:`~netsim.mail.imap.events.UntaggedStatus`, untagged data, continuation
requests, and the :class:`~netsim.mail.imap.events.Tagged` completion of each command.
It measures nothing itself: an application that timestamps ``send`` and the matching
``Tagged`` event gets per-command latency.
"""

from __future__ import annotations

import re

from netsim.mail.imap.events import (
    NEED_DATA,
    ConnectionClosed,
    Continuation,
    Literal,
    Request,
    SendContinuation,
    SendDone,
    SendRaw,
    Sentinel,
    Tagged,
    Untagged,
    UntaggedStatus,
)
from netsim.mail.imap.framing import Line, LineFramer
from netsim.mail.imap.parser import Atom, ParseError, tokenize

_STATUS = {"OK", "NO", "BAD", "PREAUTH", "BYE"}
_QUOTABLE = re.compile(rb"^[\x20\x21\x23-\x5b\x5d-\x7e]*$")
_STATUS_LINE = re.compile(
    rb"^(\S+) (OK|NO|BAD|PREAUTH|BYE)(?: \[([^\]]*)\])? ?(.*)$", re.IGNORECASE
)

ClientEvent = Tagged | UntaggedStatus | Untagged | Continuation | ConnectionClosed


class ClientError(RuntimeError):
    """The application asked for something the protocol cannot do now."""


class ClientConnection:
    """An IMAP client connection's syntax, without I/O."""

    def __init__(self, tag_prefix: str = "A") -> None:
        self.tag_prefix = tag_prefix
        #: Capabilities the server announced most recently.
        self.capabilities: set[str] = set()
        #: Tags sent and not yet completed, with their command names.
        self.in_flight: dict[str, str] = {}
        self._framer = LineFramer(max_line=1 << 30, synchronizing=False)
        self._counter = 0
        self._held: list[bytes] = []
        self._held_tag: str | None = None
        self._idle_tag: str | None = None
        self._eof = False
        self.last_tag = ""

    # -- sending ----------------------------------------------------------------------

    def send(self, event: Request | SendContinuation | SendDone | SendRaw) -> bytes:
        """Bytes to write for ``event``.

        A :class:`Request` with a synchronizing literal returns only the part up to the
        literal; after the server's :class:`Continuation`, ``send(SendContinuation())``
        returns the next part.
        """
        if isinstance(event, SendContinuation):
            if not self._held:
                raise ClientError("no command is waiting for a continuation")
            chunk = self._held.pop(0)
            if not self._held:
                self._held_tag = None
            return chunk
        if isinstance(event, SendDone):
            if self._idle_tag is None:
                raise ClientError("not idling")
            self._idle_tag = None
            return b"DONE\r\n"
        if isinstance(event, SendRaw):
            return event.line + b"\r\n"
        if self._held:
            raise ClientError("the previous command still waits for a continuation")
        self._counter += 1
        tag = event.tag or f"{self.tag_prefix}{self._counter:04d}"
        self.last_tag = tag
        name = event.name.upper()
        self.in_flight[tag] = name
        if name == "IDLE":
            self._idle_tag = tag
        chunks = [bytearray(tag.encode() + b" " + event.name.encode())]
        for arg in event.args:
            chunks[-1] += b" "
            self._encode(arg, chunks)
        chunks[-1] += b"\r\n"
        first, *rest = (bytes(c) for c in chunks)
        self._held = rest
        self._held_tag = tag if rest else None
        return first

    def _encode(self, value: object, chunks: list[bytearray]) -> None:
        if isinstance(value, Atom):
            chunks[-1] += value.encode("ascii")
        elif isinstance(value, int):
            chunks[-1] += str(value).encode()
        elif isinstance(value, tuple):
            chunks[-1] += b"("
            for i, item in enumerate(value):
                if i:
                    chunks[-1] += b" "
                self._encode(item, chunks)
            chunks[-1] += b")"
        elif isinstance(value, (str, bytes, Literal)):
            if isinstance(value, Literal):
                data, force = value.data, True
            else:
                data, force = (value.encode() if isinstance(value, str) else value), False
            if not force and len(data) < 1024 and _QUOTABLE.match(data):
                chunks[-1] += b'"' + data + b'"'
            elif "LITERAL+" in self.capabilities:
                chunks[-1] += b"{%d+}\r\n" % len(data) + data
            else:
                chunks[-1] += b"{%d}\r\n" % len(data)
                chunks.append(bytearray(data))
        else:
            raise ClientError(f"cannot send a {type(value).__name__}")

    # -- receiving --------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Add bytes from the server; ``b""`` means the server closed the connection."""
        if data:
            self._framer.feed(data)
        else:
            self._eof = True

    def next_event(self) -> ClientEvent | Sentinel:
        """The next response, or :data:`NEED_DATA`."""
        frame = self._framer.next_frame()
        if frame is None:
            if self._eof:
                self._eof = False
                return ConnectionClosed()
            return NEED_DATA
        if not isinstance(frame, Line):  # pragma: no cover - no limits on this side
            return UntaggedStatus("BAD", "unparsable response")
        return self._interpret(frame)

    def _interpret(self, line: Line) -> ClientEvent:
        first = line.parts[0]
        if first.startswith(b"+"):
            return Continuation(first[1:].strip().decode("utf-8", "replace"))
        status = _STATUS_LINE.match(first) if len(line.parts) == 1 else None
        if status is not None:
            tag = status.group(1).decode("utf-8", "replace")
            kind = status.group(2).decode().upper()
            code = (
                status.group(3).decode("utf-8", "replace") if status.group(3) is not None else None
            )
            text = status.group(4).decode("utf-8", "replace")
            if code and code.upper().startswith("CAPABILITY "):
                self._set_capabilities(code[11:])
            if tag == "*":
                return UntaggedStatus(kind, text, code)
            self.in_flight.pop(tag, None)
            if tag == self._held_tag:
                # Refused before the literal went out: the rest is never sent.
                self._held = []
                self._held_tag = None
            if tag == self._idle_tag:
                self._idle_tag = None
            return Tagged(tag, kind, text, code)
        payload = b"\r\n".join(line.parts) if len(line.parts) == 1 else _wire(line)
        try:
            values = tuple(tokenize(line, 2))
        except ParseError:
            values = ()
        if values and isinstance(values[0], Atom) and values[0].upper() == "CAPABILITY":
            self._set_capabilities(" ".join(str(v) for v in values[1:]))
        return Untagged(payload[2:], values)

    def _set_capabilities(self, text: str) -> None:
        self.capabilities = {c.upper() for c in text.split()}


def _wire(line: Line) -> bytes:
    """The original bytes of a line whose literals were cut out by the framer."""
    out = bytearray()
    for i, part in enumerate(line.parts):
        out += part
        if i % 2 == 0 and i + 1 < len(line.parts):
            out += b"\r\n"
    return bytes(out)
