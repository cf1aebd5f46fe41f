"""Ethernet II frames as real bytes.

A frame on the wire is destination (6), source (6), an optional 802.1Q tag (4), EtherType
(2), payload padded to make the frame at least 64 bytes, and a 4-byte FCS: the IEEE 802.3
CRC-32 of everything before it, sent least significant byte first.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from netsim.l2.frame import (
    BROADCAST,
    ETHERTYPE_IPV4,
    Frame,
    fcs_valid,
    host_mac,
    is_group_address,
    mac_to_str,
    parse_mac,
)


def crc32_bitwise(data: bytes) -> int:
    """IEEE 802.3 CRC-32, bit by bit (reflected polynomial 0xEDB88320): the test's own
    implementation, independent of zlib's table-driven one."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def test_a_minimum_frame_is_padded_to_64_bytes_with_a_valid_fcs():
    frame = Frame.carrying(1, BROADCAST, host_mac(1), ETHERTYPE_IPV4, b"hello")
    octets = frame.to_bytes()
    assert frame.size == len(octets) == 64
    assert octets[:6] == b"\xff" * 6
    assert octets[6:12] == bytes.fromhex("020000000001")
    assert octets[12:14] == b"\x08\x00"
    assert octets[14:19] == b"hello" and octets[19:60] == bytes(41)
    assert int.from_bytes(octets[60:], "little") == crc32_bitwise(octets[:60])
    assert fcs_valid(octets)


def test_a_tagged_frame_carries_the_8100_tag_and_may_be_1522_bytes():
    frame = Frame.carrying(2, host_mac(2), host_mac(1), ETHERTYPE_IPV4, bytes(1500), vlan=10)
    octets = frame.to_bytes()
    assert len(octets) == frame.size == 1522
    assert octets[12:16] == bytes.fromhex("8100000a")
    assert fcs_valid(octets)


@given(st.binary(max_size=1500), st.integers(0, 2**48 - 1), st.integers(0, 2**48 - 1))
def test_any_payload_round_trips_with_a_valid_fcs(payload, dst, src):
    frame = Frame.carrying(7, dst, src, 0x88B5, payload)
    octets = frame.to_bytes()
    assert len(octets) == frame.size == max(64, 18 + len(payload))
    assert octets[14 : 14 + len(payload)] == payload
    assert fcs_valid(octets)
    assert int.from_bytes(octets[-4:], "little") == crc32_bitwise(octets[:-4])


@given(st.binary(min_size=1, max_size=200))
def test_damaged_frames_fail_the_fcs(payload):
    frame = Frame.carrying(3, BROADCAST, host_mac(1), 0x88B5, payload)
    assert not frame.with_corruption().fcs_ok
    assert not fcs_valid(frame.with_corruption().to_bytes())
    runt = frame.truncated(40)
    assert runt.is_runt and runt.length == 40 and runt.wire_bytes == 48
    assert not fcs_valid(runt.to_bytes())


def test_generated_frames_have_the_size_asked_for_and_carry_their_id():
    frame = Frame(frame_id=42, dst=host_mac(2), src=host_mac(1), size=1000)
    octets = frame.to_bytes()
    assert len(octets) == 1000 and fcs_valid(octets)
    assert int.from_bytes(octets[14:22], "big") == 42


@given(st.integers(0, 2**48 - 1))
def test_mac_addresses_format_and_parse_back(mac):
    text = mac_to_str(mac)
    assert parse_mac(text) == mac
    assert parse_mac(text.replace(":", "-").upper()) == mac
    cisco = text.replace(":", "")
    assert parse_mac(f"{cisco[:4]}.{cisco[4:8]}.{cisco[8:]}") == mac


def test_group_addresses_have_the_ig_bit_set():
    assert is_group_address(BROADCAST)
    assert is_group_address(parse_mac("01:00:5e:00:00:01"))  # IPv4 multicast
    assert not is_group_address(host_mac(1))
