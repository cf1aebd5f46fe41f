"""Ethernet II frames: addresses, sizes on the wire, and real bytes on demand.

A :class:`Frame` is what one transmitter puts on one link. Its timing-relevant facts
(``size``, ``wire_bytes``) are plain integers so the fabric can do arithmetic on them
without building bytes; :meth:`Frame.to_bytes` produces the exact octets (header, optional
802.1Q tag, payload padded to the 64-byte minimum, IEEE CRC-32 FCS) when someone asks,
such as a packet capture or a test.

A frame can be damaged on its way: ``corrupted`` means a bit error made its FCS fail;
``truncated_to`` means only that many bytes arrived (a runt or a collision fragment).
"""

from __future__ import annotations

import dataclasses
import struct
import zlib
from dataclasses import dataclass, field

PREAMBLE_SFD_BYTES = 8
"""Preamble (7 bytes) and start-of-frame delimiter (1 byte) precede every frame."""
INTERFRAME_GAP_BYTES = 12
"""96 bit times of silence that a transmitter keeps between two frames."""
HEADER_BYTES = 14
"""Destination, source and EtherType."""
VLAN_TAG_BYTES = 4
FCS_BYTES = 4
MIN_FRAME_BYTES = 64
MAX_FRAME_BYTES = 1518
MAX_TAGGED_FRAME_BYTES = 1522

ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_ARP = 0x0806
ETHERTYPE_VLAN = 0x8100
ETHERTYPE_LOCAL_EXPERIMENTAL = 0x88B5
"""IEEE 802 local experimental EtherType: what raw generated test frames carry."""

BROADCAST = 0xFFFF_FFFF_FFFF
"""ff:ff:ff:ff:ff:ff."""

MacAddress = int
"""A 48-bit MAC address, kept as an int so tables hash and compare it cheaply."""


def mac_to_str(mac: MacAddress) -> str:
    """Format a MAC address the usual way: ``02:00:00:00:00:01``."""
    return ":".join(f"{b:02x}" for b in mac.to_bytes(6, "big"))


def parse_mac(text: str) -> MacAddress:
    """Parse ``02:00:00:00:00:01`` (``-`` or ``.`` separators and Cisco's ``0200.0000.0001``)."""
    digits = text.replace(":", "").replace("-", "").replace(".", "")
    if len(digits) != 12:
        raise ValueError(f"not a MAC address: {text!r} (expected 6 octets like 02:00:00:00:00:01)")
    try:
        return int(digits, 16)
    except ValueError:
        raise ValueError(f"not a MAC address: {text!r} (expected hexadecimal digits)") from None


def is_group_address(mac: MacAddress) -> bool:
    """True for broadcast and multicast: the I/G bit (least significant bit of octet 0) is set."""
    return bool((mac >> 40) & 1)


BRIDGE_GROUP_BASE = 0x0180_C200_0000
"""01:80:C2:00:00:00 .. 0F: IEEE 802.1D reserved group addresses (STP, LLDP, PAUSE ...).
A bridge never forwards them: a frame sent to one stays on its link."""


def is_link_local(mac: MacAddress) -> bool:
    """True for the 802.1D reserved addresses that bridges consume instead of forwarding."""
    return mac & ~0xF == BRIDGE_GROUP_BASE


def host_mac(index: int) -> MacAddress:
    """The deterministic MAC of the ``index``-th host NIC: locally administered ``02:00:…``."""
    return 0x02_00_00_00_00_00 | (index & 0xFF_FFFF_FFFF)


@dataclass(frozen=True, slots=True)
class Frame:
    """One Ethernet II frame as it travels a link.

    ``size`` counts header (and tag), payload with padding, and FCS: 64..1518 bytes
    (1522 tagged). Copies made by flooding share the same object until one of them is
    damaged, which makes a new copy (:meth:`with_corruption`, :meth:`truncated`).
    """

    frame_id: int
    dst: MacAddress
    src: MacAddress
    size: int
    ethertype: int = ETHERTYPE_LOCAL_EXPERIMENTAL
    payload: bytes | None = None
    vlan: int | None = None
    """The VID of the frame's 802.1Q tag on this link; None: untagged."""
    corrupted: bool = False
    truncated_to: int | None = None
    pcp: int = 0
    """802.1p priority (class of service, 0..7) carried in the tag's PCP bits."""

    # Derived once at construction: the fabric reads these for every frame at every hop.
    length: int = field(init=False, repr=False, compare=False)
    """Bytes of the frame that actually arrive: ``size``, or less for a fragment."""
    wire_bytes: int = field(init=False, repr=False, compare=False)
    """Bytes on the wire including preamble and SFD (RFC 1242 latency counts them)."""
    is_group: bool = field(init=False, repr=False, compare=False)
    """Addressed to broadcast or multicast."""
    fcs_ok: bool = field(init=False, repr=False, compare=False)
    """Would a receiver's FCS check pass?"""

    def __post_init__(self) -> None:
        length = self.size if self.truncated_to is None else self.truncated_to
        object.__setattr__(self, "length", length)
        object.__setattr__(self, "wire_bytes", length + PREAMBLE_SFD_BYTES)
        object.__setattr__(self, "is_group", is_group_address(self.dst))
        object.__setattr__(self, "fcs_ok", not self.corrupted and self.truncated_to is None)

    @classmethod
    def carrying(
        cls,
        frame_id: int,
        dst: MacAddress,
        src: MacAddress,
        ethertype: int,
        payload: bytes,
        vlan: int | None = None,
    ) -> Frame:
        """A frame carrying ``payload``, its size padded up to the 64-byte minimum."""
        overhead = HEADER_BYTES + FCS_BYTES + (VLAN_TAG_BYTES if vlan is not None else 0)
        size = max(MIN_FRAME_BYTES, overhead + len(payload))
        return cls(frame_id, dst, src, size, ethertype, payload, vlan)

    @property
    def is_runt(self) -> bool:
        """Shorter than the 64-byte minimum: a collision fragment or truncated frame."""
        return self.length < MIN_FRAME_BYTES

    def with_corruption(self) -> Frame:
        """This frame after a bit error: same bytes but one, so the FCS fails."""
        return self if self.corrupted else dataclasses.replace(self, corrupted=True)

    def truncated(self, length: int) -> Frame:
        """Only the first ``length`` bytes of this frame (a fragment): FCS fails."""
        return dataclasses.replace(self, truncated_to=max(0, min(length, self.length)))

    def tagged(self, vlan: int) -> Frame:
        """This frame with an 802.1Q tag for ``vlan``: 4 bytes longer if it had no tag."""
        grow = 0 if self.vlan is not None else VLAN_TAG_BYTES
        cut = self.truncated_to
        return dataclasses.replace(
            self,
            vlan=vlan,
            size=self.size + grow,
            truncated_to=None if cut is None else cut + grow,
        )

    def untagged(self) -> Frame:
        """This frame without its tag: 4 bytes shorter, padded back to 64 bytes if needed."""
        if self.vlan is None:
            return self
        cut = self.truncated_to
        return dataclasses.replace(
            self,
            vlan=None,
            size=max(MIN_FRAME_BYTES, self.size - VLAN_TAG_BYTES),
            truncated_to=None if cut is None else max(0, cut - VLAN_TAG_BYTES),
        )

    def payload_bytes(self) -> bytes:
        """The payload as sent, padded with zeros to the minimum frame size."""
        overhead = HEADER_BYTES + FCS_BYTES + (VLAN_TAG_BYTES if self.vlan is not None else 0)
        body = self.payload
        if body is None:
            # Generated test frames carry their id, so captures tell them apart.
            body = self.frame_id.to_bytes(8, "big")
        want = self.size - overhead
        return body + bytes(max(0, want - len(body)))

    def to_bytes(self) -> bytes:
        """The frame's octets from destination address to FCS, as a receiver would see them.

        A corrupted frame has one bit flipped after the FCS was computed; a truncated one
        stops early. Both then fail :func:`fcs_valid`.
        """
        header = self.dst.to_bytes(6, "big") + self.src.to_bytes(6, "big")
        if self.vlan is not None:
            tci = (self.pcp & 0x7) << 13 | (self.vlan & 0x0FFF)  # PCP, DEI 0, VID
            header += struct.pack("!HH", ETHERTYPE_VLAN, tci)
        body = header + struct.pack("!H", self.ethertype) + self.payload_bytes()
        octets = body + struct.pack("<I", zlib.crc32(body))
        if self.corrupted:
            flip = len(octets) // 2
            octets = octets[:flip] + bytes([octets[flip] ^ 0x01]) + octets[flip + 1 :]
        return octets[: self.length]


def fcs_valid(octets: bytes) -> bool:
    """Check a received frame's FCS, as a NIC does: CRC-32 of the rest, sent LSB first."""
    if len(octets) < HEADER_BYTES + FCS_BYTES:
        return False
    received: int = struct.unpack("<I", octets[-4:])[0]
    return zlib.crc32(octets[:-4]) == received
