"""Lines and dot-terminated blocks, the framing SMTP and POP3 share (RFC 5321 4.5.2).

A block ends at a line holding one dot; a message line that starts with a dot is sent
with a second one (dot-stuffing) and the receiver removes it.  Whatever chunks the
bytes come in, the receiver must find the same lines and the same message.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.mail.lines import BlockReader, LineReader, LineTooLong, on_the_wire, stuff


def read_lines(reader: LineReader, data: bytes, chunk: int) -> list[bytes | LineTooLong]:
    found: list[bytes | LineTooLong] = []
    for i in range(0, len(data), chunk):
        reader.feed(data[i : i + chunk])
        while (line := reader.next_line()) is not None:
            found.append(line)
    return found


def test_lines_end_with_crlf_or_bare_lf_one_byte_at_a_time() -> None:
    """Command lines end at LF; a CR before it goes too."""
    data = b"EHLO a\r\nNOOP\nQUIT\r\npartial"
    assert read_lines(LineReader(100), data, 1) == [b"EHLO a", b"NOOP", b"QUIT"]


def test_a_too_long_line_is_reported_once_and_skipped_with_bounded_memory() -> None:
    """A line over the limit is one error, then reading goes on at the next line."""
    reader = LineReader(10)
    data = b"X" * 1000 + b"\r\nNOOP\r\n"
    found = read_lines(reader, data, 7)
    assert found == [LineTooLong(10), b"NOOP"]
    for chunk in (len(data), 995):  # the long line ends in the same read as the next
        assert read_lines(LineReader(10), data, chunk) == [LineTooLong(10), b"NOOP"]
    reader.feed(b"Y" * 10_000)
    assert reader.next_line() == LineTooLong(10)
    assert reader.buffered <= 12


def block_of(data: bytes, chunk: int, limit: int = 10_000) -> tuple[bytes | None, bytes]:
    reader = BlockReader(limit)
    for i in range(0, len(data), chunk):
        block = reader.feed(data[i : i + chunk])
        if block is not None:
            return block.data, block.rest + data[i + chunk :]
    raise AssertionError("no terminator found")


def test_dot_stuffing_is_undone_and_the_rest_is_left_for_the_next_command() -> None:
    """``..`` at a line start becomes ``.``; the bytes after ``.CRLF`` are not the message."""
    wire = b"Subject: x\r\n\r\n..hidden\r\n...two\r\nend\r\n.\r\nQUIT\r\n"
    for chunk in (1, 2, 3, 5, 100):
        data, rest = block_of(wire, chunk)
        assert data == b"Subject: x\r\n\r\n.hidden\r\n..two\r\nend\r\n"
        assert rest == b"QUIT\r\n"


def test_an_empty_message_and_a_leading_dot() -> None:
    """The terminator may be the very first line; a first line may start with a dot."""
    assert block_of(b".\r\n", 1) == (b"", b"")
    assert block_of(b"..x\r\n.\r\n", 1) == (b".x\r\n", b"")


def test_a_bare_lf_does_not_end_the_message() -> None:
    """Only CRLF.CRLF ends it: LF.LF inside is data (the "SMTP smuggling" confusion)."""
    data, _ = block_of(b"a\n.\nb\r\n.\r\n", 1)
    assert data == b"a\n.\nb\r\n"


def test_a_block_over_the_limit_is_read_to_its_end_and_dropped() -> None:
    """Past the limit only a few octets are kept; the next command still gets through."""
    reader = BlockReader(100)
    body = b"0123456789\r\n" * 1000
    block = None
    for i in range(0, len(body), 50):
        assert reader.feed(body[i : i + 50]) is None
        assert len(reader._buffer) <= 260
    block = reader.feed(b".\r\nNOOP\r\n")
    assert block is not None and block.data is None and block.rest == b"NOOP\r\n"
    assert block.size == len(body)


def test_the_limit_counts_the_message_not_its_stuffing() -> None:
    """RFC 1870 sizes are of the message: a message of exactly the limit, every line
    a dot, still fits although its stuffed form is longer."""
    message = b".\r\n" * 30
    data, _ = block_of(stuff(message), 5, limit=len(message))
    assert data == message
    data, _ = block_of(stuff(message + b"x\r\n"), 5, limit=len(message))
    assert data is None


@settings(derandomize=True, max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from([b"", b".", b"..", b"x", b".x", b"\r", b"\n", b"a.b"]), max_size=30),
    st.integers(1, 9),
)
def test_stuff_then_read_gives_the_message_back(pieces: list[bytes], chunk: int) -> None:
    """Any message, stuffed by the sender, arrives as it was (in its CRLF form)."""
    message = on_the_wire(b"\r\n".join(pieces))
    data, rest = block_of(stuff(message), chunk)
    assert data == message and rest == b""
