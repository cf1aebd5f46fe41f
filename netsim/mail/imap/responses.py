"""Writing IMAP values and responses as bytes (RFC 3501 sections 4 and 7).

A string goes out as an atom-safe quoted string when it can, otherwise as a literal;
``None`` is ``NIL``; lists are parenthesized.  Functions here build payloads for
:class:`~netsim.mail.imap.events.Untagged` and whole response lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from netsim.mail.imap.events import Continuation, Tagged, Untagged, UntaggedStatus

_QUOTABLE = frozenset(range(0x20, 0x7F))


def nstring(value: bytes | str | None) -> bytes:
    """``NIL``, a quoted string, or a literal: whichever represents ``value`` exactly."""
    if value is None:
        return b"NIL"
    return string(value)


def string(value: bytes | str) -> bytes:
    """A quoted string when every octet allows it, else a literal."""
    data = value.encode("utf-8") if isinstance(value, str) else value
    if len(data) < 1024 and all(b in _QUOTABLE for b in data):
        return b'"' + data.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'
    return literal(data)


def literal(data: bytes) -> bytes:
    """``{n}`` CRLF and the octets."""
    return b"{%d}\r\n" % len(data) + data


def astring(value: str) -> bytes:
    """An atom when the text allows it (mailbox names, rights), else a string."""
    data = value.encode("utf-8")
    if data and all(b in _QUOTABLE and b not in b' (){%*"\\]' for b in data):
        return data
    return string(data)


def plist(items: Iterable[bytes]) -> bytes:
    """A parenthesized list of already-rendered items."""
    return b"(" + b" ".join(items) + b")"


def flag_list(flags: Iterable[str]) -> bytes:
    """``(\\Seen $Label)``: system flags first, as clients conventionally expect."""
    return _flag_list(frozenset(flags))


@lru_cache(maxsize=1024)
def _flag_list(flags: frozenset[str]) -> bytes:
    # A mailbox uses few distinct flag combinations, and FETCH FLAGS over a whole
    # mailbox renders them again and again: remember them.
    ordered = sorted(flags, key=lambda f: (not f.startswith("\\"), f.lower()))
    return b"(" + " ".join(ordered).encode("ascii") + b")"


def render(event: Tagged | UntaggedStatus | Untagged | Continuation) -> bytes:
    """The wire form of a server response event, CRLF included."""
    if isinstance(event, Untagged):
        return b"* " + event.payload + b"\r\n"
    if isinstance(event, Continuation):
        return b"+ " + event.text.encode("utf-8") + b"\r\n"
    code = f"[{event.code}] " if event.code else ""
    if isinstance(event, Tagged):
        return f"{event.tag} {event.status} {code}{event.text}\r\n".encode()
    return f"* {event.status} {code}{event.text}\r\n".encode()
