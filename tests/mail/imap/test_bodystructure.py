"""ENVELOPE and BODYSTRUCTURE, field by field as RFC 3501 7.4.2 orders them."""

from netsim.mail import mime
from netsim.mail.imap.bodystructure import body_structure, envelope

from .helpers import SIMPLE


def test_envelope_defaults_sender_and_reply_to_to_from() -> None:
    """Date, subject, from, sender, reply-to, to, cc, bcc, in-reply-to, message-id."""
    assert envelope(mime.parse(SIMPLE)) == (
        b'("Mon, 7 Feb 1994 21:52:25 -0800" "Lunch on Friday" '
        b'(("Alice" NIL "alice" "example.org")) (("Alice" NIL "alice" "example.org")) '
        b'(("Alice" NIL "alice" "example.org")) '
        b'(("Bob" NIL "bob" "example.org") (NIL NIL "carol" "example.org")) '
        b'NIL NIL NIL "<1@example.org>")'
    )


def test_text_part_has_size_and_lines() -> None:
    """A text body: type, subtype, params, id, description, encoding, octets, lines."""
    part = mime.parse(SIMPLE)
    assert body_structure(part, extensible=False) == (
        b'("TEXT" "PLAIN" ("charset" "us-ascii") NIL NIL "7BIT" 24 1)'
    )
    assert body_structure(part, extensible=True).endswith(b" 24 1 NIL NIL NIL NIL)")


def test_missing_headers_are_nil() -> None:
    """A bare message still has a well-formed envelope."""
    assert envelope(mime.parse(b"\r\nbody")) == b"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"
