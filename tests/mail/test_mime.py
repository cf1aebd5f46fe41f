"""MIME structure with exact bytes, as IMAP needs for BODY[section] and BODYSTRUCTURE."""

from netsim.mail import mime

from .imap.helpers import MULTIPART, SIMPLE


def test_header_includes_the_blank_line() -> None:
    """BODY[HEADER] ends with the empty line that separates header and body."""
    part = mime.parse(SIMPLE)
    assert part.header.endswith(b"\r\n\r\n")
    assert part.header + part.body == SIMPLE
    assert part.get("subject") == "Lunch on Friday"
    assert part.content_type == "text/plain"


def test_multipart_parts_and_encapsulated_message() -> None:
    """Parts are found between boundaries; message/rfc822 holds a whole message."""
    root = mime.parse(MULTIPART)
    assert [c.content_type for c in root.children] == ["text/plain", "image/png", "message/rfc822"]
    text, image, inner = root.children
    assert text.body == b"Voil=C3=A0 the photos from the caf=C3=A9."
    assert image.disposition() == ("attachment", [("filename", "cat.png")])
    assert inner.encapsulated is not None
    assert inner.encapsulated.get("subject") == "inner"


def test_folded_headers_are_unfolded() -> None:
    """A header continued on an indented line is one field."""
    part = mime.parse(b"Subject: a\r\n b\r\nX: y\r\n\r\n")
    assert part.get("subject") == "a b"
    assert part.header_fields(["x"], exclude=False) == b"X: y\r\n\r\n"


def test_rfc2231_parameters() -> None:
    """Parameter continuations are joined by the email package."""
    part = mime.parse(b'Content-Type: text/plain;\r\n title*0="a"; title*1="b"\r\n\r\nx')
    assert ("title", "ab") in part.params


def test_malformed_input_never_fails() -> None:
    """Missing boundaries, no header end, bare LF: parse anyway."""
    for data in [
        b"",
        b"no header end",
        b"\n\nbody",
        b"Content-Type: multipart/mixed\r\n\r\nx",
        b'Content-Type: multipart/mixed; boundary="b"\n\n--b\nA: 1\n\nx\n',
    ]:
        mime.parse(data)
