"""The server's fast paths answer exactly what its general paths answer.

The commonest commands of a mail client take shortcuts: ``SEARCH UNSEEN`` reads the
store's index of unseen messages (or tests one flag without a predicate per message),
and a short FETCH such as ``UID FETCH 1:* (FLAGS)`` reuses a message's last rendering
while its UID, flags and MODSEQ stay the same.  Each shortcut is checked here against
the general path, which a criterion or an item list spelled differently still takes:
``SEARCH UNSEEN ALL`` evaluates a predicate per message, and ``(flags uid)`` in lower
case is a different item list, so nothing rendered for ``(FLAGS UID)`` is reused.
"""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from netsim.mail.imap.responses import flag_list

from .helpers import SIMPLE, Client, make_server

#: What another session does meanwhile: mark read or unread, flag, expunge, append.
Action = tuple[str, int]


def _told(c: Client) -> int:
    """How many messages the session has been told of."""
    view = c.session.view
    return 0 if view is None else view.exists


def _answer(c: Client, command: str) -> list[bytes]:
    """The SEARCH line, or the FETCH lines, of a command that must succeed; not the
    news of other sessions' changes that may come with it."""
    lines = c.ok(command)
    if "SEARCH" in command:
        return [line for line in lines if line.startswith(b"* SEARCH")]
    return [line for line in lines if re.match(rb"\* \d+ FETCH", line)]


@settings(derandomize=True, max_examples=40, deadline=None)
@example([("seen", 1), ("expunge", 2), ("append", 0)], 4, 1)
@example([], 20, 16)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["seen", "unseen", "flag", "expunge", "append"]),
            st.integers(min_value=1, max_value=20),
        ),
        max_size=12,
    ),
    st.integers(min_value=0, max_value=20),
    st.integers(min_value=0, max_value=20),
)
def test_shortcuts_agree_with_the_general_path(
    actions: list[Action], messages: int, seen: int
) -> None:
    """Whatever another session changed (some of it not yet told to this one, like an
    expunged message that lingers until a command that may report it), the shortcut
    and the general path give the same sequence numbers, UIDs and flags."""
    server = make_server()
    alice = Client(server, "alice")
    other = Client(server, "alice")
    for i in range(messages):
        alice.append("INBOX", SIMPLE, "\\Seen" if i < seen else "")
    alice.ok("SELECT INBOX")
    other.ok("SELECT INBOX")
    for turn, (action, number) in enumerate(actions):
        if action == "append":
            other.append("INBOX", SIMPLE)
            alice.ok("NOOP")  # told now: SEARCH would tell it between the two answers
        elif 0 < number <= _told(other):
            verb = {"seen": "+FLAGS (\\Seen)", "unseen": "-FLAGS (\\Seen)"}.get(
                action, "+FLAGS (\\Flagged)"
            )
            other.ok(f"STORE {number} {verb}")
            if action == "expunge":
                other.ok(f"STORE {number} +FLAGS (\\Deleted)")
                other.ok("EXPUNGE")
        if turn % 3 == 0:  # now and then: what alice answers before hearing the news
            for criterion in ("UNSEEN", "SEEN", "FLAGGED"):
                for search in ("SEARCH", "UID SEARCH"):
                    fast = _answer(alice, f"{search} {criterion}")
                    assert fast == _answer(alice, f"{search} {criterion} ALL")
            if _told(alice):
                # Rendered every few turns, so a kept rendering may be out of date.
                assert _answer(alice, "FETCH 1:* (FLAGS UID)") == _flags_in_store(alice)
    alice.ok("NOOP")
    for search in ("SEARCH", "UID SEARCH"):
        assert _answer(alice, f"{search} UNSEEN") == _answer(alice, f"{search} UNSEEN ALL")
    first = _answer(alice, "UID FETCH 1:* (FLAGS)")
    assert first == _answer(alice, "UID FETCH 1:* (FLAGS)")  # the second one reused
    assert first == _answer(alice, "UID FETCH 1:* (flags)")
    if _told(alice):
        assert _answer(alice, "FETCH 1:* (FLAGS UID)") == _flags_in_store(alice)


def _flags_in_store(c: Client) -> list[bytes]:
    """What ``FETCH 1:* (FLAGS UID)`` must say: the flags the store holds now (and
    \\Recent where this session holds it), for the messages the session knows."""
    view = c.session.view
    assert view is not None
    lines = []
    for seq, uid in enumerate(view.uids, start=1):
        msg = view.box.by_uid[uid]
        flags = msg.flags | {"\\Recent"} if uid in view.recent else msg.flags
        lines.append(b"* %d FETCH (FLAGS %s UID %d)" % (seq, flag_list(flags), uid))
    return lines
