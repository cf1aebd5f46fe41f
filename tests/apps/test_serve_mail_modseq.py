"""Mod-sequences on real sockets: what a CONDSTORE client relies on survives a kill -9.

A client that resynchronizes with ``CHANGEDSINCE`` trusts that mod-sequences never go
back: if a restarted server handed out an old number again, the client would miss the
change made under it.  So the store keeps them in its journal, and here the server
process is killed (SIGKILL, no chance to tidy up) under both fsync policies, and what
the client saw before must still hold after.
"""

from __future__ import annotations

import imaplib
import re
import signal
from pathlib import Path

import pytest

from .test_serve_mail import HOST, MESSAGE, ok, start_subprocess


def highest(client: imaplib.IMAP4) -> int:
    """The mailbox's HIGHESTMODSEQ, from STATUS."""
    [line] = ok(client.status("INBOX", "(HIGHESTMODSEQ)"))
    assert isinstance(line, bytes)
    found = re.search(rb"HIGHESTMODSEQ (\d+)", line)
    assert found is not None, line
    return int(found.group(1))


@pytest.mark.parametrize("fsync", ["always", "optimized"])
def test_modseqs_survive_sigkill(tmp_path: Path, fsync: str) -> None:
    """After SIGKILL, every flag change that got OK is there with its MODSEQ, and the
    next change gets a higher one than any the client saw (both --fsync policies:
    "optimized" writes flag changes without fsync, which a killed process cannot lose)."""
    users = tmp_path / "users.txt"
    users.write_text("alice:wonderland\n")
    store = tmp_path / "store"
    proc, port = start_subprocess(users, store, "--fsync", fsync)
    try:
        c = imaplib.IMAP4(HOST, port)
        ok(c.login("alice", "wonderland"))
        for _ in range(3):
            ok(c.append("INBOX", None, None, MESSAGE))
        ok(c.select("INBOX"))
        ok(c.store("2", "+FLAGS", r"(\Flagged)"))
        before = ok(c.fetch("1:3", "(UID MODSEQ)"))
        top = highest(c)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    proc, port = start_subprocess(users, store, "--fsync", fsync)
    try:
        c = imaplib.IMAP4(HOST, port)
        ok(c.login("alice", "wonderland"))
        ok(c.select("INBOX"))
        assert ok(c.fetch("1:3", "(UID MODSEQ)")) == before
        assert highest(c) == top
        assert b"\\Flagged" in ok(c.fetch("2", "(FLAGS)"))[0]  # type: ignore[operator]
        ok(c.store("3", "+FLAGS", r"(\Seen)"))
        assert highest(c) > top
        c.logout()
    finally:
        proc.terminate()
        proc.wait(10)
