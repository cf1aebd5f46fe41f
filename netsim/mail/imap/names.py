"""Mailbox names as a user sees them: namespaces, validity, and LIST patterns.

A user's own mailboxes form the personal namespace (``INBOX``, ``Sent``, ``a/b``).
Other users' mailboxes that an ACL lets this user see appear under ``user/<owner>/``
(RFC 2342 "other users" namespace), e.g. ``user/bob/Shared``.  The delimiter is ``/``.
On the wire names are modified UTF-7 (:mod:`netsim.mail.imap.utf7`).
"""

from __future__ import annotations

from functools import lru_cache

from netsim.mail.imap import utf7
from netsim.mail.store import DELIMITER, Mailbox

#: Prefix of the other users' namespace.
OTHER_USERS = "user"


class NameError_(ValueError):
    """A mailbox name that cannot be used; the message says why."""


def decode_name(raw: bytes | str) -> str:
    """A wire mailbox name (modified UTF-7) as Unicode; rejects invalid encodings."""
    text = raw.decode("utf-8", "surrogateescape") if isinstance(raw, bytes) else raw
    try:
        name = utf7.decode(text)
    except utf7.Utf7Error as exc:
        raise NameError_(f"invalid mailbox name encoding: {exc}") from exc
    if name.upper() == "INBOX":
        return "INBOX"
    if name[:6].upper() == "INBOX/":
        return "INBOX" + name[5:]
    return name


def encode_name(name: str) -> str:
    """A Unicode mailbox name in modified UTF-7, for responses."""
    return utf7.encode(name)


def check_new_name(name: str) -> None:
    """Raise :class:`NameError_` unless ``name`` is fit to create."""
    if not name:
        raise NameError_("empty mailbox name")
    if len(name) > 255:
        raise NameError_("mailbox name too long")
    if any(c in name for c in "%*") or any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise NameError_("mailbox name contains a forbidden character")
    if any(not part for part in name.split(DELIMITER)):
        raise NameError_("mailbox name has an empty hierarchy level")
    if name.split(DELIMITER)[0].lower() == OTHER_USERS:
        raise NameError_(f"'{OTHER_USERS}/' is the other users' namespace")


def split_name(user: str, name: str) -> tuple[str, str]:
    """(owner, name in the owner's hierarchy) for a name as ``user`` sees it."""
    parts = name.split(DELIMITER, 2)
    if parts[0] == OTHER_USERS and len(parts) >= 2 and parts[1]:
        return parts[1], parts[2] if len(parts) > 2 else ""
    return user, name


def visible_name(user: str, box: Mailbox) -> str:
    """``box``'s name as ``user`` sees it."""
    if box.owner == user:
        return box.name
    return f"{OTHER_USERS}{DELIMITER}{box.owner}{DELIMITER}{box.name}"


def ancestors(name: str) -> list[str]:
    """Every superior name: ``a/b/c`` -> ``a``, ``a/b``."""
    parts = name.split(DELIMITER)
    return [DELIMITER.join(parts[:i]) for i in range(1, len(parts))]


#: Longest LIST or LSUB pattern (reference included) accepted, in characters.  A name
#: is at most 255 characters, so a longer pattern is not a search but an attack.
MAX_PATTERN = 1024


class ListPattern:
    """A LIST pattern compiled for matching in time linear in the name's length.

    ``*`` matches anything, ``%`` anything but the delimiter (RFC 3501 6.3.8).  A
    regular expression such as ``.*.*.*b`` backtracks: against a 250-character name it
    tries the ways to split the name among the stars, and one command stalls the
    server for a minute.  Here the pattern is a nondeterministic automaton whose set of
    live states is one integer (bit *k*: the first *k* pattern tokens are matched), so
    each character of the name costs a few integer operations, whatever the pattern.
    """

    def __init__(self, text: str) -> None:
        tokens: list[str] = []
        for char in text:
            if char in "*%" and tokens and tokens[-1] in ("*", "%"):
                # A run of wildcards is one wildcard: "%*" and "*%" match what "*" does.
                if char == "*":
                    tokens[-1] = "*"
                continue
            tokens.append(char)
        self.size = len(tokens)
        self._literal: dict[str, int] = {}  # character -> states that consume it
        self._star = 0  # states that loop on any character
        self._percent = 0  # states that loop on any character but the delimiter
        for k, token in enumerate(tokens):
            if token == "*":
                self._star |= 1 << k
            elif token == "%":
                self._percent |= 1 << k
            else:
                self._literal[token] = self._literal.get(token, 0) | 1 << k
        self._wild = self._star | self._percent
        self._start = self._close(1)

    def _close(self, states: int) -> int:
        # A wildcard may match nothing: being at it is being just past it.  Runs were
        # merged, so one step reaches every state that can be reached for free.
        return states | (states & self._wild) << 1

    def fullmatch(self, name: str) -> bool:
        """True if the whole of ``name`` matches the pattern."""
        states = self._start
        literal, star, percent = self._literal, self._star, self._percent
        for char in name:
            moved = (states & literal.get(char, 0)) << 1 | states & star
            if char != DELIMITER:
                moved |= states & percent
            states = self._close(moved)
            if not states:
                return False
        return bool(states >> self.size & 1)


@lru_cache(maxsize=256)
def pattern(reference: str, mailbox: str) -> ListPattern:
    """The compiled LIST reference and mailbox pattern.

    A name beginning with INBOX matches it in any case.  Raises :class:`NameError_` for
    a pattern longer than :data:`MAX_PATTERN`.
    """
    text = reference + mailbox
    if len(text) > MAX_PATTERN:
        raise NameError_(f"mailbox pattern longer than {MAX_PATTERN} characters")
    if text[:5].upper() == "INBOX" and (len(text) == 5 or text[5] in f"{DELIMITER}%*"):
        text = "INBOX" + text[5:]
    return ListPattern(text)
