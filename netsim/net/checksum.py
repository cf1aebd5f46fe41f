"""The Internet checksum of RFC 1071, used by IPv4, ICMP and TCP.

The checksum is the 16-bit one's complement of the one's complement sum of the data
taken as big-endian 16-bit words (an odd final byte is padded with a zero byte). A
receiver that sums the data *including* the transmitted checksum gets ``0xFFFF``, which
is why :func:`internet_checksum` over a correct packet is zero.
"""

from __future__ import annotations

import struct


def ones_complement_sum(data: bytes, start: int = 0) -> int:
    """The 16-bit one's complement sum of ``data`` added to ``start`` (RFC 1071 §1).

    ``start`` lets a caller fold in a pseudo-header's sum first (RFC 9293 §3.1).
    """
    if len(data) % 2:
        data += b"\x00"
    # Add the words in a wide integer and fold the carries back in at the end:
    # RFC 1071 §2(B) shows that deferring the end-around carry gives the same sum.
    words: tuple[int, ...] = struct.unpack(f"!{len(data) // 2}H", data)
    total = start + sum(words)
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def internet_checksum(data: bytes, start: int = 0) -> int:
    """The value to put in a checksum field: the complement of :func:`ones_complement_sum`.

    Computed over a packet whose checksum field already holds the right value, it is 0.
    """
    return ~ones_complement_sum(data, start) & 0xFFFF
