"""Cases Dovecot's imaptest suite checks, where this server once disagreed with it.

imaptest (github.com/dovecot/imaptest, ``src/tests/``) scripts a client and compares
every response with what RFC 3501 and its extensions require.  Run against serve-mail,
10 of its 445 base commands failed; each test here pins one of those behaviours down,
with messages of our own: atoms containing ``[``, new keywords announced in FLAGS
before a FETCH shows them, sections of ``message/rfc822`` parts, ENVELOPE groups and
routes, MOVE to the selected mailbox itself, and SEARCH on addresses.
"""

from __future__ import annotations

import re

import pytest

from netsim.mail.imap.server import ImapServer

from .helpers import MULTIPART, SIMPLE, Client, make_server, untagged


def crlf(text: str) -> bytes:
    """Message text as written here, with the CRLF line ends mail has."""
    return text.replace("\n", "\r\n").encode()


@pytest.fixture
def server() -> ImapServer:
    """A fresh in-memory server."""
    return make_server()


def selected_with(server: ImapServer, *messages: bytes) -> Client:
    """alice, with ``messages`` in her INBOX, which she has selected."""
    c = Client(server, "alice")
    for message in messages:
        c.append("INBOX", message)
    c.ok("SELECT INBOX")
    return c


def test_atoms_may_contain_an_open_bracket(server: ImapServer) -> None:
    """RFC 3501 excludes only ']' from atoms: 'tag[1' is a keyword, 'box[a' a mailbox
    name; a FETCH section still runs from '[' to ']' across its spaces."""
    c = selected_with(server, SIMPLE)
    assert b"tag[1" in c.ok("STORE 1 +FLAGS (tag[1)")[-1]
    c.ok("CREATE box[a")
    assert c.ok('LIST "" box[a') == [b'* LIST (\\HasNoChildren) "/" box[a']
    [line] = c.ok("FETCH 1 (BODY.PEEK[HEADER.FIELDS (Subject From)])")
    assert line.startswith(b"* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT FROM)] {")
    assert c.status("STORE 1 +FLAGS (tag]1)") == "BAD", "']' is not an atom character"


def test_a_new_keyword_is_in_flags_before_any_fetch_shows_it(server: ImapServer) -> None:
    """A client learns the keywords of a mailbox from FLAGS; a FETCH must not show one
    it has not heard of, in the storing session or in another."""
    c = selected_with(server, SIMPLE, SIMPLE)
    other = Client(server, "alice")
    other.ok("SELECT INBOX")
    lines = c.ok("STORE 1:2 +FLAGS ($Urgent)")
    assert lines[0].startswith(b"* FLAGS (") and b"$Urgent" in lines[0]
    fetches = [i for i, line in enumerate(lines) if b"FETCH" in line]
    assert fetches and min(fetches) > 0
    news = other.ok("NOOP")
    assert news[0].startswith(b"* FLAGS (") and b"$Urgent" in news[0]
    assert [b"$Urgent" in line for line in untagged(news, b"FETCH")] == [True, True]


def test_move_to_the_selected_mailbox_itself(server: ImapServer) -> None:
    """MOVE into the same mailbox is a copy then an expunge: the message comes back
    at the end with a new UID (COPYUID says which), its flags kept."""
    c = selected_with(server, SIMPLE, SIMPLE)
    c.ok("STORE 1 +FLAGS (\\Flagged)")
    lines = c.ok("MOVE 1 INBOX")
    found = re.match(rb"\* OK \[COPYUID (\d+) 1 3\]", lines[0])
    assert found is not None, lines
    # Both survivors are recent to this session: UID 2 since SELECT, UID 3 as new.
    assert lines[1:] == [b"* 1 EXPUNGE", b"* 2 EXISTS", b"* 2 RECENT"]
    assert c.ok("FETCH 1:* (UID FLAGS)") == [
        b"* 1 FETCH (UID 2 FLAGS (\\Recent))",
        b"* 2 FETCH (UID 3 FLAGS (\\Flagged \\Recent))",
    ]


FORWARDED_TWICE = crlf(
    "From: outer@example.org\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "From: middle@example.org\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "From: inner@example.org\n"
    "Subject: the original\n"
    "\n"
    "Original text.\n"
)

DIGEST = crlf(
    "From: list@example.org\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "Subject: digest of two\n"
    'Content-Type: multipart/digest; boundary="sep"\n'
    "\n"
    "--sep\n"
    "\n"
    "Subject: first\n"
    "\n"
    "one\n"
    "--sep\n"
    "X-Part: second\n"
    "\n"
    "Subject: second\n"
    "\n"
    "two\n"
    "--sep--\n"
)


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("1", "From: middle@example.org\nContent-Type: message/rfc822\n\nFrom: inner"),
        ("1.HEADER", "From: middle@example.org\nContent-Type: message/rfc822\n\n"),
        ("1.TEXT", "From: inner@example.org\nSubject: the original\n\nOriginal text.\n"),
        ("1.1", "From: inner@example.org\nSubject: the original\n\nOriginal text.\n"),
        ("1.1.HEADER", "From: inner@example.org\nSubject: the original\n\n"),
        ("1.1.HEADER.FIELDS (Subject)", "Subject: the original\n\n"),
        ("1.1.TEXT", "Original text.\n"),
        ("1.1.1", "Original text.\n"),
    ],
)
def test_sections_of_nested_messages(server: ImapServer, section: str, expected: str) -> None:
    """A message/rfc822 part is a message: n.HEADER and n.TEXT are its header and body,
    and its own parts are numbered below it (RFC 3501 6.4.5)."""
    c = selected_with(server, FORWARDED_TWICE)
    [line] = c.ok(f"FETCH 1 (BODY.PEEK[{section}])")
    body = line.split(b"}\r\n", 1)[1][:-1]
    assert body.startswith(crlf(expected))
    if not expected.endswith("inner"):
        assert body == crlf(expected)


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("1.1", "Subject: first\n\none"),
        ("1.1.MIME", "\n"),
        ("1.1.HEADER", "Subject: first\n\n"),
        ("1.1.TEXT", "one"),
        ("1.2.MIME", "X-Part: second\n\n"),
        ("1.2.HEADER", "Subject: second\n\n"),
        ("1.2.TEXT", "two"),
    ],
)
def test_sections_of_a_digest_inside_a_message(
    server: ImapServer, section: str, expected: str
) -> None:
    """In multipart/digest the parts are messages by default: n.MIME is the part's own
    header, n.HEADER the header of the message it holds."""
    c = selected_with(server, DIGEST)
    [line] = c.ok(f"FETCH 1 (BODY.PEEK[{section}])")
    assert line.split(b"}\r\n", 1)[1][:-1] == crlf(expected)


ENVELOPES = [
    crlf("From: team: ann@a.org, bob@b.org;, all: cy@c.org;\nSubject: groups\n\nx\n"),
    crlf("From: <@relay.example:dee@d.org>\n\nx\n"),
    crlf("From: eve@e.org (Eve Example)\nSender: \nReply-To: \n\nx\n"),
]


def test_envelope_groups_routes_and_empty_fields(server: ImapServer) -> None:
    """RFC 3501 7.4.2: groups are bracketed by markers, a source route goes in the adl
    field, a comment names a bare address, and an empty Sender or Reply-To is From."""
    c = selected_with(server, *ENVELOPES)
    lines = c.ok("FETCH 1:3 ENVELOPE")
    groups = (
        b'((NIL NIL "team" NIL) (NIL NIL "ann" "a.org") (NIL NIL "bob" "b.org")'
        b' (NIL NIL NIL NIL) (NIL NIL "all" NIL) (NIL NIL "cy" "c.org") (NIL NIL NIL NIL))'
    )
    assert lines[0] == b'* 1 FETCH (ENVELOPE (NIL "groups" ' + b" ".join([groups] * 3) + (
        b" NIL NIL NIL NIL NIL))"
    )
    assert b'((NIL "@relay.example" "dee" "d.org"))' in lines[1]
    eve = b'(("Eve Example" NIL "eve" "e.org"))'
    assert lines[2] == b"* 3 FETCH (ENVELOPE (NIL NIL " + b" ".join([eve] * 3) + (
        b" NIL NIL NIL NIL NIL))"
    )


ADDRESSED = [
    crlf("From: <fay (at home) @ (really) f.org>\nTo: Gus Real <gus@g.org>\n\nx\n"),
    crlf("From: fay@f.org (Fay Real)\nTo: crew: hal@h.org, ida@i.org;\n\nx\n"),
    crlf("From: jo@j.org\nCc: kim@k.org\n\nx\n"),
]


@pytest.mark.parametrize(
    ("criterion", "expected"),
    [
        ("FROM fay@f.org", b"* SEARCH 1 2"),  # comments inside the address do not count
        ("FROM ay@f.or", b"* SEARCH 1 2"),  # a substring of the address
        ('FROM "fay real"', b"* SEARCH 2"),  # a comment that names the address
        ('TO "gus real"', b"* SEARCH 1"),
        ("TO crew", b"* SEARCH 2"),  # a group's name
        ("TO ida@i.org", b"* SEARCH 2"),  # a group's member
        ("TO kim", b"* SEARCH"),
        ("CC kim@k.org", b"* SEARCH 3"),
        ('HEADER TO ""', b"* SEARCH 1 2"),  # the field exists
    ],
)
def test_search_on_addresses(server: ImapServer, criterion: str, expected: bytes) -> None:
    """FROM, TO, CC and BCC match the header text and the addresses parsed from it."""
    c = selected_with(server, *ADDRESSED)
    assert c.ok(f"SEARCH {criterion}") == [expected]


def test_a_message_expunged_elsewhere_can_still_be_fetched_until_told(server: ImapServer) -> None:
    """Until a session hears ``* n EXPUNGE``, number n is still its message: FETCH must
    answer for it (RFC 2180 4.1.1), not pass over it in silence, because the EXPUNGE
    cannot come during FETCH (RFC 3501 7.4.1).  The next NOOP brings the news; a UID
    FETCH may bring it at once, after its answer."""
    first = selected_with(server, SIMPLE, MULTIPART, SIMPLE)
    other = Client(server, "alice")
    other.ok("SELECT INBOX")
    first.ok("STORE 2 +FLAGS (\\Deleted)")
    first.ok("EXPUNGE")
    lines = other.ok("FETCH 2 (UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (FROM)])")
    assert lines == [
        b"* 2 FETCH (UID 2 RFC822.SIZE %d BODY[HEADER.FIELDS (FROM)] {31}\r\n" % len(MULTIPART)
        + b"From: Bob <bob@example.org>\r\n\r\n)"
    ]
    assert other.ok("NOOP") == [b"* 2 EXPUNGE"]
    assert other.ok("UID FETCH 2 FLAGS") == []
    # UID FETCH may tell the expunge (UIDs do not move), after answering for it.
    first.ok("STORE 1 +FLAGS (\\Deleted)")
    first.ok("EXPUNGE")
    assert other.ok("UID FETCH 1 FLAGS") == [b"* 1 FETCH (UID 1 FLAGS (\\Deleted))", b"* 1 EXPUNGE"]
