"""SEARCH criteria: parsing the key language and testing messages against it.

RFC 3501 section 6.4.4.  Keys are ANDed by juxtaposition; ``OR a b``, ``NOT a`` and
parenthesized groups nest.  A criterion becomes a tree of small predicate objects that
is built once and then evaluated for every message.  ``MODSEQ n`` (RFC 7162 3.1.5)
matches messages changed at mod-sequence ``n`` or later; a search that uses it is
answered with the highest mod-sequence among the matches.  String matching is a
case-insensitive substring test on decoded text (RFC 2047 words in headers, transfer
encodings in bodies), with CHARSET UTF-8 and US-ASCII accepted.
"""

from __future__ import annotations

import datetime as dt
import email.header
import email.message
import email.utils
from collections.abc import Callable
from dataclasses import dataclass

from netsim.mail.imap.addresses import parse as parse_addresses
from netsim.mail.imap.dates import DateError, parse_date
from netsim.mail.imap.parser import Atom, Value
from netsim.mail.imap.sequence import Ranges, SequenceSet, SequenceSetError
from netsim.mail.mime import MimePart
from netsim.mail.store import Message

#: Charsets whose strings we can interpret; anything else gets ``NO [BADCHARSET]``.
CHARSETS = ("UTF-8", "US-ASCII")
#: Deepest nesting of NOT, OR and parentheses accepted.  Each level is a call when the
#: criterion is built and when it is evaluated, so depth must stay well inside Python's
#: recursion limit; real clients nest a few levels.
MAX_DEPTH = 64
#: Most search keys in one criterion.  Evaluation costs up to keys x messages, and the
#: loop serving every client waits meanwhile; real clients send a handful.
MAX_KEYS = 256


class SearchError(ValueError):
    """A malformed search criterion (answered with BAD)."""


class UnknownCharset(SearchError):
    """A CHARSET we do not support (answered with NO [BADCHARSET])."""


@dataclass(slots=True)
class Candidate:
    """What a key may look at: one message as a session sees it.

    Mutable so that one candidate can be moved along the mailbox, message by
    message, instead of building an object per message searched.
    """

    seq: int
    msg: Message
    recent: bool
    max_seq: int
    max_uid: int


Predicate = Callable[[Candidate], bool]

_FLAG_KEYS = {
    "ANSWERED": ("\\Answered", True),
    "DELETED": ("\\Deleted", True),
    "DRAFT": ("\\Draft", True),
    "FLAGGED": ("\\Flagged", True),
    "SEEN": ("\\Seen", True),
    "UNANSWERED": ("\\Answered", False),
    "UNDELETED": ("\\Deleted", False),
    "UNDRAFT": ("\\Draft", False),
    "UNFLAGGED": ("\\Flagged", False),
    "UNSEEN": ("\\Seen", False),
}


def _flag_test(flag: str, wanted: bool) -> Predicate:
    return lambda c: (flag in c.msg.flags) == wanted


_FLAG_PREDICATES = {word: _flag_test(*flag) for word, flag in _FLAG_KEYS.items()}
"""Each flag key's test of a message: made once, not per SEARCH."""
_ADDRESS_KEYS = {"BCC", "CC", "FROM", "TO"}
_DATE_KEYS = {"BEFORE", "ON", "SINCE", "SENTBEFORE", "SENTON", "SENTSINCE"}


@dataclass(slots=True)
class Criteria:
    """A parsed criterion: its predicate and what the session must know about it."""

    predicate: Predicate
    #: How many keys it holds: each costs one evaluation per message.
    keys: int = 0
    #: True if it used MODSEQ (so the answer carries the highest MODSEQ found).
    modseq: bool = False
    #: When the whole criterion is one flag key (``UNSEEN``, ``DELETED`` ...): the
    #: flag, and whether it must be set.  The commonest searches of all, which the
    #: server answers from the flags alone without a predicate call per message.
    flag: tuple[str, bool] | None = None


def parse_search(args: list[Value]) -> Criteria:
    """Parse SEARCH arguments (after any CHARSET) into :class:`Criteria`."""
    if not args:
        raise SearchError("missing search criteria")
    if len(args) == 1 and isinstance(args[0], Atom):
        word = args[0].upper()
        if word in _FLAG_KEYS:
            # One flag key (UNSEEN, most often): what the parser below would build.
            return Criteria(_FLAG_PREDICATES[word], keys=1, flag=_FLAG_KEYS[word])
    criteria = Criteria(lambda c: True)
    parser = _Parser(args, criteria)
    keys = []
    while not parser.done():
        keys.append(parser.key(0))
    criteria.predicate = _all(keys)
    if len(args) == 1 and isinstance(args[0], Atom) and args[0].upper() in _FLAG_KEYS:
        criteria.flag = _FLAG_KEYS[args[0].upper()]
    return criteria


def split_charset(args: list[Value]) -> list[Value]:
    """Strip a leading ``CHARSET name``; raise :class:`UnknownCharset` if unsupported."""
    if args and isinstance(args[0], Atom) and args[0].upper() == "CHARSET":
        if len(args) < 2:
            raise SearchError("CHARSET needs a name")
        name = _text(args[1]).upper()
        if name not in CHARSETS:
            raise UnknownCharset(name)
        return args[2:]
    return args


def _all(keys: list[Predicate]) -> Predicate:
    if len(keys) == 1:
        return keys[0]
    return lambda c: all(k(c) for k in keys)


def _text(value: Value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, str):
        return value
    raise SearchError("expected a string")


class _Parser:
    def __init__(self, args: list[Value], criteria: Criteria) -> None:
        self.args = args
        self.pos = 0
        #: The whole criterion being built, shared with nested parsers (key count ...).
        self.criteria = criteria

    def done(self) -> bool:
        """True when every argument has been used."""
        return self.pos >= len(self.args)

    def take(self, what: str) -> Value:
        """The next argument; a missing one is an error naming ``what``."""
        if self.done():
            raise SearchError(f"missing {what}")
        value = self.args[self.pos]
        self.pos += 1
        return value

    def string(self) -> str:
        """A string argument (atom, quoted or literal) as text."""
        value = self.take("string")
        if isinstance(value, tuple):
            raise SearchError("expected a string, got a list")
        return _text(value)

    def number(self) -> int:
        """A numeric argument."""
        value = self.take("number")
        if not isinstance(value, Atom) or not value.isdigit():
            raise SearchError("expected a number")
        return int(value)

    def date(self) -> dt.date:
        """A search date such as ``1-Feb-1994``."""
        try:
            return parse_date(self.string())
        except DateError as exc:
            raise SearchError(str(exc)) from exc

    def modseq(self) -> Predicate:
        """``MODSEQ [entry-name entry-type] n``: changed at ``n`` or later.

        The store keeps one mod-sequence per message rather than one per flag, which
        RFC 7162 allows: an entry name (``"/flags/\\seen" all``) is checked and then
        judged by the message's mod-sequence.
        """
        value = self.take("mod-sequence")
        if isinstance(value, bytes):  # a quoted entry name
            if not value.lower().startswith(b"/flags/"):
                raise SearchError("MODSEQ's entry name is /flags/<flag>")
            kind = self.take("entry type")
            if not isinstance(kind, Atom) or kind.lower() not in ("priv", "shared", "all"):
                raise SearchError("MODSEQ's entry type is priv, shared or all")
            value = self.take("mod-sequence")
        if not isinstance(value, Atom) or not value.isdigit() or not value.isascii():
            raise SearchError("expected a mod-sequence number")
        since = int(value)
        if since > 2**63 - 1:
            raise SearchError("mod-sequence out of range")
        self.criteria.modseq = True
        return lambda c: c.msg.modseq >= since

    def key(self, depth: int) -> Predicate:
        """One search key, with whatever arguments it takes, ``depth`` levels down."""
        if depth > MAX_DEPTH:
            raise SearchError(f"search keys nested more than {MAX_DEPTH} levels deep")
        self.criteria.keys += 1
        if self.criteria.keys > MAX_KEYS:
            raise SearchError(f"more than {MAX_KEYS} search keys")
        value = self.take("search key")
        if isinstance(value, tuple):
            inner = _Parser(list(value), self.criteria)
            if inner.done():
                raise SearchError("empty parenthesized search key")
            keys = []
            while not inner.done():
                keys.append(inner.key(depth + 1))
            return _all(keys)
        if not isinstance(value, Atom):
            raise SearchError("expected a search key")
        word = value.upper()
        if word[:1].isdigit() or word[:1] == "*":
            return _sequence(value, by_uid=False)
        if word == "ALL":
            return lambda c: True
        if word in _FLAG_KEYS:
            return _FLAG_PREDICATES[word]
        if word == "RECENT":
            return lambda c: c.recent
        if word == "NEW":
            return lambda c: c.recent and "\\Seen" not in c.msg.flags
        if word == "OLD":
            return lambda c: not c.recent
        if word in ("KEYWORD", "UNKEYWORD"):
            keyword = self.string()
            present = word == "KEYWORD"
            return lambda c: (keyword in c.msg.flags) == present
        if word in _ADDRESS_KEYS:
            return _header_contains(word, self.string(), addresses=True)
        if word == "SUBJECT":
            return _header_contains(word, self.string())
        if word == "HEADER":
            name = self.string()
            return _header_contains(name, self.string())
        if word == "BODY":
            needle = self.string().casefold()
            return lambda c: needle in _body_text(c.msg.mime)
        if word == "TEXT":
            needle = self.string().casefold()
            return lambda c: needle in _headers_text(c.msg.mime) or needle in _body_text(c.msg.mime)
        if word in ("LARGER", "SMALLER"):
            size = self.number()
            if word == "LARGER":
                return lambda c: c.msg.size > size
            return lambda c: c.msg.size < size
        if word in _DATE_KEYS:
            return _date_key(word, self.date())
        if word == "UID":
            return _sequence(self.take("UID set"), by_uid=True)
        if word == "MODSEQ":
            return self.modseq()
        if word == "NOT":
            inner_key = self.key(depth + 1)
            return lambda c: not inner_key(c)
        if word == "OR":
            left, right = self.key(depth + 1), self.key(depth + 1)
            return lambda c: left(c) or right(c)
        raise SearchError(f"unknown search key {word[:40]}")


def _sequence(value: Value, by_uid: bool) -> Predicate:
    if not isinstance(value, Atom):
        raise SearchError("expected a sequence set")
    try:
        seqset = SequenceSet.parse(value)
    except SequenceSetError as exc:
        raise SearchError(str(exc)) from exc
    # A set may hold thousands of ranges: merge them once (per meaning of "*"), then
    # each message costs a binary search rather than a walk through every range.
    merged: dict[int, Ranges] = {}

    def ranges(largest: int) -> Ranges:
        found = merged.get(largest)
        if found is None:
            found = merged[largest] = seqset.merged(largest)
        return found

    if by_uid:
        return lambda c: ranges(c.max_uid).contains(c.msg.uid)
    return lambda c: ranges(c.max_seq).contains(c.seq)


def _decode_header(value: str) -> str:
    """Header text with RFC 2047 encoded words decoded, for matching only."""
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except (ValueError, LookupError, UnicodeError):
        return value


def _header_contains(name: str, needle: str, addresses: bool = False) -> Predicate:
    """Messages whose header ``name`` contains ``needle``, case-insensitively.

    For the address keys (FROM, TO, CC, BCC) the needle may also match the addresses
    as parsed, ``Name <mailbox@host>``: a header written ``<ann (x)@ (y) example.org>``
    still has the address ann@example.org, and a group's members are found by theirs.
    """
    lowered = name.lower()
    folded = needle.casefold()

    def test(c: Candidate) -> bool:
        for fname, value, _ in c.msg.mime.fields:
            if fname == lowered:
                if not folded:
                    return True  # HEADER x "" matches any message with the field
                text = _decode_header(_utf8(value))
                if folded in text.casefold():
                    return True
                if addresses and any(
                    folded in a.searchable().casefold() for a in parse_addresses(text)
                ):
                    return True
        return False

    return test


def _utf8(latin: str) -> str:
    """Undo the latin-1 reading of raw header bytes where they were UTF-8."""
    try:
        return latin.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return latin


def _headers_text(part: MimePart) -> str:
    return "\n".join(_decode_header(_utf8(v)) for _, v, _ in part.fields).casefold()


def _body_text(part: MimePart) -> str:
    """The decoded text of every leaf part below ``part``, case-folded."""
    cached: str | None = part.__dict__.get("_search_body")
    if cached is not None:
        return cached
    texts: list[str] = []
    for leaf in part.walk():
        if leaf.children or leaf.encapsulated is not None:
            continue  # containers: their leaves are visited in turn
        holder = email.message.Message()
        encoding = leaf.get("content-transfer-encoding")
        if encoding:
            holder["Content-Transfer-Encoding"] = encoding
        holder.set_payload(leaf.body.decode("latin-1"))
        payload = holder.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else leaf.body
        charset = dict(leaf.params).get("charset", "utf-8")
        try:
            texts.append(data.decode(charset, "replace"))
        except LookupError:
            texts.append(data.decode("utf-8", "replace"))
    result = "\n".join(texts).casefold()
    part.__dict__["_search_body"] = result
    return result


def _date_key(word: str, day: dt.date) -> Predicate:
    sent = word.startswith("SENT")
    relation = word[4:] if sent else word

    def when(c: Candidate) -> dt.date | None:
        if not sent:
            return c.msg.internaldate.date()
        value = c.msg.mime.get("date")
        if not value:
            return None
        try:
            return email.utils.parsedate_to_datetime(value).date()
        except (TypeError, ValueError):
            return None

    def test(c: Candidate) -> bool:
        found = when(c)
        if found is None:
            return False
        if relation == "BEFORE":
            return found < day
        if relation == "ON":
            return found == day
        return found >= day

    return test
