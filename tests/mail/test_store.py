"""The mail store: UIDs, flags, hierarchy and durability across restarts."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from netsim.mail.store import MailStore, StoreError

WHEN = dt.datetime(2020, 2, 5, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def test_uids_increase_and_are_never_reused() -> None:
    """Expunging the newest message does not give its UID back."""
    store = MailStore()
    store.ensure_user("u")
    box = store.mailbox("u", "INBOX")
    assert box is not None
    first, second = store.append(box, [(b"a", [], WHEN), (b"b", [], WHEN)])
    assert (first.uid, second.uid) == (1, 2)
    store.expunge(box, [2])
    assert store.append(box, [(b"c", [], None)])[0].uid == 3


def test_the_same_message_bytes_in_many_mailboxes_share_one_blob() -> None:
    """A blob is named by the SHA-256 of its bytes. A generated campus appends the same
    message objects to every user's INBOX, and the store names them without hashing
    again; the name must still be the digest, and bytes that can change after the
    append (a bytearray) must be hashed afresh each time."""
    import hashlib

    store = MailStore()
    data = b"Subject: hello\r\n\r\nthe same message for everyone\r\n"
    boxes = []
    for user in ("a", "b", "c"):
        store.ensure_user(user)
        box = store.mailbox(user, "INBOX")
        assert box is not None
        boxes.append(box)
    names = [store.append(box, [(data, [], WHEN)])[0].blob for box in boxes]
    assert names == [hashlib.sha256(data).hexdigest()] * 3
    changing = bytearray(b"first version")
    first = store.append(boxes[0], [(changing, [], WHEN)])[0]
    changing[:5] = b"later"
    second = store.append(boxes[0], [(changing, [], WHEN)])[0]
    assert first.blob == hashlib.sha256(b"first version").hexdigest()
    assert second.blob == hashlib.sha256(b"later version").hexdigest()


def test_messages_with_the_same_bytes_share_one_parsed_mime_tree() -> None:
    """A parsed MIME tree holds copies of the message's parts: a message delivered to a
    thousand users is parsed once and its tree shared, not kept once per mailbox."""
    from netsim.mail import mime

    store = MailStore()
    data = b"Subject: s\r\nContent-Type: text/plain\r\n\r\nbody\r\n"
    first = store.append(store.create_mailbox("u", "a"), [(data, [], WHEN)])[0]
    copy = store.append(store.create_mailbox("u", "b"), [(bytes(data), [], WHEN)])[0]
    other = store.append(store.create_mailbox("u", "c"), [(data + b"x", [], WHEN)])[0]
    assert first.mime is copy.mime
    assert (first.mime.header, first.mime.body) == (mime.parse(data).header, b"body\r\n")
    assert other.mime is not first.mime and other.mime.body == b"body\r\nx"


def test_recreated_mailbox_gets_a_new_uidvalidity() -> None:
    """DELETE then CREATE of one name must not let clients mix up old and new UIDs."""
    store = MailStore()
    box = store.create_mailbox("u", "x")
    old = box.uidvalidity
    store.delete_mailbox(box)
    assert store.create_mailbox("u", "x").uidvalidity > old


def test_flag_modes() -> None:
    """set replaces, add unions, remove subtracts; only real changes are returned."""
    store = MailStore()
    box = store.create_mailbox("u", "x")
    store.append(box, [(b"a", ["\\Seen"], WHEN)])
    assert store.store_flags(box, [1], ["\\Seen"], "add") == []
    store.store_flags(box, [1], ["$A"], "add")
    assert box.by_uid[1].flags == {"\\Seen", "$A"}
    store.store_flags(box, [1], ["\\Seen"], "remove")
    store.store_flags(box, [1], ["\\Draft"], "set")
    assert box.by_uid[1].flags == {"\\Draft"}
    assert box.keywords == ["$A"]


def test_deleted_mailbox_refuses_changes() -> None:
    """A session holding a deleted mailbox gets an error, not a corrupt store."""
    store = MailStore()
    box = store.create_mailbox("u", "x")
    store.delete_mailbox(box)
    with pytest.raises(StoreError):
        store.append(box, [(b"a", [], WHEN)])


def test_everything_survives_a_restart(tmp_path: Path) -> None:
    """A store reopened from its directory has every message, flag, name and grant."""
    store = MailStore(tmp_path)
    store.ensure_user("u")
    inbox = store.mailbox("u", "INBOX")
    assert inbox is not None
    store.append(inbox, [(b"Subject: one\r\n\r\n1", ["\\Seen"], WHEN), (b"two", [], WHEN)])
    store.store_flags(inbox, [2], ["\\Flagged", "$X"], "add")
    store.expunge(inbox, [1])
    work = store.create_mailbox("u", "work/2020")
    store.copy(inbox, [2], work)
    store.rename_mailbox(store.mailbox("u", "work") or inbox, "jobs")
    store.subscribe("u", "jobs/2020")
    store.set_acl(work, "v", "lr")
    uidvalidity = inbox.uidvalidity
    store.close()

    again = MailStore(tmp_path)
    inbox2 = again.mailbox("u", "INBOX")
    assert inbox2 is not None and inbox2.uidvalidity == uidvalidity
    assert [m.uid for m in inbox2.messages] == [2]
    assert inbox2.by_uid[2].flags == {"\\Flagged", "$X"}
    assert inbox2.uidnext == 3
    jobs = again.mailbox("u", "jobs/2020")
    assert jobs is not None and jobs.messages[0].data == b"two"
    assert jobs.messages[0].internaldate == WHEN
    assert jobs.acl == {"v": "lr"}
    assert again.subscriptions("u") == {"jobs/2020"}
    # Compaction on open dropped the blob of the expunged message.
    assert len(list((tmp_path / "blobs").rglob("*.eml"))) == 1


def test_one_directory_one_open_store(tmp_path: Path) -> None:
    """A second server on the same directory is refused instead of corrupting it."""
    store = MailStore(tmp_path)
    with pytest.raises(OSError, match="in use"):
        MailStore(tmp_path)
    store.close()
    MailStore(tmp_path).close()


def test_renaming_inbox_moves_its_messages_in_one_record(tmp_path: Path) -> None:
    """RFC 3501 6.3.5: INBOX stays (empty, UIDs still unused); the new mailbox has the mail."""
    store = MailStore(tmp_path)
    store.ensure_user("u")
    inbox = store.mailbox("u", "INBOX")
    assert inbox is not None
    store.append(inbox, [(b"a", ["\\Seen"], WHEN), (b"b", [], WHEN)])
    lines_before = (tmp_path / "journal.log").read_bytes().count(b"\n")
    store.rename_mailbox(inbox, "old/inbox")
    assert (tmp_path / "journal.log").read_bytes().count(b"\n") == lines_before + 1
    store.close()
    again = MailStore(tmp_path)
    moved = again.mailbox("u", "old/inbox")
    inbox2 = again.mailbox("u", "INBOX")
    assert moved is not None and inbox2 is not None
    assert [(m.uid, m.data, m.flags) for m in moved.messages] == [
        (1, b"a", {"\\Seen"}),
        (2, b"b", set()),
    ]
    assert inbox2.messages == [] and inbox2.uidnext == 3
    assert again.mailbox("u", "old") is not None
    again.close()


def test_recent_claims_survive_a_restart(tmp_path: Path) -> None:
    """A message some session was told about is not \\Recent again after a restart."""
    store = MailStore(tmp_path)
    box = store.create_mailbox("u", "x")
    store.append(box, [(b"a", [], WHEN)])
    assert store.claim_recent(box) == {1}
    assert store.claim_recent(box) == set()  # exactly one session gets it
    store.append(box, [(b"b", [], WHEN)])
    store.close()
    again = MailStore(tmp_path)
    reopened = again.mailbox("u", "x")
    assert reopened is not None and reopened.unclaimed_recent() == 1
    assert again.claim_recent(reopened) == {2}
    again.close()


def test_an_injected_clock_makes_the_store_reproducible() -> None:
    """With the simulation's clock, UIDVALIDITY and INTERNALDATE repeat run after run."""

    def build() -> tuple[int, dt.datetime]:
        store = MailStore(clock=lambda: 1_000_000.0)
        box = store.create_mailbox("u", "x")
        return box.uidvalidity, store.append(box, [(b"m", [], None)])[0].internaldate

    assert build() == build() == (1_000_000, dt.datetime.fromtimestamp(1_000_000, dt.UTC))


@pytest.mark.parametrize("policy", ["always", "optimized"])
def test_fsync_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, policy: str) -> None:
    """``always`` fsyncs every change before returning; ``optimized`` (Dovecot's
    default) only what brings or removes mail.  Either way the flag change is written
    to the journal before the call returns, so a killed server does not lose it."""
    import os

    store = MailStore(tmp_path, fsync=policy)
    store.ensure_user("alice")
    box = store.mailbox("alice", "INBOX")
    assert box is not None
    calls: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append(fd) or real_fsync(fd))
    [msg] = store.append(box, [(b"Subject: x\r\n\r\nbody\r\n", [], None)])
    appended = len(calls)
    assert appended >= 1, "new mail is always forced to disk"
    store.store_flags(box, [msg.uid], ["\\Seen"], "add")
    assert len(calls) - appended == (1 if policy == "always" else 0)
    assert b'"op":"flags"' in (tmp_path / "journal.log").read_bytes()
    store.expunge(box, [msg.uid])
    assert len(calls) - appended == (2 if policy == "always" else 1)
    store.close()
    with pytest.raises(ValueError, match="fsync must be one of"):
        MailStore(fsync="sometimes")


@settings(derandomize=True, max_examples=60, deadline=None)
@example([("append", 1), ("expunge", 1)])
@example([("append", 1), ("append", 2), ("move", 1), ("unseen", 2), ("set", 1)])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["append", "seen", "unseen", "set", "expunge", "move"]),
            st.integers(min_value=1, max_value=12),
        ),
        max_size=40,
    )
)
def test_the_unseen_index_always_matches_the_flags(operations: list[tuple[str, int]]) -> None:
    """Each mailbox keeps the UIDs of its messages without \\Seen (STATUS and SEARCH
    UNSEEN read it instead of every message): whatever happens to the messages, and
    after a restart from the journal, it equals what the flags say."""
    with tempfile.TemporaryDirectory() as directory:
        store = MailStore(directory)
        box = store.create_mailbox("u", "x")
        other = store.create_mailbox("u", "y")
        for op, uid in operations:
            if op == "append":
                store.append(box, [(b"m%d" % uid, [] if uid % 2 else ["\\Seen"], WHEN)])
            elif op == "seen":
                store.store_flags(box, [uid], ["\\Seen"], "add")
            elif op == "unseen":
                store.store_flags(box, [uid], ["\\Seen"], "remove")
            elif op == "set":
                store.store_flags(box, [uid], ["\\Flagged"], "set")
            elif op == "expunge":
                store.expunge(box, [uid])
            else:
                store.move(box, [uid], other)
        for mailbox in (box, other):
            expected = {m.uid for m in mailbox.messages if "\\Seen" not in m.flags}
            assert mailbox.unseen == expected
            assert mailbox.unseen_count() == len(expected)
        store.close()
        reopened = MailStore(directory)
        for name in ("x", "y"):
            again = reopened.mailbox("u", name)
            assert again is not None
            assert again.unseen == {m.uid for m in again.messages if "\\Seen" not in m.flags}
        reopened.close()
