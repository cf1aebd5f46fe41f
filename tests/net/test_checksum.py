"""The Internet checksum (RFC 1071), checked against a second, deliberately naive version."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.net.checksum import internet_checksum, ones_complement_sum


def naive_checksum(data: bytes) -> int:
    """RFC 1071 §1 done by hand: add 16-bit words, folding each carry back in at once."""
    total = 0
    for i in range(0, len(data), 2):
        word = data[i] << 8 | (data[i + 1] if i + 1 < len(data) else 0)
        total += word
        if total > 0xFFFF:
            total = (total & 0xFFFF) + 1  # end-around carry
    return ~total & 0xFFFF


def test_rfc1071_worked_example() -> None:
    """RFC 1071 §3's example: the words 0001 f203 f4f5 f6f7 sum to ddf2."""
    data = bytes.fromhex("0001f203f4f5f6f7")
    assert ones_complement_sum(data) == 0xDDF2
    assert internet_checksum(data) == 0x220D


def test_a_known_ipv4_header() -> None:
    """The textbook header (Wikipedia's IPv4 example) has checksum b861."""
    header = bytes.fromhex("450000730000400040110000c0a80001c0a800c7")
    assert internet_checksum(header) == 0xB861
    fixed = header[:10] + bytes.fromhex("b861") + header[12:]
    assert internet_checksum(fixed) == 0, "summing a correct header including its checksum gives 0"


@settings(deadline=None)
@given(st.binary(max_size=300) | st.lists(st.sampled_from([0, 0xFF]), max_size=40).map(bytes))
def test_matches_the_naive_version(data: bytes) -> None:
    """The modulo-0xFFFF shortcut agrees with word-by-word addition, odd lengths included
    (the second strategy favours the all-zero and all-ones corner cases)."""
    assert internet_checksum(data) == naive_checksum(data)


def test_the_two_zeros_of_ones_complement() -> None:
    """All-zero data sums to +0 (checksum ffff); ffff + 0001 wraps to 0001; ffff alone is
    "minus zero", whose checksum is 0."""
    assert internet_checksum(bytes(8)) == 0xFFFF
    assert ones_complement_sum(bytes.fromhex("ffff0001")) == 0x0001
    assert ones_complement_sum(bytes.fromhex("ffff")) == 0xFFFF
    assert internet_checksum(bytes.fromhex("ffff")) == 0
    assert ones_complement_sum(bytes(4), start=0xFFFF) == 0xFFFF


@settings(deadline=None)
@given(st.binary(min_size=2, max_size=300).filter(lambda b: len(b) % 2 == 0))
def test_inserting_the_checksum_verifies(data: bytes) -> None:
    """Appending the checksum as a word makes the whole sum to zero, as a receiver checks."""
    checksum = internet_checksum(data)
    assert internet_checksum(data + checksum.to_bytes(2, "big")) == 0


@settings(deadline=None)
@given(st.binary(max_size=100), st.binary(max_size=100).filter(lambda b: len(b) % 2 == 0))
def test_start_value_chains_sums(a: bytes, b: bytes) -> None:
    """Summing a pseudo-header first and passing it as ``start`` equals one concatenated sum."""
    if len(a) % 2:
        a += b"\x00"
    assert internet_checksum(b, ones_complement_sum(a)) == internet_checksum(a + b)
