"""The IPv4 header (RFC 791): checksum and fields checked by dpkt, round trips, bad input."""

from __future__ import annotations

import contextlib

import dpkt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.net.addressing import IPv4Address
from netsim.net.checksum import internet_checksum
from netsim.net.errors import DecodeError
from netsim.net.ipv4 import DEFAULT_TTL, HEADER_BYTES, IpProtocol, Ipv4Packet

ips = st.integers(min_value=0, max_value=(1 << 32) - 1).map(IPv4Address)
packets = st.builds(
    Ipv4Packet,
    src=ips,
    dst=ips,
    protocol=st.integers(0, 255),
    payload=st.binary(max_size=200),
    ttl=st.integers(0, 255),
    identification=st.integers(0, 0xFFFF),
    tos=st.integers(0, 255),
    dont_fragment=st.booleans(),
    more_fragments=st.booleans(),
    fragment_offset=st.integers(0, 0x1FFF),
    options=st.binary(max_size=40).map(lambda b: b + bytes(-len(b) % 4)),
)

SRC = IPv4Address("10.0.0.1")
DST = IPv4Address("10.0.0.2")


@settings(deadline=None)
@given(packets, st.binary(max_size=30))
def test_round_trip_ignores_trailing_padding(packet: Ipv4Packet, padding: bytes) -> None:
    """Decode(encode(p)) == p; bytes past the total length (Ethernet padding) are ignored."""
    assert Ipv4Packet.from_bytes(packet.to_bytes() + padding) == packet


@settings(deadline=None)
@given(packets)
def test_dpkt_agrees_on_fields_and_checksum(packet: Ipv4Packet) -> None:
    """dpkt parses our header and, asked to recompute the checksum, gets ours."""
    raw = packet.to_bytes()
    parsed = dpkt.ip.IP(raw)
    assert parsed.v == 4 and parsed.hl * 4 == packet.header_length
    assert (parsed.src, parsed.dst) == (packet.src.packed, packet.dst.packed)
    assert (parsed.p, parsed.ttl, parsed.id, parsed.len) == (
        packet.protocol,
        packet.ttl,
        packet.identification,
        len(raw),
    )
    assert bool(parsed.df) == packet.dont_fragment and bool(parsed.mf) == packet.more_fragments
    ours = parsed.sum
    header = bytearray(raw[: packet.header_length])
    header[10:12] = b"\x00\x00"
    assert dpkt.in_cksum(bytes(header)) == ours


def test_header_checksum_covers_only_the_header() -> None:
    """Changing the payload leaves the header checksum alone (RFC 791 §3.1)."""
    a = Ipv4Packet(SRC, DST, IpProtocol.TCP, b"hello").to_bytes()
    b = Ipv4Packet(SRC, DST, IpProtocol.TCP, b"world").to_bytes()
    assert a[10:12] == b[10:12]
    assert internet_checksum(a[:HEADER_BYTES]) == 0


def test_defaults_are_those_of_a_modern_host() -> None:
    """TTL 64 and Don't Fragment, like Linux."""
    packet = Ipv4Packet.from_bytes(Ipv4Packet(SRC, DST, IpProtocol.ICMP).to_bytes())
    assert packet.ttl == DEFAULT_TTL == 64 and packet.dont_fragment and not packet.is_fragment


def test_routers_decrement_ttl_until_it_expires() -> None:
    """Each hop takes one from the TTL; at 1 a router must drop the packet."""
    packet = Ipv4Packet(SRC, DST, IpProtocol.ICMP, ttl=2)
    assert packet.decremented_ttl().ttl == 1
    with pytest.raises(ValueError, match="TTL expired"):
        packet.decremented_ttl().decremented_ttl()


def test_a_flipped_bit_fails_the_checksum() -> None:
    """Corrupting one header bit is detected; skipping verification still decodes."""
    raw = bytearray(Ipv4Packet(SRC, DST, IpProtocol.TCP, b"x").to_bytes())
    raw[8] ^= 0x01  # the TTL
    with pytest.raises(DecodeError, match="checksum"):
        Ipv4Packet.from_bytes(bytes(raw))
    assert Ipv4Packet.from_bytes(bytes(raw), verify_checksum=False).ttl == DEFAULT_TTL ^ 1


def _with(raw: bytes, offset: int, value: bytes) -> bytes:
    return raw[:offset] + value + raw[offset + len(value) :]


GOOD = Ipv4Packet(SRC, DST, IpProtocol.TCP, b"payload").to_bytes()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (GOOD[:19], "shorter than a 20-byte header"),
        (_with(GOOD, 0, b"\x65"), "version 6"),
        (_with(GOOD, 0, b"\x44"), "header length 16"),
        (_with(GOOD, 2, b"\x00\x10"), "total length 16 shorter"),
        (_with(GOOD, 2, b"\x04\x00"), "only 27 bytes arrived"),
    ],
)
def test_malformed_headers_are_rejected_with_a_reason(raw: bytes, message: str) -> None:
    """Each structural problem has its own clear message."""
    with pytest.raises(DecodeError, match=message):
        Ipv4Packet.from_bytes(raw)


@settings(deadline=None)
@given(st.binary(max_size=80))
def test_garbage_never_crashes(raw: bytes) -> None:
    """Random bytes decode or raise DecodeError, nothing else."""
    with contextlib.suppress(DecodeError):
        Ipv4Packet.from_bytes(raw)


def test_encoding_refuses_impossible_packets() -> None:
    """A packet longer than 65535 bytes or a TTL above 255 cannot be encoded."""
    with pytest.raises(ValueError, match="exceeds 65535"):
        Ipv4Packet(SRC, DST, IpProtocol.TCP, bytes(65535)).to_bytes()
    with pytest.raises(ValueError, match="TTL 256 does not fit"):
        Ipv4Packet(SRC, DST, IpProtocol.TCP, ttl=256).to_bytes()
    with pytest.raises(ValueError, match="protocol 300 does not fit"):
        Ipv4Packet(SRC, DST, 300).to_bytes()
