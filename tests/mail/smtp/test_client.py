"""The sans-IO SMTP client against the sans-IO SMTP server, bytes in both directions.

The client cuts replies out of the byte stream whatever the chunks (multi-line EHLO
replies included) and stuffs messages so that the server stores them unchanged.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.mail.smtp import SmtpServer
from netsim.mail.smtp.client import ClientConnection, ReplyError
from netsim.mail.smtp.events import NEED_DATA, ConnectionClosed, Reply
from netsim.mail.store import MailStore
from netsim.mail.users import Users


def replies(client: ClientConnection, data: bytes, chunk: int) -> list[Reply]:
    found: list[Reply] = []
    for i in range(0, len(data), chunk):
        client.receive_data(data[i : i + chunk])
        while isinstance(event := client.next_event(), Reply):
            found.append(event)
    return found


@settings(derandomize=True, max_examples=60, deadline=None)
@given(st.binary(max_size=300), st.integers(1, 7))
def test_a_pipelined_transaction_round_trip(body: bytes, chunk: int) -> None:
    """EHLO, then MAIL/RCPT/DATA pipelined, then the message: any octets arrive intact
    in the recipient's INBOX (in their CRLF form), whatever the chunking."""
    store = MailStore()
    server = SmtpServer(store, Users({"bob": "builder"}))
    session = server.open_session()
    client = ClientConnection()
    got = replies(client, session.greeting(), chunk)
    got += replies(client, session.receive_data(client.command("EHLO pc1")), chunk)
    assert [r.code for r in got] == [220, 250] and "PIPELINING" in client.extensions
    assert client.extensions["SIZE"] == str(server.config.max_size)
    burst = b"".join(client.command(c) for c in ("MAIL FROM:<a@x>", "RCPT TO:<bob@x>", "DATA"))
    got = replies(client, session.receive_data(burst), chunk)
    got += replies(client, session.receive_data(client.message(body)), chunk)
    got += replies(client, session.receive_data(client.command("QUIT")), chunk)
    assert [r.code for r in got] == [250, 250, 354, 250, 221]
    assert got[0].enhanced == "2.1.0" and got[0].lines == ("sender OK",)
    client.receive_data(b"")
    assert isinstance(client.next_event(), ConnectionClosed)
    inbox = store.mailbox("bob", "INBOX")
    assert inbox is not None
    expected = body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if expected and not expected.endswith(b"\r\n"):
        expected += b"\r\n"
    assert [m.data for m in inbox.messages] == [expected]


def test_not_a_reply_is_an_error() -> None:
    """A line that is not ``NNN text`` raises ReplyError; half a reply needs data."""
    client = ClientConnection()
    client.receive_data(b"250-first\r\n")
    assert client.next_event() is NEED_DATA
    client.receive_data(b"hello\r\n")
    with pytest.raises(ReplyError):
        client.next_event()
