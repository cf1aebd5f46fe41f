"""kill -9 in the middle of APPEND, STORE, MOVE and EXPUNGE loses nothing acknowledged.

A child process works on a durable store as fast as it can and prints one line after
each store call returns (the moment a server would send OK).  The parent kills it with
SIGKILL at some point, reopens the store, and checks every message against the last step
the child acknowledged for it: that step, or a later one the child did not get to print,
must be what the store shows.  Nothing acknowledged may be missing, and nothing may be
damaged; a torn last line is allowed, since that is what a crash leaves.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from netsim.mail.store import MailStore

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import sys
from netsim.mail.store import MailStore

store = MailStore(sys.argv[1])
store.ensure_user("u")
inbox, archive = store.mailbox("u", "INBOX"), store.create_mailbox("u", "Archive")
i = 0
while True:
    i += 1
    [msg] = store.append(inbox, [(b"message %d" % i, [], None)])
    print("A", i, flush=True)
    store.store_flags(inbox, [msg.uid], ["$k%d" % i], "add")
    print("F", i, flush=True)
    if i % 2 == 0:
        store.move(inbox, [msg.uid], archive)
        print("M", i, flush=True)
    if i % 3 == 0:
        box = archive if i % 2 == 0 else inbox
        uid = box.messages[-1].uid
        store.expunge(box, [uid])
        print("E", i, flush=True)
"""


def steps(i: int) -> list[tuple[str, str | None, bool]]:
    """The states message ``i`` goes through: (step, mailbox or None if gone, flagged)."""
    states = [("A", "INBOX", False), ("F", "INBOX", True)]
    if i % 2 == 0:
        states.append(("M", "Archive", True))
    if i % 3 == 0:
        states.append(("E", None, False))
    return states


def where_is(store: MailStore, i: int) -> tuple[str | None, bool]:
    data = b"message %d" % i
    for box in store.mailboxes("u"):
        for msg in box.messages:
            if msg.data == data:
                return box.name, f"$k{i}" in msg.flags
    return None, False


@pytest.mark.parametrize("kill_after", [40, 97, 203])
def test_sigkill_loses_nothing_acknowledged(tmp_path: Path, kill_after: int) -> None:
    """Kill after ``kill_after`` acknowledgements (the child is still going)."""
    directory = tmp_path / "store"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(directory)], stdout=subprocess.PIPE, env=env
    )
    assert child.stdout is not None
    acked: dict[int, str] = {}
    try:
        for _ in range(kill_after):
            line = child.stdout.readline().split()
            assert line, "the child stopped early"
            acked[int(line[1])] = line[0].decode()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(60)
    store = MailStore(directory)
    assert [p for p in store.problems if p.damage] == []
    for i in range(1, max(acked) + 3):
        states = steps(i)
        done = [s for s, _, _ in states].index(acked[i]) if i in acked else 0
        allowed = {(box, flagged) for _, box, flagged in states[done:]}
        if i not in acked:
            allowed.add((None, False))  # never acknowledged: may not exist at all
        assert where_is(store, i) in allowed, (i, acked.get(i), where_is(store, i))
    store.close()
