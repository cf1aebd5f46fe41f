"""Mailbox names: namespaces and LIST wildcards."""

import re
import threading
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def reference_match(pattern: str, name: str) -> bool:
    """The RFC 3501 meaning of a pattern, spelt out as a backtracking regex (the oracle)."""
    regex = "".join(".*" if c == "*" else "[^/]*" if c == "%" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, name, re.DOTALL) is not None


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.text(alphabet="ab/*%", max_size=8), st.text(alphabet="ab/", max_size=10))
def test_linear_matcher_agrees_with_the_regex_oracle(pattern: str, name: str) -> None:
    """On short inputs, where backtracking is harmless, both say the same."""
    assert names.ListPattern(pattern).fullmatch(name) == reference_match(pattern, name)


def finishes(work: Callable[[], object], seconds: float = 20.0) -> object:
    """Run ``work`` in a thread; fail if it hangs (a safety net, not a speed test)."""
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(work()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    return result[0]


@pytest.mark.parametrize("pattern", ["*****b", "%%%%%b", "*a" * 100 + "b", "%*" * 300 + "b"])
def test_wildcards_cannot_make_matching_explode(pattern: str) -> None:
    """The probe's LIST "" "*****b" against a 250-character name took 49 s with a
    regular expression; the automaton does a fixed amount of work per character."""
    name = "a" * 250
    assert finishes(lambda: names.pattern("", pattern).fullmatch(name)) is False
    assert finishes(lambda: names.pattern("", pattern).fullmatch(name + "b")) is True


def test_absurdly_long_patterns_are_refused() -> None:
    """A pattern longer than any name could be is an error, not work."""
    with pytest.raises(names.NameError_):
        names.pattern("", "*" * (names.MAX_PATTERN + 1))
