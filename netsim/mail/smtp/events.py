"""Events of an SMTP server connection: what arrives, and the replies that go out.

As in h11 and the IMAP code, events are frozen dataclasses: the connection turns bytes
into :class:`Command`, :class:`Message` ... and turns a :class:`Reply` into bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Sentinel(Enum):
    """What ``next_event()`` returns when there is no event."""

    #: More bytes must arrive first.
    NEED_DATA = "NEED_DATA"
    #: The previous input still awaits its reply; send it first.
    PAUSED = "PAUSED"


NEED_DATA = Sentinel.NEED_DATA
PAUSED = Sentinel.PAUSED


@dataclass(frozen=True, slots=True)
class Command:
    """A command line valid in the current state: ``verb`` upper case, ``arg`` the rest."""

    verb: str
    arg: str


@dataclass(frozen=True, slots=True)
class BadInput:
    """Input the server must refuse with ``code`` (a bad verb, a too long line ...)."""

    code: int
    enhanced: str
    reason: str


@dataclass(frozen=True, slots=True)
class Message:
    """The message after ``DATA``, unstuffed; ``data`` is None when it was over the
    size limit (it was read to its end and dropped)."""

    data: bytes | None
    size: int


@dataclass(frozen=True, slots=True)
class AuthResponse:
    """A line the client sent in answer to a ``334`` SASL challenge."""

    line: bytes


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """The client closed its side of the connection."""


Input = Command | BadInput | Message | AuthResponse | ConnectionClosed


@dataclass(frozen=True, slots=True)
class Reply:
    """A reply: a three-digit code and one or more lines of text.

    ``enhanced`` is the RFC 3463 status code (``2.1.0`` ...) put before the text of
    every line when ENHANCEDSTATUSCODES is in force (RFC 2034); the greeting and the
    answers to EHLO and HELO go without it.
    """

    code: int
    lines: tuple[str, ...]
    enhanced: str | None = None

    def render(self) -> bytes:
        """The reply on the wire: ``250-first`` ... ``250 last`` (RFC 5321 4.2.1)."""
        prefix = f"{self.enhanced} " if self.enhanced else ""
        last = len(self.lines) - 1
        return b"".join(
            f"{self.code}{' ' if i == last else '-'}{prefix}{text}\r\n".encode()
            for i, text in enumerate(self.lines)
        )


def reply(code: int, enhanced: str | None, text: str) -> Reply:
    """A one-line reply."""
    return Reply(code, (text,), enhanced)
