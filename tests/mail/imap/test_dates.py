"""IMAP dates: INTERNALDATE's date-time and SEARCH's date."""

import datetime as dt

import pytest

from netsim.mail.imap.dates import DateError, format_date_time, parse_date, parse_date_time


def test_date_time_round_trip_keeps_the_zone() -> None:
    """A date-time carries its own UTC offset, which must survive."""
    when = parse_date_time("17-Jul-1996 02:44:25 -0700")
    assert when.utcoffset() == dt.timedelta(hours=-7)
    assert format_date_time(when) == "17-Jul-1996 02:44:25 -0700"


def test_day_may_be_space_padded() -> None:
    """Clients such as imaplib send ' 5-Feb-...' with a leading space."""
    assert parse_date_time(" 5-Feb-2020 10:00:00 +0000").day == 5


def test_search_date() -> None:
    """SEARCH dates have no time and accept one-digit days."""
    assert parse_date("1-Feb-1994") == dt.date(1994, 2, 1)


@pytest.mark.parametrize("text", ["31-Feb-2020 00:00:00 +0000", "1-Foo-2020 00:00:00 +0000", "x"])
def test_bad_date_times(text: str) -> None:
    """Impossible days and unknown months are errors."""
    with pytest.raises(DateError):
        parse_date_time(text)
