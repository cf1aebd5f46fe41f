"""FETCH items and BODY sections, parsed and resolved."""

import pytest

from netsim.mail import mime
from netsim.mail.imap.fetch import FetchError, Section, parse_item, parse_section, section_bytes

from .helpers import MULTIPART, SIMPLE


def test_section_grammar() -> None:
    """Part numbers come first, then the text specifier and any field list."""
    assert parse_section("") == Section()
    assert parse_section("1.2.MIME") == Section((1, 2), "MIME")
    assert parse_section("header.fields.not (From to)") == Section(
        (), "HEADER.FIELDS.NOT", ("FROM", "TO")
    )


@pytest.mark.parametrize(
    "spec", ["MIME", "0", "1.X", "HEADER.FIELDS", "TEXT (a)", "HEADER.FIELDS ()"]
)
def test_bad_sections(spec: str) -> None:
    """MIME needs a part, parts start at 1, field lists belong to HEADER.FIELDS."""
    with pytest.raises(FetchError):
        parse_section(spec)


def test_peek_and_partial() -> None:
    """BODY.PEEK does not set \\Seen; <origin.count> slices the octets."""
    item = parse_item("BODY.PEEK[TEXT]<10.5>")
    assert item.peek and not item.sets_seen and item.partial == (10, 5)
    assert parse_item("RFC822.TEXT").sets_seen
    assert not parse_item("RFC822.HEADER").sets_seen


def test_part_numbering_of_a_single_part_message() -> None:
    """A non-multipart message has exactly a part 1: its body."""
    root = mime.parse(SIMPLE)
    assert section_bytes(root, Section((1,))) == root.body
    assert section_bytes(root, Section((2,))) is None
    assert section_bytes(root, Section()) == SIMPLE


def test_part_numbering_inside_an_encapsulated_message() -> None:
    """'3' is the message/rfc822 part's body; '3.1' the inner message's own body."""
    root = mime.parse(MULTIPART)
    whole = section_bytes(root, Section((3,)))
    assert whole is not None and whole.startswith(b"From: Carol")
    assert section_bytes(root, Section((3,), "TEXT")) == b"inner body"
    assert section_bytes(root, Section((3, 1))) == b"inner body"
    assert section_bytes(root, Section((2,), "HEADER")) is None
