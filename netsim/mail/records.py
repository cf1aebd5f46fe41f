"""The shape of every journal record, checked before the store replays it.

A journal line is trusted only as far as it can be checked: disks flip bits, editors
truncate, people paste.  Before :class:`~netsim.mail.store.MailStore` applies a record it
asks :func:`record_problem` whether the record has exactly the fields its ``op`` needs,
each of the right type and in range.  A record that fails is reported with the reason,
never half-applied.  (Whether the record fits the store's *state*, say an ``append`` to a
mailbox that exists, is the store's own check.)

The table :data:`FIELDS` is the whole format: one row per ``op``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

#: Every ACL right of RFC 4314, in canonical order; a mailbox's owner holds them all.
ALL_RIGHTS = "lrswipkxtea"
#: A blob is named by the SHA-256 of its bytes, in lowercase hex.
BLOB_NAME = re.compile(r"[0-9a-f]{64}")

#: A check returns ``None`` when the value is fine, else what was expected instead.
Check = Callable[[Any], "str | None"]

_UID_MAX = 2**32 - 1  # RFC 3501: UIDs and UIDVALIDITY are 32-bit
_ID_MAX = 2**63 - 1
# A flag goes on the wire unquoted: printable ASCII without the characters that would
# end or open something there (RFC 3501 atom-specials and resp-specials).
_FLAG = re.compile(r'\\?[^\x00-\x20\x7f-\U0010ffff(){%*"\\\]]+')


def _show(value: Any) -> str:
    try:
        text = repr(value)
    except RecursionError:
        return "a deeply nested value"
    return text if len(text) <= 40 else text[:37] + "..."


def _integer(low: int, high: int) -> Check:
    def check(value: Any) -> str | None:
        # JSON true/false arrive as bool, which Python counts as int: not a number here.
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return None
        return f"an integer in {low}..{high}, got {_show(value)}"

    return check


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"true or false, got {_show(value)}"


def _name(value: Any) -> str | None:
    """A user, mailbox or ACL identifier: any text (the server vetted it when it came)."""
    return None if isinstance(value, str) else f"text, got {_show(value)}"


def _flag(value: Any) -> str | None:
    if isinstance(value, str) and _FLAG.fullmatch(value):
        return None
    return f"a flag (an IMAP atom such as \\Seen or $Label), got {_show(value)}"


def _blob(value: Any) -> str | None:
    if isinstance(value, str) and BLOB_NAME.fullmatch(value):
        return None
    return f"a blob name (64 lowercase hex digits), got {_show(value)}"


def _rights(value: Any) -> str | None:
    if isinstance(value, str) and all(r in ALL_RIGHTS for r in value):
        return None
    return f"ACL rights (letters of {ALL_RIGHTS}), got {_show(value)}"


def _date(value: Any) -> str | None:
    if isinstance(value, str):
        try:
            when = dt.datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if when.tzinfo is not None:
                return None
    return f"an ISO 8601 date and time with a UTC offset, got {_show(value)}"


def _at(where: str, wrong: str) -> str:
    """Prefix a nested complaint with where it is: ``[2][1] must be ...``."""
    return where + wrong if wrong.startswith("[") else f"{where} must be {wrong}"


def _optional(check: Check) -> Check:
    def optional(value: Any) -> str | None:
        return None if value is None else check(value)

    return optional


def _list_of(check: Check) -> Check:
    def list_of(value: Any) -> str | None:
        if not isinstance(value, list):
            return f"a list, got {_show(value)}"
        for i, item in enumerate(value):
            wrong = check(item)
            if wrong is not None:
                return _at(f"[{i}]", wrong)
        return None

    return list_of


def _tuple_of(*checks: Check) -> Check:
    def tuple_of(value: Any) -> str | None:
        if not isinstance(value, list) or len(value) != len(checks):
            return f"a list of {len(checks)} items, got {_show(value)}"
        for i, (item, check) in enumerate(zip(value, checks, strict=True)):
            wrong = check(item)
            if wrong is not None:
                return _at(f"[{i}]", wrong)
        return None

    return tuple_of


def _map_of(key: Check, item: Check) -> Check:
    def map_of(value: Any) -> str | None:
        if not isinstance(value, dict):
            return f"an object, got {_show(value)}"
        for k, v in value.items():
            wrong = key(k) or item(v)
            if wrong is not None:
                return _at(f"[{_show(k)}]", wrong)
        return None

    return map_of


_ID = _integer(1, _ID_MAX)
_UID = _integer(1, _UID_MAX)
_UIDNEXT = _integer(1, _UID_MAX + 1)
_FLAGS = _list_of(_flag)
#: RFC 7162 mod-sequences are unsigned 63-bit numbers.
_MODSEQ = _integer(1, 2**63 - 1)


def _inner_record(value: Any) -> str | None:
    if isinstance(value, dict) and value.get("op") == "batch":
        return "a record other than a batch (batches do not nest)"
    wrong = record_problem(value)
    return None if wrong is None else f"a valid record ({wrong})"


#: For each ``op``: its required fields, then its optional fields, each with its check.
FIELDS: dict[str, tuple[dict[str, Check], dict[str, Check]]] = {
    "meta": ({"last_uidvalidity": _integer(0, _UID_MAX)}, {}),
    "subscribe": ({"user": _name, "name": _name, "on": _boolean}, {}),
    "create": (
        {"id": _ID, "owner": _name, "name": _name, "uidvalidity": _UID},
        {
            "uidnext": _UIDNEXT,
            "special": _optional(_flag),
            "noselect": _boolean,
            "acl": _map_of(_name, _rights),
            "keywords": _FLAGS,
            "recent_mark": _UIDNEXT,
            "modseq": _MODSEQ,
            "vanished": _list_of(_tuple_of(_UID, _UID, _MODSEQ)),
        },
    ),
    "delete": ({"id": _ID, "keep": _boolean}, {}),
    "rename": ({"moves": _list_of(_tuple_of(_ID, _name))}, {}),
    "recent": ({"id": _ID, "mark": _UIDNEXT}, {}),
    "append": (
        {"id": _ID, "messages": _list_of(_tuple_of(_UID, _blob, _FLAGS, _date))},
        {"modseqs": _list_of(_MODSEQ)},
    ),
    "flags": ({"id": _ID, "changes": _list_of(_tuple_of(_UID, _FLAGS))}, {}),
    "expunge": ({"id": _ID, "uids": _list_of(_UID)}, {}),
    "acl": ({"id": _ID, "who": _name, "rights": _optional(_rights)}, {}),
    "batch": ({"records": _list_of(_inner_record)}, {}),
}


def record_problem(record: Any) -> str | None:
    """Why ``record`` is not a well-formed journal record, or ``None`` if it is one."""
    if not isinstance(record, dict):
        return f"expected a JSON object, got {type(record).__name__} {_show(record)}"
    op = record.get("op")
    if not isinstance(op, str) or op not in FIELDS:
        return f"unknown op {_show(op)} (expected one of {', '.join(sorted(FIELDS))})"
    required, optional = FIELDS[op]
    for key, check in required.items():
        if key not in record:
            return f"op {op!r} lacks the field {key!r}"
        wrong = check(record[key])
        if wrong is not None:
            return _at(f"field {key!r}", wrong)
    for key, value in record.items():
        if key == "op" or key in required:
            continue
        if key not in optional:
            return f"op {op!r} has no field {_show(key)}"
        wrong = optional[key](value)
        if wrong is not None:
            return _at(f"field {key!r}", wrong)
    return None
