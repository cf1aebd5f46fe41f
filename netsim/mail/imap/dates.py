"""IMAP dates: ``date-time`` for INTERNALDATE and APPEND, ``date`` for SEARCH.

``date-time`` is ``"dd-Mon-yyyy hh:mm:ss +zzzz"`` (day space-padded); a search ``date`` is
``d-Mon-yyyy``.  Month names are English whatever the locale, so they are spelled here.
"""

from __future__ import annotations

import datetime as dt
import re

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NUMBER = {m.lower(): i + 1 for i, m in enumerate(MONTHS)}
_DATE_TIME = re.compile(
    r"^([ \d]?\d)-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)$"
)
_DATE = re.compile(r"^(\d{1,2})-([A-Za-z]{3})-(\d{4})$")


class DateError(ValueError):
    """Text that is not a valid IMAP date or date-time."""


def parse_date_time(text: str) -> dt.datetime:
    """Parse an IMAP ``date-time`` into an aware datetime."""
    m = _DATE_TIME.match(text)
    if not m:
        raise DateError(f"bad date-time {text!r}")
    day, mon, year, hh, mm, ss, sign, zh, zm = m.groups()
    month = _MONTH_NUMBER.get(mon.lower())
    if month is None:
        raise DateError(f"bad month {mon!r}")
    offset = dt.timedelta(hours=int(zh), minutes=int(zm))
    tz = dt.timezone(-offset if sign == "-" else offset)
    try:
        return dt.datetime(int(year), month, int(day), int(hh), int(mm), int(ss), tzinfo=tz)
    except ValueError as exc:
        raise DateError(str(exc)) from exc


def format_date_time(when: dt.datetime) -> str:
    """Format an aware datetime as an IMAP ``date-time`` (without the quotes)."""
    offset = when.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    day = f"{when.day:02d}-{MONTHS[when.month - 1]}-{when.year:04d}"
    clock = f"{when.hour:02d}:{when.minute:02d}:{when.second:02d}"
    return f"{day} {clock} {sign}{minutes // 60:02d}{minutes % 60:02d}"


def parse_date(text: str) -> dt.date:
    """Parse an IMAP search ``date`` such as ``1-Feb-1994``."""
    m = _DATE.match(text)
    if not m:
        raise DateError(f"bad date {text!r}")
    month = _MONTH_NUMBER.get(m.group(2).lower())
    if month is None:
        raise DateError(f"bad month {m.group(2)!r}")
    try:
        return dt.date(int(m.group(3)), month, int(m.group(1)))
    except ValueError as exc:
        raise DateError(str(exc)) from exc
