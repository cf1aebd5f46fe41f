"""TCP segments: pseudo-header checksum and options, checked by dpkt; bad input rejected."""

from __future__ import annotations

import contextlib

import dpkt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.net.addressing import IPv4Address
from netsim.net.errors import DecodeError
from netsim.net.ipv4 import IpProtocol, Ipv4Packet
from netsim.net.tcp.segment import TcpFlags, TcpSegment

SRC = IPv4Address("10.0.0.1")
DST = IPv4Address("10.0.0.2")

u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFF_FFFF)
segments = st.builds(
    TcpSegment,
    src_port=u16,
    dst_port=u16,
    seq=u32,
    ack=u32,
    flags=st.integers(0, 255).map(TcpFlags),
    window=u16,
    payload=st.binary(max_size=200),
    mss=st.none() | u16,
    urgent=u16,
)


@settings(deadline=None)
@given(segments)
def test_round_trip(segment: TcpSegment) -> None:
    """Decode(encode(s)) == s for every field combination."""
    assert TcpSegment.from_bytes(segment.to_bytes(SRC, DST), SRC, DST) == segment


@settings(deadline=None)
@given(segments)
def test_dpkt_agrees_on_fields_options_and_checksum(segment: TcpSegment) -> None:
    """dpkt parses the segment inside an IPv4 packet and recomputes the same checksum."""
    raw = segment.to_bytes(SRC, DST)
    packet = dpkt.ip.IP(Ipv4Packet(SRC, DST, IpProtocol.TCP, raw).to_bytes())
    tcp = packet.data
    assert isinstance(tcp, dpkt.tcp.TCP)
    assert (tcp.sport, tcp.dport, tcp.seq, tcp.ack, tcp.flags, tcp.win) == (
        segment.src_port,
        segment.dst_port,
        segment.seq,
        segment.ack,
        int(segment.flags),
        segment.window,
    )
    assert tcp.data == segment.payload
    options = dict(dpkt.tcp.parse_opts(tcp.opts))
    if segment.mss is None:
        assert dpkt.tcp.TCP_OPT_MSS not in options
    else:
        assert options[dpkt.tcp.TCP_OPT_MSS] == segment.mss.to_bytes(2, "big")
    ours = tcp.sum
    tcp.sum = 0
    packet.sum = 0  # dpkt recomputes both checksums when they are zero
    assert dpkt.ip.IP(bytes(packet)).data.sum == ours


def test_checksum_covers_the_addresses() -> None:
    """The pseudo-header binds a segment to its addresses: a different source fails."""
    raw = TcpSegment(1, 2, 3, 4, TcpFlags.ACK, 100, b"data").to_bytes(SRC, DST)
    with pytest.raises(DecodeError, match="checksum"):
        TcpSegment.from_bytes(raw, IPv4Address("10.0.0.9"), DST)


def test_seg_len_counts_syn_and_fin() -> None:
    """SYN and FIN each occupy one sequence number (RFC 9293 §3.4)."""
    assert TcpSegment(1, 2, 0, 0, TcpFlags.SYN, 0).seg_len == 1
    assert TcpSegment(1, 2, 0, 0, TcpFlags.FIN | TcpFlags.ACK, 0, b"abc").seg_len == 4


@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.integers(0, 255), st.integers(0, 255), st.binary(max_size=20))
def test_the_fast_flag_tests_agree_with_intflag(bits: int, probe: int, payload: bytes) -> None:
    """The hot path tests flags with int arithmetic and decodes them from a table built
    once; every combination must mean exactly what ``IntFlag`` says."""
    from netsim.net.tcp.segment import FLAGS_BY_VALUE

    flags = TcpFlags(bits)
    assert FLAGS_BY_VALUE[bits] == flags
    assert type(FLAGS_BY_VALUE[bits]) is TcpFlags
    segment = TcpSegment(1, 2, 0, 0, flags, 0, payload)
    assert segment.has(TcpFlags(probe)) == bool(flags & TcpFlags(probe))
    expected = len(payload) + bool(flags & TcpFlags.SYN) + bool(flags & TcpFlags.FIN)
    assert segment.seg_len == expected
    decoded = TcpSegment.from_bytes(segment.to_bytes(SRC, DST), SRC, DST)
    assert type(decoded.flags) is TcpFlags and decoded.flags == flags


def test_summary_reads_like_tcpdump() -> None:
    """str() gives tcpdump's one-line form, useful in traces."""
    syn = TcpSegment(49152, 143, 100, 0, TcpFlags.SYN, 65535, mss=1460)
    assert str(syn) == "49152 > 143: Flags [S], seq 100, win 65535, options [mss 1460], length 0"
    data = TcpSegment(143, 49152, 7, 101, TcpFlags.PSH | TcpFlags.ACK, 512, b"* OK\r\n")
    assert str(data) == "143 > 49152: Flags [P.], seq 7:13, ack 101, win 512, length 6"


def test_unknown_options_are_skipped() -> None:
    """Window scale, SACK-permitted and timestamps are stepped over by their length."""
    header = bytearray(TcpSegment(1, 2, 3, 4, TcpFlags.SYN, 5).to_bytes(SRC, DST))
    options = bytes([3, 3, 7, 4, 2, 1, 2, 4, 5, 180, 8, 10]) + bytes(8) + bytes([1, 1, 1, 0])
    header[12] = ((20 + len(options)) // 4) << 4
    raw = bytes(header) + options
    segment = TcpSegment.from_bytes(raw, SRC, DST, verify_checksum=False)
    assert segment.mss == 1460


GOOD = TcpSegment(1, 2, 3, 4, TcpFlags.SYN, 5, mss=1460).to_bytes(SRC, DST)


def _with(raw: bytes, offset: int, value: bytes) -> bytes:
    return raw[:offset] + value + raw[offset + len(value) :]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (GOOD[:19], "shorter than a 20-byte header"),
        (_with(GOOD, 12, b"\x40"), "data offset 16"),
        (_with(GOOD, 12, b"\xf0"), "data offset 60"),
        (_with(GOOD, 20, b"\x02\x09"), "bad length 9"),
        (_with(GOOD, 20, b"\x02\x03"), "MSS option of length 3"),
        (_with(GOOD, 20, b"\x01\x01\x01\x05"), "no length byte"),
    ],
)
def test_malformed_segments_are_rejected_with_a_reason(raw: bytes, message: str) -> None:
    """Each structural problem has its own message (checksum skipped to reach it)."""
    with pytest.raises(DecodeError, match=message):
        TcpSegment.from_bytes(raw, SRC, DST, verify_checksum=False)


@settings(deadline=None)
@given(st.binary(max_size=80))
def test_garbage_never_crashes(raw: bytes) -> None:
    """Random bytes decode or raise DecodeError, with and without checksum verification."""
    for verify in (True, False):
        with contextlib.suppress(DecodeError):
            TcpSegment.from_bytes(raw, SRC, DST, verify_checksum=verify)


def test_fields_that_do_not_fit_are_refused() -> None:
    """Encoding checks field widths instead of letting struct raise something obscure."""
    with pytest.raises(ValueError, match="window 70000"):
        TcpSegment(1, 2, 3, 4, TcpFlags.ACK, 70000).to_bytes(SRC, DST)
