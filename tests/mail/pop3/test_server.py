"""The POP3 server session without sockets (RFC 1939, 2449, 2595).

POP3 downloads a snapshot of the INBOX taken at login.  DELE only marks: the
messages go in the UPDATE state after QUIT, and a session that ends any other way
deletes nothing.  These tests speak POP3 to a session directly, often one byte at a
time, and look at the store afterwards.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netsim.mail.pop3 import Pop3Config, Pop3Server, Pop3Session
from netsim.mail.pop3.states import State
from netsim.mail.store import MailStore
from netsim.mail.users import Users

USERS = {"alice": "wonder land", "bob": "builder"}
FIRST = b"Subject: one\r\n\r\n.starts with a dot\r\nline 2\r\n"
SECOND = b"Subject: two\nX: bare LF\n\nbody\n"  # stored with bare LFs (an IMAP APPEND)
SECRET = b"Subject: bob's\r\n\r\nthe secret of bob\r\n"


def server(**config: object) -> Pop3Server:
    # A fixed clock: two servers built on either side of a second's tick would number
    # their mailboxes' UIDVALIDITY apart, and UIDL shows it.
    store = MailStore(clock=lambda: 1_700_000_000.0)
    srv = Pop3Server(store, Users(USERS), Pop3Config(debug=True, **config))  # type: ignore[arg-type]
    for user, messages in (("alice", [FIRST, SECOND]), ("bob", [SECRET])):
        box = store.mailbox(user, "INBOX")
        assert box is not None
        store.append(box, [(m, (), None) for m in messages])
    return srv


def talk(session: Pop3Session, data: bytes, chunk: int | None = 1) -> bytes:
    if chunk is None:
        return session.receive_data(data)
    return b"".join(session.receive_data(data[i : i + chunk]) for i in range(0, len(data), chunk))


def statuses(out: bytes) -> list[str]:
    return [line.split(" ")[0] for line in out.decode().split("\r\n") if line[:1] in "+-" and line]


def uids(srv: Pop3Server, user: str) -> list[int]:
    box = srv.store.mailbox(user, "INBOX")
    assert box is not None
    return [m.uid for m in box.messages]


LOGIN = b"USER alice\r\nPASS wonder land\r\n"


def test_a_whole_session_one_byte_at_a_time() -> None:
    """STAT, LIST, UIDL, RETR (dot-stuffed, CRLF line ends), TOP, in RFC 1939's order."""
    srv = server()
    session = srv.open_session()
    assert session.greeting().startswith(b"+OK")
    out = talk(session, LOGIN + b"STAT\r\nLIST\r\nUIDL 2\r\nRETR 1\r\nRETR 2\r\nTOP 1 1\r\n")
    second = SECOND.replace(b"\n", b"\r\n")
    assert out == (
        b"+OK send your password\r\n"
        b"+OK maildrop has 2 messages\r\n"
        + f"+OK 2 {len(FIRST) + len(second)}\r\n".encode()
        + f"+OK 2 messages\r\n1 {len(FIRST)}\r\n2 {len(second)}\r\n.\r\n".encode()
        + f"+OK 2 {srv.store.mailbox('alice', 'INBOX').uidvalidity}.2\r\n".encode()  # type: ignore[union-attr]
        + f"+OK {len(FIRST)} octets\r\n".encode()
        + FIRST.replace(b"\r\n.", b"\r\n..")
        + b".\r\n"
        + f"+OK {len(second)} octets\r\n".encode()
        + second
        + b".\r\n"
        + b"+OK top of message follows\r\nSubject: one\r\n\r\n..starts with a dot\r\n.\r\n"
    )
    assert session.state is State.TRANSACTION


def test_dele_takes_effect_only_after_quit() -> None:
    """DELE hides the message from this session only; QUIT's UPDATE state removes it."""
    srv = server()
    session = srv.open_session()
    out = talk(session, LOGIN + b"DELE 1\r\nRETR 1\r\nDELE 1\r\nSTAT\r\nLIST 2\r\n")
    assert statuses(out) == ["+OK", "+OK", "+OK", "-ERR", "-ERR", "+OK", "+OK"]
    assert uids(srv, "alice") == [1, 2]
    assert statuses(talk(session, b"QUIT\r\n")) == ["+OK"] and session.closed
    assert uids(srv, "alice") == [2]


def test_rset_unmarks_and_a_dropped_connection_deletes_nothing() -> None:
    """RSET forgets the marks; a session that ends without QUIT never reaches UPDATE."""
    srv = server()
    session = srv.open_session()
    talk(session, LOGIN + b"DELE 1\r\nRSET\r\nDELE 2\r\n")
    session.receive_data(b"")
    assert session.closed and uids(srv, "alice") == [1, 2]
    session = srv.open_session()  # the lock was given back
    out = talk(session, LOGIN + b"DELE 1\r\n")
    assert statuses(out)[-1] == "+OK"
    session.shutdown("server going down")
    assert uids(srv, "alice") == [1, 2]


def test_retrieved_messages_are_seen_after_quit() -> None:
    """Like Dovecot: RETR sets \\Seen for IMAP clients, at UPDATE time."""
    srv = server()
    session = srv.open_session()
    talk(session, LOGIN + b"RETR 2\r\nQUIT\r\n")
    box = srv.store.mailbox("alice", "INBOX")
    assert box is not None
    assert [sorted(m.flags) for m in box.messages] == [[], ["\\Seen"]]


def test_one_session_per_maildrop() -> None:
    """RFC 2449 8.1.1: a second login to a locked maildrop gets -ERR [IN-USE]."""
    srv = server()
    first = srv.open_session()
    talk(first, LOGIN)
    out = talk(srv.open_session(), LOGIN)
    assert out.endswith(b"-ERR [IN-USE] the maildrop is in use by another POP3 session\r\n")
    talk(first, b"QUIT\r\n")
    assert statuses(talk(srv.open_session(), LOGIN)) == ["+OK", "+OK"]


def test_wrong_password_is_answered_late() -> None:
    """A failed PASS sets ``hold``: the owner waits before sending the -ERR."""
    srv = server(login_failure_delay=0.25)
    session = srv.open_session()
    out = talk(session, b"USER alice\r\nPASS nope\r\n")
    assert out.endswith(b"-ERR [AUTH] authentication failed\r\n") and session.hold == 0.25


@pytest.mark.parametrize(
    ("script", "last"),
    [
        (b"STAT\r\n", "-ERR"),  # before login
        (b"PASS x\r\n", "-ERR"),  # PASS without USER
        (LOGIN + b"RETR 3\r\n", "-ERR"),
        (LOGIN + b"RETR 0\r\n", "-ERR"),
        (LOGIN + b"RETR x\r\n", "-ERR"),
        (LOGIN + b"TOP 1\r\n", "-ERR"),
        (LOGIN + b"USER bob\r\n", "-ERR"),  # not in TRANSACTION
        (LOGIN + b"NOOP\r\n", "+OK"),
        (b"CAPA\r\n", "+OK"),
        (b"STLS\r\n", "-ERR"),  # no TLS configured
        (b"FOO\r\n", "-ERR"),
    ],
)
def test_each_misstep_gets_err(script: bytes, last: str) -> None:
    """The state table and the argument checks."""
    assert statuses(talk(server().open_session(), script))[-1] == last


def test_plaintext_login_refused_until_stls() -> None:
    """RFC 2595: without TLS, CAPA hides USER and offers STLS; USER is refused; after
    STLS, commands pipelined in clear text are dropped."""
    session = server(starttls=True, login_requires_tls=True).open_session()
    out = talk(session, b"CAPA\r\nUSER alice\r\nSTLS\r\nUSER alice\r\n", chunk=None)
    assert b"STLS\r\n" in out and b"USER\r\n" not in out
    assert statuses(out) == ["+OK", "-ERR", "+OK"] and session.starttls_requested
    session.tls_started()
    assert statuses(talk(session, LOGIN)) == ["+OK", "+OK"]


def test_too_many_bad_commands_close_the_session() -> None:
    """A client that only sends garbage is shown the door."""
    session = server(max_errors=3).open_session()
    talk(session, b"A\r\nB\r\nC\r\nNOOP\r\n")
    assert session.closed


FRAGMENTS = [
    b"USER alice\r\n", b"USER bob\r\n", b"PASS wonder land\r\n", b"PASS builder\r\n", b"PASS x\r\n",
    b"STAT\r\n", b"LIST\r\n", b"LIST 1\r\n", b"RETR 1\r\n", b"RETR 2\r\n", b"RETR 3\r\n",
    b"TOP 1 0\r\n", b"TOP 2 9\r\n", b"DELE 1\r\n", b"RSET\r\n", b"UIDL\r\n", b"NOOP\r\n",
    b"CAPA\r\n", b"STLS\r\n", b"QUIT\r\n", b"\r\n", b"\n", b" ", b"\x00\xff", b"x" * 300,
]  # fmt: skip


@settings(
    derandomize=True, max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    st.lists(st.sampled_from(FRAGMENTS) | st.binary(max_size=12), max_size=30), st.integers(1, 9)
)
def test_alices_bytes_never_crash_and_never_show_bobs_mail(pieces: list[bytes], chunk: int) -> None:
    """Whatever alice's client sends (she cannot log in as bob: his password is not in
    the alphabet), no exception escapes and bob's message never appears; bob's INBOX
    is untouched."""
    srv = server(max_line=200, login_failure_delay=0)
    session = srv.open_session()
    data = b"".join(p for p in pieces if p != b"PASS builder\r\n")
    out = talk(session, data, chunk) + session.receive_data(b"")
    assert b"secret of bob" not in out
    assert uids(srv, "bob") == [1]
    for line in re.split(rb"\r\n", out):
        assert b"\n" not in line and b"\r" not in line
    assert session.closed and not srv.locked


def test_one_command_at_a_time_and_backlog_says_when_more_waits() -> None:
    """``max_commands=1`` answers one command; ``backlog`` is set only while a
    complete command is still buffered (the owner comes back for it)."""
    session = server().open_session()
    out = session.receive_data(LOGIN + b"NOOP\r\nNO", max_commands=1)
    assert statuses(out) == ["+OK"] and session.backlog
    assert statuses(session.resume(1)) == ["+OK"] and session.backlog
    assert statuses(session.resume(1)) == ["+OK"] and not session.backlog  # "NO" is half
    assert statuses(session.receive_data(b"OP\r\n", max_commands=1)) == ["+OK"]
    assert not session.backlog


@settings(derandomize=True, max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from([b".", b"..", b"a", b"", b". ", b"x.y"]), max_size=6),
        min_size=1,
        max_size=5,
    ),
    st.lists(st.integers(1, 5), max_size=12),
    st.integers(0, 64),
)
def test_a_kept_retr_answer_is_the_one_rendered_afresh(
    bodies: list[list[bytes]], picks: list[int], budget: int
) -> None:
    """A session keeps each RETR answer it rendered (dot-stuffed, status line and all)
    within ``RETR_MEMO_OCTETS``; whether an answer comes from the memo or is rendered
    again, it is byte for byte the same: RFC 1939's dot-stuffing of the CRLF form."""
    import netsim.mail.pop3.server as pop3_server

    messages = [
        b"Subject: s\r\n\r\n" + b"".join(line + b"\r\n" for line in lines) for lines in bodies
    ]
    store = MailStore()
    box = store.mailbox("alice", "INBOX") or store.create_mailbox("alice", "INBOX")
    store.append(box, [(m, (), None) for m in messages])
    original = pop3_server.RETR_MEMO_OCTETS
    pop3_server.RETR_MEMO_OCTETS = budget  # small: some answers kept, some not
    try:
        session = Pop3Server(store, Users(USERS)).open_session()
        session.receive_data(LOGIN)
        for n in picks:
            out = session.receive_data(b"RETR %d\r\n" % n)
            if n > len(messages):
                assert out == b"-ERR no such message\r\n"
                continue
            data = messages[n - 1]
            stuffed = data.replace(b"\r\n.", b"\r\n..")
            assert out == b"+OK %d octets\r\n" % len(data) + stuffed + b".\r\n"
    finally:
        pop3_server.RETR_MEMO_OCTETS = original


LINES = [
    b"STAT\r\n",
    b"LIST\r\n",
    b"UIDL\r\n",
    b"NOOP\r\n",
    b"DELE 1\r\n",
    b"RSET\r\n",
    b"RETR 2\r\n",
    b"LIST 1\r\n",
    b"stat\r\n",
    b"STAT",
    b"\r\n",
    b"X" * 300 + b"\r\n",
    b"QUIT\r\n",
]


@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(LINES), min_size=1, max_size=3), max_size=25))
def test_a_lone_polling_command_takes_the_short_path_to_the_same_answer(
    reads: list[list[bytes]],
) -> None:
    """A whole ``STAT``, ``LIST``, ``UIDL`` or ``NOOP`` line alone in a read skips the
    line buffer and the parser (a polling client repeats them).  Whatever mix of reads
    comes (DELE and RSET between, lines cut in two, overlong lines being skipped,
    several commands in one read), the answers and the maildrop afterwards are the
    ones the same bytes give when fed one octet at a time, which never takes it."""
    short, slow = server(max_line=200), server(max_line=200)
    fast_session, slow_session = short.open_session(), slow.open_session()
    fast_out = [fast_session.receive_data(LOGIN)]
    slow_out = [talk(slow_session, LOGIN)]
    for read in reads:
        fast_out.append(fast_session.receive_data(b"".join(read)))
        slow_out.append(talk(slow_session, b"".join(read)))
    assert b"".join(fast_out) == b"".join(slow_out)
    assert fast_session.state is slow_session.state
    assert uids(short, "alice") == uids(slow, "alice")
