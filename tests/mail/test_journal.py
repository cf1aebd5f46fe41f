"""The journal: append-only, fsync'ed, replayed on open, compacted atomically."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from netsim.mail.journal import Journal
from netsim.mail.store import MailStore

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
