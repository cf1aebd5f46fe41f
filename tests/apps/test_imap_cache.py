"""The disconnected client's cache, and the server responses that update it.

A cache is each message's UID, flags and (with CONDSTORE) mod-sequence. The server tells
changes in untagged FETCH responses, whose items come in any order and may share a line
with a literal (a header the client asked for), and tells expunges in QRESYNC's
``VANISHED``. The responses here go through the client's own sans-IO connection one byte
at a time, as they would arrive from TCP.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.apps.imap_cache import (
    FetchedState,
    MailboxCache,
    outside_literals,
    parse_fetch,
    parse_vanished,
)
from netsim.mail.imap.client import ClientConnection
from netsim.mail.imap.events import NEED_DATA


def responses(wire: bytes) -> list[object]:
    """Feed ``wire`` to a client connection one byte at a time; the events it yields."""
    conn = ClientConnection()
    events = []
    for i in range(len(wire)):
        conn.receive_data(wire[i : i + 1])
        while (event := conn.next_event()) is not NEED_DATA:
            events.append(event)
    return events


def test_a_fetch_gives_uid_flags_and_modseq_in_any_order() -> None:
    (a, b) = responses(
        b"* 3 FETCH (UID 7 FLAGS (\\Seen $Junk) MODSEQ (12))\r\n"
        b"* 4 FETCH (MODSEQ (13) FLAGS () UID 9)\r\n"
    )
    assert parse_fetch(a) == FetchedState(7, frozenset({"\\Seen", "$Junk"}), 12)
    assert parse_fetch(b) == FetchedState(9, frozenset(), 13)


def test_a_silent_store_answers_with_the_modseq_alone() -> None:
    """RFC 7162 3.1.3: after STORE .SILENT the client knows the flags, not the MODSEQ."""
    (event,) = responses(b"* 3 FETCH (UID 7 MODSEQ (44))\r\n")
    assert parse_fetch(event) == FetchedState(7, None, 44)


def test_text_inside_a_literal_is_not_taken_for_the_items() -> None:
    """A header that happens to read ``FLAGS (\\Deleted)`` is message text, not flags."""
    body = b"X-Note: UID 99 FLAGS (\\Deleted) MODSEQ (1)\r\n\r\n"
    wire = (
        b"* 1 FETCH (UID 5 BODY[HEADER.FIELDS (X-NOTE)] {%d}\r\n" % len(body)
        + body
        + b" FLAGS (\\Seen) MODSEQ (8))\r\n"
    )
    (event,) = responses(wire)
    assert parse_fetch(event) == FetchedState(5, frozenset({"\\Seen"}), 8)


def test_recent_is_a_session_flag_and_stays_out_of_the_cache() -> None:
    (event,) = responses(b"* 1 FETCH (UID 5 FLAGS (\\Recent \\Seen))\r\n")
    assert parse_fetch(event) == FetchedState(5, frozenset({"\\Seen"}), None)


def test_vanished_lists_expunged_uids_with_or_without_earlier() -> None:
    early, late, other = responses(
        b"* VANISHED (EARLIER) 3:5,9\r\n* VANISHED 12\r\n* 2 EXPUNGE\r\n"
    )
    assert parse_vanished(early) == [3, 4, 5, 9]
    assert parse_vanished(late) == [12]
    assert parse_vanished(other) is None
    assert parse_fetch(other) is None


def test_a_new_uidvalidity_empties_the_cache() -> None:
    cache = MailboxCache(uidvalidity=7, uidnext=4, highestmodseq=10)
    cache.apply(FetchedState(1, frozenset({"\\Seen"}), 3))
    cache.reset(8)
    assert (cache.uidvalidity, cache.uidnext, cache.highestmodseq) == (8, 1, None)
    assert cache.flags == {} and cache.modseqs == {}


FLAGS = st.lists(st.sampled_from(["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "$Junk"]))


@settings(derandomize=True, max_examples=60, deadline=None)
@given(
    uid=st.integers(1, 2**32 - 1),
    flags=FLAGS,
    modseq=st.integers(1, 2**63 - 1),
    literal=st.binary(max_size=40),
    order=st.permutations(["uid", "flags", "modseq", "body"]),
)
def test_any_fetch_response_parses_back_to_what_it_said(
    uid: int, flags: list[str], modseq: int, literal: bytes, order: list[str]
) -> None:
    items = {
        "uid": b"UID %d" % uid,
        "flags": b"FLAGS (" + " ".join(flags).encode() + b")",
        "modseq": b"MODSEQ (%d)" % modseq,
        "body": b"BODY[] {%d}\r\n" % len(literal) + literal,
    }
    wire = b"* 1 FETCH (" + b" ".join(items[name] for name in order) + b")\r\n"
    (event,) = responses(wire)
    assert parse_fetch(event) == FetchedState(uid, frozenset(flags), modseq)


def test_outside_literals_keeps_the_text_around_them() -> None:
    assert outside_literals(b"a {3}\r\nxyz b {2+}\r\nqq c") == b"a  b  c"
