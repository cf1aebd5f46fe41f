"""ICMP echo (RFC 792): what ping sends, checked by dpkt."""

from __future__ import annotations

import contextlib

import dpkt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.net.errors import DecodeError
from netsim.net.icmp import IcmpEcho, IcmpMessage, IcmpType, decode_icmp

echoes = st.builds(
    IcmpEcho, st.booleans(), st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.binary(max_size=100)
)


@settings(deadline=None)
@given(echoes)
def test_round_trip(echo: IcmpEcho) -> None:
    """Decode(encode(e)) == e, through the generic decoder too."""
    assert IcmpEcho.from_bytes(echo.to_bytes()) == echo
    assert decode_icmp(echo.to_bytes()) == echo


@settings(deadline=None)
@given(echoes)
def test_dpkt_reads_our_echo_and_agrees_on_the_checksum(echo: IcmpEcho) -> None:
    """dpkt parses type, id, seq and data, and recomputes the same checksum."""
    raw = echo.to_bytes()
    parsed = dpkt.icmp.ICMP(raw)
    assert parsed.type == (8 if echo.is_request else 0) and parsed.code == 0
    assert (parsed.data.id, parsed.data.seq, parsed.data.data) == (
        echo.identifier,
        echo.sequence,
        echo.data,
    )
    ours = parsed.sum
    parsed.sum = 0
    assert dpkt.icmp.ICMP(bytes(parsed)).sum == ours


def test_reply_echoes_identifier_sequence_and_data() -> None:
    """A reply returns the request's identifier, sequence and data unchanged."""
    request = IcmpEcho.request(0x1234, 7, b"abcdefgh")
    reply = request.reply()
    assert (reply.is_request, reply.identifier, reply.sequence, reply.data) == (
        False,
        0x1234,
        7,
        b"abcdefgh",
    )
    with pytest.raises(ValueError, match="request"):
        reply.reply()


def test_other_types_decode_as_generic_messages() -> None:
    """A destination-unreachable message is kept whole, not mistaken for an echo."""
    message = IcmpMessage(IcmpType.DESTINATION_UNREACHABLE, 1, bytes(4), b"original header")
    assert decode_icmp(message.to_bytes()) == message
    with pytest.raises(DecodeError, match="not an echo"):
        IcmpEcho.from_bytes(message.to_bytes())


def test_bad_checksum_and_short_messages_are_rejected() -> None:
    """A corrupted byte fails the checksum; fewer than 8 bytes are not a message."""
    raw = bytearray(IcmpEcho.request(1, 1, b"data").to_bytes())
    raw[-1] ^= 0xFF
    with pytest.raises(DecodeError, match="checksum"):
        decode_icmp(bytes(raw))
    with pytest.raises(DecodeError, match="shorter"):
        decode_icmp(b"\x08\x00\x00")


@settings(deadline=None)
@given(st.binary(max_size=40))
def test_garbage_never_crashes(raw: bytes) -> None:
    """Random bytes decode or raise DecodeError, nothing else."""
    with contextlib.suppress(DecodeError):
        decode_icmp(raw)
