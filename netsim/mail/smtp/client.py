"""The client side of SMTP as a small sans-IO protocol object.

:class:`ClientConnection` turns commands and a message into bytes (the message
dot-stuffed and terminated, RFC 5321 4.5.2) and the server's bytes into
:class:`~netsim.mail.smtp.events.Reply` events, one per reply however many lines it
has (``250-...`` up to ``250 ...``).  Replies come in the order commands went out, so
a client that pipelines (RFC 2920) pairs them up by counting.  It measures nothing
itself: an owner that timestamps :meth:`ClientConnection.command` and the matching
reply gets per-command latency.
"""

from __future__ import annotations

import re

from netsim.mail.lines import LineReader, LineTooLong, on_the_wire, stuff
from netsim.mail.smtp.events import NEED_DATA, ConnectionClosed, Reply, Sentinel

#: ``250-text`` or ``250 text``, with an RFC 3463 enhanced code if there is one.
_REPLY_LINE = re.compile(r"^([2-5]\d\d)([ -])(?:([245]\.\d{1,3}\.\d{1,3}) )?(.*)$")


class ReplyError(ValueError):
    """The server sent something that is not an SMTP reply."""


class ClientConnection:
    """An SMTP client connection's syntax, without I/O."""

    def __init__(self, max_line: int = 65536) -> None:
        #: Extensions from the last EHLO reply, upper case keyword -> parameters.
        self.extensions: dict[str, str] = {}
        self._lines = LineReader(max_line)
        self._partial: list[str] = []
        self._partial_code: str | None = None
        self._eof = False
        self._last_command = ""

    def command(self, text: str) -> bytes:
        """The bytes of one command line (``EHLO pc1``, ``MAIL FROM:<a@b>`` ...)."""
        self._last_command = text.split(" ", 1)[0].upper()
        return text.encode() + b"\r\n"

    @staticmethod
    def message(data: bytes) -> bytes:
        """The bytes that carry ``data`` after a ``354``: CRLF lines, dot-stuffed, and
        the terminating ``.`` line."""
        return stuff(on_the_wire(data))

    def receive_data(self, data: bytes) -> None:
        """Add bytes from the server; ``b""`` means it closed the connection."""
        if data:
            self._lines.feed(data)
        else:
            self._eof = True

    def next_event(self) -> Reply | ConnectionClosed | Sentinel:
        """The next complete reply, :class:`ConnectionClosed`, or :data:`NEED_DATA`.

        Raises :class:`ReplyError` for a line that is not a reply.
        """
        while True:
            line = self._lines.next_line()
            if line is None:
                if self._eof:
                    return ConnectionClosed()
                return NEED_DATA
            if isinstance(line, LineTooLong):
                raise ReplyError(f"reply line over {line.limit} octets")
            match = _REPLY_LINE.match(line.decode("utf-8", "replace"))
            if match is None or (self._partial_code not in (None, match.group(1))):
                raise ReplyError(f"not an SMTP reply line: {line[:80]!r}")
            code, more, enhanced, text = match.groups()
            self._partial.append(text)
            self._partial_code = code
            if more == "-":
                continue
            lines, self._partial, self._partial_code = tuple(self._partial), [], None
            reply = Reply(int(code), lines, enhanced)
            if reply.code == 250 and self._last_command == "EHLO":
                self.extensions = {
                    word.split(" ", 1)[0].upper(): word.partition(" ")[2] for word in lines[1:]
                }
            return reply
