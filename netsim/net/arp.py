"""ARP packets (RFC 826) for Ethernet and IPv4: who has this IP address, tell me.

A request is broadcast; the host that owns the target address answers with a unicast
reply carrying its MAC. The packet is 28 bytes::

    hardware type (1 = Ethernet) | protocol type (0x0800 = IPv4)
    hardware length (6) | protocol length (4) | opcode (1 request, 2 reply)
    sender MAC | sender IP | target MAC | target IP

In an Ethernet frame it is padded to the 46-byte minimum payload; the decoder accepts
and ignores such trailing padding.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from netsim.l2.frame import ETHERTYPE_IPV4, MacAddress
from netsim.net.addressing import IPv4Address
from netsim.net.errors import DecodeError

HARDWARE_ETHERNET = 1
"""``ar$hrd`` for Ethernet (RFC 826; IANA "Hardware Types")."""
ARP_PACKET_BYTES = 28
"""Length of an Ethernet/IPv4 ARP packet."""

_FORMAT = struct.Struct("!HHBBH6s4s6s4s")


class ArpOp(IntEnum):
    """The ARP opcode: a request asks, a reply answers."""

    REQUEST = 1
    REPLY = 2


_ETHERNET_IPV4 = struct.pack("!HHBB", HARDWARE_ETHERNET, ETHERTYPE_IPV4, 6, 4)
_OPCODES = frozenset(op.to_bytes(2, "big") for op in ArpOp)


def peek_addresses(data: bytes) -> tuple[bytes, bytes] | None:
    """The sender's and the target's IPv4 address (4 octets each) of an Ethernet/IPv4 ARP
    packet, read without decoding it; None if ``data`` is not a well-formed one (decode
    it with :meth:`ArpPacket.from_bytes` to learn why).

    A host on a big LAN hears every ARP broadcast; most are neither for it nor about an
    address it knows, and this is how it sets those aside cheaply.
    """
    if len(data) < ARP_PACKET_BYTES or data[:6] != _ETHERNET_IPV4 or data[6:8] not in _OPCODES:
        return None
    return data[14:18], data[24:28]


@dataclass(frozen=True, slots=True)
class ArpPacket:
    """One Ethernet/IPv4 ARP packet.

    In a request the target MAC is unknown and sent as zero (RFC 826 leaves it
    unspecified; zero is what every stack sends).
    """

    op: ArpOp
    sender_mac: MacAddress
    sender_ip: IPv4Address
    target_mac: MacAddress
    target_ip: IPv4Address

    @classmethod
    def request(
        cls, sender_mac: MacAddress, sender_ip: IPv4Address, target_ip: IPv4Address
    ) -> ArpPacket:
        """A request asking who has ``target_ip``, to be sent to the broadcast MAC."""
        return cls(ArpOp.REQUEST, sender_mac, sender_ip, 0, target_ip)

    def reply(self, my_mac: MacAddress) -> ArpPacket:
        """The reply that the owner of this request's target address sends back (unicast).

        RFC 826: swap sender and target fields, put the local addresses in the sender
        fields, and set the opcode to reply.
        """
        if self.op is not ArpOp.REQUEST:
            raise ValueError("only an ARP request can be replied to")
        return ArpPacket(ArpOp.REPLY, my_mac, self.target_ip, self.sender_mac, self.sender_ip)

    def to_bytes(self) -> bytes:
        """The packet's 28 octets (without Ethernet padding)."""
        return _FORMAT.pack(
            HARDWARE_ETHERNET,
            ETHERTYPE_IPV4,
            6,
            4,
            self.op,
            self.sender_mac.to_bytes(6, "big"),
            self.sender_ip.packed,
            self.target_mac.to_bytes(6, "big"),
            self.target_ip.packed,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> ArpPacket:
        """Decode an ARP packet, ignoring trailing Ethernet padding.

        Raises :class:`DecodeError` if it is too short, not Ethernet/IPv4, or has an
        unknown opcode.
        """
        if len(data) < ARP_PACKET_BYTES:
            raise DecodeError(f"ARP: {len(data)} bytes, need {ARP_PACKET_BYTES}")
        hrd, pro, hln, pln, op, sha, spa, tha, tpa = _FORMAT.unpack_from(data)
        if (hrd, pro, hln, pln) != (HARDWARE_ETHERNET, ETHERTYPE_IPV4, 6, 4):
            raise DecodeError(
                f"ARP: not Ethernet/IPv4 (hrd={hrd}, pro={pro:#06x}, hln={hln}, pln={pln})"
            )
        try:
            opcode = ArpOp(op)
        except ValueError:
            raise DecodeError(f"ARP: unknown opcode {op}") from None
        return cls(
            opcode,
            int.from_bytes(sha, "big"),
            IPv4Address(spa),
            int.from_bytes(tha, "big"),
            IPv4Address(tpa),
        )
