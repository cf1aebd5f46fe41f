"""UDP (RFC 768): an 8-byte header and a checksum over an IPv4 pseudo-header.

dpkt's UDP class computes the checksum independently; a corrupted byte anywhere in
header or data must fail it; a zero checksum on the wire means "none computed".
"""

from __future__ import annotations

import dpkt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.net.addressing import IPv4Address
from netsim.net.errors import DecodeError
from netsim.net.ipv4 import IpProtocol, Ipv4Packet
from netsim.net.udp import HEADER_BYTES, UdpDatagram

SRC = IPv4Address("10.0.0.1")
DST = IPv4Address("224.0.0.102")
datagrams = st.builds(
    UdpDatagram, st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.binary(max_size=300)
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(datagrams)
def test_the_checksum_agrees_with_dpkt(datagram: UdpDatagram) -> None:
    """dpkt fills in the checksum of the same IPv4 packet; ours must equal it."""
    ours = datagram.to_packet(SRC, DST)
    theirs = dpkt.ip.IP(
        src=SRC.packed, dst=DST.packed, p=IpProtocol.UDP,
        data=dpkt.udp.UDP(sport=datagram.src_port, dport=datagram.dst_port, data=datagram.payload),
    )  # fmt: skip
    theirs.data.ulen = HEADER_BYTES + len(datagram.payload)
    theirs.len = 20 + theirs.data.ulen
    expected = dpkt.ip.IP(bytes(theirs)).data.sum
    assert int.from_bytes(ours.payload[6:8], "big") == expected


@settings(max_examples=200, deadline=None, derandomize=True)
@given(datagrams, st.binary(max_size=10))
def test_round_trip_ignores_bytes_past_the_length(datagram: UdpDatagram, tail: bytes) -> None:
    octets = datagram.to_bytes(SRC, DST)
    assert UdpDatagram.from_bytes(octets + tail, SRC, DST) == datagram
    assert UdpDatagram.from_packet(Ipv4Packet.from_bytes(datagram.to_packet(SRC, DST).to_bytes()))


@settings(max_examples=50, deadline=None, derandomize=True)
@given(datagrams, st.data())
def test_any_flipped_bit_fails_the_checksum(datagram: UdpDatagram, data: st.DataObject) -> None:
    octets = bytearray(datagram.to_bytes(SRC, DST))
    at = data.draw(st.integers(0, len(octets) - 1).filter(lambda i: i not in (4, 5, 6, 7)))
    octets[at] ^= 1 << data.draw(st.integers(0, 7))
    with pytest.raises(DecodeError, match="UDP"):
        UdpDatagram.from_bytes(bytes(octets), SRC, DST)


def test_every_truncation_is_one_clear_error() -> None:
    octets = UdpDatagram(68, 67, b"hello").to_bytes(SRC, DST)
    for cut in range(len(octets)):
        with pytest.raises(DecodeError, match="UDP"):
            UdpDatagram.from_bytes(octets[:cut], SRC, DST)


def test_a_zero_checksum_means_none_was_sent() -> None:
    octets = bytearray(UdpDatagram(1985, 1985, b"x").to_bytes(SRC, DST))
    octets[6:8] = b"\x00\x00"
    assert UdpDatagram.from_bytes(bytes(octets), SRC, DST).payload == b"x"


def test_a_packet_of_another_protocol_is_not_udp() -> None:
    with pytest.raises(DecodeError, match="protocol 6"):
        UdpDatagram.from_packet(Ipv4Packet(SRC, DST, IpProtocol.TCP, b"12345678"))
