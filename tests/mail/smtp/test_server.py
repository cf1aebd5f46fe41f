"""The SMTP server session without sockets (RFC 5321, 6409, 2920, 1870, 3207, 4954).

A session turns the client's bytes into replies and delivers accepted mail into the
store.  These tests speak SMTP to it directly, often one byte at a time, and check the
reply codes the RFCs prescribe and what lands in the mailboxes.
"""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netsim.mail.smtp import SmtpConfig, SmtpServer, SmtpSession
from netsim.mail.smtp.states import State
from netsim.mail.store import MailStore
from netsim.mail.users import Users

USERS = {"alice": "wonderland", "bob": "builder"}
MESSAGE = b"From: alice@example.org\r\nTo: bob@example.org\r\nSubject: hi\r\n\r\n.dot line\r\n"


def server(**config: object) -> SmtpServer:
    return SmtpServer(MailStore(), Users(USERS), SmtpConfig(debug=True, **config))  # type: ignore[arg-type]


def talk(session: SmtpSession, data: bytes, chunk: int | None = None) -> list[str]:
    """Feed ``data`` (in chunks of ``chunk`` octets) and return the reply lines."""
    if chunk is None:
        out = session.receive_data(data)
    else:
        out = b"".join(
            session.receive_data(data[i : i + chunk]) for i in range(0, len(data), chunk)
        )
    return out.decode().splitlines()


def codes(lines: list[str]) -> list[str]:
    """The code of each final reply line (multi-line replies count once)."""
    return [line[:3] for line in lines if line[3:4] == " "]


def inbox(srv: SmtpServer, user: str) -> list[bytes]:
    box = srv.store.mailbox(user, "INBOX")
    assert box is not None
    return [m.data for m in box.messages]


TRANSACTION = (
    b"EHLO client.example\r\n"
    b"MAIL FROM:<alice@example.org> SIZE=80 BODY=8BITMIME\r\n"
    b"RCPT TO:<bob@example.org>\r\n"
    b"DATA\r\n" + MESSAGE.replace(b"\r\n.", b"\r\n..") + b".\r\n"
    b"QUIT\r\n"
)


@pytest.mark.parametrize("chunk", [1, 3, None])
def test_one_transaction_in_any_chunks_delivers_the_unstuffed_message(chunk: int | None) -> None:
    """Greeting 220, EHLO 250, MAIL 250, RCPT 250, DATA 354, message 250, QUIT 221."""
    srv = server()
    session = srv.open_session()
    assert session.greeting().startswith(b"220 ")
    lines = talk(session, TRANSACTION, chunk)
    assert codes(lines) == ["250", "250", "250", "354", "250", "221"]
    assert "250-PIPELINING" in lines and "250-8BITMIME" in lines
    assert "250-ENHANCEDSTATUSCODES" in lines and f"250-SIZE {50 * 1024 * 1024}" in lines
    assert inbox(srv, "bob") == [MESSAGE]
    assert session.closed


def test_replies_carry_enhanced_status_codes_except_greeting_and_ehlo() -> None:
    """RFC 2034: ``250 2.1.0`` ... but the EHLO reply stays plain."""
    session = server().open_session()
    lines = talk(session, TRANSACTION)
    ehlo_end = next(i for i, line in enumerate(lines) if line.startswith("250 "))
    assert not re.match(r"^\d{3}[ -]\d\.\d+\.\d+ ", lines[ehlo_end])
    after = [line for line in lines[ehlo_end + 1 :] if not line.startswith("354")]
    assert all(re.match(r"^\d{3} [245]\.\d{1,3}\.\d{1,3} ", line) for line in after), after


def test_pipelined_commands_are_judged_in_order() -> None:
    """RFC 2920: a refused RCPT in a pipelined group does not stop the others, and the
    message after DATA is read as a message only because DATA got 354."""
    srv = server()
    session = srv.open_session()
    group = (
        b"EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<nobody@x>\r\nRCPT TO:<alice@x>\r\n"
        b"RCPT TO:<bob@x>\r\nDATA\r\nhello\r\n.\r\nMAIL FROM:<a@b>\r\nRCPT TO:<eve@x>\r\n"
        b"DATA\r\nnot a message\r\n.\r\nRSET\r\n"
    )
    lines = talk(session, group)
    assert codes(lines) == [
        *("250", "250", "550", "250", "250", "354", "250"),
        *("250", "550", "554", "500", "500", "250"),
    ]
    assert inbox(srv, "alice") == [b"hello\r\n"] and inbox(srv, "bob") == [b"hello\r\n"]


@pytest.mark.parametrize(
    ("script", "code"),
    [
        (b"MAIL FROM:<a@b>\r\n", "503"),  # before EHLO
        (b"EHLO c\r\nRCPT TO:<bob@x>\r\n", "503"),  # before MAIL
        (b"EHLO c\r\nDATA\r\n", "503"),
        (b"EHLO c\r\nMAIL FROM:<a@b>\r\nDATA\r\n", "554"),  # no recipients
        (b"EHLO c\r\nMAIL FROM:<a@b>\r\nMAIL FROM:<a@b>\r\n", "503"),  # nested
        (b"EHLO c\r\nMAIL FROM:a@b\r\n", "501"),  # no angle brackets
        (b"EHLO c\r\nMAIL FROM:<a@b> FROB=1\r\n", "555"),  # unknown parameter
        (b"EHLO c\r\nMAIL FROM:<a@b> SIZE=999999999999\r\n", "552"),  # SIZE over the limit
        (b"EHLO\r\n", "501"),
        (b"BLAH\r\n", "500"),
        (b"EHLO c\r\nAUTH PLAIN\r\n", "503"),  # AUTH is for the submission port
        (b"EHLO c\r\nSTARTTLS\r\n", "454"),  # no TLS configured
        (b"VRFY bob\r\n", "252"),  # no harvesting of names
    ],
)
def test_each_misstep_gets_its_reply_code(script: bytes, code: str) -> None:
    """The state table and the argument checks, one case each."""
    assert codes(talk(server().open_session(), script))[-1] == code


def test_a_message_over_the_size_limit_is_refused_and_the_session_goes_on() -> None:
    """RFC 1870: 552 5.3.4; the oversized message is read to its end and dropped."""
    srv = server(max_size=100)
    session = srv.open_session()
    big = b"x" * 78 + b"\r\n"
    lines = talk(
        session,
        b"EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<bob@x>\r\nDATA\r\n" + big * 50 + b".\r\n"
        b"MAIL FROM:<>\r\nRCPT TO:<bob@x>\r\nDATA\r\nsmall\r\n.\r\n",
        7,
    )
    assert codes(lines)[4:] == ["552", "250", "250", "354", "250"]
    assert "552 5.3.4" in lines[lines.index(next(x for x in lines if x.startswith("552")))]
    assert inbox(srv, "bob") == [b"small\r\n"]


def test_a_connection_dropped_during_data_delivers_nothing() -> None:
    """No 250, no message: the client will try again."""
    srv = server()
    session = srv.open_session()
    talk(session, b"EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<bob@x>\r\nDATA\r\nhalf a mess")
    assert session.receive_data(b"") == b"" and session.closed
    assert inbox(srv, "bob") == []


def test_submission_requires_auth_plain_and_delivers_after_it() -> None:
    """RFC 6409 + 4954: 530 before AUTH, 535 for a wrong password (answered late),
    235 for the right one, with the initial response or after a 334 challenge."""
    srv = server(login_failure_delay=0.5)
    session = srv.open_session(submission=True)
    lines = talk(session, b"EHLO c\r\nMAIL FROM:<alice@x>\r\n")
    assert "250-AUTH PLAIN" in lines and codes(lines)[-1] == "530"
    wrong = base64.b64encode(b"\0alice\0guess").decode()
    assert codes(talk(session, f"AUTH PLAIN {wrong}\r\n".encode())) == ["535"]
    assert session.hold == 0.5  # the owner waits before sending the 535
    lines = talk(session, b"AUTH PLAIN\r\n")
    assert lines == ["334 "]
    right = base64.b64encode(b"\0alice\0wonderland")
    assert codes(talk(session, right + b"\r\n")) == ["235"]
    assert session.user == "alice"
    lines = talk(session, b"MAIL FROM:<alice@x>\r\nRCPT TO:<bob@y>\r\nRCPT TO:<eve@y>\r\n")
    assert codes(lines) == ["250", "250", "550"] and "5.7.1" in lines[-1]  # no relaying


def test_auth_in_clear_text_is_refused_when_tls_is_required() -> None:
    """RFC 4954 4: 538 5.7.11, and EHLO does not advertise AUTH before STARTTLS."""
    session = server(login_requires_tls=True, starttls=True).open_session(submission=True)
    lines = talk(session, b"EHLO c\r\n")
    assert "250-STARTTLS" in lines and not any("AUTH" in line for line in lines)
    credentials = base64.b64encode(b"\0alice\0wonderland").decode()
    assert codes(talk(session, f"AUTH PLAIN {credentials}\r\n".encode())) == ["538"]


def test_starttls_forgets_what_was_pipelined_in_clear_text() -> None:
    """RFC 3207 4.2 and 5: after 220 the session starts over, and commands sent with
    STARTTLS before the handshake are dropped (no command injection)."""
    srv = server(starttls=True)
    session = srv.open_session()
    lines = talk(session, b"EHLO c\r\nSTARTTLS\r\nMAIL FROM:<evil@x>\r\nRCPT TO:<bob@x>\r\n")
    assert codes(lines) == ["250", "220"] and session.starttls_requested
    session.tls_started()
    assert session.state is State.GREETED
    lines = talk(session, b"MAIL FROM:<a@b>\r\nEHLO c\r\n")
    assert codes(lines) == ["503", "250"] and "250-STARTTLS" not in lines


def test_too_many_errors_end_the_session_with_421() -> None:
    """A client that only sends garbage is shown the door, and nothing crashes."""
    session = server(max_errors=3).open_session()
    lines = talk(session, b"X\r\nY\r\nZ\r\nNOOP\r\n")
    assert codes(lines) == ["500", "500", "421"] and session.closed


def test_a_too_long_command_line_is_refused() -> None:
    """500 5.5.6 for a line over the limit; the session goes on with the next one."""
    session = server(max_line=100).open_session()
    lines = talk(session, b"NOOP " + b"x" * 5000 + b"\r\nNOOP\r\n", 64)
    assert codes(lines) == ["500", "250"] and "5.5.6" in lines[0]


def test_too_many_recipients_get_452() -> None:
    """RFC 5321 4.5.3.1.10: 452 4.5.3 past the limit, the ones before it stay."""
    session = server(max_recipients=1).open_session()
    lines = talk(session, b"EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<bob@x>\r\nRCPT TO:<alice@x>\r\n")
    assert codes(lines) == ["250", "250", "250", "452"]


FRAGMENTS = [
    b"EHLO c\r\n", b"HELO c\r\n", b"MAIL FROM:<a@b>\r\n", b"MAIL FROM:<>", b"RCPT TO:<bob@x>\r\n",
    b"RCPT TO:<alice@x>\r\n", b"DATA\r\n", b"\r\n.\r\n", b".", b"..", b"\r\n", b"\n", b"\r",
    b"RSET\r\n", b"NOOP\r\n", b"VRFY bob\r\n", b"AUTH PLAIN\r\n",
    b"AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\n", b"*\r\n", b"STARTTLS\r\n", b"QUIT\r\n",
    b"\x00\xff", b" ", b"SIZE=1", b"x" * 300,
]  # fmt: skip


@settings(
    derandomize=True,
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.lists(st.sampled_from(FRAGMENTS) | st.binary(max_size=20), max_size=40),
    st.integers(1, 16),
    st.booleans(),
)
def test_any_bytes_get_well_formed_replies_and_never_an_exception(
    pieces: list[bytes], chunk: int, submission: bool
) -> None:
    """Whatever a client sends, each reply line is a code and text, and no exception
    escapes the session (the server runs with ``debug=True`` here, so one would)."""
    srv = server(max_line=200, max_size=1000, login_failure_delay=0)
    session = srv.open_session(submission=submission)
    data = b"".join(pieces)
    out = b"".join(session.receive_data(data[i : i + chunk]) for i in range(0, len(data), chunk))
    out += session.receive_data(b"")
    for line in out.split(b"\r\n")[:-1]:
        assert re.fullmatch(rb"[2345]\d\d[ -].*", line), line
    assert out == b"" or out.endswith(b"\r\n")
    assert session.closed
