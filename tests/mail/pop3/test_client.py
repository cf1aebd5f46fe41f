"""The sans-IO POP3 client against the sans-IO POP3 server.

POP3 replies do not announce a body; the client knows from the command it sent, even
when commands are pipelined, and gives back a RETR body octet for octet.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.mail.lines import on_the_wire
from netsim.mail.pop3 import Pop3Server
from netsim.mail.pop3.client import ClientConnection, ReplyError, multi_line
from netsim.mail.pop3.connection import NEED_DATA, Reply
from netsim.mail.store import MailStore
from netsim.mail.users import Users


def test_which_replies_have_a_body() -> None:
    """RETR, TOP, CAPA always; LIST and UIDL only without a message number."""
    assert [multi_line(c) for c in ("RETR 1", "TOP 1 0", "CAPA", "LIST", "UIDL")] == [True] * 5
    assert [multi_line(c) for c in ("LIST 1", "UIDL 2", "STAT", "DELE 1", "")] == [False] * 5


@settings(derandomize=True, max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=200), min_size=1, max_size=4), st.integers(1, 9))
def test_pipelined_session_gives_back_every_message(messages: list[bytes], chunk: int) -> None:
    """USER, PASS, STAT, LIST, RETR each, QUIT in one burst: the replies pair with the
    commands, and each RETR body is the stored message in its CRLF form."""
    store = MailStore()
    server = Pop3Server(store, Users({"bob": "builder"}))
    inbox = store.mailbox("bob", "INBOX")
    assert inbox is not None
    store.append(inbox, [(m, (), None) for m in messages])
    session = server.open_session()
    client = ClientConnection()
    commands = ["USER bob", "PASS builder", "STAT", "LIST"]
    commands += [f"RETR {n}" for n in range(1, len(messages) + 1)] + ["QUIT"]
    wire = session.greeting() + session.receive_data(b"".join(client.command(c) for c in commands))
    got: list[Reply] = []
    for i in range(0, len(wire), chunk):
        client.receive_data(wire[i : i + chunk])
        while isinstance(event := client.next_event(), Reply):
            got.append(event)
    assert len(got) == len(commands) + 1 and all(r.ok for r in got)
    assert got[3].text == f"{len(messages)} {sum(len(on_the_wire(m)) for m in messages)}"
    assert got[4].body is not None and got[4].body.count(b"\r\n") == len(messages)
    assert [r.body for r in got[5:-1]] == [on_the_wire(m) for m in messages]
    assert client.next_event() is NEED_DATA


def test_a_reply_nobody_asked_for_is_an_error() -> None:
    """After the greeting, a reply with no command outstanding raises ReplyError."""
    client = ClientConnection()
    client.receive_data(b"+OK hello\r\n+OK again\r\n")
    assert client.next_event() == Reply(True, "hello")
    with pytest.raises(ReplyError):
        client.next_event()
