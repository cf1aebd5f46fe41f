"""Mailbox names as a user sees them: namespaces, validity, and LIST patterns.

A user's own mailboxes form the personal namespace (``INBOX``, ``Sent``, ``a/b``).
Other users' mailboxes that an ACL lets this user see appear under ``user/<owner>/``
(RFC 2342 "other users" namespace), e.g. ``user/bob/Shared``.  The delimiter is ``/``.
On the wire names are modified UTF-7 (:mod:`netsim.mail.imap.utf7`).
"""

from __future__ import annotations

import re
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


@lru_cache(maxsize=256)
def pattern(reference: str, mailbox: str) -> re.Pattern[str]:
    """The regular expression for a LIST reference and mailbox pattern.

    ``*`` matches anything, ``%`` anything but the delimiter (RFC 3501 6.3.8); a name
    beginning with INBOX matches it in any case.
    """
    text = reference + mailbox
    if text[:5].upper() == "INBOX" and (len(text) == 5 or text[5] in f"{DELIMITER}%*"):
        text = "INBOX" + text[5:]
    out = []
    for char in text:
        if char == "*":
            out.append(".*")
        elif char == "%":
            out.append(f"[^{re.escape(DELIMITER)}]*")
        else:
            out.append(re.escape(char))
    return re.compile("".join(out), re.DOTALL)
