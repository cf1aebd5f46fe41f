"""Bridge protocol data units (IEEE 802.1D clause 9) as real bytes.

Spanning-tree bridges talk in BPDUs: small LLC frames sent to the reserved group address
01:80:C2:00:00:00, which bridges consume instead of forwarding. There are three kinds::

    Configuration BPDU (802.1D STP, 35 bytes)      TCN BPDU (4 bytes)
     0  protocol id 0x0000 (2)                      0  protocol id 0x0000 (2)
     2  version 0 (1)                               2  version 0 (1)
     3  type 0x00 (1)                               3  type 0x80 (1)
     4  flags: TC 0x01, TCA 0x80 (1)
     5  root bridge id (8)                       RST BPDU (802.1w RSTP, 36 bytes)
    13  root path cost (4)                          the configuration layout with version 2,
    17  bridge id (8)                               type 0x02, all flag bits used (below)
    25  port id (2)                                 and one more byte, the version 1
    27  message age (2)   all four times are        length, which is 0.
    29  max age (2)       in units of 1/256 s
    31  hello time (2)
    33  forward delay (2)

RST BPDU flags: TC 0x01, proposal 0x02, port role in bits 2-3 (alternate/backup 1, root 2,
designated 3), learning 0x10, forwarding 0x20, agreement 0x40, TCA 0x80.

On the wire a BPDU rides in an IEEE 802.3 frame: the two bytes after the source address
are a *length* (of the LLC header plus BPDU), not an EtherType, then the LLC header
DSAP 0x42, SSAP 0x42, control 0x03 (unnumbered information), then the BPDU, padded to the
64-byte minimum frame. :func:`bpdu_frame` and :func:`decode_bpdu_frame` do that wrapping.

Cisco's PVST+ sends one BPDU per VLAN in its own envelope (SSTP): to 01:00:0C:CC:CC:CD,
802.1Q-tagged with the VLAN on a trunk, LLC 0xAA 0xAA 0x03 with the SNAP header
OUI 00:00:0C protocol 0x010B, the same BPDU, and a trailing "originating VLAN" TLV
(type 0, length 2, the VLAN id). :func:`pvst_bpdu_frame` and :func:`decode_pvst_bpdu_frame`
do that one; Wireshark reads the TLV at octet 36 of the BPDU, so a configuration BPDU
is padded with one zero octet there.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from netsim.l2.frame import ETHERTYPE_VLAN, HEADER_BYTES, VLAN_TAG_BYTES, Frame, MacAddress

STP_GROUP_ADDRESS: MacAddress = 0x0180_C200_0000
"""01:80:C2:00:00:00, the Bridge Group Address every BPDU is sent to."""
LLC_HEADER = b"\x42\x42\x03"
"""DSAP and SSAP 0x42 (the spanning-tree SAP) and control 0x03 (UI frame)."""
PVST_ADDRESS: MacAddress = 0x0100_0CCC_CCCD
"""01:00:0C:CC:CC:CD, Cisco's shared spanning tree (SSTP) address for PVST+ BPDUs."""
PVST_LLC_SNAP = b"\xaa\xaa\x03" + b"\x00\x00\x0c" + b"\x01\x0b"
"""LLC for SNAP, then Cisco's OUI and the PVST+ protocol id 0x010B."""
PVST_VLAN_TLV_TYPE = 0x0000
PVST_VLAN_TLV_BYTES = 6
MAX_8023_LENGTH = 1500
"""A type/length field up to 1500 is a length (802.3); from 1536 (0x600) it is an EtherType."""

CONFIG_BPDU_BYTES = 35
TCN_BPDU_BYTES = 4
RST_BPDU_BYTES = 36

TICKS_PER_SECOND = 256
"""BPDU times count 1/256 of a second."""


class BpduError(ValueError):
    """Bytes that are not a well-formed BPDU; the message says what was expected."""


class BpduType(IntEnum):
    """The BPDU type octet."""

    CONFIG = 0x00
    TCN = 0x80
    RST = 0x02


class ProtocolVersion(IntEnum):
    """The protocol version octet: 802.1D STP or 802.1w RSTP (MSTP's 3 is not spoken here)."""

    STP = 0
    RSTP = 2


class BpduRole(IntEnum):
    """The port role an RST BPDU announces (flags bits 2-3)."""

    UNKNOWN = 0
    ALTERNATE_OR_BACKUP = 1
    ROOT = 2
    DESIGNATED = 3


FLAG_TC = 0x01
FLAG_PROPOSAL = 0x02
FLAG_LEARNING = 0x10
FLAG_FORWARDING = 0x20
FLAG_AGREEMENT = 0x40
FLAG_TCA = 0x80
ROLE_SHIFT = 2


@dataclass(frozen=True, slots=True, order=True)
class BridgeId:
    """A bridge identifier: 4-bit priority, 12-bit system id extension, 48-bit MAC.

    The priority is a multiple of 4096 (default 32768). The system id extension carries the
    spanning-tree instance: Cisco's PVST+ puts the VLAN id there, so VLAN 10's bridge ID
    starts 32768 + 10 = 32778. Lower compares better, field by field, exactly as the 64-bit
    number on the wire does.
    """

    priority: int = 32768
    system_id: int = 0
    mac: MacAddress = 0

    def __post_init__(self) -> None:
        if not 0 <= self.priority <= 0xF000 or self.priority % 4096:
            raise ValueError(
                f"bridge priority must be a multiple of 4096 from 0 to 61440, not {self.priority}"
            )
        if not 0 <= self.system_id <= 0x0FFF:
            raise ValueError(f"system id (instance) must be 0..4095, not {self.system_id}")
        if not 0 <= self.mac <= 0xFFFF_FFFF_FFFF:
            raise ValueError(f"bridge MAC must be 48 bits, not {self.mac:#x}")

    @property
    def priority_field(self) -> int:
        """The 16-bit field on the wire: priority plus system id extension."""
        return self.priority | self.system_id

    def to_bytes(self) -> bytes:
        """The 8 octets of this ID as a BPDU carries them."""
        return self.priority_field.to_bytes(2, "big") + self.mac.to_bytes(6, "big")

    @classmethod
    def from_bytes(cls, data: bytes) -> BridgeId:
        """Read 8 octets (any 16-bit priority field splits into priority and system id)."""
        field = int.from_bytes(data[:2], "big")
        return cls(field & 0xF000, field & 0x0FFF, int.from_bytes(data[2:8], "big"))

    def __str__(self) -> str:
        mac = self.mac.to_bytes(6, "big").hex()
        return f"{self.priority_field}.{mac[0:4]}.{mac[4:8]}.{mac[8:12]}"


def port_id(number: int, priority: int = 128) -> int:
    """The 16-bit port identifier: 4-bit priority (a multiple of 16) and 12-bit port number.

    Cisco prints it as ``128.1`` for port 1 at the default priority; on the wire it is 0x8001.
    """
    if not 0 <= priority <= 240 or priority % 16:
        raise ValueError(f"port priority must be a multiple of 16 from 0 to 240, not {priority}")
    if not 1 <= number <= 0x0FFF:
        raise ValueError(f"port number must be 1..4095, not {number}")
    return (priority << 8) | number


def _ticks(seconds: float, what: str) -> int:
    ticks = round(seconds * TICKS_PER_SECOND)
    if not 0 <= ticks <= 0xFFFF:
        raise BpduError(f"{what} {seconds} s does not fit a BPDU timer field (0..255.996 s)")
    return ticks


@dataclass(frozen=True, slots=True)
class ConfigBpdu:
    """A configuration BPDU (802.1D) or, with ``version`` RSTP, a rapid spanning tree BPDU.

    The four "priority vector" fields say which bridge the sender believes is root, what it
    costs the sender to reach it, and who sends on which port; the times are the root's
    (message age grows by a second per bridge on the way). RSTP-only flags are ignored on
    the wire for version 0.
    """

    root: BridgeId
    root_path_cost: int
    bridge: BridgeId
    port: int
    message_age: float = 0.0
    max_age: float = 20.0
    hello_time: float = 2.0
    forward_delay: float = 15.0
    topology_change: bool = False
    topology_change_ack: bool = False
    version: ProtocolVersion = ProtocolVersion.STP
    proposal: bool = False
    role: BpduRole = BpduRole.UNKNOWN
    learning: bool = False
    forwarding: bool = False
    agreement: bool = False

    @property
    def is_rst(self) -> bool:
        """True for an 802.1w RST BPDU (type 0x02)."""
        return self.version >= ProtocolVersion.RSTP

    def flags(self) -> int:
        """The flags octet."""
        value = (FLAG_TC if self.topology_change else 0) | (
            FLAG_TCA if self.topology_change_ack else 0
        )
        if self.is_rst:
            value |= (
                (FLAG_PROPOSAL if self.proposal else 0)
                | (int(self.role) << ROLE_SHIFT)
                | (FLAG_LEARNING if self.learning else 0)
                | (FLAG_FORWARDING if self.forwarding else 0)
                | (FLAG_AGREEMENT if self.agreement else 0)
            )
        return value

    def to_bytes(self) -> bytes:
        """The BPDU's octets (35 for STP, 36 for RSTP), without LLC header or padding."""
        if not 0 <= self.root_path_cost <= 0xFFFF_FFFF:
            raise BpduError(f"root path cost {self.root_path_cost} does not fit 32 bits")
        if not 0 <= self.port <= 0xFFFF:
            raise BpduError(f"port id {self.port} does not fit 16 bits")
        kind = BpduType.RST if self.is_rst else BpduType.CONFIG
        body = (
            struct.pack("!HBBB", 0, self.version, kind, self.flags())
            + self.root.to_bytes()
            + struct.pack("!I", self.root_path_cost)
            + self.bridge.to_bytes()
            + struct.pack(
                "!HHHHH",
                self.port,
                _ticks(self.message_age, "message age"),
                _ticks(self.max_age, "max age"),
                _ticks(self.hello_time, "hello time"),
                _ticks(self.forward_delay, "forward delay"),
            )
        )
        return body + b"\x00" if self.is_rst else body


@dataclass(frozen=True, slots=True)
class TcnBpdu:
    """A topology change notification: a non-root bridge telling the root the tree changed."""

    def to_bytes(self) -> bytes:
        """The four octets 00 00 00 80."""
        return struct.pack("!HBB", 0, ProtocolVersion.STP, BpduType.TCN)


Bpdu = ConfigBpdu | TcnBpdu
"""Any BPDU this package speaks."""


def decode_bpdu(data: bytes) -> Bpdu:
    """Decode a BPDU from the octets after the LLC header (padding after it is ignored).

    Follows the validation of 802.1D-2004 clause 9.3.4: protocol identifier 0, a known
    type, and at least as many octets as that type needs. A type 0x02 BPDU announcing a
    version above 2 (MSTP) is read as RSTP, as the standard asks.
    """
    if len(data) < TCN_BPDU_BYTES:
        raise BpduError(f"a BPDU has at least {TCN_BPDU_BYTES} octets, got {len(data)}")
    protocol, version, kind = struct.unpack_from("!HBB", data)
    if protocol != 0:
        raise BpduError(f"BPDU protocol identifier must be 0x0000, got {protocol:#06x}")
    if kind == BpduType.TCN:
        return TcnBpdu()
    if kind == BpduType.CONFIG:
        need, read_version = CONFIG_BPDU_BYTES, ProtocolVersion.STP
    elif kind == BpduType.RST and version >= ProtocolVersion.RSTP:
        need, read_version = RST_BPDU_BYTES, ProtocolVersion.RSTP
    else:
        raise BpduError(f"unknown BPDU type {kind:#04x} (version {version})")
    if len(data) < need:
        raise BpduError(f"a {read_version.name} BPDU has {need} octets, got {len(data)}")
    flags = data[4]
    cost = struct.unpack_from("!I", data, 13)[0]
    port, age, max_age, hello, delay = struct.unpack_from("!HHHHH", data, 25)
    rst = read_version == ProtocolVersion.RSTP
    return ConfigBpdu(
        root=BridgeId.from_bytes(data[5:13]),
        root_path_cost=cost,
        bridge=BridgeId.from_bytes(data[17:25]),
        port=port,
        message_age=age / TICKS_PER_SECOND,
        max_age=max_age / TICKS_PER_SECOND,
        hello_time=hello / TICKS_PER_SECOND,
        forward_delay=delay / TICKS_PER_SECOND,
        topology_change=bool(flags & FLAG_TC),
        topology_change_ack=bool(flags & FLAG_TCA),
        version=read_version,
        proposal=rst and bool(flags & FLAG_PROPOSAL),
        role=BpduRole((flags >> ROLE_SHIFT) & 0x3) if rst else BpduRole.UNKNOWN,
        learning=rst and bool(flags & FLAG_LEARNING),
        forwarding=rst and bool(flags & FLAG_FORWARDING),
        agreement=rst and bool(flags & FLAG_AGREEMENT),
    )


def bpdu_frame(bpdu: Bpdu, src: MacAddress, frame_id: int = 0) -> Frame:
    """The 802.3 frame that carries ``bpdu`` from port MAC ``src`` (padded to 64 bytes)."""
    llc_pdu = LLC_HEADER + bpdu.to_bytes()
    return Frame.carrying(frame_id, STP_GROUP_ADDRESS, src, len(llc_pdu), llc_pdu)


def decode_bpdu_frame(octets: bytes) -> Bpdu:
    """Decode the BPDU in an 802.3 frame's octets (destination address onward; FCS optional).

    Raises :class:`BpduError` for a frame that is not an LLC frame of the spanning-tree SAP.
    """
    if len(octets) < HEADER_BYTES:
        raise BpduError(f"an Ethernet header has {HEADER_BYTES} octets, got {len(octets)}")
    length = int.from_bytes(octets[12:14], "big")
    if length > MAX_8023_LENGTH:
        raise BpduError(
            f"BPDUs travel in 802.3 frames with a length field, not EtherType {length:#06x}"
        )
    llc_pdu = octets[HEADER_BYTES : HEADER_BYTES + length]
    if len(llc_pdu) < length:
        raise BpduError(f"the length field says {length} octets but only {len(llc_pdu)} follow")
    if llc_pdu[:3] != LLC_HEADER:
        raise BpduError(f"expected LLC header 42 42 03 (spanning tree), got {llc_pdu[:3].hex(' ')}")
    return decode_bpdu(llc_pdu[3:])


def pvst_bpdu_frame(
    bpdu: Bpdu, src: MacAddress, vlan: int, *, tagged: bool = True, frame_id: int = 0
) -> Frame:
    """The PVST+ (SSTP) frame carrying ``bpdu`` for ``vlan``: 802.1Q-tagged on a trunk,
    untagged on the native VLAN or an access port (``tagged=False``)."""
    if not 1 <= vlan <= 4094:
        raise BpduError(f"VLAN must be 1..4094, not {vlan}")
    body = bpdu.to_bytes()
    # The TLVs start at octet 36 of the BPDU: a 35-octet configuration BPDU gets one zero
    # octet (where an RST BPDU has its version 1 length); a TCN gets three.
    body += bytes(max(0, RST_BPDU_BYTES - len(body))) if isinstance(bpdu, ConfigBpdu) else bytes(3)
    payload = PVST_LLC_SNAP + body + struct.pack("!HHH", PVST_VLAN_TLV_TYPE, 2, vlan)
    return Frame.carrying(
        frame_id, PVST_ADDRESS, src, len(payload), payload, vlan=vlan if tagged else None
    )


def decode_pvst_bpdu_frame(octets: bytes) -> tuple[Bpdu, int]:
    """Decode a PVST+ frame (tagged or not; FCS optional) into its BPDU and the VLAN it
    says it comes from (the originating VLAN TLV)."""
    offset = 12
    if octets[12:14] == ETHERTYPE_VLAN.to_bytes(2, "big"):
        offset += VLAN_TAG_BYTES
    if len(octets) < offset + 2:
        raise BpduError(f"a PVST+ frame has at least {offset + 2} header octets, got {len(octets)}")
    length = int.from_bytes(octets[offset : offset + 2], "big")
    if length > MAX_8023_LENGTH:
        raise BpduError(
            f"PVST+ BPDUs travel in 802.3 frames with a length field, not EtherType {length:#06x}"
        )
    pdu = octets[offset + 2 : offset + 2 + length]
    if len(pdu) < length:
        raise BpduError(f"the length field says {length} octets but only {len(pdu)} follow")
    if pdu[:8] != PVST_LLC_SNAP:
        raise BpduError(
            f"expected LLC/SNAP aa aa 03 00 00 0c 01 0b (PVST+), got {pdu[:8].hex(' ')}"
        )
    if len(pdu) < 8 + TCN_BPDU_BYTES + PVST_VLAN_TLV_BYTES:
        raise BpduError(
            f"a PVST+ BPDU with its VLAN TLV has at least "
            f"{8 + TCN_BPDU_BYTES + PVST_VLAN_TLV_BYTES} octets, got {len(pdu)}"
        )
    kind, value_length, vlan = struct.unpack("!HHH", pdu[-PVST_VLAN_TLV_BYTES:])
    if (kind, value_length) != (PVST_VLAN_TLV_TYPE, 2):
        raise BpduError(
            f"expected the originating VLAN TLV (type 0, length 2) at the end, got "
            f"type {kind} length {value_length}"
        )
    return decode_bpdu(pdu[8:-PVST_VLAN_TLV_BYTES]), vlan
