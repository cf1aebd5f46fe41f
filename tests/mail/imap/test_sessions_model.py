"""Two sessions on one mailbox against a model: what each is told adds up to the truth.

A hypothesis state machine appends, flags, expunges and moves messages through either
of two sessions.  After every step each session catches up (NOOP), and its picture of the
mailbox, rebuilt from nothing but the untagged responses it received, must equal a
plain-Python model of the mailbox.  This is the RFC 3501 promise that sequence
numbers, EXISTS, EXPUNGE and FETCH FLAGS keep every client in sync.
"""

from __future__ import annotations

import re

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from .helpers import SIMPLE, Client, make_server

_FETCH = re.compile(rb"^\* (\d+) FETCH \((?:UID (\d+) )?FLAGS \(([^)]*)\)\)$")
FLAGS = ["\\Seen", "\\Flagged", "\\Deleted", "$Work"]


class Picture:
    """A client's idea of the mailbox, kept up to date from untagged responses only."""

    def __init__(self, lines: list[bytes]) -> None:
        self.uids: list[int | None] = []
        self.flags: list[set[str]] = []
        self.apply(lines)

    def apply(self, lines: list[bytes]) -> None:
        """Fold EXISTS, EXPUNGE and FETCH (UID FLAGS) responses into the picture."""
        for line in lines:
            words = line.split(b" ")
            if len(words) >= 3 and words[2] == b"EXISTS":
                while len(self.uids) < int(words[1]):
                    self.uids.append(None)
                    self.flags.append(set())
            elif len(words) >= 3 and words[2] == b"EXPUNGE":
                del self.uids[int(words[1]) - 1]
                del self.flags[int(words[1]) - 1]
            elif (m := _FETCH.match(line)) is not None:
                seq = int(m.group(1)) - 1
                if m.group(2):
                    self.uids[seq] = int(m.group(2))
                self.flags[seq] = set(m.group(3).decode().split()) - {"\\Recent"}


class TwoSessions(RuleBasedStateMachine):
    """Random mailbox traffic through two sessions of the same user."""

    def __init__(self) -> None:
        super().__init__()
        server = make_server()
        self.clients = [Client(server, "alice"), Client(server, "alice")]
        self.model: dict[int, set[str]] = {}
        self.next_uid = 1
        self.pictures = []
        for c in self.clients:
            lines = c.ok("SELECT INBOX")
            self.pictures.append(Picture(lines))

    def run(self, who: int, command: str | bytes) -> None:
        """Send a command through one session and fold what it hears into its picture."""
        lines = self.clients[who].ok(command)
        self.pictures[who].apply(lines)

    @rule(who=st.integers(0, 1), flags=st.sets(st.sampled_from(FLAGS), max_size=2))
    def append(self, who: int, flags: set[str]) -> None:
        """APPEND a message, sometimes with flags."""
        head = f"APPEND INBOX ({' '.join(sorted(flags))}) {{{len(SIMPLE)}+}}\r\n".encode()
        self.run(who, head + SIMPLE)
        self.model[self.next_uid] = set(flags)
        self.next_uid += 1

    @precondition(lambda self: self.model)
    @rule(
        who=st.integers(0, 1),
        data=st.data(),
        mode=st.sampled_from(["+FLAGS", "-FLAGS", "FLAGS", "+FLAGS.SILENT"]),
        flags=st.sets(st.sampled_from(FLAGS), max_size=2),
    )
    def store(self, who: int, data: st.DataObject, mode: str, flags: set[str]) -> None:
        """UID STORE on one message."""
        uid = data.draw(st.sampled_from(sorted(self.model)))
        self.run(who, f"UID STORE {uid} {mode} ({' '.join(sorted(flags))})")
        if mode.startswith("+"):
            self.model[uid] |= flags
        elif mode.startswith("-"):
            self.model[uid] -= flags
        else:
            self.model[uid] = set(flags)
        if mode.endswith(".SILENT"):
            # No echo: a client that asked for .SILENT updates its own picture.
            picture = self.pictures[who]
            picture.flags[picture.uids.index(uid)] = set(self.model[uid])

    @rule(who=st.integers(0, 1))
    def expunge(self, who: int) -> None:
        """EXPUNGE whatever is \\Deleted."""
        self.run(who, "EXPUNGE")
        self.model = {u: f for u, f in self.model.items() if "\\Deleted" not in f}

    @precondition(lambda self: self.model)
    @rule(who=st.integers(0, 1), data=st.data())
    def move(self, who: int, data: st.DataObject) -> None:
        """UID MOVE one message away to Trash."""
        uid = data.draw(st.sampled_from(sorted(self.model)))
        self.run(who, f"UID MOVE {uid} Trash")
        del self.model[uid]

    @invariant()
    def everyone_agrees_after_catching_up(self) -> None:
        """After a NOOP, each session's picture equals the model exactly."""
        for who in (0, 1):
            self.run(who, "NOOP")
            # Fill in UIDs for messages announced by EXISTS only.
            if None in self.pictures[who].uids:
                self.run(who, "FETCH 1:* (UID FLAGS)")
            picture = self.pictures[who]
            assert dict(zip(picture.uids, picture.flags, strict=True)) == self.model


TwoSessions.TestCase.settings = settings(max_examples=30, stateful_step_count=15, deadline=None)
test_two_sessions = TwoSessions.TestCase
