"""Journal records: strict enough to catch damage, never stricter than the server.

Replay rejects a record that does not have its op's fields and types (see
``test_store_damage.py``).  The danger of a checker is the opposite mistake: rejecting
something the server itself accepted and acknowledged, which would lose it at the next
start.  So the oracle here is the server: whatever odd flag, mailbox name or ACL
identifier it answers OK for must replay without a single problem.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netsim.mail.imap import utf7
from netsim.mail.records import record_problem
from netsim.mail.store import MailStore
from tests.mail.imap.helpers import SIMPLE, Client, make_server

printable = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=8)
names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8)
rights = st.tuples(st.sampled_from(["", "+", "-"]), st.text("lrswipkxteacdz", max_size=5))


def literal(text: str) -> bytes:
    data = text.encode()
    return b"{%d+}\r\n" % len(data) + data


def state(store: MailStore) -> list[object]:
    return [
        (
            b.owner,
            b.name,
            b.uidvalidity,
            b.uidnext,
            sorted(b.acl.items()),
            [(m.uid, m.data, sorted(m.flags)) for m in b.messages],
            sorted(store.subscriptions(b.owner)),
        )
        for b in store.mailboxes()
    ]


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.lists(
        st.tuples(st.sampled_from(["flag", "create", "acl", "append"]), printable, names, rights),
        min_size=1,
        max_size=6,
    )
)
def test_whatever_the_server_acknowledged_replays_cleanly(
    actions: list[tuple[str, str, str, tuple[str, str]]],
) -> None:
    """Random keywords, mailbox names, identifiers and rights through real IMAP commands:
    the server may refuse some, but what it acknowledged reopens with no problem."""
    with tempfile.TemporaryDirectory() as tmp:
        store = MailStore(Path(tmp))
        alice = Client(make_server(store=store), "alice")
        alice.append("INBOX", SIMPLE)
        alice.ok("SELECT INBOX")
        for action, word, name, (mode, letters) in actions:
            mailbox = literal(utf7.encode(name))
            if action == "flag":
                alice.cmd(b"STORE 1 +FLAGS (" + word.encode() + b")")
            elif action == "create":
                alice.cmd(b"CREATE " + mailbox)
                alice.cmd(b"SUBSCRIBE " + mailbox)
            elif action == "acl":
                alice.cmd(b"SETACL INBOX " + literal(word) + b" " + literal(mode + letters))
            else:
                message = literal(SIMPLE.decode())
                alice.cmd(b"APPEND " + mailbox + b" (" + word.encode() + b") " + message)
        before = state(store)
        store.close()
        again = MailStore(Path(tmp))
        assert again.problems == []
        assert state(again) == before
        again.close()


def test_the_checker_names_the_first_thing_wrong() -> None:
    """One reason, with the path into the record, so a person can find it in the line."""
    entry = [1, "ab" * 32, ["\\Seen"], "2020-01-01T00:00:00+00:00"]
    assert record_problem({"op": "append", "id": 1, "messages": [entry]}) is None
    bad = [entry, [2, "ab" * 32, ["\\Seen", "two words"], entry[3]]]
    assert record_problem({"op": "append", "id": 1, "messages": bad}) == (
        "field 'messages'[1][2][1] must be a flag (an IMAP atom such as \\Seen or $Label),"
        " got 'two words'"
    )
    assert record_problem({"op": "acl", "id": 1, "who": "bob", "rights": None}) is None
    assert record_problem({"op": "recent", "id": 0, "mark": 1}) == (
        "field 'id' must be an integer in 1..9223372036854775807, got 0"
    )
