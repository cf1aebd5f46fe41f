"""CONDSTORE and QRESYNC (RFC 7162): asking only for what changed.

Every change to a mailbox gets the next mod-sequence.  A client that remembers the
mailbox's HIGHESTMODSEQ can later fetch just the messages changed since
(``CHANGEDSINCE``), change flags only if nobody else did meanwhile (``UNCHANGEDSINCE``),
and, with QRESYNC, learn at SELECT time which messages vanished.  These tests follow
the RFC's examples, on the wire text, with two sessions where one changes what the
other then asks about.
"""

from __future__ import annotations

import imaplib
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netsim.apps.serve_mail import BackgroundServer
from netsim.mail.imap.server import ImapServer
from netsim.mail.store import MailStore
from netsim.mail.users import Users

from .helpers import SIMPLE, USERS, Client, make_server, split_lines, untagged


def highest(lines: list[bytes]) -> int:
    """The HIGHESTMODSEQ a SELECT or STATUS answered."""
    for line in lines:
        found = re.search(rb"HIGHESTMODSEQ (\d+)", line)
        if found:
            return int(found.group(1))
    raise AssertionError(f"no HIGHESTMODSEQ in {lines}")


def modseqs(lines: list[bytes]) -> dict[int, int]:
    """UID -> MODSEQ from FETCH responses that carry both."""
    found = {}
    for line in lines:
        m = re.search(rb"UID (\d+).*MODSEQ \((\d+)\)", line)
        if m:
            found[int(m.group(1))] = int(m.group(2))
    return found


@pytest.fixture
def server() -> ImapServer:
    """A fresh in-memory server; alice's INBOX holds five messages."""
    server = make_server()
    alice = Client(server, "alice")
    for _ in range(5):
        alice.append("INBOX", SIMPLE)
    return server


def test_capabilities_and_enable(server: ImapServer) -> None:
    """Both are advertised; ENABLE names what it turned on, once (RFC 5161)."""
    c = Client(server, "alice")
    caps = untagged(c.ok("CAPABILITY"), b"CAPABILITY")[0].split()
    assert b"CONDSTORE" in caps and b"QRESYNC" in caps
    assert c.ok("ENABLE QRESYNC") == [b"* ENABLED QRESYNC"]
    assert c.ok("ENABLE QRESYNC CONDSTORE") == [b"* ENABLED"], "QRESYNC implies CONDSTORE"


def test_highestmodseq_grows_with_every_change(server: ImapServer) -> None:
    """SELECT and STATUS report HIGHESTMODSEQ; a flag change raises it; a no-op does not."""
    c = Client(server, "alice")
    before = highest(c.ok("STATUS INBOX (HIGHESTMODSEQ MESSAGES)"))
    assert before == highest(c.ok("SELECT INBOX"))
    c.ok("STORE 2 +FLAGS (\\Flagged)")
    after = highest(c.ok("STATUS INBOX (HIGHESTMODSEQ)"))
    assert after > before
    c.ok("STORE 2 +FLAGS (\\Flagged)")  # already set: nothing changes
    assert highest(c.ok("STATUS INBOX (HIGHESTMODSEQ)")) == after


def test_fetch_changedsince_returns_only_later_changes(server: ImapServer) -> None:
    """RFC 7162 3.1.4.1: FETCH (CHANGEDSINCE n) shows messages whose MODSEQ > n, with MODSEQ."""
    c = Client(server, "alice")
    mark = highest(c.ok("SELECT INBOX"))
    c.ok("STORE 2,4 +FLAGS (\\Seen)")
    lines = c.ok(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {mark})")
    assert sorted(modseqs(lines)) == [2, 4]
    assert all(v > mark for v in modseqs(lines).values())
    now = highest(c.ok("STATUS INBOX (HIGHESTMODSEQ)"))
    assert c.ok(f"FETCH 1:* (FLAGS) (CHANGEDSINCE {now})") == []
    # MODSEQ as an item: every message has one, and the appends' are all <= mark.
    every = modseqs(c.ok("UID FETCH 1:* (MODSEQ)"))
    assert len(every) == 5 and every[1] <= mark < every[2]


def test_flags_come_with_modseq_once_enabled(server: ImapServer) -> None:
    """After a CONDSTORE-enabling command, FETCH FLAGS and STORE answers carry MODSEQ,
    and so does the news of another session's change (RFC 7162 3.1)."""
    c = Client(server, "alice")
    c.ok("SELECT INBOX")
    assert b"MODSEQ" not in c.ok("FETCH 1 (FLAGS)")[0]
    c.ok("FETCH 1 (MODSEQ)")  # a CONDSTORE-enabling command
    assert b"MODSEQ" in c.ok("FETCH 1 (FLAGS)")[0]
    [stored] = c.ok("STORE 1 +FLAGS (\\Answered)")
    assert re.fullmatch(rb"\* 1 FETCH \(FLAGS \(\\Answered( \\Recent)?\) MODSEQ \(\d+\)\)", stored)
    other = Client(server, "alice")
    other.ok("SELECT INBOX")
    other.ok("STORE 3 +FLAGS (\\Flagged)")
    news = untagged(c.ok("NOOP"), b"FETCH")
    assert len(news) == 1 and b"UID 3 " in news[0] and b"MODSEQ (" in news[0]


def test_unchangedsince_protects_against_lost_updates(server: ImapServer) -> None:
    """RFC 7162 example 10: a message changed since the client's mod-sequence is left
    alone and named in OK [MODIFIED]; the others are changed, and .SILENT still tells
    their new MODSEQ."""
    c = Client(server, "alice")
    mark = highest(c.ok("SELECT INBOX"))
    other = Client(server, "alice")
    other.ok("SELECT INBOX")
    other.ok("STORE 3 +FLAGS (\\Seen)")  # behind c's back
    status, lines = c.cmd(f"STORE 1:3 (UNCHANGEDSINCE {mark}) +FLAGS.SILENT (\\Deleted)")
    assert status == "OK" and b"[MODIFIED 3]" in lines[-1]
    silent = [line for line in lines if b"FETCH (MODSEQ (" in line]
    assert [line.split()[1] for line in silent] == [b"1", b"2"]
    flags = c.ok("FETCH 1:3 (FLAGS)")
    assert b"\\Deleted" in flags[0] and b"\\Deleted" in flags[1]
    assert b"\\Deleted" not in next(f for f in flags if f.startswith(b"* 3 "))
    # UNCHANGEDSINCE 0 always fails (3.1.3), and UID STORE names UIDs.
    status, lines = c.cmd("UID STORE 4,5 (UNCHANGEDSINCE 0) +FLAGS (\\Flagged)")
    assert status == "OK" and b"[MODIFIED 4:5]" in lines[-1]


def test_search_modseq(server: ImapServer) -> None:
    """RFC 7162 3.1.5: SEARCH MODSEQ n finds messages changed at n or later and answers
    with the highest MODSEQ among them; an entry name is accepted."""
    c = Client(server, "alice")
    mark = highest(c.ok("SELECT INBOX"))
    c.ok("STORE 4 +FLAGS (\\Draft)")
    now = highest(c.ok("STATUS INBOX (HIGHESTMODSEQ)"))
    assert c.ok(f"SEARCH MODSEQ {mark + 1}") == [b"* SEARCH 4 (MODSEQ %d)" % now]
    lines = c.ok(f'UID SEARCH MODSEQ "/flags/\\\\draft" all {mark + 1}')
    assert lines == [b"* SEARCH 4 (MODSEQ %d)" % now]
    assert c.ok(f"SEARCH MODSEQ {now + 1}") == [b"* SEARCH"]
    assert c.status("SEARCH MODSEQ x") == "BAD"


def test_qresync_select_reports_vanished_and_changed(server: ImapServer) -> None:
    """RFC 7162 3.2.5: SELECT (QRESYNC (uidvalidity modseq)) answers with VANISHED
    (EARLIER) for what was expunged since and FETCH for what changed since."""
    c = Client(server, "alice")
    lines = c.ok("SELECT INBOX")
    mark = highest(lines)
    uidvalidity = int(re.search(rb"UIDVALIDITY (\d+)", b" ".join(lines)).group(1))  # type: ignore[union-attr]
    c.ok("STORE 2,3 +FLAGS (\\Deleted)")
    c.ok("EXPUNGE")
    c.ok("UID STORE 4 +FLAGS (\\Seen)")
    c.ok("LOGOUT")
    again = Client(server, "alice")
    assert again.status(f"SELECT INBOX (QRESYNC ({uidvalidity} {mark}))") == "BAD"
    again.ok("ENABLE QRESYNC")
    lines = again.ok(f"SELECT INBOX (QRESYNC ({uidvalidity} {mark}))")
    assert b"* VANISHED (EARLIER) 2:3" in lines
    changed = [line for line in lines if b"FETCH" in line]
    assert len(changed) == 1 and changed[0].startswith(b"* 2 FETCH (UID 4 FLAGS (\\Seen")
    # Known UIDs narrow the report; a wrong UIDVALIDITY gets a plain SELECT.
    lines = again.ok(f"SELECT INBOX (QRESYNC ({uidvalidity} {mark} 1:2,5))")
    assert lines[0] == b"* OK [CLOSED] Previous mailbox closed"
    assert b"* VANISHED (EARLIER) 2" in lines and not untagged(lines, b"FETCH")
    lines = again.ok(f"SELECT INBOX (QRESYNC ({uidvalidity + 1} {mark}))")
    assert not untagged(lines, b"VANISHED") and not untagged(lines, b"FETCH")


def test_qresync_tells_expunges_as_vanished(server: ImapServer) -> None:
    """RFC 7162 3.2.10: with QRESYNC on, expunges are VANISHED uid-sets, not EXPUNGE."""
    c = Client(server, "alice")
    c.ok("ENABLE QRESYNC")
    mark = highest(c.ok("SELECT INBOX"))
    c.ok("STORE 1,2,5 +FLAGS.SILENT (\\Deleted)")
    lines = c.ok("EXPUNGE")
    assert lines == [b"* VANISHED 1:2,5"]
    gone = c.ok(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {mark} VANISHED)")
    assert gone == [b"* VANISHED (EARLIER) 1:2,5"]
    assert c.status("FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)") == "BAD", "UID FETCH only"


def test_modseqs_survive_a_restart(tmp_path: Path) -> None:
    """Mod-sequences are durable: reopening (which compacts the journal) keeps every
    message's MODSEQ, HIGHESTMODSEQ and the expunge log, so they never go backwards."""
    store = MailStore(tmp_path)
    server = make_server(store=store)
    c = Client(server, "alice")
    for _ in range(4):
        c.append("INBOX", SIMPLE)
    c.ok("ENABLE QRESYNC")
    mark = highest(c.ok("SELECT INBOX"))
    c.ok("STORE 2 +FLAGS (\\Seen)")
    c.ok("STORE 3 +FLAGS (\\Deleted)")
    c.ok("EXPUNGE")
    before = modseqs(c.ok("UID FETCH 1:* (MODSEQ)"))
    top = highest(c.ok("STATUS INBOX (HIGHESTMODSEQ)"))
    store.close()
    for _ in range(2):  # the second open reads the compacted journal
        store = MailStore(tmp_path)
        c = Client(make_server(store=store), "alice")
        c.ok("ENABLE QRESYNC")
        assert highest(c.ok("STATUS INBOX (HIGHESTMODSEQ)")) == top
        c.ok("SELECT INBOX")
        assert modseqs(c.ok("UID FETCH 1:* (MODSEQ)")) == before
        resync = c.ok(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {mark} VANISHED)")
        assert resync[0] == b"* VANISHED (EARLIER) 3"
        store.close()
    store = MailStore(tmp_path)
    box = store.mailbox("alice", "INBOX")
    assert box is not None
    store.store_flags(box, [1], ["\\Flagged"], "add")
    assert box.modseq == top + 1 and box.by_uid[1].modseq == top + 1
    store.close()


def test_commands_fed_one_byte_at_a_time(server: ImapServer) -> None:
    """The new grammar goes through the same framing: byte by byte gives the same answer."""
    script = [
        b"a ENABLE QRESYNC\r\n",
        b"b SELECT INBOX (QRESYNC (1 1 1:* (1:2 1:2)))\r\n",
        b"c UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)\r\n",
        b"d STORE 1 (UNCHANGEDSINCE 99) +FLAGS (\\Seen)\r\n",
        b'e SEARCH MODSEQ "/flags/\\\\seen" priv 1\r\n',
    ]
    whole = Client(server, "alice")
    expected = [whole.raw(line) for line in script]
    server2 = make_server()
    bytewise = Client(server2, "alice")
    for _ in range(5):
        bytewise.append("INBOX", SIMPLE)
    got = [b"".join(bytewise.raw(line[i : i + 1]) for i in range(len(line))) for line in script]

    def normal(out: bytes) -> bytes:  # UIDVALIDITY comes from the clock
        return re.sub(rb"UIDVALIDITY \d+", b"UIDVALIDITY x", out)

    assert [normal(o) for o in got] == [normal(o) for o in expected]
    assert all(split_lines(o)[-1].split()[1] == b"OK" for o in expected)


_token = st.sampled_from(
    ["CHANGEDSINCE", "UNCHANGEDSINCE", "VANISHED", "QRESYNC", "CONDSTORE", "MODSEQ", "0", "1",
     "7", "18446744073709551616", "1:*", "(", ")", '"/flags/\\\\seen"', "all", "x"]
)  # fmt: skip


@settings(derandomize=True, max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    verb=st.sampled_from(["UID FETCH 1:* (FLAGS)", "STORE 1", "SELECT INBOX", "SEARCH"]),
    tokens=st.lists(_token, max_size=8),
)
def test_fuzzed_modifiers_get_an_answer(server: ImapServer, verb: str, tokens: list[str]) -> None:
    """Random modifier lists never crash the session (debug mode would raise): each
    command gets a tagged OK, NO or BAD and the session goes on."""
    c = Client(server, "alice")
    c.ok("ENABLE QRESYNC")
    c.ok("SELECT INBOX")
    tail = " ".join(tokens)
    if verb == "STORE 1":
        line = f"STORE 1 ({tail}) +FLAGS (\\Seen)"
    elif verb == "SEARCH":
        line = f"SEARCH {tail or 'ALL'}"
    else:
        line = f"{verb} ({tail})"
    assert c.status(line) in ("OK", "NO", "BAD")
    assert c.status("NOOP") == "OK"


def test_imaplib_resynchronizes_with_condstore() -> None:
    """Python's imaplib against serve-mail on a real socket: remember HIGHESTMODSEQ,
    let another client change a flag, fetch only the difference, and see a
    conditional STORE refuse the message the other client changed."""
    background = BackgroundServer(
        ImapServer(MailStore(), Users(USERS)), allow_plaintext_login=True
    ).start()
    try:
        a = imaplib.IMAP4("127.0.0.1", background.port)
        a.login("alice", USERS["alice"])
        assert "CONDSTORE" in a.capabilities and "QRESYNC" in a.capabilities
        for _ in range(3):
            assert a.append("INBOX", None, None, SIMPLE)[0] == "OK"
        assert a.enable("CONDSTORE")[0] == "OK"
        assert a.select("INBOX")[0] == "OK"
        mark = int(a.untagged_responses["HIGHESTMODSEQ"][0])
        b = imaplib.IMAP4("127.0.0.1", background.port)
        b.login("alice", USERS["alice"])
        b.select("INBOX")
        b.store("2", "+FLAGS", "(\\Flagged)")
        b.logout()
        status, data = a.uid("FETCH", "1:*", "(FLAGS)", f"(CHANGEDSINCE {mark})")
        assert status == "OK" and data
        for item in data:
            assert isinstance(item, bytes)
            assert b"UID 2 " in item and b"\\Flagged" in item and b"MODSEQ (" in item
        status, data = a.store("1:3", f"(UNCHANGEDSINCE {mark}) +FLAGS.SILENT", "(\\Seen)")
        # .SILENT: only the new MODSEQ of the two messages changed; 2 was left alone.
        assert status == "OK" and [d.split()[0] for d in data if isinstance(d, bytes)] == [
            b"1",
            b"3",
        ]
        status, data = a.fetch("1:3", "(FLAGS)")
        seen = [b"\\Seen" in item for item in data if isinstance(item, bytes)]
        assert seen == [True, False, True]
        a.logout()
    finally:
        background.stop()
