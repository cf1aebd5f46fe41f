"""The IMAP value syntax: atoms, quoted strings, literals and lists."""

import pytest

from netsim.mail.imap.framing import Line
from netsim.mail.imap.parser import Atom, LiteralBytes, ParseError, parse_command, tokenize


def test_values_of_every_kind() -> None:
    """Atoms are str, strings are bytes, lists are tuples."""
    values = tokenize(Line((b'FLAGS (\\Seen "a \\"q\\"" NIL) {3}', b"x y", b"")))
    assert values == [Atom("FLAGS"), (Atom("\\Seen"), b'a "q"', Atom("NIL")), b"x y"]
    assert isinstance(values[2], LiteralBytes)


def test_a_body_section_is_one_atom() -> None:
    """Spaces and parentheses inside [...] belong to the fetch attribute."""
    values = tokenize(Line((b"(UID BODY.PEEK[HEADER.FIELDS (From To)]<0.100>)",)))
    assert values == [(Atom("UID"), Atom("BODY.PEEK[HEADER.FIELDS (From To)]<0.100>"))]


def test_uid_commands_have_two_word_names() -> None:
    """'UID FETCH' is one command, case-insensitive."""
    assert parse_command(Line((b"a1 uid fetch 1:* FLAGS",))) == (
        "a1",
        "UID FETCH",
        [Atom("1:*"), Atom("FLAGS")],
    )


@pytest.mark.parametrize(
    "line",
    [
        b"a1",
        b"a1 ",
        b"a1 NOOP (",
        b"a1 NOOP )",
        b'a1 NOOP "open',
        b'a1 X "a\\b"',
        b"+ NOOP",
        b"a1 X a\x01",
    ],
)
def test_malformed_lines(line: bytes) -> None:
    """Missing commands, unbalanced parentheses and bad strings are parse errors."""
    with pytest.raises(ParseError):
        parse_command(Line((line,)))
