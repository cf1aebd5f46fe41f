"""ARP packets (RFC 826): round trips, an independent parser, and garbage in."""

from __future__ import annotations

import contextlib

import dpkt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.l2.frame import BROADCAST, ETHERTYPE_ARP, Frame, fcs_valid
from netsim.net.addressing import IPv4Address
from netsim.net.arp import ARP_PACKET_BYTES, ArpOp, ArpPacket, peek_addresses
from netsim.net.errors import DecodeError

macs = st.integers(min_value=0, max_value=(1 << 48) - 1)
ips = st.integers(min_value=0, max_value=(1 << 32) - 1).map(IPv4Address)
packets = st.builds(ArpPacket, st.sampled_from(ArpOp), macs, ips, macs, ips)

H1 = 0x020000000001
H2 = 0x020000000002
IP1 = IPv4Address("10.0.0.1")
IP2 = IPv4Address("10.0.0.2")


@settings(deadline=None)
@given(packets, st.binary(max_size=18))
def test_round_trip_ignores_padding(packet: ArpPacket, padding: bytes) -> None:
    """Encoding then decoding gives the packet back, even with Ethernet padding after it."""
    raw = packet.to_bytes()
    assert len(raw) == ARP_PACKET_BYTES
    assert ArpPacket.from_bytes(raw + padding) == packet


def test_request_and_reply_fields_match_dpkt() -> None:
    """dpkt, an independent parser, reads our request and reply field by field."""
    request = ArpPacket.request(H1, IP1, IP2)
    parsed = dpkt.arp.ARP(request.to_bytes())
    assert (parsed.hrd, parsed.pro, parsed.hln, parsed.pln) == (1, 0x0800, 6, 4)
    assert parsed.op == dpkt.arp.ARP_OP_REQUEST
    assert parsed.sha == H1.to_bytes(6, "big") and parsed.spa == IP1.packed
    assert parsed.tha == bytes(6) and parsed.tpa == IP2.packed

    reply = request.reply(H2)
    parsed = dpkt.arp.ARP(reply.to_bytes())
    assert parsed.op == dpkt.arp.ARP_OP_REPLY
    assert parsed.sha == H2.to_bytes(6, "big") and parsed.spa == IP2.packed
    assert parsed.tha == H1.to_bytes(6, "big") and parsed.tpa == IP1.packed


def test_a_request_travels_in_a_broadcast_frame() -> None:
    """A request rides in a 64-byte broadcast frame that dpkt decodes as Ethernet/ARP."""
    frame = Frame.carrying(
        1, BROADCAST, H1, ETHERTYPE_ARP, ArpPacket.request(H1, IP1, IP2).to_bytes()
    )
    octets = frame.to_bytes()
    assert len(octets) == 64 and fcs_valid(octets)
    eth = dpkt.ethernet.Ethernet(octets[:-4])
    assert isinstance(eth.data, dpkt.arp.ARP)
    assert ArpPacket.from_bytes(bytes(eth.data)).target_ip == IP2


def test_only_requests_get_replies() -> None:
    """Replying to a reply is a programming error."""
    with pytest.raises(ValueError, match="request"):
        ArpPacket.request(H1, IP1, IP2).reply(H2).reply(H1)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "0 bytes"),
        (ArpPacket.request(H1, IP1, IP2).to_bytes()[:27], "27 bytes"),
        (b"\x00\x06" + ArpPacket.request(H1, IP1, IP2).to_bytes()[2:], "not Ethernet/IPv4"),
        (ArpPacket.request(H1, IP1, IP2).to_bytes()[:7] + b"\x09" + bytes(20), "opcode 9"),
    ],
)
def test_bad_packets_are_rejected_with_a_reason(raw: bytes, message: str) -> None:
    """Short, foreign or unknown-opcode packets raise DecodeError naming the problem."""
    with pytest.raises(DecodeError, match=message):
        ArpPacket.from_bytes(raw)


@settings(deadline=None)
@given(st.binary(max_size=60))
def test_garbage_never_crashes(raw: bytes) -> None:
    """Random bytes decode or raise DecodeError, nothing else."""
    with contextlib.suppress(DecodeError):
        ArpPacket.from_bytes(raw)


@settings(derandomize=True, max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=40),
        st.builds(
            lambda head, op, rest: head + op + rest,
            st.sampled_from([bytes.fromhex("000108000604"), bytes.fromhex("000108000605")]),
            st.sampled_from([b"\x00\x01", b"\x00\x02", b"\x00\x03"]),
            st.binary(min_size=18, max_size=30),
        ),
    )
)
def test_peeking_at_the_addresses_agrees_with_decoding(data: bytes) -> None:
    """A host sets aside ARP broadcasts that do not concern it by peeking at the two IPv4
    addresses without decoding: it may peek exactly when the packet decodes, and it reads
    the very addresses that decoding finds."""
    peeked = peek_addresses(data)
    try:
        packet = ArpPacket.from_bytes(data)
    except DecodeError:
        assert peeked is None
        return
    assert peeked == (packet.sender_ip.packed, packet.target_ip.packed)
