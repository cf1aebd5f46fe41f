"""``netsim serve-mail --check --store DIR``: a report of a store, changing nothing.

The check replays the store exactly as a server would, so every kind of damage the
server survives is also what the check reports: with the file and line, or the blob,
and the messages it costs.  Exit status 0 means clean (crash artefacts that the next start
tidies up are notes, not damage), 1 damaged, 2 no store to check.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from netsim.apps import serve_mail
from netsim.mail.store import MailStore

WHEN = dt.datetime(2020, 2, 5, 10, 0, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parents[2]


def body(i: int) -> bytes:
    return b"Subject: %d\r\n\r\nbody %d\r\n" % (i, i)


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    """alice: 10 messages in INBOX, 2 in Archive; bob: 1 in INBOX."""
    path = tmp_path / "store"
    store = MailStore(path)
    for user in ("alice", "bob"):
        store.ensure_user(user)
    inbox = store.mailbox("alice", "INBOX")
    assert inbox is not None
    for i in range(1, 11):
        store.append(inbox, [(body(i), [], WHEN)])
    archive = store.create_mailbox("alice", "Archive")
    store.copy(inbox, [1, 2], archive)
    bob = store.mailbox("bob", "INBOX")
    assert bob is not None
    store.append(bob, [(b"for bob", [], WHEN)])
    store.close()
    return path


def check(directory: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = serve_mail.main(["--check", "--store", str(directory)])
    out = capsys.readouterr()
    return status, out.out + out.err


def snapshot(directory: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def blob(directory: Path, data: bytes) -> Path:
    key = hashlib.sha256(data).hexdigest()
    return directory / "blobs" / key[:2] / f"{key}.eml"


def insert_line(directory: Path, index: int, line: bytes) -> int:
    """Insert ``line`` before journal line ``index`` (1-based); returns its number."""
    lines = (directory / "journal.log").read_bytes().splitlines()
    lines.insert(index - 1, line)
    (directory / "journal.log").write_bytes(b"\n".join(lines) + b"\n")
    return index


def test_a_clean_store_counts_every_user_and_mailbox(
    directory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 0 and the counts per user and per mailbox."""
    status, out = check(directory, capsys)
    assert status == 0, out
    assert "user alice: 6 mailbox(es), 12 message(s)" in out
    assert "    INBOX: 10 message(s)" in out and "    Archive: 2 message(s)" in out
    assert "user bob: 5 mailbox(es), 1 message(s)" in out
    assert "blobs on disk: 11" in out
    assert out.rstrip().endswith("result: clean")


def test_the_check_changes_nothing(directory: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Read-only: no compaction, no lock file, no truncation, even of a damaged store."""
    insert_line(directory, 4, b"garbage")
    (directory / "journal.log").open("ab").write(b'{"op":"tor')
    blob(directory, body(3)).unlink()
    (directory / "lock").unlink()
    before = snapshot(directory)
    assert check(directory, capsys)[0] == 1
    assert snapshot(directory) == before


def test_a_garbage_line(directory: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 1, the file and line, and the blobs the damaged line might refer to."""
    number = insert_line(directory, 9, b"\x00\x01 not json")
    status, out = check(directory, capsys)
    assert status == 1
    assert f"journal.log line {number}: not JSON" in out
    assert "result: DAMAGED (1 problem(s))" in out
    assert "user alice: 6 mailbox(es), 12 message(s)" in out  # every valid record counted


def test_a_garbled_append_names_the_blob_it_leaves_behind(
    directory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The message is missing from INBOX, and its blob is listed for recovery."""
    key = hashlib.sha256(body(4)).hexdigest()
    journal = directory / "journal.log"
    journal.write_bytes(
        b"\n".join(
            line.replace(b'"op":"append"', b'"op":"append') if key.encode() in line else line
            for line in journal.read_bytes().splitlines()
        )
        + b"\n"
    )
    status, out = check(directory, capsys)
    assert status == 1
    assert "    INBOX: 9 message(s)" in out
    assert f"blobs/{key[:2]}/{key}.eml" in out and "kept because the damaged lines may" in out


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"[]", "expected a JSON object, got list []"),
        (b'{"op":"explode"}', "unknown op 'explode'"),
        (b'{"op":"expunge","id":1}', "op 'expunge' lacks the field 'uids'"),
        (b'{"op":"expunge","id":1,"uids":"all"}', "field 'uids' must be a list"),
        (b'{"op":"expunge","id":1,"uids":[0]}', "field 'uids'[0] must be an integer in 1.."),
    ],
)
def test_a_record_that_is_not_valid(
    directory: Path, capsys: pytest.CaptureFixture[str], line: bytes, reason: str
) -> None:
    """Valid JSON that is no valid record: exit 1, line and reason; the rest counted."""
    number = insert_line(directory, 12, line)
    status, out = check(directory, capsys)
    assert status == 1
    assert f"journal.log line {number}: not a valid record: {reason}" in out
    if b"expunge" in line:  # what the record would have done is marked as lost
        assert re.search(
            r"\(lost with it: the expunge of (1 )?message\(s\) from alice/INBOX\)", out
        )
    assert "user bob: 5 mailbox(es), 1 message(s)" in out


def test_a_missing_blob(directory: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 1, the blob's file, and every message (in every mailbox) that lost it."""
    path = blob(directory, body(1))
    path.unlink()
    status, out = check(directory, capsys)
    assert status == 1
    problem = next(line for line in out.splitlines() if path.name in line)
    assert "missing" in problem
    assert "alice/Archive UID 1" in problem and "alice/INBOX UID 1" in problem
    assert "user alice: 6 mailbox(es), 12 message(s), 2 lost" in out
    assert "    INBOX: 10 message(s), 1 lost" in out


def test_a_corrupt_blob(directory: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A blob whose bytes do not hash to its name: exit 1, reported as corrupt."""
    path = blob(directory, b"for bob")
    path.write_bytes(b"for rob")
    status, out = check(directory, capsys)
    assert status == 1
    assert f"{path.relative_to(directory)}: corrupt: its 7 bytes hash to" in out
    assert "bob/INBOX UID 1" in out


def test_a_torn_last_line_is_a_note_not_damage(
    directory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The normal trace of a crash: reported, but the store is clean (exit 0)."""
    (directory / "journal.log").open("ab").write(b'{"op":"flags","id":1,"ch')
    status, out = check(directory, capsys)
    assert status == 0, out
    assert "notes (1" in out and "torn last record (24 bytes, no newline) dropped" in out


def test_leftovers_of_a_crash_are_notes(
    directory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A half-written blob and a blob nothing refers to: what a crash leaves behind."""
    (directory / "blobs" / "00").mkdir(exist_ok=True)
    (directory / "blobs" / "00" / ("00" * 32 + ".eml.tmp")).write_bytes(b"half")
    (directory / "blobs" / "00" / ("00" * 32 + ".eml")).write_bytes(b"orphan")
    status, out = check(directory, capsys)
    assert status == 0, out
    assert "half-written file a crash left behind" in out
    assert "1 blob(s) no message refers to" in out


@pytest.mark.parametrize("how", ["empty", "missing"])
def test_a_lost_journal_next_to_blobs(
    directory: Path, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    """Not a fresh store: exit 1, and it says why and that nothing was changed."""
    journal = directory / "journal.log"
    if how == "empty":
        journal.write_bytes(b"")
    else:
        journal.unlink()
    status, out = check(directory, capsys)
    assert status == 1
    assert f"journal.log is {how} but" in out and "holds 11 message blob(s)" in out


def test_no_store_to_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A wrong path is exit 2 with one line, not 'clean'."""
    status, out = check(tmp_path / "nowhere", capsys)
    assert status == 2 and "is not a directory" in out
    status, out = check(tmp_path, capsys)
    assert status == 2 and "is not a mail store" in out
    assert serve_mail.main(["--check"]) == 2
    assert "--check needs --store DIR" in capsys.readouterr().err


def test_the_command_line(directory: Path) -> None:
    """The real command, in a subprocess: report on stdout, status 1 for a lost blob."""
    blob(directory, body(2)).unlink()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "netsim", "serve-mail", "--check", "--store", str(directory)],
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert b"alice/INBOX UID 2" in done.stdout and done.stderr == b""
