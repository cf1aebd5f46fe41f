"""The journal: append-only, fsync'ed, replayed on open, compacted atomically."""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
from pathlib import Path

import pytest

import netsim.mail.journal as journal_module
from netsim.mail.journal import BlobError, Journal
from netsim.mail.store import MailStore, StoreError

WHEN = dt.datetime(2020, 2, 5, 10, 0, tzinfo=dt.UTC)


def test_a_torn_last_journal_line_is_ignored(tmp_path: Path) -> None:
    """A crash in the middle of a write leaves a partial line: it was never acknowledged."""
    store = MailStore(tmp_path)
    box = store.create_mailbox("u", "x")
    store.append(box, [(b"kept", [], WHEN)])
    with open(tmp_path / "journal.log", "ab") as journal:
        journal.write(b'{"op":"expunge","id":1,"ui')
    store.close()
    again = MailStore(tmp_path)
    reopened = again.mailbox("u", "x")
    assert reopened is not None and len(reopened.messages) == 1


def test_records_replay_in_order(tmp_path: Path) -> None:
    """What was appended is what replay yields, one numbered line per record."""
    journal = Journal(tmp_path)
    journal.start_writing()
    journal.append({"op": "a", "n": 1})
    journal.append({"op": "b", "n": 2}, sync=False)
    lines = list(journal.replay())
    assert [line.number for line in lines] == [1, 2]
    assert [line.parse() for line in lines] == [{"op": "a", "n": 1}, {"op": "b", "n": 2}]
    journal.close()


def test_compaction_keeps_state_and_drops_dead_blobs(tmp_path: Path) -> None:
    """Reopening rewrites the journal as the current state and deletes unused blobs."""
    store = MailStore(tmp_path)
    box = store.create_mailbox("u", "x")
    store.append(box, [(b"keep", [], WHEN), (b"drop", [], WHEN)])
    for _ in range(5):
        store.store_flags(box, [1], ["\\Seen"], "add")
        store.store_flags(box, [1], ["\\Seen"], "remove")
    store.expunge(box, [2])
    store.close()
    long = (tmp_path / "journal.log").read_bytes().count(b"\n")
    again = MailStore(tmp_path)
    short = (tmp_path / "journal.log").read_bytes().count(b"\n")
    assert short < long
    blobs = [p.read_bytes() for p in (tmp_path / "blobs").rglob("*.eml")]
    assert blobs == [b"keep"]
    reopened = again.mailbox("u", "x")
    assert reopened is not None and reopened.uidnext == 3
    again.close()


def _failing_write(monkeypatch: pytest.MonkeyPatch, truncate_fails: bool = False) -> None:
    """The next journal write puts half its bytes on disk, then the disk is full."""
    real_write = os.write

    def half_then_full(fd: int, data: bytes | memoryview) -> int:
        monkeypatch.setattr(journal_module.os, "write", real_write)
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(journal_module.os, "write", half_then_full)
    if truncate_fails:

        def no_truncate(fd: int, size: int) -> None:
            raise OSError(errno.EIO, "I/O error")

        monkeypatch.setattr(journal_module.os, "ftruncate", no_truncate)


def test_a_failed_write_is_not_acknowledged_and_leaves_no_half_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk mid-record: the store raises (the client gets NO), the half line is
    cut off again, and the next record lands on a line of its own."""
    store = MailStore(tmp_path)
    box = store.create_mailbox("u", "x")
    _failing_write(monkeypatch)
    with pytest.raises(StoreError, match="cannot write the journal: No space left"):
        store.append(box, [(b"refused", [], WHEN)])
    assert box.messages == []
    store.append(box, [(b"accepted", [], WHEN)])
    store.close()
    again = MailStore(tmp_path)
    reopened = again.mailbox("u", "x")
    assert reopened is not None and [m.data for m in reopened.messages] == [b"accepted"]
    assert again.problems == []
    again.close()


def test_a_half_line_that_cannot_be_cut_off_is_isolated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If even the truncation fails, the next record starts on a fresh line, so the
    half line is one damaged line (reported) and the acknowledged record survives."""
    store = MailStore(tmp_path)
    box = store.create_mailbox("u", "x")
    _failing_write(monkeypatch, truncate_fails=True)
    with pytest.raises(StoreError):
        store.append(box, [(b"refused", [], WHEN)])
    store.append(box, [(b"accepted", [], WHEN)])
    store.close()
    again = MailStore(tmp_path)
    reopened = again.mailbox("u", "x")
    assert reopened is not None and [m.data for m in reopened.messages] == [b"accepted"]
    [problem] = [p for p in again.problems if p.damage]
    assert problem.where == "journal.log line 3" and "not JSON" in problem.what
    again.close()


def test_a_blob_is_checked_against_its_name_on_every_read(tmp_path: Path) -> None:
    """Content addressing is only worth something if the address is verified."""
    journal = Journal(tmp_path)
    data = b"Subject: hi\r\n\r\nhello\r\n"
    key = hashlib.sha256(data).hexdigest()
    journal.write_blob(key, data)
    assert journal.read_blob(key) == data
    path = tmp_path / journal.blob_file(key)
    path.write_bytes(data[:-1])
    with pytest.raises(BlobError, match="corrupt"):
        journal.read_blob(key)
    journal.write_blob(key, data)  # a damaged copy is replaced, a good one kept
    assert journal.read_blob(key) == data
    path.unlink()
    with pytest.raises(BlobError, match="missing"):
        journal.read_blob(key)
    journal.close()
