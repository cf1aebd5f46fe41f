"""Framing: lines and literals out of a byte stream, however it is chunked."""

from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.mail.imap.framing import FramingError, Line, LineFramer, LiteralAnnounced


def frames(framer: LineFramer) -> list[object]:
    """Every frame available now, accepting each announced literal."""
    out = []
    while (frame := framer.next_frame()) is not None:
        out.append(frame)
        if isinstance(frame, LiteralAnnounced):
            framer.accept_literal()
    return out


def test_a_literal_continues_the_line() -> None:
    """After '{5}' CRLF come five octets of data, then the line goes on."""
    framer = LineFramer()
    framer.feed(b'a LOGIN {5}\r\nal\r\nx "pw"\r\n')
    got = frames(framer)
    assert isinstance(got[0], LiteralAnnounced) and got[0].size == 5
    assert got[1] == Line((b"a LOGIN {5}", b"al\r\nx", b' "pw"'))


def test_synchronizing_literal_waits_for_the_server() -> None:
    """The framer stops at '{n}' until its owner accepts the literal."""
    framer = LineFramer()
    framer.feed(b"a APPEND x {3}\r\n")
    assert isinstance(framer.next_frame(), LiteralAnnounced)
    framer.feed(b"abc\r\n")
    assert framer.next_frame() is None  # still waiting for accept_literal()
    framer.accept_literal()
    assert framer.next_frame() == Line((b"a APPEND x {3}", b"abc", b""))


def test_literal_plus_does_not_wait() -> None:
    """'{n+}' (RFC 7888) sends the data at once; nothing to announce."""
    framer = LineFramer()
    framer.feed(b"a APPEND x {3+}\r\nabc\r\n")
    assert framer.next_frame() == Line((b"a APPEND x {3+}", b"abc", b""))


def test_oversized_literal_is_refused_before_the_data() -> None:
    """A synchronizing literal over the limit is refused; the client sends nothing more."""
    framer = LineFramer(max_literal=10)
    framer.feed(b"a APPEND x {11}\r\nb NOOP\r\n")
    error = framer.next_frame()
    assert isinstance(error, FramingError) and "exceeds" in error.reason
    assert framer.next_frame() == Line((b"b NOOP",))


def test_oversized_nonsync_literal_is_skipped() -> None:
    """A LITERAL+ over the limit is read and thrown away, then the line is refused."""
    framer = LineFramer(max_literal=2)
    framer.feed(b"a APPEND x {5+}\r\nhello\r\nb NOOP\r\n")
    error = framer.next_frame()
    assert isinstance(error, FramingError) and error.head.startswith(b"a APPEND")
    assert framer.next_frame() == Line((b"b NOOP",))


def test_overlong_line_is_refused_and_the_next_one_read() -> None:
    """A line without CRLF beyond the limit is discarded, not buffered forever."""
    framer = LineFramer(max_line=100)
    framer.feed(b"a NOOP " + b"x" * 500)
    assert framer.next_frame() is None
    assert framer.buffered < 200
    framer.feed(b"\r\nb NOOP\r\n")
    assert isinstance(framer.next_frame(), FramingError)
    assert framer.next_frame() == Line((b"b NOOP",))


STREAM = (
    b"1 LOGIN {5}\r\nalice {3}\r\npw!\r\n"
    b'2 APPEND INBOX (\\Seen) "01-Jan-2020 00:00:00 +0000" {10+}\r\n0123456789\r\n'
    b"3 FETCH 1:* (BODY.PEEK[HEADER.FIELDS (From To)]<0.10>)\r\n"
    b"4 NOOP\r\n"
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=len(STREAM)), max_size=12))
def test_chunking_never_matters(cuts: list[int]) -> None:
    """Feeding the stream in any chunks, even byte by byte, yields the same frames."""
    whole = LineFramer()
    whole.feed(STREAM)
    expected = frames(whole)
    framer = LineFramer()
    got: list[object] = []
    last = 0
    for cut in [*sorted(set(cuts)), len(STREAM)]:
        framer.feed(STREAM[last:cut])
        last = cut
        got.extend(frames(framer))
    assert got == expected
    one = LineFramer()
    byte_by_byte: list[object] = []
    for i in range(len(STREAM)):
        one.feed(STREAM[i : i + 1])
        byte_by_byte.extend(frames(one))
    assert byte_by_byte == expected


class CountingGate:
    """A literal gate with room for ``room`` octets, recording what it was asked."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.reserved = 0

    def admit(self, size: int) -> str | None:
        if self.reserved + size > self.room:
            return "no room"
        self.reserved += size
        return None

    def release(self, size: int) -> None:
        self.reserved -= size


def test_a_gate_is_asked_before_literal_data_is_buffered() -> None:
    """Literals are reserved when announced and released when their line is complete;
    one that does not fit is refused with code LIMIT, LITERAL+ data being skipped."""
    gate = CountingGate(room=10)
    framer = LineFramer(gate=gate)
    data = b"a X {4+}\r\nabcd {4+}\r\nefgh\r\nb X {8+}\r\n12345678 {3+}\r\nxyz\r\nc NOOP\r\n"
    got: list[object] = []
    reserved_while_inside = []
    for byte in data:  # one octet at a time
        framer.feed(bytes([byte]))
        got.extend(frames(framer))
        reserved_while_inside.append(gate.reserved)
    assert got[0] == Line((b"a X {4+}", b"abcd", b" {4+}", b"efgh", b""))
    assert isinstance(got[1], FramingError) and got[1].code == "LIMIT"
    assert got[2] == Line((b"c NOOP",))
    assert max(reserved_while_inside) == 8 and gate.reserved == 0
