"""DHCP messages (RFC 2131 §2): a 236-byte BOOTP header, the magic cookie, then options.

A message is checked three ways: against the RFC's byte layout, against dpkt's
independent DHCP decoder, and against tshark's dhcp dissector with UDP checksums on.
"""

from __future__ import annotations

from pathlib import Path

import dpkt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.l2.frame import BROADCAST
from netsim.net.addressing import IPv4Address
from netsim.net.dhcp_message import (
    FLAG_BROADCAST,
    MAGIC_COOKIE,
    MIN_MESSAGE_BYTES,
    ZERO,
    BootpOp,
    DhcpMessage,
    DhcpMessageType,
    DhcpOption,
    address_option,
    seconds_option,
)
from netsim.net.errors import DecodeError
from netsim.net.udp import UdpDatagram
from tests.l3.wire import TSHARK, frame_bytes, tshark_fields

MAC = 0x0200_0000_0001
OFFER = DhcpMessage(
    BootpOp.BOOTREPLY,
    DhcpMessageType.OFFER,
    0xCAFE_0001,
    MAC,
    yiaddr=IPv4Address("10.1.10.11"),
    giaddr=IPv4Address("10.1.10.1"),
    flags=FLAG_BROADCAST,
    options={
        DhcpOption.SERVER_ID: address_option(IPv4Address("10.0.0.1")),
        DhcpOption.LEASE_TIME: seconds_option(3600),
        DhcpOption.SUBNET_MASK: address_option(IPv4Address("255.255.255.0")),
        DhcpOption.ROUTER: address_option(IPv4Address("10.1.10.1")),
        DhcpOption.DNS_SERVERS: address_option(IPv4Address("10.0.0.53"), IPv4Address("10.0.0.54")),
    },
)


def test_the_layout_is_bootp_then_the_cookie_then_option_53_first() -> None:
    octets = OFFER.to_bytes()
    assert len(octets) == MIN_MESSAGE_BYTES
    assert octets[:4] == bytes([2, 1, 6, 0])  # reply, Ethernet, 6-byte MAC, no hops
    assert octets[4:8] == bytes.fromhex("cafe0001")
    assert octets[10:12] == b"\x80\x00"  # broadcast flag
    assert octets[16:20] == bytes([10, 1, 10, 11])  # yiaddr
    assert octets[24:28] == bytes([10, 1, 10, 1])  # giaddr
    assert octets[28:34] == MAC.to_bytes(6, "big")
    assert octets[236:240] == MAGIC_COOKIE
    assert octets[240:243] == bytes([53, 1, 2])  # DHCPOFFER


def test_dpkt_reads_the_same_fields() -> None:
    """dpkt's DHCP class, written from the RFC by others, agrees on every field."""
    theirs = dpkt.dhcp.DHCP(OFFER.to_bytes())
    assert theirs.op == 2 and theirs.xid == 0xCAFE_0001
    assert theirs.yiaddr == int(IPv4Address("10.1.10.11"))
    assert theirs.chaddr[:6] == MAC.to_bytes(6, "big")
    opts = dict(theirs.opts)
    assert opts[53] == b"\x02"
    assert opts[51] == (3600).to_bytes(4, "big")
    assert opts[6] == bytes([10, 0, 0, 53, 10, 0, 0, 54])


def test_typed_views_read_the_common_options() -> None:
    message = DhcpMessage.from_bytes(OFFER.to_bytes())
    assert message == OFFER
    assert message.lease_time == 3600
    assert message.router == IPv4Address("10.1.10.1")
    assert message.server_id == IPv4Address("10.0.0.1")
    assert message.subnet_mask == IPv4Address("255.255.255.0")
    assert message.broadcast
    assert message.client_id == b"\x01" + MAC.to_bytes(6, "big")  # no option 61: htype+MAC


option_codes = st.integers(1, 254).filter(lambda c: c != DhcpOption.MESSAGE_TYPE)
messages = st.builds(
    DhcpMessage,
    st.sampled_from(BootpOp),
    st.sampled_from(DhcpMessageType),
    st.integers(0, 0xFFFF_FFFF),
    st.integers(0, (1 << 48) - 1),
    ciaddr=st.integers(0, (1 << 32) - 1).map(IPv4Address),
    yiaddr=st.integers(0, (1 << 32) - 1).map(IPv4Address),
    giaddr=st.integers(0, (1 << 32) - 1).map(IPv4Address),
    hops=st.integers(0, 255),
    secs=st.integers(0, 0xFFFF),
    flags=st.sampled_from([0, FLAG_BROADCAST]),
    options=st.dictionaries(option_codes, st.binary(max_size=40), max_size=8),
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(messages, st.binary(max_size=20).map(lambda b: b"\xff" + b))
def test_every_message_round_trips_past_trailing_padding(message: DhcpMessage, tail: bytes) -> None:
    """What follows the end option (padding, junk) is not part of the message."""
    assert DhcpMessage.from_bytes(message.to_bytes()) == message
    octets = message.to_bytes()
    end = octets.rindex(b"\xff")
    assert DhcpMessage.from_bytes(octets[: end + 1] + tail) == message


@settings(max_examples=20, deadline=None, derandomize=True)
@given(messages)
def test_fed_a_byte_at_a_time_no_prefix_decodes(message: DhcpMessage) -> None:
    """Every prefix that stops before the end option is one clear DecodeError."""
    octets = message.to_bytes()
    end = octets.rindex(b"\xff")
    for cut in range(end + 1):
        with pytest.raises(DecodeError, match="DHCP"):
            DhcpMessage.from_bytes(octets[:cut])


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.binary(min_size=0, max_size=400))
def test_random_bytes_decode_or_raise_decode_error(data: bytes) -> None:
    with_cookie = data[:236].ljust(236, b"\x00") + MAGIC_COOKIE + data[236:]
    for candidate in (data, with_cookie, bytes([1, 1, 6]) + with_cookie[3:]):
        try:
            DhcpMessage.from_bytes(candidate)
        except DecodeError as error:
            assert str(error).startswith("DHCP:")


@pytest.mark.parametrize(
    ("offset", "value", "message"),
    [
        (0, 3, "op 3"),
        (1, 6, "hardware type 6"),
        (236, 0, "magic cookie"),
        (242, 9, "unknown message type 9"),
    ],
)
def test_malformed_messages_say_what_was_expected(offset: int, value: int, message: str) -> None:
    octets = bytearray(OFFER.to_bytes())
    octets[offset] = value
    with pytest.raises(DecodeError, match=message):
        DhcpMessage.from_bytes(bytes(octets))


def test_a_message_without_option_53_is_refused_as_plain_bootp() -> None:
    octets = bytearray(OFFER.to_bytes())
    octets[240] = DhcpOption.PAD  # blank out option 53, keep the rest well-formed
    octets[241] = DhcpOption.PAD
    octets[242] = DhcpOption.PAD
    with pytest.raises(DecodeError, match="plain BOOTP"):
        DhcpMessage.from_bytes(bytes(octets))


def test_fields_that_do_not_fit_are_refused() -> None:
    with pytest.raises(ValueError, match="hops"):
        DhcpMessage(BootpOp.BOOTREQUEST, DhcpMessageType.DISCOVER, 1, MAC, hops=256).to_bytes()
    with pytest.raises(ValueError, match="written by the codec"):
        DhcpMessage(
            BootpOp.BOOTREQUEST, DhcpMessageType.DISCOVER, 1, MAC, options={53: b"\x01"}
        ).to_bytes()


@pytest.mark.skipif(TSHARK is None, reason="tshark is not installed (Debian package tshark)")
def test_tshark_decodes_discover_and_offer_with_valid_checksums(tmp_path: Path) -> None:
    """Wireshark's dhcp dissector names the messages and reads our options back."""
    discover = DhcpMessage(
        BootpOp.BOOTREQUEST,
        DhcpMessageType.DISCOVER,
        0xCAFE_0001,
        MAC,
        flags=FLAG_BROADCAST,
        options={DhcpOption.CLIENT_ID: b"\x01" + MAC.to_bytes(6, "big")},
    )
    everyone = IPv4Address("255.255.255.255")
    up = UdpDatagram(68, 67, discover.to_bytes()).to_packet(ZERO, everyone)
    down = UdpDatagram(67, 68, OFFER.to_bytes()).to_packet(IPv4Address("10.0.0.1"), everyone)
    rows = tshark_fields(
        tmp_path / "dhcp.pcap",
        [frame_bytes(BROADCAST, MAC, up), frame_bytes(BROADCAST, 0x0200_0000_00FE, down)],
        [
            "dhcp.option.dhcp",
            "dhcp.id",
            "dhcp.ip.your",
            "dhcp.option.router",
            "dhcp.option.ip_address_lease_time",
            "udp.checksum.status",
            "ip.checksum.status",
            "_ws.malformed",
        ],
    )
    assert rows == [
        ["1", "0xcafe0001", "0.0.0.0", "", "", "1", "1", ""],
        ["2", "0xcafe0001", "10.1.10.11", "10.1.10.1", "3600", "1", "1", ""],
    ]
