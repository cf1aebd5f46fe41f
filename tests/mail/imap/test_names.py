"""Mailbox names: namespaces and LIST wildcards."""

import pytest

from netsim.mail.imap import names


def test_percent_stops_at_the_delimiter_star_does_not() -> None:
    """'%' matches one level of hierarchy, '*' any number (RFC 3501 6.3.8)."""
    assert names.pattern("", "a/%").fullmatch("a/b")
    assert not names.pattern("", "a/%").fullmatch("a/b/c")
    assert names.pattern("", "a/*").fullmatch("a/b/c")


def test_reference_is_prefixed_and_inbox_ignores_case() -> None:
    """The reference is put in front of the pattern; 'inbox' matches INBOX."""
    assert names.pattern("work/", "%").fullmatch("work/2020")
    assert names.pattern("", "inbox").fullmatch("INBOX")
    assert names.pattern("", "InBox/%").fullmatch("INBOX/sub")


def test_other_users_namespace() -> None:
    """'user/bob/x' is bob's 'x'; anything else is the user's own."""
    assert names.split_name("alice", "user/bob/Shared/x") == ("bob", "Shared/x")
    assert names.split_name("alice", "user/bob") == ("bob", "")
    assert names.split_name("alice", "users") == ("alice", "users")


def test_decode_name_canonicalizes_inbox_and_rejects_bad_utf7() -> None:
    """INBOX in any case is INBOX; invalid modified UTF-7 is an error."""
    assert names.decode_name(b"inbox/Sub") == "INBOX/Sub"
    assert names.decode_name(b"Entw&APw-rfe") == "Entw\u00fcrfe"
    with pytest.raises(names.NameError_):
        names.decode_name(b"&Jjo")


@pytest.mark.parametrize("name", ["", "a//b", "/a", "a%", "b*", "user/x", "x\ty", "a" * 256])
def test_names_unfit_to_create(name: str) -> None:
    """Wildcards, empty levels, control characters and the reserved prefix are refused."""
    with pytest.raises(names.NameError_):
        names.check_new_name(name)
