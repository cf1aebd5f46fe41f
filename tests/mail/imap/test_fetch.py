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


NESTED = (
    b"Subject: nested\r\nX-Spam: no\r\n"
    b'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n'
    b"--outer\r\n"
    b'Content-Type: multipart/alternative; boundary="inner"\r\n\r\n'
    b"--inner\r\nContent-Type: text/plain\r\n\r\nplain\r\n"
    b"--inner\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n"
    b"--inner--\r\n"
    b"--outer\r\nContent-Type: application/pdf\r\n\r\nPDF\r\n"
    b"--outer--\r\n"
)


def test_nested_multipart_numbering() -> None:
    """1.1 and 1.2 are the alternatives inside part 1; 2 is the attachment."""
    root = mime.parse(NESTED)
    assert section_bytes(root, Section((1, 1))) == b"plain"
    assert section_bytes(root, Section((1, 2))) == b"<p>html</p>"
    assert section_bytes(root, Section((1, 2), "MIME")) == b"Content-Type: text/html\r\n\r\n"
    assert section_bytes(root, Section((2,))) == b"PDF"
    assert section_bytes(root, Section((1, 3))) is None


def test_header_fields_not() -> None:
    """HEADER.FIELDS.NOT keeps every field except the named ones, plus the blank line."""
    root = mime.parse(NESTED)
    kept = section_bytes(root, Section((), "HEADER.FIELDS.NOT", ("CONTENT-TYPE", "X-SPAM")))
    assert kept == b"Subject: nested\r\n\r\n"
