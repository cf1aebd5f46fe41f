"""A disconnected IMAP client's cache of one mailbox, and the responses that update it.

What a mail program remembers of the INBOX between sessions (RFC 4549 3): each message's
UID and flags, the mailbox's UIDVALIDITY and UIDNEXT, and, with CONDSTORE (RFC 7162),
each message's mod-sequence and the mailbox's HIGHESTMODSEQ. The cached UIDs mean
something only as long as UIDVALIDITY stays the same; HIGHESTMODSEQ is the point from
which the server can tell what changed.

The server's answers that change the cache are parsed here, from the responses' text:

- ``* 3 FETCH (UID 7 FLAGS (\\Seen) MODSEQ (12))``: message 7's flags and mod-sequence
  (either may be missing: a silent STORE answers with the MODSEQ alone);
- ``* VANISHED (EARLIER) 4:6,9``: messages expunged (QRESYNC, RFC 7162 3.2.10).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from netsim.mail.imap.events import Untagged
from netsim.mail.imap.sequence import SequenceSet, SequenceSetError

_FETCH = re.compile(rb"^\d+ FETCH \(", re.IGNORECASE)
_UID = re.compile(rb"[( ]UID (\d+)", re.IGNORECASE)
_FLAGS = re.compile(rb"[( ]FLAGS \(([^)]*)\)", re.IGNORECASE)
_MODSEQ = re.compile(rb"[( ]MODSEQ \((\d+)\)", re.IGNORECASE)
_LITERAL = re.compile(rb"\{(\d+)\+?\}\r\n")
_VANISHED = re.compile(rb"^VANISHED (?:\(EARLIER\) )?([0-9:,]+)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class FetchedState:
    """What one untagged FETCH said about a message: its UID, and its flags and
    mod-sequence if the response carried them."""

    uid: int
    flags: frozenset[str] | None
    modseq: int | None


def parse_fetch(event: object) -> FetchedState | None:
    """The UID, flags and MODSEQ of an untagged FETCH response (None for anything else).

    Literals (a header asked for) are skipped: their text must not be mistaken for
    the items the cache needs, which may come before or after them.
    """
    if not isinstance(event, Untagged) or not _FETCH.match(event.payload):
        return None
    line = outside_literals(event.payload)
    uid = _UID.search(line)
    if uid is None:
        return None
    flags = _FLAGS.search(line)
    modseq = _MODSEQ.search(line)
    kept = None
    if flags is not None:
        # \Recent belongs to one session (RFC 3501 2.3.2), not to the message: a cache
        # that kept it would disagree with every other session.
        kept = frozenset(flags.group(1).decode("ascii", "replace").split()) - {"\\Recent"}
    return FetchedState(int(uid.group(1)), kept, int(modseq.group(1)) if modseq else None)


def outside_literals(payload: bytes) -> bytes:
    """A response's text with the contents of its literals (``{n}`` CRLF, n octets) cut out."""
    out = bytearray()
    pos = 0
    while (match := _LITERAL.search(payload, pos)) is not None:
        out += payload[pos : match.start()]
        pos = match.end() + int(match.group(1))
    out += payload[pos:]
    return bytes(out)


def parse_vanished(event: object) -> list[int] | None:
    """The UIDs of an untagged ``VANISHED [(EARLIER)] uid-set`` (None for anything else)."""
    if not isinstance(event, Untagged):
        return None
    match = _VANISHED.match(event.payload)
    if match is None:
        return None
    try:
        spans = SequenceSet.parse(match.group(1).decode("ascii")).bounds(0)
    except SequenceSetError:
        return None
    return [uid for low, high in spans for uid in range(low, high + 1)]


@dataclass
class MailboxCache:
    """The client's copy of one mailbox's state."""

    uidvalidity: int | None = None
    uidnext: int = 1
    highestmodseq: int | None = None
    """The HIGHESTMODSEQ of the last resynchronisation, if the server told it (CONDSTORE)."""
    flags: dict[int, frozenset[str]] = field(default_factory=dict)
    """UID -> flags of every message the client knows."""
    modseqs: dict[int, int] = field(default_factory=dict)
    """UID -> mod-sequence, where the server told it."""

    def reset(self, uidvalidity: int | None) -> None:
        """A new UIDVALIDITY: every cached UID names nothing any more (RFC 4549 4.1)."""
        self.uidvalidity = uidvalidity
        self.uidnext = 1
        self.highestmodseq = None
        self.flags.clear()
        self.modseqs.clear()

    def apply(self, state: FetchedState) -> None:
        """Take what a FETCH response said about a message."""
        if state.flags is not None:
            self.flags[state.uid] = state.flags
        if state.modseq is not None:
            self.modseqs[state.uid] = state.modseq

    def forget(self, uids: list[int]) -> None:
        """Messages expunged on the server."""
        for uid in uids:
            self.flags.pop(uid, None)
            self.modseqs.pop(uid, None)

    def known_range(self) -> str:
        """The UID range of the messages the client may know, ``1:uidnext-1``."""
        return f"1:{self.uidnext - 1}"
