"""UDP datagrams (RFC 768): ports, a length and a checksum over a pseudo-header.

The header is 8 bytes::

    source port | destination port
    length      | checksum

``length`` counts header and data. The checksum (RFC 1071) covers a 12-byte pseudo-header
(source and destination IPv4 addresses, a zero byte, protocol 17 and the UDP length), the
header and the data, so encoding and decoding need the two addresses. A computed checksum
of zero is sent as 0xFFFF, because zero on the wire means "no checksum" (RFC 768). DHCP
(ports 67/68) and HSRP (port 1985) ride on UDP.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from netsim.net.addressing import IPv4Address
from netsim.net.checksum import internet_checksum, ones_complement_sum
from netsim.net.errors import DecodeError
from netsim.net.ipv4 import IpProtocol, Ipv4Packet

HEADER_BYTES = 8
"""Source port, destination port, length and checksum."""

_FORMAT = struct.Struct("!HHHH")


def _pseudo_header_sum(src: IPv4Address, dst: IPv4Address, udp_length: int) -> int:
    pseudo = src.packed + dst.packed + struct.pack("!BBH", 0, IpProtocol.UDP, udp_length)
    return ones_complement_sum(pseudo)


@dataclass(frozen=True, slots=True)
class UdpDatagram:
    """One UDP datagram: two ports and the application's bytes."""

    src_port: int
    dst_port: int
    payload: bytes = b""

    def to_bytes(self, src: IPv4Address, dst: IPv4Address) -> bytes:
        """The datagram's octets with the checksum over the pseudo-header of ``src``/``dst``."""
        for name, port in (("source", self.src_port), ("destination", self.dst_port)):
            if not 0 <= port <= 0xFFFF:
                raise ValueError(f"UDP {name} port {port} does not fit 16 bits")
        length = HEADER_BYTES + len(self.payload)
        if length > 0xFFFF:
            raise ValueError(f"UDP datagram of {length} bytes exceeds 65535")
        unchecked = _FORMAT.pack(self.src_port, self.dst_port, length, 0) + self.payload
        checksum = internet_checksum(unchecked, _pseudo_header_sum(src, dst, length)) or 0xFFFF
        return unchecked[:6] + checksum.to_bytes(2, "big") + unchecked[8:]

    def to_packet(self, src: IPv4Address, dst: IPv4Address, *, ttl: int = 64) -> Ipv4Packet:
        """This datagram inside an IPv4 packet from ``src`` to ``dst``."""
        return Ipv4Packet(src, dst, IpProtocol.UDP, self.to_bytes(src, dst), ttl=ttl)

    @classmethod
    def from_bytes(cls, data: bytes, src: IPv4Address, dst: IPv4Address) -> UdpDatagram:
        """Decode a datagram that arrived from ``src`` to ``dst``.

        Bytes past the length field are ignored. Raises :class:`DecodeError` for a short
        buffer, a length that does not fit, or a bad checksum (zero means none was sent).
        """
        if len(data) < HEADER_BYTES:
            raise DecodeError(f"UDP: {len(data)} bytes, shorter than an {HEADER_BYTES}-byte header")
        src_port, dst_port, length, checksum = _FORMAT.unpack_from(data)
        if not HEADER_BYTES <= length <= len(data):
            raise DecodeError(f"UDP: length field {length} but {len(data)} bytes arrived")
        octets = data[:length]
        if checksum and internet_checksum(octets, _pseudo_header_sum(src, dst, length)) != 0:
            raise DecodeError("UDP: checksum mismatch")
        return cls(src_port, dst_port, bytes(octets[HEADER_BYTES:]))

    @classmethod
    def from_packet(cls, packet: Ipv4Packet) -> UdpDatagram:
        """Decode the UDP datagram an IPv4 packet carries."""
        if packet.protocol != IpProtocol.UDP:
            raise DecodeError(f"UDP: IPv4 protocol {packet.protocol}, expected 17")
        return cls.from_bytes(packet.payload, packet.src, packet.dst)
