"""LACPDUs (IEEE 802.1AX-2008 5.4.2, formerly 802.3ad) as real bytes.

LACP rides on the Slow Protocols: EtherType 0x8809 to the group address
01:80:C2:00:00:02, which bridges never forward. The first octet after the EtherType, the
subtype, says which slow protocol (1 = LACP). An LACPDU is always 110 octets::

     0  subtype 0x01, version 0x01
     2  TLV 0x01 length 20: the actor (the sender)     } system priority (2), system
    22  TLV 0x02 length 20: the partner, as the sender } MAC (6), key (2), port
                            currently sees it          } priority (2), port (2),
                                                       } state (1), reserved (3)
    42  TLV 0x03 length 16: collector max delay (2), reserved (12)
    58  TLV 0x00 length 0: terminator, then 50 reserved octets

The state octet carries eight flags, bit 0 first: LACP_Activity (active), LACP_Timeout
(short: "send to me every second"), Aggregation (may join a bundle), Synchronization
(in the right bundle), Collecting, Distributing, Defaulted (no partner heard: using
defaults), Expired (partner information timed out once).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntFlag

from netsim.l2.frame import HEADER_BYTES, Frame, MacAddress

SLOW_PROTOCOLS_ADDRESS: MacAddress = 0x0180_C200_0002
"""01:80:C2:00:00:02: where every LACPDU is sent."""
ETHERTYPE_SLOW_PROTOCOLS = 0x8809
LACP_SUBTYPE = 0x01
LACP_VERSION = 0x01
LACPDU_BYTES = 110

_ACTOR_TLV, _PARTNER_TLV, _COLLECTOR_TLV, _TERMINATOR_TLV = 0x01, 0x02, 0x03, 0x00
_INFO_LENGTH, _COLLECTOR_LENGTH = 20, 16
_INFO = struct.Struct("!BBH6sHHHB3x")
_COLLECTOR = struct.Struct("!BBH12x")


class LacpError(ValueError):
    """Bytes that are not a well-formed LACPDU; the message says what was expected."""


class LacpState(IntFlag):
    """The eight flags of an actor or partner state octet."""

    ACTIVITY = 0x01
    """Active LACP: sends LACPDUs even to a passive partner."""
    TIMEOUT = 0x02
    """Short timeout: wants LACPDUs every second (fast rate), expires after 3 s."""
    AGGREGATION = 0x04
    """Aggregatable: may be bundled with other links."""
    SYNCHRONIZATION = 0x08
    """In sync: attached to the right aggregator."""
    COLLECTING = 0x10
    """Accepting frames from the link."""
    DISTRIBUTING = 0x20
    """Sending frames on the link."""
    DEFAULTED = 0x40
    """Partner information is the configured default: no LACPDU heard."""
    EXPIRED = 0x80
    """Partner information timed out once."""


NO_FLAGS = LacpState(0)
"""A state octet with every flag clear."""


@dataclass(frozen=True, slots=True)
class LacpInfo:
    """One end of a link as LACP describes it: who (system), which bundle (key), which
    port, and the state flags. The system ID is priority then MAC; lower is better."""

    system_priority: int = 32768
    system: MacAddress = 0
    key: int = 0
    port_priority: int = 32768
    port: int = 0
    state: LacpState = NO_FLAGS

    def to_bytes(self, tlv_type: int) -> bytes:
        """The 20-octet actor or partner TLV."""
        for name, value, bits in (
            ("system priority", self.system_priority, 16),
            ("key", self.key, 16),
            ("port priority", self.port_priority, 16),
            ("port", self.port, 16),
            ("system", self.system, 48),
        ):
            if not 0 <= value < 1 << bits:
                raise LacpError(f"LACP {name} {value} does not fit {bits} bits")
        return _INFO.pack(
            tlv_type,
            _INFO_LENGTH,
            self.system_priority,
            self.system.to_bytes(6, "big"),
            self.key,
            self.port_priority,
            self.port,
            int(self.state),
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> LacpInfo:
        """Read the fields of a 20-octet actor or partner TLV."""
        _, _, priority, system, key, port_priority, port, state = _INFO.unpack(data)
        return cls(
            priority, int.from_bytes(system, "big"), key, port_priority, port, LacpState(state)
        )


@dataclass(frozen=True, slots=True)
class Lacpdu:
    """A Link Aggregation Control PDU: what the sender knows about both ends of a link."""

    actor: LacpInfo
    partner: LacpInfo
    collector_max_delay: int = 0
    """Tens of microseconds the sender's collector may delay a frame (0 for a switch)."""

    def to_bytes(self) -> bytes:
        """The 110 octets after the EtherType."""
        return (
            bytes([LACP_SUBTYPE, LACP_VERSION])
            + self.actor.to_bytes(_ACTOR_TLV)
            + self.partner.to_bytes(_PARTNER_TLV)
            + _COLLECTOR.pack(_COLLECTOR_TLV, _COLLECTOR_LENGTH, self.collector_max_delay)
            + bytes([_TERMINATOR_TLV, 0])
            + bytes(50)
        )


def decode_lacpdu(data: bytes) -> Lacpdu:
    """Decode the octets after the EtherType (subtype first); anything past 110 is ignored."""
    if len(data) < LACPDU_BYTES:
        raise LacpError(f"an LACPDU has {LACPDU_BYTES} octets, got {len(data)}")
    if data[0] != LACP_SUBTYPE:
        raise LacpError(f"slow protocol subtype {data[0]} is not LACP (expected 1)")
    layout = (
        (2, _ACTOR_TLV, _INFO_LENGTH, "actor"),
        (22, _PARTNER_TLV, _INFO_LENGTH, "partner"),
        (42, _COLLECTOR_TLV, _COLLECTOR_LENGTH, "collector"),
        (58, _TERMINATOR_TLV, 0, "terminator"),
    )
    for offset, tlv_type, length, name in layout:
        if (data[offset], data[offset + 1]) != (tlv_type, length):
            raise LacpError(
                f"expected the {name} TLV (type {tlv_type}, length {length}) at octet {offset}, "
                f"got type {data[offset]} length {data[offset + 1]}"
            )
    return Lacpdu(
        actor=LacpInfo.from_bytes(data[2:22]),
        partner=LacpInfo.from_bytes(data[22:42]),
        collector_max_delay=int.from_bytes(data[44:46], "big"),
    )


def lacpdu_frame(pdu: Lacpdu, src: MacAddress, frame_id: int = 0) -> Frame:
    """The Ethernet frame carrying ``pdu`` from port MAC ``src`` (128 bytes with FCS)."""
    return Frame.carrying(
        frame_id, SLOW_PROTOCOLS_ADDRESS, src, ETHERTYPE_SLOW_PROTOCOLS, pdu.to_bytes()
    )


def decode_lacpdu_frame(octets: bytes) -> Lacpdu:
    """Decode the LACPDU in a frame's octets (destination address onward; FCS optional)."""
    if len(octets) < HEADER_BYTES:
        raise LacpError(f"an Ethernet header has {HEADER_BYTES} octets, got {len(octets)}")
    ethertype = int.from_bytes(octets[12:14], "big")
    if ethertype != ETHERTYPE_SLOW_PROTOCOLS:
        raise LacpError(f"LACPDUs have EtherType 0x8809 (slow protocols), not {ethertype:#06x}")
    return decode_lacpdu(octets[HEADER_BYTES:])
