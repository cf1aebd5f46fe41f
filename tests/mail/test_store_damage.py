"""A damaged store loses only what is damaged, says where, and never deletes the rest.

Disks flip bits, editors truncate files, people paste into the wrong window.  Whatever
happened to a store's files, opening it must not end in a traceback, must not skip good
records because a bad one came first, and must never let compaction delete a blob that a
record it could not read might refer to.  Each test damages a store the way a real
accident would, then reopens it (several times: every open used to compact).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import imaplib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netsim.apps import serve_mail
from netsim.mail.records import FIELDS
from netsim.mail.store import MailStore, MessageLost, StoreDamaged, StoreError
from tests.mail.imap.helpers import Client, make_server

WHEN = dt.datetime(2020, 2, 5, 10, 0, tzinfo=dt.UTC)
COUNT = 20


def message(i: int) -> bytes:
    return b"Subject: message %d\r\n\r\nbody %d\r\n" % (i, i)


def fill(directory: Path) -> None:
    """A store with alice's default mailboxes and COUNT acknowledged messages."""
    store = MailStore(directory)
    store.ensure_user("alice")
    inbox = store.mailbox("alice", "INBOX")
    assert inbox is not None
    for i in range(1, COUNT + 1):
        store.append(inbox, [(message(i), [], WHEN)])
    store.close()


def lines_of(directory: Path) -> list[bytes]:
    return (directory / "journal.log").read_bytes().splitlines()


def write_lines(directory: Path, lines: list[bytes], end: bytes = b"\n") -> None:
    (directory / "journal.log").write_bytes(b"\n".join(lines) + end)


def blob_path(directory: Path, data: bytes) -> Path:
    key = hashlib.sha256(data).hexdigest()
    return directory / "blobs" / key[:2] / f"{key}.eml"


def blob_count(directory: Path) -> int:
    return len(list((directory / "blobs").rglob("*.eml")))


def inbox_of(store: MailStore) -> list[int]:
    inbox = store.mailbox("alice", "INBOX")
    assert inbox is not None
    return [m.uid for m in inbox.messages]


def damage(store: MailStore) -> list[str]:
    return [str(p) for p in store.problems if p.damage]


def line_of(directory: Path, text: bytes) -> int:
    """The 1-based number of the journal line that contains ``text``."""
    return next(n for n, line in enumerate(lines_of(directory), 1) if text in line)


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    path = tmp_path / "store"
    fill(path)
    return path


def test_a_garbage_line_in_the_middle_loses_nothing(directory: Path) -> None:
    """The issue's case: every record after the garbage still applies, at every reopen.

    Replay used to stop at the first bad line, and the compaction that followed deleted
    the blobs of the ten later messages.  Now the bad line is reported by number, left
    where it is, and the store is not compacted while it is there.
    """
    lines = lines_of(directory)
    middle = len(lines) // 2
    lines.insert(middle, b"\x00 this is not JSON \xff {")
    write_lines(directory, lines)
    for _ in range(3):
        store = MailStore(directory)
        assert inbox_of(store) == list(range(1, COUNT + 1))
        inbox = store.mailbox("alice", "INBOX")
        assert inbox is not None and [m.data for m in inbox.messages][-1] == message(COUNT)
        [problem] = damage(store)
        assert problem.startswith(f"journal.log line {middle + 1}: not JSON")
        store.close()
    assert blob_count(directory) == COUNT
    assert lines_of(directory)[middle] == b"\x00 this is not JSON \xff {"  # left in place


def test_a_damaged_record_keeps_its_blob_until_someone_repairs_the_line(directory: Path) -> None:
    """A garbled APPEND loses its message from the mailbox, never its bytes from disk.

    Nobody can tell which blobs an unreadable line refers to, so none is deleted while
    it is there; repairing the line by hand then brings the message back.
    """
    number = line_of(directory, hashlib.sha256(message(7)).hexdigest().encode())
    lines = lines_of(directory)
    original = lines[number - 1]
    lines[number - 1] = original.replace(b'"op":"append"', b'"op":"app\x07nd')
    write_lines(directory, lines)
    for _ in range(2):
        store = MailStore(directory)
        assert 7 not in inbox_of(store) and len(inbox_of(store)) == COUNT - 1
        [problem] = damage(store)
        assert problem.startswith(f"journal.log line {number}: not JSON")
        assert hashlib.sha256(message(7)).hexdigest()[:12] in problem  # "blobs it names"
        store.close()
        assert blob_path(directory, message(7)).exists()
    lines[number - 1] = original
    write_lines(directory, lines)
    store = MailStore(directory)
    assert inbox_of(store) == list(range(1, COUNT + 1)) and damage(store) == []
    store.close()


def test_a_damaged_last_append_never_lets_its_uid_be_reused(directory: Path) -> None:
    """A damaged store still takes mail, but never under a UID a damaged line may hold.

    The garbled line is the last APPEND of INBOX, so without it INBOX's next UID would
    be 20 again, and a client that cached message 20 would show it for the new one
    (RFC 3501 2.3.1.1: a UID names one message for as long as UIDVALIDITY holds).  Once
    the line is repaired, both messages are there under their own UIDs.
    """
    number = line_of(directory, hashlib.sha256(message(COUNT)).hexdigest().encode())
    lines = lines_of(directory)
    original = lines[number - 1]
    lines[number - 1] = b"\x00" * 10 + original[10:]
    write_lines(directory, lines)
    store = MailStore(directory)
    assert inbox_of(store) == list(range(1, COUNT))
    inbox = store.mailbox("alice", "INBOX")
    assert inbox is not None
    new_uid = store.append(inbox, [(b"new", [], WHEN)])[0].uid
    assert new_uid > COUNT
    store.close()
    lines = lines_of(directory)
    lines[number - 1] = original
    write_lines(directory, lines)
    again = MailStore(directory)
    assert inbox_of(again) == [*range(1, COUNT + 1), new_uid] and damage(again) == []
    again.close()


HEX = "ab" * 32

INVALID_RECORDS: list[tuple[str, str]] = [
    ("[]", "expected a JSON object"),
    ("null", "expected a JSON object"),
    ('"append"', "expected a JSON object"),
    ('{"op":"frobnicate"}', "unknown op 'frobnicate'"),
    ('{"id":1}', "unknown op None"),
    ('{"op":"append","id":1}', "lacks the field 'messages'"),
    ('{"op":"append","id":"1","messages":[]}', "field 'id' must be an integer"),
    ('{"op":"create","id":true,"owner":"x","name":"y","uidvalidity":1}', "field 'id' must be"),
    ('{"op":"flags","id":1,"changes":[[1,"\\\\Seen"]]}', "field 'changes'[0][1] must be a list"),
    ('{"op":"flags","id":1,"changes":[[1,["two words"]]]}', "must be a flag"),
    ('{"op":"expunge","id":1,"uids":[1],"extra":2}', "has no field 'extra'"),
    ('{"op":"expunge","id":1,"uids":[4294967296]}', "must be an integer in 1..4294967295"),
    ('{"op":"acl","id":1,"who":"bob","rights":"lrz"}', "must be ACL rights"),
    ('{"op":"subscribe","user":"alice","name":5,"on":true}', "field 'name' must be text"),
    (
        '{"op":"append","id":1,"messages":[[90,"../../../../etc/passwd",[],"2020-01-01T00:00"]]}',
        "must be a blob name",
    ),
    (
        '{"op":"append","id":1,"messages":[[90,"' + HEX + '",[],"yesterday"]]}',
        "must be an ISO 8601 date and time with a UTC offset, got 'yesterday'; it is not"
        " applied (lost with it: 1 message(s) for alice/INBOX); the blobs it names are kept"
        " (abababababab...)",
    ),
    ('{"op":"batch","records":[{"op":"batch","records":[]}]}', "batches do not nest"),
    ('{"op":"batch","records":[{"op":"nope"}]}', "records'[0] must be a valid record"),
    ("[" * 100_000, "not JSON (nested too deeply)"),
    ('{"op":"meta","last_uidvalidity":' + "[" * 900 + "]" * 900 + "}", "must be an integer"),
    # Well-formed, but not consistent with the records before it:
    ('{"op":"append","id":99,"messages":[]}', "mailbox id 99 does not exist"),
    ('{"op":"flags","id":1,"changes":[[999,["\\\\Seen"]]]}', "UID 999 is not in mailbox alice"),
    ('{"op":"create","id":1,"owner":"alice","name":"Other","uidvalidity":5}', "id 1 already"),
    ('{"op":"create","id":77,"owner":"alice","name":"Sent","uidvalidity":5}', "alice/Sent already"),
    ('{"op":"rename","moves":[[2,"INBOX"]]}', "mailbox alice/INBOX already exists"),
    (
        '{"op":"append","id":1,"messages":[[1,"' + HEX + '",[],"2020-01-01T00:00:00+00:00"]]}',
        "UID 1 is already taken in mailbox alice/INBOX",
    ),
]


@pytest.mark.parametrize(("line", "reason"), INVALID_RECORDS)
def test_a_line_that_is_no_valid_record_is_reported_and_skipped(
    directory: Path, line: str, reason: str
) -> None:
    """Valid JSON is not enough: each record must have its op's fields, types and ranges,
    and fit the records before it.  A line that does not is reported (file, line, why),
    changes nothing, and every other record still applies."""
    lines = lines_of(directory)
    lines.insert(len(lines) - 5, line.encode())
    write_lines(directory, lines)
    store = MailStore(directory)
    assert inbox_of(store) == list(range(1, COUNT + 1))
    assert [box.name for box in store.mailboxes("alice")] == [
        "Drafts",
        "INBOX",
        "Junk",
        "Sent",
        "Trash",
    ]
    [problem] = damage(store)
    assert problem.startswith(f"journal.log line {len(lines) - 5}: ")
    assert reason in problem
    store.close()


def test_a_batch_that_does_not_fit_changes_nothing(directory: Path) -> None:
    """A batch (one atomic record) is checked whole before any part of it applies."""
    half = {
        "op": "batch",
        "records": [
            {"op": "create", "id": 50, "owner": "alice", "name": "Half", "uidvalidity": 7},
            {"op": "flags", "id": 50, "changes": [[1, []]]},
        ],
    }
    lines = lines_of(directory)
    lines.append(json.dumps(half).encode())
    write_lines(directory, lines)
    store = MailStore(directory)
    assert store.mailbox("alice", "Half") is None
    [problem] = damage(store)
    assert "records[1]: UID 1 is not in mailbox id 50" in problem
    assert store.create_mailbox("alice", "Half").name == "Half"
    store.close()


def test_later_records_of_a_lost_mailbox_are_reported_not_guessed(directory: Path) -> None:
    """When the record that created a mailbox is damaged, the records that use it are
    reported too, each with the likely cause; repairing the one line restores all."""
    store = MailStore(directory)
    work = store.create_mailbox("alice", "Work")
    store.append(work, [(b"w1", [], WHEN), (b"w2", [], WHEN)])
    store.store_flags(work, [1], ["\\Seen"], "add")
    store.close()
    number = line_of(directory, b'"name":"Work"')
    lines = lines_of(directory)
    original = lines[number - 1]
    lines[number - 1] = b"{" + original[2:]
    write_lines(directory, lines)
    store = MailStore(directory)
    assert store.mailbox("alice", "Work") is None
    problems = damage(store)
    assert len(problems) == 3
    assert "the record that created it may be the damaged one" in problems[1]
    store.close()
    lines[number - 1] = original
    write_lines(directory, lines)
    store = MailStore(directory)
    repaired = store.mailbox("alice", "Work")
    assert repaired is not None and repaired.by_uid[1].flags == {"\\Seen"}
    assert damage(store) == []
    store.close()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
ops = st.sampled_from(sorted(FIELDS))
field_names = st.sampled_from(
    sorted({name for fields in FIELDS.values() for f in fields for name in f})
)
record_like = st.builds(
    lambda op, fields: {"op": op, **fields},
    ops,
    st.dictionaries(field_names, json_values | st.integers(-2, 30), max_size=5),
)
hostile_line = (
    st.binary(max_size=60).map(lambda b: b.replace(b"\n", b" "))
    | json_values.map(lambda v: json.dumps(v).encode())
    | record_like.map(lambda r: json.dumps(r).encode())
)


@pytest.fixture(scope="module")
def pristine() -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        fill(Path(tmp) / "store")
        yield Path(tmp) / "store"


@settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(line=hostile_line, where=st.integers(1, 10))
def test_any_line_anywhere_never_breaks_opening(pristine: Path, line: bytes, where: int) -> None:
    """Random bytes, random JSON and random record-like objects, inserted anywhere:
    opening never raises, the line is either applied or reported by its number, and
    while it is reported no blob is deleted."""
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "store"
        shutil.copytree(pristine, directory, ignore=shutil.ignore_patterns("lock"))
        lines = lines_of(directory)
        lines.insert(len(lines) - where, line)
        write_lines(directory, lines)
        store = MailStore(directory)
        problems = damage(store)
        assert problems in ([], [problems[0]])
        if problems:
            assert problems[0].startswith(f"journal.log line {len(lines) - where}: ")
            assert blob_count(directory) == COUNT
        inbox = store.mailbox("alice", "INBOX")
        for msg in inbox.messages if inbox is not None else []:
            assert msg.data == message(msg.uid)
        store.close()


def test_a_missing_blob_costs_only_its_message(directory: Path) -> None:
    """One deleted blob file: the other messages are served, the lost one is reported
    with its mailbox and UID, keeps its UID and flags, and answers reads with an error."""
    blob_path(directory, message(5)).unlink()
    for _ in range(2):  # the report survives a compaction
        store = MailStore(directory)
        inbox = store.mailbox("alice", "INBOX")
        assert inbox is not None and inbox_of(store) == list(range(1, COUNT + 1))
        [problem] = damage(store)
        assert problem.startswith(f"blobs/{hashlib.sha256(message(5)).hexdigest()[:2]}/")
        assert "missing" in problem and "alice/INBOX UID 5" in problem
        assert inbox.by_uid[4].data == message(4)
        with pytest.raises(MessageLost, match="UID 5 cannot be read"):
            _ = inbox.by_uid[5].data
        store.close()


def test_imap_answers_no_for_a_lost_message_and_serves_the_rest(directory: Path) -> None:
    """Over IMAP: FETCH of the lost bytes is NO [CORRUPTION], everything else works."""
    blob_path(directory, message(5)).unlink()
    store = MailStore(directory)
    alice = Client(make_server(store=store), "alice")
    assert b"* 20 EXISTS" in alice.ok("SELECT INBOX")
    status, lines = alice.cmd("FETCH 5 BODY.PEEK[]")
    assert status == "NO" and b"[CORRUPTION]" in lines[-1] and b"UID 5" in lines[-1]
    status, lines = alice.cmd("FETCH 5 BODY[]")  # not PEEK: would set \Seen if it were read
    assert status == "NO" and b"[CORRUPTION]" in lines[-1]
    assert b"\\Seen" not in alice.ok("FETCH 5 (FLAGS)")[0], "an unreadable message stays unseen"
    assert len(alice.ok("FETCH 1:* (UID FLAGS INTERNALDATE)")) == COUNT
    assert message(6) in alice.ok("FETCH 6 BODY.PEEK[]")[0]
    alice.ok("STORE 5 +FLAGS (\\Deleted)")
    alice.ok("EXPUNGE")  # a lost message can still be thrown away
    store.close()
    again = MailStore(directory)
    assert damage(again) == [] and len(inbox_of(again)) == COUNT - 1
    again.close()


def test_search_answers_for_the_readable_messages_and_names_the_lost(directory: Path) -> None:
    """SEARCH on text, size or headers needs the bytes: a lost message is left out and
    named in an untagged NO [CORRUPTION], while every other message is still searched."""
    blob_path(directory, message(5)).unlink()
    store = MailStore(directory)
    alice = Client(make_server(store=store), "alice")
    alice.ok("SELECT INBOX")
    for criterion in ("BODY body", "LARGER 1", "NOT SUBJECT nothing-like-this"):
        status, lines = alice.cmd(f"UID SEARCH {criterion}")
        assert status == "OK", lines
        assert b"* NO [CORRUPTION] UID 5 cannot be read" in lines[0]
        found = [int(n) for n in lines[1].split()[2:]]
        assert found == [uid for uid in range(1, COUNT + 1) if uid != 5]
    # Keys that need no bytes (flags, UIDs) still see the message.
    assert alice.ok("UID SEARCH UID 5 UNSEEN") == [b"* SEARCH 5"]
    store.close()


def test_a_corrupt_blob_is_never_served_and_the_same_bytes_repair_it(directory: Path) -> None:
    """Blobs are named by their SHA-256: a blob whose bytes no longer match is reported,
    not served, and not deleted; when the same message arrives again, it heals."""
    path = blob_path(directory, message(3))
    path.write_bytes(message(3).replace(b"body", b"BODY"))
    store = MailStore(directory)
    [problem] = damage(store)
    assert "corrupt" in problem and "alice/INBOX UID 3" in problem
    inbox = store.mailbox("alice", "INBOX")
    assert inbox is not None
    with pytest.raises(MessageLost):
        _ = inbox.by_uid[3].data
    store.close()
    store = MailStore(directory)  # compaction kept the damaged file: it is evidence
    assert path.exists() and len(damage(store)) == 1
    inbox = store.mailbox("alice", "INBOX")
    assert inbox is not None
    store.append(inbox, [(message(3), [], WHEN)])
    assert inbox.by_uid[3].data == message(3)
    assert path.read_bytes() == message(3)
    store.close()
    again = MailStore(directory)
    assert damage(again) == []
    again.close()


def test_a_torn_last_line_is_recovered_and_logged(
    directory: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A crash mid-write leaves a last line without its newline.  It was never fsync'ed,
    so never acknowledged: dropping it is recovery, not damage, but it is logged."""
    torn = b'{"op":"expunge","id":1,"uids":[1,2,3'
    write_lines(directory, [*lines_of(directory), torn], end=b"")
    store = MailStore(directory)
    assert inbox_of(store) == list(range(1, COUNT + 1)) and damage(store) == []
    [note] = store.problems
    assert f"{len(torn)} bytes" in str(note) and "never acknowledged" in str(note)
    assert "torn last record" in caplog.text
    store.close()


def test_a_torn_line_is_cut_off_even_when_the_journal_is_not_compacted(directory: Path) -> None:
    """Without compaction (a damaged line is present) the journal is appended to as it
    is: the torn bytes must be cut off first, or the next record would be glued to them."""
    lines = lines_of(directory)
    lines.insert(2, b"garbage")
    write_lines(directory, [*lines, b'{"op":"rec'], end=b"")
    store = MailStore(directory)
    inbox = store.mailbox("alice", "INBOX")
    assert inbox is not None
    store.append(inbox, [(b"after the crash", [], WHEN)])
    store.close()
    again = MailStore(directory)
    assert len(inbox_of(again)) == COUNT + 1 and len(damage(again)) == 1
    again.close()


@pytest.mark.parametrize("how", ["empty", "missing"])
def test_a_lost_journal_next_to_blobs_is_refused_not_wiped(
    directory: Path, how: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """No journal but message blobs is a damaged store, not a new one: starting afresh
    would serve empty mailboxes and the next compaction would delete every message."""
    journal = directory / "journal.log"
    if how == "empty":
        journal.write_bytes(b"")
    else:
        journal.unlink()
    with pytest.raises(StoreDamaged, match=f"journal.log is {how} but .* holds 20 message"):
        MailStore(directory)
    assert blob_count(directory) == COUNT
    assert journal.exists() == (how == "empty")
    if how == "empty":
        assert journal.read_bytes() == b""
    MailStore(directory.parent / "fresh").close()  # an empty directory is a new store
    users = directory.parent / "users.txt"
    users.write_text("alice:wonderland\n")
    argv = [
        "--imap",
        "0",
        "--users",
        str(users),
        "--store",
        str(directory),
        "--allow-plaintext-login",
    ]
    assert serve_mail.main(argv) == 2
    assert "is a damaged store, not a new one" in capsys.readouterr().err


def test_a_read_only_store_changes_nothing(directory: Path) -> None:
    """The --check mode: replay and verify, but write, lock and compact nothing."""
    lines = lines_of(directory)
    lines.insert(4, b"garbage")
    write_lines(directory, lines, end=b"\n{torn")
    (directory / "lock").unlink()
    before = {p: p.read_bytes() for p in directory.rglob("*") if p.is_file()}
    store = MailStore(directory, read_only=True)
    assert len(damage(store)) == 1 and len(store.problems) == 2
    inbox = store.mailbox("alice", "INBOX")
    assert inbox is not None
    with pytest.raises(StoreError, match="read-only"):
        store.append(inbox, [(b"x", [], WHEN)])
    store.close()
    assert {p: p.read_bytes() for p in directory.rglob("*") if p.is_file()} == before


def test_a_complete_last_line_without_newline_is_kept(directory: Path) -> None:
    """An editor may save a hand-repaired journal without the final newline.  A crash
    cannot leave valid JSON behind, so such a line is a record: kept, not dropped."""
    store = MailStore(directory)
    inbox = store.mailbox("alice", "INBOX")
    assert inbox is not None
    store.expunge(inbox, [1])
    store.close()
    lines = lines_of(directory)
    lines.insert(2, b"garbage")  # so that the journal is appended to, not compacted
    write_lines(directory, lines, end=b"")
    store = MailStore(directory)
    assert inbox_of(store) == list(range(2, COUNT + 1))
    assert any("lacks its newline" in str(p) and not p.damage for p in store.problems)
    inbox = store.mailbox("alice", "INBOX")
    assert inbox is not None
    store.append(inbox, [(b"later", [], WHEN)])
    store.close()
    again = MailStore(directory)
    assert len(inbox_of(again)) == COUNT and len(damage(again)) == 1
    again.close()


def test_serve_mail_starts_on_a_damaged_store_and_serves_the_rest(directory: Path) -> None:
    """The real server, on real sockets, with stock imaplib: a garbage line, an invalid
    record and a missing blob are logged at start, and everything else is served."""
    lines = lines_of(directory)
    lines.insert(5, b"garbage")
    lines.insert(9, b'{"op":"append","id":1}')
    write_lines(directory, lines)
    blob_path(directory, message(2)).unlink()
    users = directory.parent / "users.txt"
    users.write_text("alice:wonderland\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    command = [
        "serve-mail",
        "--imap",
        "0",
        "--users",
        str(users),
        "--store",
        str(directory),
        "--allow-plaintext-login",
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "netsim", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:
        ready = proc.stdout.readline().decode()
        port = int(ready.rsplit(":", 1)[1])
        client = imaplib.IMAP4("127.0.0.1", port, timeout=30)
        client.login("alice", "wonderland")
        assert client.select("INBOX") == ("OK", [str(COUNT).encode()])
        status, _ = client.fetch("3", "(BODY.PEEK[])")
        assert status == "OK"
        status, data = client.fetch("2", "(BODY.PEEK[])")
        assert status == "NO" and b"[CORRUPTION] message UID 2 cannot be read" in data[-1]
        assert client.fetch("2", "(UID FLAGS)")[0] == "OK"
        client.logout()
    finally:
        proc.terminate()
        proc.wait(30)
    log = proc.stderr.read().decode()
    assert "journal.log line 6: not JSON" in log
    assert "journal.log line 10: not a valid record: op 'append' lacks the field" in log
    assert "missing; messages without their bytes" in log and "Traceback" not in log
