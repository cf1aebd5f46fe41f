"""The sans-IO server connection: bytes in, events out, state from responses."""

from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.mail.imap.connection import ServerConnection
from netsim.mail.imap.events import (
    NEED_DATA,
    PAUSED,
    BadCommand,
    Command,
    ConnectionClosed,
    Continuation,
    IdleDone,
    LiteralRequest,
    LiteralTooLarge,
    Tagged,
    UntaggedStatus,
)
from netsim.mail.imap.parser import Atom
from netsim.mail.imap.states import State


def drain(conn: ServerConnection) -> list[object]:
    """Take events, answering each command OK and accepting every literal."""
    events: list[object] = []
    while True:
        event = conn.next_event()
        if event is NEED_DATA:
            return events
        events.append(event)
        if isinstance(event, LiteralRequest):
            conn.send(Continuation())
        elif isinstance(event, Command):
            conn.send(Tagged(event.tag, "OK", "done"))


def test_state_follows_the_responses() -> None:
    """The connection learns it is authenticated from the OK to LOGIN it sends."""
    conn = ServerConnection()
    conn.receive_data(b"a LOGIN u p\r\n")
    event = conn.next_event()
    assert event == Command("a", "LOGIN", (Atom("u"), Atom("p")))
    assert conn.state is State.NOT_AUTHENTICATED
    conn.send(Tagged("a", "OK", "welcome"))
    assert conn.state is State.AUTHENTICATED


def test_a_refused_login_changes_nothing() -> None:
    """NO to LOGIN leaves the connection unauthenticated."""
    conn = ServerConnection()
    conn.receive_data(b"a LOGIN u p\r\n")
    conn.next_event()
    conn.send(Tagged("a", "NO", "bad password"))
    assert conn.state is State.NOT_AUTHENTICATED


def test_commands_in_the_wrong_state_are_bad() -> None:
    """FETCH before SELECT is refused by the protocol layer itself."""
    conn = ServerConnection()
    conn.receive_data(b"a FETCH 1 FLAGS\r\nb SELECT INBOX\r\n")
    first = conn.next_event()
    assert isinstance(first, BadCommand) and first.tag == "a"
    assert "not allowed" in first.reason
    assert isinstance(conn.next_event(), BadCommand)


def test_pipelined_commands_wait_for_the_previous_answer() -> None:
    """The next command is parsed only after the current one is answered."""
    conn = ServerConnection()
    conn.receive_data(b"a LOGIN u p\r\nb SELECT INBOX\r\n")
    assert isinstance(conn.next_event(), Command)
    assert conn.next_event() is PAUSED
    conn.send(Tagged("a", "OK", "in"))
    assert conn.next_event() == Command("b", "SELECT", (Atom("INBOX"),))


def test_refusing_a_literal_abandons_the_command() -> None:
    """A tagged NO instead of '+' means the client never sends the literal."""
    conn = ServerConnection()
    conn.receive_data(b"a LOGIN u p\r\n")
    conn.next_event()
    conn.send(Tagged("a", "OK", "in"))
    conn.receive_data(b"b APPEND INBOX {100}\r\n")
    request = conn.next_event()
    assert request == LiteralRequest("b", "APPEND", 100)
    conn.send(Tagged("b", "NO", "too big for you"))
    conn.receive_data(b"c NOOP\r\n")
    assert conn.next_event() == Command("c", "NOOP", ())


def test_unknown_command_with_a_literal_is_refused_before_the_data() -> None:
    """No point in asking the client for data we will reject."""
    conn = ServerConnection()
    conn.receive_data(b"a FROB {5}\r\n")
    event = conn.next_event()
    assert isinstance(event, BadCommand) and "unknown" in event.reason


def test_idle_reads_raw_lines_until_done() -> None:
    """After '+ idling' the next line is not a command but DONE."""
    conn = ServerConnection()
    conn.state = State.AUTHENTICATED
    conn.receive_data(b"i IDLE\r\nDONE\r\n")
    assert conn.next_event() == Command("i", "IDLE", ())
    conn.send(Continuation("idling"))
    assert conn.next_event() == IdleDone("i", b"DONE")


def test_bye_and_eof_end_the_connection() -> None:
    """BYE moves to LOGOUT; end of input becomes ConnectionClosed."""
    conn = ServerConnection()
    conn.send(UntaggedStatus("BYE", "shutting down"))
    assert conn.state is State.LOGOUT
    other = ServerConnection()
    other.receive_data(b"")
    assert isinstance(other.next_event(), ConnectionClosed)


COMMANDS = [
    b"a1 LOGIN {5}\r\nalice {10}\r\nwonderland\r\n",
    b'a2 SELECT "INBOX"\r\n',
    b'a3 APPEND INBOX (\\Seen $Work) " 1-Jan-2020 10:00:00 +0100" {12+}\r\nSubject: x\r\n\r\n',
    b"a4 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (Subject)]<0.20>)\r\n",
    b"a5 SEARCH CHARSET UTF-8 OR (FROM {3}\r\nbob SINCE 1-Jan-2000) NOT DELETED\r\n",
    b"a6 STORE 1:3,5 +FLAGS.SILENT (\\Deleted)\r\n",
    b'a7 LIST "" %\r\n',
    b"a8 garbage ((\r\n",
]


STREAM = b"".join(COMMANDS)


def test_every_command_parses_the_same_byte_by_byte() -> None:
    """Feeding one byte at a time gives exactly the events of feeding it whole."""
    whole = ServerConnection()
    whole.receive_data(STREAM)
    expected = drain(whole)
    assert sum(isinstance(e, Command) for e in expected) == len(COMMANDS) - 1
    split = ServerConnection()
    got: list[object] = []
    for i in range(len(STREAM)):
        split.receive_data(STREAM[i : i + 1])
        got.extend(drain(split))
    assert got == expected


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=len(STREAM) - 1), max_size=20))
def test_any_chunking_parses_the_same(cuts: list[int]) -> None:
    """Whatever the TCP segment boundaries, the events are the same."""
    whole = ServerConnection()
    whole.receive_data(STREAM)
    expected = drain(whole)
    split = ServerConnection()
    got: list[object] = []
    last = 0
    for cut in [*sorted(set(cuts)), len(STREAM)]:
        split.receive_data(STREAM[last:cut])
        last = cut
        got.extend(drain(split))
    assert got == expected


def test_literals_stay_small_until_someone_logs_in() -> None:
    """An anonymous client cannot make the server buffer megabytes."""
    conn = ServerConnection(max_literal=10**6)
    conn.receive_data(b"a LOGIN {100000}\r\n")
    refused = conn.next_event()
    assert isinstance(refused, LiteralTooLarge) and "exceeds" in refused.reason
    conn.receive_data(b"b LOGIN u p\r\n")
    conn.next_event()
    conn.send(Tagged("b", "OK", "in"))
    conn.receive_data(b"c APPEND INBOX {100000}\r\n")
    assert conn.next_event() == LiteralRequest("c", "APPEND", 100000)


def test_star_and_plus_are_not_tags() -> None:
    """A tag cannot look like an untagged response or a continuation."""
    conn = ServerConnection()
    conn.receive_data(b"* NOOP\r\n+ NOOP\r\na] NOOP\r\n")
    assert conn.next_event() == BadCommand(None, "invalid tag")
    assert conn.next_event() == BadCommand(None, "invalid tag")
    assert conn.next_event() == Command("a]", "NOOP", ())
