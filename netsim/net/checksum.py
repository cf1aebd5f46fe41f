"""The Internet checksum of RFC 1071, used by IPv4, ICMP and TCP.

The checksum is the 16-bit one's complement of the one's complement sum of the data
taken as big-endian 16-bit words (an odd final byte is padded with a zero byte). A
receiver that sums the data *including* the transmitted checksum gets ``0xFFFF``, which
is why :func:`internet_checksum` over a correct packet is zero.

How it is computed here: one's complement addition is addition modulo 0xFFFF (the
end-around carry adds back each 0x10000, and 0x10000 = 0xFFFF + 1). A byte string read
as one big-endian integer is the sum of its words times powers of 0x10000, and every
power of 0x10000 is 1 modulo 0xFFFF; so the word sum is simply that integer modulo
0xFFFF, which Python computes in C. The one wrinkle is that one's complement has two
zeros: a non-zero sum that is a multiple of 0xFFFF is written 0xFFFF ("minus zero").
The tests check this against a word-by-word implementation of RFC 1071 §1.
"""

from __future__ import annotations


def ones_complement_sum(data: bytes, start: int = 0) -> int:
    """The 16-bit one's complement sum of ``data`` added to ``start`` (RFC 1071 §1).

    ``start`` lets a caller fold in a pseudo-header's sum first (RFC 9293 §3.1).
    """
    if len(data) % 2:
        data += b"\x00"
    total = (start + int.from_bytes(data, "big")) % 0xFFFF
    if total == 0 and (start or data.count(0) != len(data)):
        return 0xFFFF  # a non-zero sum that is a multiple of 0xFFFF is "minus zero"
    return total


def internet_checksum(data: bytes, start: int = 0) -> int:
    """The value to put in a checksum field: the complement of :func:`ones_complement_sum`.

    Computed over a packet whose checksum field already holds the right value, it is 0.
    """
    return ~ones_complement_sum(data, start) & 0xFFFF
