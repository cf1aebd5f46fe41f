"""The SMTP client side without sockets, against netsim's own SMTP server session.

A reply is a three-digit code and one or more lines (``250-...`` continues, ``250 ...``
ends, RFC 5321 4.2.1). A message travels dot-stuffed: a line that begins with a dot
gets a second one, and a line holding a single dot ends the message (RFC 5321 4.5.2).
The client must parse replies however TCP cuts them, so the tests feed it one byte at a
time, and a pipelined transaction (RFC 2920) gets its replies in order.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.mail.smtp import SmtpConfig, SmtpServer
from netsim.mail.smtp.client import ClientError, Extensions, SmtpClient
from netsim.mail.smtp.events import NEED_DATA, Reply
from netsim.mail.store import MailStore
from netsim.mail.users import Users

MESSAGE = (
    b"From: alice@example.org\r\nTo: bob@example.org\r\nMessage-ID: <1@x>\r\n"
    b"Subject: dots\r\n\r\n.a line that starts with a dot\r\n..two\r\n.\r\nend\r\n"
)


def replies(client: SmtpClient, data: bytes) -> list[Reply]:
    """Feed ``data`` one byte at a time; return the replies it completes."""
    out = []
    for i in range(len(data)):
        client.receive_data(data[i : i + 1])
        while isinstance(event := client.next_event(), Reply):
            out.append(event)
        assert event is NEED_DATA
    return out


def test_a_pipelined_transaction_delivers_the_message_byte_for_byte():
    store = MailStore()
    server = SmtpServer(store, Users({"bob": "pw"}), SmtpConfig(debug=True))
    session = server.open_session()
    client = SmtpClient()
    (greeting,) = replies(client, session.greeting())
    assert greeting.code == 220
    (ehlo,) = replies(client, session.receive_data(client.command("EHLO client.example")))
    extensions = Extensions.parse(ehlo)
    assert "PIPELINING" in extensions and "SIZE" in extensions
    burst = b"".join(
        client.command(c) for c in ("MAIL FROM:<alice@example.org>", "RCPT TO:<bob@x>", "DATA")
    )
    got = replies(client, session.receive_data(burst))
    assert [r.code for r in got] == [250, 250, 354]
    assert got[0].enhanced == "2.1.0"  # ENHANCEDSTATUSCODES, split off the text
    (done,) = replies(client, session.receive_data(client.message(MESSAGE)))
    assert done.code == 250 and client.expected == 0
    inbox = store.mailbox("bob", "INBOX")
    assert inbox is not None and inbox.messages[-1].data == MESSAGE


def test_a_multiline_reply_is_one_event_with_every_line():
    client = SmtpClient()
    (reply,) = replies(client, b"250-mail.example greets you\r\n250-PIPELINING\r\n250 SIZE 100\r\n")
    assert reply.lines == ("mail.example greets you", "PIPELINING", "SIZE 100")
    assert Extensions.parse(reply).keywords == {"PIPELINING": "", "SIZE": "100"}


@pytest.mark.parametrize(
    "bad", [b"hello\r\n", b"250-one\r\n354 two\r\n", b"999 no such code\r\n", b"25\r\n"]
)
def test_bytes_that_are_not_replies_are_a_client_error(bad):
    client = SmtpClient()
    client.receive_data(bad)
    with pytest.raises(ClientError):
        while client.next_event() is not NEED_DATA:
            pass


@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_give_replies_need_data_or_a_client_error(data):
    client = SmtpClient()
    client.receive_data(data)
    try:
        for _ in range(400):
            if client.next_event() is NEED_DATA:
                break
    except ClientError:
        pass
