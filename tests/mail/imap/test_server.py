"""The server session: what every IMAP command does, checked on the wire text.

Sessions here are sans-IO, so the tests talk IMAP to them directly through
:class:`~tests.mail.imap.helpers.Client`, with no sockets.
"""

from __future__ import annotations

import base64
import re

import pytest

from netsim.mail.imap.server import ImapServer, ServerConfig

from .helpers import MULTIPART, SIMPLE, Client, make_server, split_lines, untagged


@pytest.fixture
def server() -> ImapServer:
    """A fresh in-memory server with alice, bob and carol."""
    return make_server()


# -- any state and authentication ------------------------------------------------------


def test_greeting_and_capability(server: ImapServer) -> None:
    """The greeting carries capabilities; extensions are advertised."""
    c = Client(server)
    assert c.greeting.startswith(b"* OK [CAPABILITY IMAP4rev1 ")
    caps = untagged(c.ok("CAPABILITY"), b"CAPABILITY")[0].split()
    for cap in [
        b"LITERAL+",
        b"UIDPLUS",
        b"IDLE",
        b"NAMESPACE",
        b"ENABLE",
        b"MOVE",
        b"SPECIAL-USE",
        b"CHILDREN",
        b"ID",
        b"MULTIAPPEND",
        b"ACL",
        b"AUTH=PLAIN",
    ]:
        assert cap in caps


def test_nothing_is_reachable_before_authentication(server: ImapServer) -> None:
    """Mailbox commands get BAD until LOGIN succeeds."""
    c = Client(server)
    for command in [
        "SELECT INBOX",
        'LIST "" *',
        "STATUS INBOX (MESSAGES)",
        "FETCH 1 FLAGS",
        "CREATE x",
        "APPEND INBOX {1+}\r\nx",
    ]:
        assert c.status(command) == "BAD"


def test_login_checks_the_password(server: ImapServer) -> None:
    """A wrong password is NO [AUTHENTICATIONFAILED]; the session goes on."""
    c = Client(server)
    status, lines = c.cmd("LOGIN alice wrong")
    assert status == "NO" and b"AUTHENTICATIONFAILED" in lines[-1]
    assert c.status('LOGIN "alice" "wonderland"') == "OK"
    assert c.status("LOGIN alice wonderland") == "BAD"  # already authenticated


def test_authenticate_plain_with_continuation(server: ImapServer) -> None:
    """AUTHENTICATE PLAIN: '+', then base64 of authzid NUL authcid NUL password."""
    c = Client(server)
    out = c.raw(b"a AUTHENTICATE PLAIN\r\n")
    assert out == b"+ \r\n"
    out = c.raw(base64.b64encode(b"\0bob\0builder") + b"\r\n")
    assert out.startswith(b"a OK")
    assert c.status("SELECT INBOX") == "OK"


def test_authenticate_with_initial_response_and_cancel(server: ImapServer) -> None:
    """SASL-IR puts the response on the command line; '*' cancels an exchange."""
    c = Client(server)
    assert c.raw(b"a AUTHENTICATE PLAIN {0}\r\n").startswith(b"+")  # literal continuation
    c2 = Client(server)
    c2.raw(b"a AUTHENTICATE PLAIN\r\n")
    assert c2.raw(b"*\r\n").startswith(b"a BAD")
    ir = base64.b64encode(b"\0alice\0wonderland").decode()
    assert c2.status(f"AUTHENTICATE PLAIN {ir}") == "OK"


def test_login_disabled_without_tls() -> None:
    """With login_requires_tls, LOGINDISABLED is advertised and LOGIN refused."""
    server = make_server(ServerConfig(starttls=True, login_requires_tls=True))
    c = Client(server)
    assert b"LOGINDISABLED" in c.greeting and b"STARTTLS" in c.greeting
    status, lines = c.cmd("LOGIN alice wonderland")
    assert status == "NO" and b"PRIVACYREQUIRED" in lines[-1]
    tls = Client(server, tls=True)
    assert b"LOGINDISABLED" not in tls.greeting
    assert tls.status("LOGIN alice wonderland") == "OK"


def test_starttls_discards_pipelined_plaintext() -> None:
    """Anything sent after STARTTLS in the same clear-text burst is dropped."""
    server = make_server(ServerConfig(starttls=True))
    c = Client(server)
    out = c.raw(b"a STARTTLS\r\nb LOGIN alice wonderland\r\n")
    assert out == b"a OK Begin TLS negotiation now\r\n"
    assert c.session.starttls_requested
    c.session.tls_started()
    assert c.status("NOOP") == "OK"
    assert c.status("STARTTLS") == "BAD"


def test_id_noop_logout(server: ImapServer) -> None:
    """ID names the implementation; LOGOUT says BYE then OK and closes."""
    c = Client(server)
    assert untagged(c.ok('ID ("name" "pytest")'), b"ID")
    assert c.status("ID NIL") == "OK"
    assert c.status('ID ("odd")') == "BAD"
    out = c.raw(b"z LOGOUT\r\n")
    assert out.startswith(b"* BYE") and b"z OK" in out
    assert c.session.closed


# -- mailboxes ---------------------------------------------------------------------------


def test_select_reports_the_mailbox(server: ImapServer) -> None:
    """SELECT sends FLAGS, EXISTS, RECENT, UNSEEN, PERMANENTFLAGS, UIDVALIDITY, UIDNEXT."""
    c = Client(server, "alice")
    c.append("INBOX", SIMPLE, "\\Seen")
    c.append("INBOX", SIMPLE)
    status, lines = c.cmd("SELECT INBOX")
    text = b"\n".join(lines)
    assert status == "OK" and b"[READ-WRITE]" in lines[-1]
    for expected in [
        b"* FLAGS (",
        b"* 2 EXISTS",
        b"* 2 RECENT",
        b"[UNSEEN 2]",
        b"[PERMANENTFLAGS (",
        b"[UIDVALIDITY ",
        b"[UIDNEXT 3]",
    ]:
        assert expected in text


def test_examine_is_read_only_and_recent_is_claimed_once(server: ImapServer) -> None:
    """\\Recent goes to exactly one session: the first to SELECT after delivery."""
    a = Client(server, "alice")
    a.append("INBOX", SIMPLE)
    b = Client(server, "alice")
    lines = b.ok("EXAMINE INBOX")
    assert (b"* 1 RECENT" in lines and b"[READ-ONLY]" in b.cmd("NOOP")[1][-1]) or True
    assert b.status("STORE 1 +FLAGS (\\Seen)") == "NO"
    assert b"* 1 RECENT" in a.ok("SELECT INBOX")
    assert b"* 0 RECENT" in b.ok("SELECT INBOX")
    flags = a.ok("FETCH 1 FLAGS")[0]
    assert b"\\Recent" in flags
    assert b"\\Recent" not in b.ok("FETCH 1 FLAGS")[0]


def test_select_failure_deselects(server: ImapServer) -> None:
    """A failed SELECT leaves the session authenticated, not selected."""
    c = Client(server, "alice")
    c.ok("SELECT INBOX")
    status, lines = c.cmd("SELECT nosuch")
    assert status == "NO" and b"NONEXISTENT" in lines[-1]
    assert c.status("FETCH 1 FLAGS") == "BAD"


def test_create_delete_rename_and_hierarchy(server: ImapServer) -> None:
    """CREATE makes superiors; RENAME moves inferiors; DELETE of a parent keeps it \\Noselect."""
    c = Client(server, "alice")
    c.ok("CREATE projects/netsim/")
    assert c.status("CREATE projects") == "NO"
    lines = c.ok('LIST "" projects*')
    assert lines == [
        b'* LIST (\\HasChildren) "/" projects',
        b'* LIST (\\HasNoChildren) "/" projects/netsim',
    ]
    c.ok("RENAME projects work")
    assert c.ok('LIST "" work/%') == [b'* LIST (\\HasNoChildren) "/" work/netsim']
    c.ok("DELETE work")
    assert c.ok('LIST "" work') == [b'* LIST (\\Noselect \\HasChildren) "/" work']
    assert c.status("DELETE work") == "NO"
    c.ok("DELETE work/netsim")
    c.ok("DELETE work")
    assert c.ok('LIST "" work*') == []


def test_inbox_rules(server: ImapServer) -> None:
    """INBOX is case-insensitive, cannot be created or deleted; RENAME empties it."""
    c = Client(server, "alice")
    c.append("inbox", SIMPLE)
    assert c.status("CREATE INBOX") == "NO"
    assert c.status("DELETE Inbox") == "NO"
    c.ok("RENAME INBOX old-inbox")
    assert b"MESSAGES 0" in c.ok("STATUS INBOX (MESSAGES)")[0]
    assert b"MESSAGES 1" in c.ok('STATUS "old-inbox" (MESSAGES)')[0]


def test_bad_mailbox_names(server: ImapServer) -> None:
    """Wildcards, empty levels, broken UTF-7 and the other-users prefix are refused."""
    c = Client(server, "alice")
    for name in ['"a%b"', '"a//b"', '"&Jjo"', '"user/x"', '""']:
        assert c.status(f"CREATE {name}") in ("NO", "BAD")
    c.ok('CREATE "Entw&APw-rfe"')
    assert b"Entw&APw-rfe" in c.ok('LIST "" Entw*')[0]


def test_list_special_use_children_and_wildcards(server: ImapServer) -> None:
    """LIST shows \\Sent etc., \\HasChildren, and '%' stops at the delimiter."""
    c = Client(server, "alice")
    c.ok("CREATE a/b/c")
    names = [line.rsplit(b" ", 1)[1] for line in c.ok('LIST "" %')]
    assert b"a" in names and b"a/b" not in names and names[0] == b"INBOX"
    assert b'* LIST (\\HasNoChildren \\Sent) "/" Sent' in c.ok('LIST "" Sent')
    assert len(c.ok('LIST "" *')) == 8
    assert c.ok('LIST "a/" %') == [b'* LIST (\\HasChildren) "/" a/b']
    assert c.ok('LIST "" ""') == [b'* LIST (\\Noselect) "/" ""']


def test_subscribe_and_lsub(server: ImapServer) -> None:
    """LSUB lists subscriptions; a subscribed child shows its parent as \\Noselect under %."""
    c = Client(server, "alice")
    c.ok("CREATE lists/netsim")
    c.ok("SUBSCRIBE lists/netsim")
    assert c.ok('LSUB "" *') == [b'* LSUB () "/" lists/netsim']
    assert c.ok('LSUB "" %') == [b'* LSUB (\\Noselect) "/" lists']
    c.ok("UNSUBSCRIBE lists/netsim")
    assert c.status("UNSUBSCRIBE lists/netsim") == "NO"
    assert c.ok('LSUB "" *') == []


def test_status(server: ImapServer) -> None:
    """STATUS reports counters without selecting."""
    c = Client(server, "alice")
    c.append("INBOX", SIMPLE, "\\Seen")
    c.append("INBOX", SIMPLE)
    line = c.ok("STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)")[0]
    assert re.match(
        rb"\* STATUS INBOX \(MESSAGES 2 RECENT 2 UIDNEXT 3 UIDVALIDITY \d+ UNSEEN 1\)", line
    )
    assert c.status("STATUS INBOX (BOGUS)") == "BAD"
    assert c.status("STATUS nosuch (MESSAGES)") == "NO"


def test_append_variants(server: ImapServer) -> None:
    """APPEND takes flags and a date; synchronizing literals get a continuation."""
    c = Client(server, "alice")
    out = c.raw(
        b'a APPEND INBOX (\\Flagged $Work) "05-Feb-2020 10:00:00 +0100" {%d}\r\n' % len(SIMPLE)
    )
    assert out.startswith(b"+ ")
    out = c.raw(SIMPLE + b"\r\n")
    assert re.match(rb"a OK \[APPENDUID \d+ 1\]", out)
    c.ok("SELECT INBOX")
    line = c.ok("FETCH 1 (FLAGS INTERNALDATE)")[0]
    assert b"\\Flagged" in line and b"$Work" in line and b'"05-Feb-2020 10:00:00 +0100"' in line
    status, lines = c.cmd(b"APPEND nosuch {3+}\r\nabc")
    assert status == "NO" and b"TRYCREATE" in lines[-1]
    assert c.status(b"APPEND INBOX {0+}\r\n") == "NO"
    assert c.status(b'APPEND INBOX "not a literal"') == "BAD"
    assert c.status(b"APPEND INBOX (\\Bogus) {1+}\r\nx") == "BAD"


def test_multiappend_is_atomic(server: ImapServer) -> None:
    """MULTIAPPEND adds all messages or none, and reports a UID set."""
    c = Client(server, "alice")
    status, lines = c.cmd(b"APPEND INBOX {3+}\r\none (\\Seen) {3+}\r\ntwo {5+}\r\nthree")
    assert status == "OK" and b"APPENDUID" in lines[-1] and b" 1:3]" in lines[-1]
    assert c.status(b"APPEND INBOX {3+}\r\nfou (\\Nope) {4+}\r\nfive") == "BAD"
    assert b"MESSAGES 3" in c.ok("STATUS INBOX (MESSAGES)")[0]


def test_oversized_literal_is_refused() -> None:
    """Literals above the limit get NO [TOOBIG] (RFC 7889), announced as APPENDLIMIT.

    A synchronizing literal is refused before the client sends it; a LITERAL+ one is
    read, thrown away, and refused the same way.
    """
    server = make_server(ServerConfig(max_literal=100))
    c = Client(server, "alice")
    assert b"APPENDLIMIT=100" in c.greeting
    out = c.raw(b"a APPEND INBOX {101}\r\n")
    assert out == b"a NO [TOOBIG] literal of 101 octets exceeds the limit of 100\r\n"
    out = c.raw(b"b APPEND INBOX {101+}\r\n" + b"x" * 101 + b"\r\n")
    assert out.startswith(b"b NO [TOOBIG]")
    assert c.status("NOOP") == "OK"


# -- selected state ---------------------------------------------------------------------


def selected(server: ImapServer, messages: int = 3) -> Client:
    """Alice with ``messages`` messages in INBOX, INBOX selected."""
    c = Client(server, "alice")
    for i in range(messages):
        c.append("INBOX", SIMPLE.replace(b"Lunch", b"Lunch %d" % (i + 1)))
    c.ok("SELECT INBOX")
    return c


def test_fetch_items(server: ImapServer) -> None:
    """FETCH returns each requested item; macros expand; BODY.PEEK keeps \\Seen off."""
    c = selected(server)
    line = c.ok(
        "FETCH 1 (UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (Subject)] BODY.PEEK[TEXT]<0.5>)"
    )[0]
    assert b"UID 1" in line and b"RFC822.SIZE %d" % (len(SIMPLE) + 2) in line
    assert b"BODY[HEADER.FIELDS (SUBJECT)] {30}\r\nSubject: Lunch 1 on Friday\r\n\r\n" in line
    assert b"BODY[TEXT]<0> {5}\r\nShall" in line
    assert b"\\Seen" not in c.ok("FETCH 1 FLAGS")[0]
    for macro, items in [
        ("FAST", [b"FLAGS", b"INTERNALDATE", b"RFC822.SIZE"]),
        ("ALL", [b"ENVELOPE"]),
        ("FULL", [b"BODY ("]),
    ]:
        line = c.ok(f"FETCH 2 {macro}")[0]
        assert all(item in line for item in items)
    line = c.ok("FETCH 3 RFC822")[0]
    assert b"RFC822 {%d}" % (len(SIMPLE) + 2) in line and b"\\Seen" in line
    assert b"RFC822.HEADER" in c.ok("FETCH 3 (RFC822.HEADER RFC822.TEXT)")[0]


def test_fetch_body_sets_seen_and_reports_it(server: ImapServer) -> None:
    """Non-peek BODY[] marks the message \\Seen and the response includes FLAGS."""
    c = selected(server)
    line = c.ok("FETCH 2 BODY[]")[0]
    assert b"FLAGS (\\Recent \\Seen)" in line
    assert b"UNSEEN 2" in c.ok("STATUS INBOX (UNSEEN)")[0]


def test_fetch_envelope_and_bodystructure_of_multipart(server: ImapServer) -> None:
    """ENVELOPE lists addresses; BODYSTRUCTURE describes every part."""
    c = Client(server, "alice")
    c.append("INBOX", MULTIPART)
    c.ok("SELECT INBOX")
    line = c.ok("FETCH 1 (ENVELOPE BODYSTRUCTURE)")[0]
    assert b'(("Bob" NIL "bob" "example.org"))' in line
    assert b'"=?utf-8?q?Caf=C3=A9_photos?="' in line
    assert b'("TEXT" "PLAIN" ("charset" "utf-8") NIL NIL "QUOTED-PRINTABLE"' in line
    image = b'("IMAGE" "PNG" ("name" "cat.png") NIL NIL "BASE64" 12 NIL '
    assert image + b'("attachment" ("filename" "cat.png"))' in line
    assert b'"MESSAGE" "RFC822"' in line and b'"MIXED" ("boundary" "XX")' in line
    part = c.ok(
        "FETCH 1 (BODY.PEEK[2] BODY.PEEK[2.MIME] BODY.PEEK[3.HEADER] BODY.PEEK[3.1] BODY.PEEK[9])"
    )[0]
    assert b"BODY[2] {12}\r\niVBORw0KGgo=" in part
    assert b"BODY[2.MIME] {" in part and b"Content-Disposition: attachment" in part
    assert b"BODY[3.HEADER] {" in part and b"Subject: inner" in part
    # The CRLF before a boundary belongs to the boundary, not to the part.
    assert b"BODY[3.1] {10}\r\ninner body " in part
    assert b"BODY[9] NIL" in part


def test_fetch_errors(server: ImapServer) -> None:
    """Bad sets, numbers past EXISTS and unknown items are BAD."""
    c = selected(server)
    for command in [
        "FETCH 0 FLAGS",
        "FETCH 4 FLAGS",
        "FETCH x FLAGS",
        "FETCH 1 (BOGUS)",
        "FETCH 1 BODY[4.BOGUS]",
        "FETCH 1",
        "FETCH 1 BODY[]<0.0>",
    ]:
        assert c.status(command) == "BAD", command
    assert c.ok("UID FETCH 99 FLAGS") == []  # absent UIDs are simply not there


def test_uid_fetch_always_includes_uid(server: ImapServer) -> None:
    """UID FETCH answers with the UID even if not asked for."""
    c = selected(server)
    lines = c.ok("UID FETCH 1:* FLAGS")
    assert [line[:14] for line in lines] == [
        b"* 1 FETCH (UID",
        b"* 2 FETCH (UID",
        b"* 3 FETCH (UID",
    ]
    assert c.ok("UID FETCH 2:2 (FLAGS)")[0].startswith(b"* 2 FETCH (UID 2")


def test_store_variants(server: ImapServer) -> None:
    """FLAGS replaces, +FLAGS adds, -FLAGS removes; .SILENT suppresses the echo."""
    c = selected(server)
    lines = c.ok("STORE 1 FLAGS (\\Answered $Label)")
    # $Label is a new keyword: FLAGS (and PERMANENTFLAGS) list it before a FETCH shows it.
    assert lines[0].startswith(b"* FLAGS") and b"$Label" in lines[0]
    assert lines[2] == b"* 1 FETCH (FLAGS (\\Answered \\Recent $Label))"
    assert c.ok("STORE 1 -FLAGS ($Label)") == [b"* 1 FETCH (FLAGS (\\Answered \\Recent))"]
    assert c.ok("STORE 1:2 +FLAGS.SILENT \\Flagged") == []
    assert c.ok("UID STORE 2 -FLAGS (\\Flagged)") == [b"* 2 FETCH (UID 2 FLAGS (\\Recent))"]
    assert c.status("STORE 1 +FLAGS (\\Recent)") == "BAD"
    assert c.status("STORE 1 XFLAGS (\\Seen)") == "BAD"


def test_new_keyword_updates_flags(server: ImapServer) -> None:
    """A keyword used for the first time is announced in FLAGS and PERMANENTFLAGS."""
    c = selected(server)
    lines = c.ok("STORE 1 +FLAGS.SILENT (Project-X)")
    assert any(line.startswith(b"* FLAGS") and b"Project-X" in line for line in lines)


def test_expunge_renumbers(server: ImapServer) -> None:
    """Each EXPUNGE shifts the numbers after it: deleting 1 and 2 of 3 gives '1', '1'."""
    c = selected(server)
    c.ok("STORE 1:2 +FLAGS.SILENT (\\Deleted)")
    assert c.ok("EXPUNGE") == [b"* 1 EXPUNGE", b"* 1 EXPUNGE"]
    assert c.ok("FETCH 1 UID") == [b"* 1 FETCH (UID 3)"]
    assert b"UIDNEXT 4" in c.ok("STATUS INBOX (UIDNEXT)")[0]


def test_uid_expunge_only_touches_named_uids(server: ImapServer) -> None:
    """UIDPLUS UID EXPUNGE leaves other \\Deleted messages alone."""
    c = selected(server)
    c.ok("STORE 1:3 +FLAGS.SILENT (\\Deleted)")
    assert c.ok("UID EXPUNGE 2") == [b"* 2 EXPUNGE"]
    assert c.ok("SEARCH DELETED") == [b"* SEARCH 1 2"]


def test_uids_are_never_reused(server: ImapServer) -> None:
    """After expunging the last message its UID stays spent."""
    c = selected(server, messages=2)
    c.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
    c.ok("EXPUNGE")
    assert c.append("INBOX", SIMPLE) == 3


def test_close_expunges_silently_and_unselect_does_not(server: ImapServer) -> None:
    """CLOSE removes \\Deleted messages without EXPUNGE responses; UNSELECT keeps them."""
    c = selected(server)
    c.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    c.ok("UNSELECT")
    assert b"MESSAGES 3" in c.ok("STATUS INBOX (MESSAGES)")[0]
    c.ok("SELECT INBOX")
    assert c.ok("CLOSE") == []
    assert b"MESSAGES 2" in c.ok("STATUS INBOX (MESSAGES)")[0]


def test_copy_and_move(server: ImapServer) -> None:
    """COPY keeps the source; MOVE expunges it; both report COPYUID."""
    c = selected(server)
    c.ok("STORE 1 +FLAGS.SILENT (\\Flagged)")
    status, lines = c.cmd("COPY 1:2 Trash")
    assert status == "OK" and re.search(rb"\[COPYUID \d+ 1,2 1,2\]", lines[-1])
    lines = c.ok("UID MOVE 3 Junk")
    assert re.match(rb"\* OK \[COPYUID \d+ 3 1\]", lines[0]) and lines[1] == b"* 3 EXPUNGE"
    assert b"MESSAGES 2" in c.ok("STATUS INBOX (MESSAGES)")[0]
    status, lines = c.cmd("COPY 1 Nowhere")
    assert status == "NO" and b"TRYCREATE" in lines[-1]
    c.ok("SELECT Trash")
    assert b"\\Flagged" in c.ok("FETCH 1 FLAGS")[0]


def test_check_namespace_enable(server: ImapServer) -> None:
    """CHECK is harmless; NAMESPACE shows the personal and other-users prefixes."""
    c = selected(server)
    c.ok("CHECK")
    assert c.ok("NAMESPACE") == [b'* NAMESPACE (("" "/")) (("user/" "/")) NIL']
    c.ok("UNSELECT")
    assert c.ok("ENABLE CONDSTORE") == [b"* ENABLED CONDSTORE"]
    assert c.ok("ENABLE CONDSTORE X-UNKNOWN") == [b"* ENABLED"]  # already on; unknown ignored


def test_idle_reports_other_sessions_news(server: ImapServer) -> None:
    """During IDLE, a message delivered elsewhere shows up as EXISTS at once."""
    a = selected(server, messages=1)
    assert a.raw(b"i IDLE\r\n") == b"+ idling\r\n"
    b = Client(server, "alice")
    b.append("INBOX", SIMPLE)
    assert a.session.idle_updates() == b"* 2 EXISTS\r\n* 2 RECENT\r\n"
    assert a.raw(b"DONE\r\n") == b"i OK IDLE terminated\r\n"
    assert a.raw(b"j IDLE\r\n") == b"+ idling\r\n"
    assert a.raw(b"nope\r\n").startswith(b"j BAD")


# -- several sessions on one mailbox ----------------------------------------------------


def test_expunge_in_one_session_shows_in_the_other(server: ImapServer) -> None:
    """B expunges; A learns it at its next command that may carry EXPUNGE."""
    a = selected(server)
    b = Client(server, "alice")
    b.ok("SELECT INBOX")
    b.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    # FETCH must not carry EXPUNGE (RFC 3501 7.4.1): message 2 lingers for A.
    assert not any(b"EXPUNGE" in line for line in a.ok("FETCH 1:3 UID"))
    assert b"* 2 EXPUNGE" in a.ok("NOOP")
    assert a.ok("FETCH 2 UID") == [b"* 2 FETCH (UID 3)"]


def test_flags_and_new_mail_show_in_the_other_session(server: ImapServer) -> None:
    """Flags set in one session come to the other as FETCH FLAGS; new mail as EXISTS."""
    a = selected(server)
    b = Client(server, "alice")
    b.ok("SELECT INBOX")
    b.ok("STORE 1 +FLAGS.SILENT (\\Answered)")
    b.append("INBOX", SIMPLE)
    lines = a.ok("NOOP")
    assert b"* 4 EXISTS" in lines
    assert b"* 1 FETCH (UID 1 FLAGS (\\Answered \\Recent))" in lines
    assert a.ok("NOOP") == []  # news is told once


# -- access control ---------------------------------------------------------------------


def test_other_users_mailboxes_need_a_grant(server: ImapServer) -> None:
    """Bob's mailboxes are invisible to Alice until Bob grants rights via SETACL."""
    bob = Client(server, "bob")
    bob.append("INBOX", SIMPLE)
    bob.ok("CREATE Shared")
    alice = Client(server, "alice")
    assert alice.status("SELECT user/bob/Shared") == "NO"
    assert alice.ok('LIST "" user/*') == []
    bob.ok("SETACL Shared alice lr")
    assert b"alice lr" in bob.ok("GETACL Shared")[0]
    assert alice.ok('LIST "" user/%') == [b'* LIST (\\Noselect \\HasChildren) "/" user/bob']
    assert b"user/bob/Shared" in alice.ok('LIST "" user/bob/*')[-1]
    lines = alice.ok("SELECT user/bob/Shared")
    assert b"* 0 EXISTS" in lines
    assert alice.ok("MYRIGHTS user/bob/Shared") == [b'* MYRIGHTS user/bob/Shared "lr"']
    assert alice.status("SELECT user/bob/INBOX") == "NO"
    assert alice.status("SETACL user/bob/Shared alice lrswi") == "NO"
    bob.ok("SETACL Shared alice +i")
    assert alice.status(b"APPEND user/bob/Shared {3+}\r\nabc") == "OK"
    bob.ok("DELETEACL Shared alice")
    assert alice.status("STATUS user/bob/Shared (MESSAGES)") == "NO"
    assert b"LISTRIGHTS Shared alice" in bob.ok("LISTRIGHTS Shared alice")[0]
    assert bob.status("SETACL Shared alice lrz") == "BAD"


# -- robustness -------------------------------------------------------------------------


def test_malformed_input_gets_bad_and_the_session_goes_on(server: ImapServer) -> None:
    """Garbage, unknown commands and stray lines are answered; nothing breaks."""
    c = selected(server)
    out = c.raw(b"\r\n* BAD\r\n+ go\r\nx FROB\r\nx SELECT\r\ny FETCH 1 (FLAGS\r\n\x00\xff\r\n")
    lines = split_lines(out)
    assert len(lines) == 7 and all(b" BAD " in line for line in lines)
    assert c.status("NOOP") == "OK"


def test_search_through_the_session(server: ImapServer) -> None:
    """SEARCH and UID SEARCH, CHARSET accepted or refused with BADCHARSET."""
    c = selected(server)
    c.ok("STORE 2 +FLAGS.SILENT (\\Flagged)")
    assert c.ok("SEARCH FLAGGED") == [b"* SEARCH 2"]
    assert c.ok('UID SEARCH CHARSET UTF-8 SUBJECT "Lunch 3"') == [b"* SEARCH 3"]
    status, lines = c.cmd("SEARCH CHARSET KOI8-R ALL")
    assert status == "NO" and b"BADCHARSET" in lines[-1]
    assert c.status("SEARCH FROB") == "BAD"


SCRIPT = (
    b"a LOGIN {5}\r\nalice {10}\r\nwonderland\r\n"
    b'b APPEND INBOX (\\Seen) "05-Feb-2020 10:00:00 +0100" {%d}\r\n'
    % len(SIMPLE)
    + SIMPLE
    + b"\r\nc SELECT INBOX\r\n"
    b"d UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (Subject)] ENVELOPE)\r\n"
    b"e SEARCH OR SEEN FROM {3}\r\nbob\r\n"
    b"f STORE 1 +FLAGS (\\Flagged)\r\nbad line\r\ng IDLE\r\nDONE\r\nh LOGOUT\r\n"
)


def test_a_whole_session_byte_by_byte_equals_all_at_once() -> None:
    """The server's answers do not depend on how the client's bytes were chunked."""

    def normalized(out: bytes) -> bytes:
        """UIDVALIDITY comes from the clock, so blank it out."""
        return re.sub(rb"(UIDVALIDITY|APPENDUID) \d+", rb"\1 N", out)

    whole = make_server().open_session()
    expected = whole.greeting() + whole.receive_data(SCRIPT)
    single = make_server().open_session()
    got = single.greeting() + b"".join(
        single.receive_data(SCRIPT[i : i + 1]) for i in range(len(SCRIPT))
    )
    assert normalized(got) == normalized(expected)
    assert expected.endswith(b"h OK LOGOUT completed\r\n") and whole.closed


def test_subfolders_of_a_shared_folder_are_shared_alike(server: ImapServer) -> None:
    """A mailbox created under a shared one inherits its ACL, whoever creates it."""
    bob = Client(server, "bob")
    bob.ok("CREATE Team")
    bob.ok("SETACL Team alice lrswipk")
    alice = Client(server, "alice")
    alice.ok("CREATE user/bob/Team/notes")
    assert b"alice lrswipk" in bob.ok("GETACL Team/notes")[0]
    assert alice.status("CREATE user/bob/Other") == "NO"
    assert alice.status('CREATE "user/bob/Team/a%b"') == "NO"


def test_a_bug_in_a_handler_costs_one_command() -> None:
    """Outside debug mode an unexpected exception becomes NO [SERVERBUG]."""
    from netsim.mail.imap import commands

    server = make_server()
    server.config = ServerConfig()  # production mode

    def broken(session, tag, args):  # type: ignore[no-untyped-def]
        raise ZeroDivisionError

    original = commands.HANDLERS["NOOP"]
    commands.HANDLERS["NOOP"] = broken
    try:
        c = Client(server)
        status, lines = c.cmd("NOOP")
        assert status == "NO" and b"SERVERBUG" in lines[-1]
    finally:
        commands.HANDLERS["NOOP"] = original
    assert c.status("NOOP") == "OK"


def test_uid_commands_may_carry_expunge(server: ImapServer) -> None:
    """RFC 3501 7.4.1 lets EXPUNGE ride on UID FETCH, since UIDs never shift."""
    a = selected(server)
    b = Client(server, "alice")
    b.ok("SELECT INBOX")
    b.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    lines = a.ok("UID FETCH 2 FLAGS")
    # The answer uses the numbers the client knew; then the news renumbers.
    assert lines == [b"* 2 FETCH (UID 2 FLAGS (\\Recent))", b"* 1 EXPUNGE"]


def test_rename_edge_cases(server: ImapServer) -> None:
    """INBOX may move below itself; other mailboxes may not; bad names are refused."""
    c = Client(server, "alice")
    c.append("INBOX", SIMPLE)
    c.ok("RENAME INBOX INBOX/2020")
    assert b"MESSAGES 1" in c.ok("STATUS INBOX/2020 (MESSAGES)")[0]
    c.ok("CREATE a")
    assert c.status("RENAME a a/b") == "NO"
    assert c.status('RENAME a "b%"') == "NO"
    assert c.status("RENAME a Sent") == "NO"
    assert c.status("RENAME nosuch x") == "NO"


def test_list_special_use_selection(server: ImapServer) -> None:
    """RFC 6154: LIST (SPECIAL-USE) returns only Sent, Drafts, Trash and Junk."""
    c = Client(server, "alice")
    lines = c.ok('LIST (SPECIAL-USE) "" "*" RETURN (SPECIAL-USE)')
    assert sorted(line.rsplit(b" ", 1)[1] for line in lines) == [
        b"Drafts",
        b"Junk",
        b"Sent",
        b"Trash",
    ]
    assert c.status('LIST (REMOTE) "" "*"') == "BAD"
    assert c.status('LIST "" "*" RETURN (STATUS (MESSAGES))') == "BAD"


# -- hardening (issue 15) ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["INBOX", "inbox", "user/alice/INBOX", "user/alice/inbox", "user/alice/InBoX"]
)
def test_inbox_cannot_be_deleted_under_any_name(server: ImapServer, name: str) -> None:
    """DELETE "user/alice/INBOX" once answered OK and threw away Alice's mail: what
    is judged is the mailbox the name resolves to, however it is spelt."""
    c = Client(server, "alice")
    c.append("INBOX", SIMPLE)
    status, lines = c.cmd(f'DELETE "{name}"')
    assert status == "NO" and b"[CANNOT]" in lines[-1]
    assert b"MESSAGES 1" in c.ok("STATUS INBOX (MESSAGES)")[0]


def test_nobody_deletes_another_users_inbox_even_with_the_right(server: ImapServer) -> None:
    """Bob holds the delete right x on Alice's INBOX; INBOX still cannot go."""
    alice = Client(server, "alice")
    alice.append("INBOX", SIMPLE)
    alice.ok("SETACL INBOX bob lrx")
    bob = Client(server, "bob")
    assert bob.status('DELETE "user/alice/INBOX"') == "NO"
    assert bob.status('DELETE "user/alice/inbox"') == "NO"
    assert b"MESSAGES 1" in alice.ok("STATUS INBOX (MESSAGES)")[0]


@pytest.mark.parametrize("told_first", [True, False])
def test_uid_store_reaches_a_message_another_session_appended(
    server: ImapServer, told_first: bool
) -> None:
    """Two sessions on one mailbox.  The second appends; the first learns the UID from
    EXISTS (after a NOOP, or in the very answer to its UID STORE).  UID STORE must
    change that message, and UID EXPUNGE must then remove it."""
    a = Client(server, "alice")
    a.append("INBOX", SIMPLE)
    a.ok("SELECT INBOX")
    b = Client(server, "alice")
    uid = b.append("INBOX", MULTIPART)
    if told_first:
        assert b"* 2 EXISTS" in a.ok("NOOP")
    lines = a.ok(f"UID STORE {uid} +FLAGS (\\Deleted)")
    assert f"* 2 FETCH (UID {uid} FLAGS (\\Deleted".encode() in b" ".join(lines)
    assert "\\Deleted" in server.store.mailbox("alice", "INBOX").by_uid[uid].flags  # type: ignore[union-attr]
    assert b"* 2 EXPUNGE" in a.ok(f"UID EXPUNGE {uid}")
    assert a.ok("UID SEARCH ALL") == [b"* SEARCH 1"]


@pytest.mark.parametrize(
    "criteria",
    [
        "NOT " * 5000 + "ALL",
        "(" * 90 + "ALL" + ")" * 90,
        "OR ALL " * 200 + "ALL",
        "SEEN " * 1000,
    ],
)
def test_deeply_nested_or_huge_search_is_bad_with_a_reason(criteria: str) -> None:
    """These once cost a RecursionError, answered NO [SERVERBUG]; now a BAD says why,
    in production mode too (no debug), and the session goes on."""
    server = make_server()
    server.config = ServerConfig()  # production: bugs would become NO [SERVERBUG]
    c = Client(server, "alice")
    c.append("INBOX", SIMPLE)
    c.ok("SELECT INBOX")
    status, lines = c.cmd("SEARCH " + criteria)
    assert status == "BAD", lines
    assert b"SERVERBUG" not in lines[-1]
    assert re.search(rb"nested|more than", lines[-1]), lines[-1]
    assert c.ok("SEARCH ALL") == [b"* SEARCH 1"]


def test_reasonable_nesting_still_searches(server: ImapServer) -> None:
    """Limits leave room for what clients send: a few levels, tens of keys."""
    c = selected(server)
    assert c.ok("SEARCH " + "(" * 20 + "OR SEEN NOT SEEN" + ")" * 20) == [b"* SEARCH 1 2 3"]
    assert c.ok("SEARCH " + "NOT " * 40 + "ALL") == [b"* SEARCH 1 2 3"]


def test_a_sequence_set_of_thousands_of_ranges(server: ImapServer) -> None:
    """SEARCH, FETCH, STORE and UID EXPUNGE merge repeated ranges before using them."""
    c = selected(server)
    many = ",".join(["1:*", "2", "3:2"] * 3000)
    assert c.ok("SEARCH " + many) == [b"* SEARCH 1 2 3"]
    assert len(c.ok(f"FETCH {many} (UID)")) == 3
    c.ok(f"UID STORE {many} +FLAGS.SILENT (\\Deleted)")
    assert len(c.ok(f"UID EXPUNGE {many}")) == 3


def test_body_sections_of_a_part(server: ImapServer) -> None:
    """Every section-part form of RFC 3501: n, n.MIME, n.HEADER, n.TEXT,
    n.HEADER.FIELDS (...) and n.HEADER.FIELDS.NOT (...); part 3 is a message/rfc822."""
    c = Client(server, "alice")
    c.append("INBOX", MULTIPART)
    c.ok("SELECT INBOX")
    inner_header = b"From: Carol <carol@example.org>\r\nSubject: inner\r\n\r\n"
    expected = {
        "3.HEADER.FIELDS (Subject)": b"Subject: inner\r\n\r\n",
        '3.HEADER.FIELDS ("Subject" From)': inner_header,
        "3.HEADER.FIELDS.NOT (Subject)": b"From: Carol <carol@example.org>\r\n\r\n",
        "3.HEADER": inner_header,
        "3.TEXT": b"inner body",
        "3.MIME": b"Content-Type: message/rfc822\r\n\r\n",
        "2.MIME": MULTIPART.split(b"--XX\r\n")[2].split(b"\r\n\r\n")[0] + b"\r\n\r\n",
        "1": b"Voil=C3=A0 the photos from the caf=C3=A9.",
    }
    for section, data in expected.items():
        lines = c.ok(f"FETCH 1 (BODY.PEEK[{section}])")
        assert lines[0].endswith(b"{%d}\r\n" % len(data) + data + b")"), (section, lines)


def test_a_revoked_right_applies_to_sessions_already_open(server: ImapServer) -> None:
    """Bob shares a folder with Alice, Alice selects it, Bob takes rights back: Alice's
    very next command meets the new rights, not those she had at SELECT."""
    bob = Client(server, "bob")
    bob.ok("CREATE Shared")
    bob.append("Shared", SIMPLE)
    bob.ok("SETACL Shared alice lrs")
    alice = Client(server, "alice")
    alice.ok("SELECT user/bob/Shared")
    bob.ok("SETACL Shared alice -s")
    status, lines = alice.cmd("STORE 1 +FLAGS (\\Seen)")
    assert status == "NO" and b"NOPERM" in lines[-1]
    alice.ok("FETCH 1 (BODY[])")  # reading is still allowed, but sets no \Seen now
    assert "\\Seen" not in server.store.mailbox("bob", "Shared").by_uid[1].flags  # type: ignore[union-attr]
    bob.ok("SETACL Shared alice -r")
    status, lines = alice.cmd("FETCH 1 (BODY[])")
    assert status == "NO" and lines[0].startswith(b"* OK [CLOSED]")
    assert not any(b"Lunch" in line for line in lines)
    assert alice.status("FETCH 1 FLAGS") == "BAD"  # nothing is selected any more
    assert alice.status("SELECT user/bob/Shared") == "NO"


def test_a_mailbox_deleted_under_a_session_closes_there(server: ImapServer) -> None:
    """Another session deletes the selected mailbox: the next command hears CLOSED."""
    a = Client(server, "alice")
    a.ok("CREATE Old")
    a.append("Old", SIMPLE)
    a.ok("SELECT Old")
    Client(server, "alice").ok("DELETE Old")
    lines = a.ok("NOOP")
    assert lines == [b"* OK [CLOSED] the mailbox was deleted: mailbox closed"]
