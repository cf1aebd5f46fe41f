"""The POP3 client side without sockets, against netsim's own POP3 server session.

POP3 answers ``+OK`` or ``-ERR`` on one line; a listing or a message then follows as a
block of lines ended by a single dot, dot-stuffed like SMTP's (RFC 1939 3). Whether a
block follows depends on the command (LIST with no argument: yes; LIST 1: no), so the
client remembers what it asked, in order, which lets it pipeline (RFC 2449 6.6).
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.mail.pop3.client import ClientError, Pop3Client
from netsim.mail.pop3.connection import NEED_DATA, Reply
from netsim.mail.pop3.server import Pop3Config, Pop3Server
from netsim.mail.store import MailStore
from netsim.mail.users import Users

MESSAGE = b"Subject: dots\r\n\r\n.starts with a dot\r\n.\r\nend\r\n"
WHEN = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def replies(client: Pop3Client, data: bytes) -> list[Reply]:
    out = []
    for i in range(len(data)):
        client.receive_data(data[i : i + 1])
        while isinstance(event := client.next_event(), Reply):
            out.append(event)
        assert event is NEED_DATA
    return out


def test_a_pipelined_session_reads_listings_and_messages_byte_for_byte():
    store = MailStore()
    server = Pop3Server(store, Users({"carol": "pw"}), Pop3Config(debug=True))
    inbox = store.mailbox("carol", "INBOX")
    assert inbox is not None
    store.append(inbox, [(MESSAGE, [], WHEN), (b"Subject: two\r\n\r\nx\r\n", [], WHEN)])
    session = server.open_session()
    client = Pop3Client()
    (greeting,) = replies(client, session.greeting())
    assert greeting.ok
    commands = ["USER carol", "PASS pw", "STAT", "LIST", "LIST 2", "UIDL", "RETR 1", "RETR 9"]
    burst = b"".join(client.command(c) for c in commands)
    got = replies(client, session.receive_data(burst))
    assert [r.ok for r in got] == [True, True, True, True, True, True, True, False]
    _user, _pass, stat, listing, one, uidl, retr, missing = got
    assert stat.text.split()[0] == "2"
    assert listing.body is not None and len(listing.body.splitlines()) == 2
    assert one.body is None  # LIST with an argument: one line
    assert uidl.body is not None
    assert retr.body == MESSAGE  # un-stuffed: the dot lines come back as sent
    assert missing.body is None and client.expected == 0


def test_a_status_line_without_ok_or_err_is_a_client_error():
    client = Pop3Client()
    client.receive_data(b"* OK this is IMAP\r\n")
    try:
        client.next_event()
    except ClientError as e:
        assert "not a POP3 status line" in str(e)
    else:
        raise AssertionError("accepted an IMAP greeting")


@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.lists(st.sampled_from(["RETR 1", "STAT", "LIST"]), max_size=4))
def test_any_bytes_give_replies_need_data_or_a_client_error(data, commands):
    client = Pop3Client()
    for c in commands:
        client.command(c)
    client.receive_data(data)
    try:
        for _ in range(400):
            if client.next_event() is NEED_DATA:
                break
    except ClientError:
        pass
