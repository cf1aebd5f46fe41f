"""Modified UTF-7: how international mailbox names travel in 7-bit IMAP."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.mail.imap import utf7


def test_ascii_stands_for_itself_except_ampersand() -> None:
    """Printable ASCII is sent as is; '&' starts a shift, so it is written '&-'."""
    assert utf7.encode("Sent Items") == "Sent Items"
    assert utf7.encode("Tom & Jerry") == "Tom &- Jerry"
    assert utf7.decode("Tom &- Jerry") == "Tom & Jerry"


def test_rfc3501_example() -> None:
    """RFC 3501 5.1.3: a Japanese name mixed with ASCII."""
    name = "~peter/mail/\u53f0\u5317/\u65e5\u672c\u8a9e"
    assert utf7.encode(name) == "~peter/mail/&U,BTFw-/&ZeVnLIqe-"
    assert utf7.decode("~peter/mail/&U,BTFw-/&ZeVnLIqe-") == name


def test_encoded_runs_use_comma_instead_of_slash() -> None:
    """Modified BASE64 swaps '/' for ',' so it never looks like the hierarchy delimiter."""
    assert utf7.encode("Entw\u00fcrfe") == "Entw&APw-rfe"


@pytest.mark.parametrize(
    "bad",
    ["&Jjo", "&AGE-", "caf\u00e9", "&U,BTFw-&ZeVnLIqe-", "&!!-"],
)
def test_non_canonical_or_broken_names_are_rejected(bad: str) -> None:
    """Unterminated shifts, encoded ASCII, raw 8-bit and split runs are all invalid."""
    with pytest.raises(utf7.Utf7Error):
        utf7.decode(bad)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_round_trip(name: str) -> None:
    """Whatever the name, decoding its encoding gives it back."""
    encoded = utf7.encode(name)
    assert encoded.isascii()
    assert utf7.decode(encoded) == name
