"""The client side of SMTP as a small sans-IO protocol object.

:class:`SmtpClient` writes commands and messages (dot-stuffed, RFC 5321 4.5.2) and
parses the server's replies, multi-line ones included (``250-...`` up to ``250 ...``,
RFC 5321 4.2.1), into :class:`~netsim.mail.smtp.events.Reply` events. It keeps count of
the replies it still expects, so an application may pipeline (RFC 2920: MAIL, RCPT and
DATA in one go when the server offers PIPELINING) and read the replies as they come.
It measures nothing itself and does no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from netsim.mail.lines import LineReader, LineTooLong, on_the_wire, stuff
from netsim.mail.smtp.events import NEED_DATA, ConnectionClosed, Reply, Sentinel

_REPLY_LINE = re.compile(rb"^([2-5][0-9][0-9])([ -])(.*)$")
_ENHANCED = re.compile(r"^[245]\.\d{1,3}\.\d{1,3} ")

#: RFC 5321 4.5.3.1.5: a reply line is at most 512 octets; allow servers some slack.
MAX_REPLY_LINE = 4096


class ClientError(RuntimeError):
    """The server's bytes are not SMTP replies."""


class Stage(Enum):
    """Where the client is: waiting for the greeting, talking, or done."""

    GREETING = "greeting"
    READY = "ready"
    CLOSED = "closed"


#: The legal transitions: (stage, what happened) -> next stage.
TRANSITIONS: dict[tuple[Stage, str], Stage] = {
    (Stage.GREETING, "reply"): Stage.READY,
    (Stage.READY, "reply"): Stage.READY,
    (Stage.GREETING, "closed"): Stage.CLOSED,
    (Stage.READY, "closed"): Stage.CLOSED,
    (Stage.CLOSED, "closed"): Stage.CLOSED,
}


@dataclass(frozen=True)
class Extensions:
    """What an EHLO reply announced (RFC 5321 4.1.1.1): keyword -> parameters."""

    keywords: dict[str, str]

    def __contains__(self, keyword: str) -> bool:
        return keyword.upper() in self.keywords

    @classmethod
    def parse(cls, reply: Reply) -> Extensions:
        """The extensions in a ``250`` reply to EHLO (its first line is the greeting)."""
        words = {}
        for line in reply.lines[1:]:
            keyword, _, params = line.partition(" ")
            words[keyword.upper()] = params
        return cls(words)


class SmtpClient:
    """An SMTP client connection's syntax, without I/O."""

    def __init__(self) -> None:
        self.stage = Stage.GREETING
        #: Replies expected and not yet received (the greeting counts as one).
        self.expected = 1
        self._lines = LineReader(MAX_REPLY_LINE)
        self._pending: list[str] = []
        self._code: bytes | None = None
        self._eof = False

    def command(self, line: str) -> bytes:
        """The bytes of command ``line`` (``MAIL FROM:<a@b>``); one more reply expected."""
        if "\r" in line or "\n" in line:
            raise ValueError("an SMTP command is one line")
        self.expected += 1
        return line.encode() + b"\r\n"

    def message(self, data: bytes) -> bytes:
        """The bytes of a message after ``354``: CRLF lines, dot-stuffed, ``.`` at the end."""
        self.expected += 1
        return stuff(on_the_wire(data))

    def receive_data(self, data: bytes) -> None:
        """Bytes from the server; ``b""`` means it closed the connection."""
        if data:
            self._lines.feed(data)
        else:
            self._eof = True

    def next_event(self) -> Reply | ConnectionClosed | Sentinel:
        """The next complete reply, :class:`ConnectionClosed`, or :data:`NEED_DATA`."""
        while True:
            line = self._lines.next_line()
            if line is None:
                if self._eof and self.stage is not Stage.CLOSED:
                    self.stage = TRANSITIONS[(self.stage, "closed")]
                    return ConnectionClosed()
                return NEED_DATA
            if isinstance(line, LineTooLong):
                raise ClientError(f"a reply line longer than {line.limit} octets")
            match = _REPLY_LINE.match(line)
            if match is None or (self._code is not None and match.group(1) != self._code):
                raise ClientError(f"not an SMTP reply line: {line[:60]!r}")
            self._code = match.group(1)
            self._pending.append(match.group(3).decode("utf-8", "replace"))
            if match.group(2) == b" ":
                code, lines = int(self._code), tuple(self._pending)
                self._code, self._pending = None, []
                self.expected = max(0, self.expected - 1)
                self.stage = TRANSITIONS[(self.stage, "reply")]
                enhanced = _ENHANCED.match(lines[0])
                if enhanced is not None:
                    status = enhanced.group(0).strip()
                    lines = tuple(_ENHANCED.sub("", text, count=1) for text in lines)
                    return Reply(code, lines, status)
                return Reply(code, lines)
