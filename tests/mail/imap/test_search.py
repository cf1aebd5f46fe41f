"""SEARCH keys, one by one and combined, against a small mailbox."""

from __future__ import annotations

import pytest

from netsim.mail.imap.server import ImapServer

from .helpers import MULTIPART, SIMPLE, Client, make_server


@pytest.fixture(scope="module")
def client() -> Client:
    """Alice's INBOX: 1 simple seen, 2 multipart flagged, 3 simple draft with a keyword."""
    server: ImapServer = make_server()
    c = Client(server, "alice")
    c.append("INBOX", SIMPLE, "\\Seen")
    c.append("INBOX", MULTIPART, "\\Flagged \\Answered")
    c.append("INBOX", SIMPLE.replace(b"noon", b"one"), "\\Draft \\Deleted $Todo")
    c.ok("SELECT INBOX")
    return c


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ("ALL", "1 2 3"),
        ("SEEN", "1"),
        ("UNSEEN", "2 3"),
        ("ANSWERED", "2"),
        ("UNANSWERED", "1 3"),
        ("FLAGGED", "2"),
        ("UNFLAGGED", "1 3"),
        ("DELETED", "3"),
        ("UNDELETED", "1 2"),
        ("DRAFT", "3"),
        ("UNDRAFT", "1 2"),
        ("KEYWORD $Todo", "3"),
        ("UNKEYWORD $Todo", "1 2"),
        ("RECENT", "1 2 3"),
        ("NEW", "2 3"),
        ("OLD", ""),
        ("FROM bob", "2"),
        ('TO "carol@example"', "1 3"),
        ("CC nobody", ""),
        ("BCC nobody", ""),
        ('SUBJECT "café"', "2"),
        ('HEADER Message-ID "<1@"', "1 3"),
        ('HEADER X-Missing ""', ""),
        ('BODY "voilà"', "2"),
        ("BODY NOON", "1"),
        ("TEXT inner", "2"),
        ("LARGER 300", "2"),
        ("SMALLER 300", "1 3"),
        ("SENTON 7-Feb-1994", "1 3"),
        ("SENTBEFORE 8-Feb-1994", "1 3"),
        ("SENTSINCE 8-Feb-1994", "2"),
        ("SINCE 1-Jan-2000", "1 2 3"),
        ("BEFORE 1-Jan-2000", ""),
        ("ON 1-Jan-2000", ""),
        ("2:*", "2 3"),
        ("UID 1,3", "1 3"),
        ("NOT SEEN", "2 3"),
        ("OR SEEN DRAFT", "1 3"),
        ("(SEEN) (FROM alice)", "1"),
        ("OR (DRAFT DELETED) FLAGGED", "2 3"),
        ("NOT OR SEEN FLAGGED", "3"),
        ("CHARSET UTF-8 BODY photos", "2"),
    ],
)
def test_search_key(client: Client, criteria: str, expected: str) -> None:
    """Each key selects exactly the messages the RFC says it does."""
    line = client.ok(f"SEARCH {criteria}".encode())[0]
    assert line == (b"* SEARCH " + expected.encode()).rstrip()


@pytest.mark.parametrize(
    "criteria",
    ["", "OR SEEN", "NOT", "LARGER x", "BEFORE yesterday", "UID x", "()", "FOO", "0:2", "HEADER"],
)
def test_bad_criteria(client: Client, criteria: str) -> None:
    """Malformed criteria are BAD and the session stays usable."""
    assert client.status(f"SEARCH {criteria}") == "BAD"
    assert client.status("NOOP") == "OK"
