"""The sans-IO client: tagging, literals, and response parsing, against our server."""

from __future__ import annotations

from netsim.mail.imap.client import ClientConnection
from netsim.mail.imap.events import (
    NEED_DATA,
    Continuation,
    Literal,
    Request,
    SendContinuation,
    SendDone,
    Tagged,
    Untagged,
    UntaggedStatus,
)
from netsim.mail.imap.parser import Atom

from .helpers import SIMPLE, make_server


def pump(client: ClientConnection, data: bytes) -> list[object]:
    """Feed the client one byte at a time (the hard way) and collect events."""
    events: list[object] = []
    for i in range(len(data)):
        client.receive_data(data[i : i + 1])
        while (event := client.next_event()) is not NEED_DATA:
            events.append(event)
    return events


def test_a_whole_conversation() -> None:
    """Greeting, LOGIN, APPEND with a synchronizing literal, FETCH with a literal back."""
    session = make_server().open_session()
    client = ClientConnection()
    greeting = pump(client, session.greeting())
    assert isinstance(greeting[0], UntaggedStatus) and greeting[0].status == "OK"
    assert "IMAP4REV1" in client.capabilities

    out = pump(client, session.receive_data(client.send(Request("LOGIN", ("alice", "wonderland")))))
    assert out == [Tagged("A0001", "OK", "logged in", out[0].code)]  # type: ignore[union-attr]

    client.capabilities.discard("LITERAL+")  # force the synchronizing form
    first = client.send(Request("APPEND", ("INBOX", (Atom("\\Seen"),), Literal(SIMPLE))))
    assert first.endswith(b"{%d}\r\n" % len(SIMPLE))
    assert pump(client, session.receive_data(first)) == [Continuation("Ready for literal data")]
    done = pump(client, session.receive_data(client.send(SendContinuation())))
    assert isinstance(done[-1], Tagged) and done[-1].code is not None
    assert done[-1].code.startswith("APPENDUID")

    pump(client, session.receive_data(client.send(Request("SELECT", ("INBOX",)))))
    events = pump(
        client,
        session.receive_data(client.send(Request("FETCH", (Atom("1"), Atom("BODY.PEEK[]"))))),
    )
    fetched = events[0]
    assert isinstance(fetched, Untagged)
    assert fetched.values == (Atom("1"), Atom("FETCH"), (Atom("BODY[]"), SIMPLE))
    assert isinstance(events[1], Tagged) and events[1].tag == "A0004"
    assert client.in_flight == {}


def test_idle_and_done() -> None:
    """IDLE gets '+', DONE ends it and the tagged OK arrives."""
    session = make_server().open_session()
    client = ClientConnection(tag_prefix="x")
    pump(client, session.greeting())
    pump(client, session.receive_data(client.send(Request("LOGIN", ("bob", "builder")))))
    assert pump(client, session.receive_data(client.send(Request("IDLE")))) == [
        Continuation("idling")
    ]
    events = pump(client, session.receive_data(client.send(SendDone())))
    assert events == [Tagged("x0002", "OK", "IDLE terminated")]


def test_quoting_rules() -> None:
    """Strings that cannot be quoted are sent as literals; atoms go verbatim."""
    client = ClientConnection()
    client.capabilities.add("LITERAL+")
    data = client.send(Request("LOGIN", ('we"ird', "two\r\nlines")))
    assert data == b'A0001 LOGIN {6+}\r\nwe"ird {10+}\r\ntwo\r\nlines\r\n'
    assert client.send(Request("SELECT", ("Sent Items",))) == b'A0002 SELECT "Sent Items"\r\n'


def test_a_refused_literal_is_never_sent() -> None:
    """If the server answers NO instead of '+', the held-back literal is dropped."""
    from netsim.mail.imap.server import ServerConfig

    session = make_server(ServerConfig(max_literal=10)).open_session()
    client = ClientConnection()
    pump(client, session.greeting())
    client.capabilities.discard("LITERAL+")
    pump(client, session.receive_data(client.send(Request("LOGIN", ("alice", "wonderland")))))
    client.capabilities.discard("LITERAL+")
    first = client.send(Request("APPEND", ("INBOX", Literal(b"x" * 100))))
    events = pump(client, session.receive_data(first))
    assert isinstance(events[0], Tagged) and events[0].status == "NO"
    assert events[0].code == "TOOBIG"
    assert client.send(Request("NOOP")) == b"A0003 NOOP\r\n"
