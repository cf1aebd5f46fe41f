"""The IPv4 header (RFC 791): addresses, protocol, TTL and a header checksum.

The header is 20 bytes without options::

    version (4) | IHL | DSCP/ECN | total length
    identification | flags (DF, MF) | fragment offset
    TTL | protocol | header checksum
    source address
    destination address

netsim does not fragment (every payload fits a 1500-byte Ethernet MTU, and TCP's MSS
keeps it so); it sets Don't Fragment like modern hosts do, and the decoder reports the
fragment fields so a host can drop fragments it cannot reassemble. The checksum covers
the header only (RFC 791 §3.1), computed with RFC 1071.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from netsim.net.addressing import IPv4Address, address_from_packed
from netsim.net.checksum import internet_checksum
from netsim.net.errors import DecodeError

HEADER_BYTES = 20
"""An IPv4 header without options."""
MTU_ETHERNET = 1500
"""The largest IPv4 packet (header included) one Ethernet frame carries."""
DEFAULT_TTL = 64
"""Initial time to live, as Linux and the BSDs use (RFC 1700 suggested 64)."""
MAX_PACKET_BYTES = 0xFFFF
"""The 16-bit total length field caps a datagram at 65535 bytes."""

_FORMAT = struct.Struct("!BBHHHBBH4s4s")
_FLAG_DF = 0x4000
_FLAG_MF = 0x2000
_OFFSET_MASK = 0x1FFF


class IpProtocol(IntEnum):
    """The protocol numbers (IANA "Assigned Internet Protocol Numbers") netsim carries."""

    ICMP = 1
    TCP = 6
    UDP = 17


@dataclass(frozen=True, slots=True)
class Ipv4Packet:
    """One IPv4 datagram: header fields and the payload they carry.

    ``protocol`` is an int so that packets of protocols netsim does not know still
    decode; compare it with :class:`IpProtocol` members. ``options`` are raw bytes,
    padded to a multiple of 4 when encoded.
    """

    src: IPv4Address
    dst: IPv4Address
    protocol: int
    payload: bytes = b""
    ttl: int = DEFAULT_TTL
    identification: int = 0
    tos: int = 0
    dont_fragment: bool = True
    more_fragments: bool = False
    fragment_offset: int = 0
    """In 8-byte units, as on the wire."""
    options: bytes = b""

    @property
    def header_length(self) -> int:
        """Header bytes including options padded to a 32-bit boundary."""
        return HEADER_BYTES + (len(self.options) + 3) // 4 * 4

    @property
    def total_length(self) -> int:
        """The total length field: header plus payload."""
        return self.header_length + len(self.payload)

    @property
    def is_fragment(self) -> bool:
        """True if this is only part of a datagram (MF set or a non-zero offset)."""
        return self.more_fragments or self.fragment_offset != 0

    def decremented_ttl(self) -> Ipv4Packet:
        """This packet as a router forwards it: TTL one less (the checksum follows on encode)."""
        if self.ttl <= 1:
            raise ValueError("TTL expired: a router drops this packet (ICMP time exceeded)")
        return Ipv4Packet(
            self.src, self.dst, self.protocol, self.payload, self.ttl - 1, self.identification,
            self.tos, self.dont_fragment, self.more_fragments, self.fragment_offset, self.options,
        )  # fmt: skip

    def header_bytes(self) -> bytes:
        """The header alone, with its checksum filled in."""
        if len(self.options) > 40:
            raise ValueError("IPv4 options are at most 40 bytes")
        if self.total_length > MAX_PACKET_BYTES:
            raise ValueError(f"IPv4 packet of {self.total_length} bytes exceeds 65535")
        if not (
            0 <= self.ttl <= 0xFF
            and 0 <= self.protocol <= 0xFF
            and 0 <= self.tos <= 0xFF
            and 0 <= self.identification <= 0xFFFF
            and 0 <= self.fragment_offset <= 0x1FFF
        ):  # one test per packet; which field is wrong is found only when one is
            for name, value, limit in (
                ("TTL", self.ttl, 0xFF),
                ("protocol", self.protocol, 0xFF),
                ("TOS", self.tos, 0xFF),
                ("identification", self.identification, 0xFFFF),
                ("fragment offset", self.fragment_offset, 0x1FFF),
            ):
                if not 0 <= value <= limit:
                    raise ValueError(f"IPv4 {name} {value} does not fit its field (max {limit})")
        options = self.options + bytes(self.header_length - HEADER_BYTES - len(self.options))
        flags = (_FLAG_DF if self.dont_fragment else 0) | (_FLAG_MF if self.more_fragments else 0)
        header = (
            _FORMAT.pack(
                0x40 | self.header_length // 4,
                self.tos,
                self.total_length,
                self.identification,
                flags | (self.fragment_offset & _OFFSET_MASK),
                self.ttl,
                self.protocol,
                0,
                self.src.packed,
                self.dst.packed,
            )
            + options
        )
        checksum = internet_checksum(header)
        return header[:10] + checksum.to_bytes(2, "big") + header[12:]

    def to_bytes(self) -> bytes:
        """The datagram's octets: header with a correct checksum, then the payload."""
        return self.header_bytes() + self.payload

    @classmethod
    def from_bytes(cls, data: bytes, *, verify_checksum: bool = True) -> Ipv4Packet:
        """Decode a datagram, ignoring bytes past the total length (Ethernet padding).

        Raises :class:`DecodeError` for a short buffer, a version other than 4, a header
        length below 5 words, a total length that does not fit, or a bad checksum.
        """
        if len(data) < HEADER_BYTES:
            raise DecodeError(f"IPv4: {len(data)} bytes, shorter than a {HEADER_BYTES}-byte header")
        ver_ihl, tos, total, ident, frag, ttl, proto, _csum, src, dst = _FORMAT.unpack_from(data)
        if ver_ihl >> 4 != 4:
            raise DecodeError(f"IPv4: version {ver_ihl >> 4}, expected 4")
        header_len = (ver_ihl & 0x0F) * 4
        if header_len < HEADER_BYTES:
            raise DecodeError(f"IPv4: header length {header_len} below {HEADER_BYTES}")
        if total < header_len:
            raise DecodeError(f"IPv4: total length {total} shorter than the header ({header_len})")
        if total > len(data):
            raise DecodeError(f"IPv4: total length {total} but only {len(data)} bytes arrived")
        if verify_checksum and internet_checksum(data[:header_len]) != 0:
            raise DecodeError("IPv4: header checksum mismatch")
        return cls(
            src=address_from_packed(src),
            dst=address_from_packed(dst),
            protocol=proto,
            payload=bytes(data[header_len:total]),
            ttl=ttl,
            identification=ident,
            tos=tos,
            dont_fragment=bool(frag & _FLAG_DF),
            more_fragments=bool(frag & _FLAG_MF),
            fragment_offset=frag & _OFFSET_MASK,
            options=bytes(data[HEADER_BYTES:header_len]),
        )
