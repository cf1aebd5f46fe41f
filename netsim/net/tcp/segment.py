"""TCP segments (RFC 9293 §3.1): header fields, options and a checksum over a pseudo-header.

The header is 20 bytes plus options::

    source port | destination port
    sequence number
    acknowledgment number
    data offset | reserved | flags (CWR ECE URG ACK PSH RST SYN FIN) | window
    checksum | urgent pointer
    options (MSS, ...) padded to a 32-bit boundary

The checksum (RFC 1071) covers a 12-byte pseudo-header of source and destination IPv4
addresses, a zero byte, the protocol number (6) and the TCP length, then the segment
itself; so decoding and encoding need the two addresses. The only option netsim sends
is Maximum Segment Size on SYNs (RFC 9293 §3.7.1); others received are skipped.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace
from enum import IntFlag

from netsim.net.addressing import IPv4Address
from netsim.net.checksum import internet_checksum, ones_complement_sum
from netsim.net.errors import DecodeError
from netsim.net.ipv4 import IpProtocol

HEADER_BYTES = 20
"""A TCP header without options."""
MAX_WINDOW = 0xFFFF
"""The largest window the 16-bit field can say (netsim does not use window scaling)."""

OPTION_END = 0
"""Option kind 0, End of Option List: the rest of the header is padding."""
OPTION_NOP = 1
"""Option kind 1, No-Operation: a single byte used to align the next option."""
OPTION_MSS = 2
"""Option kind 2, Maximum Segment Size: four bytes, sent only on SYNs."""

_FORMAT = struct.Struct("!HHIIBBHHH")
_MSS_OPTION = struct.Struct("!BBH")


class TcpFlags(IntFlag):
    """The control bits of a TCP header (RFC 9293 §3.1; ECE/CWR from RFC 3168)."""

    FIN = 0x01
    SYN = 0x02
    RST = 0x04
    PSH = 0x08
    ACK = 0x10
    URG = 0x20
    ECE = 0x40
    CWR = 0x80


FLAGS_BY_VALUE: tuple[TcpFlags, ...] = tuple(TcpFlags(bits) for bits in range(256))
"""Every combination of the eight control bits, built once: a decoder looks its byte up
here rather than call ``TcpFlags(bits)``, which runs enum code for every segment.

The hot paths below also test bits with ``int``'s own ``&``: ``IntFlag``'s builds a new
flag object for each test, several times per segment."""
_SYN = int(TcpFlags.SYN)
_FIN = int(TcpFlags.FIN)


def flags_str(flags: TcpFlags) -> str:
    """The flags the way tcpdump prints them: ``S``, ``S.``, ``P.``, ``F.``, ``R``, ``.``."""
    text = "".join(c for f, c in _FLAG_LETTERS if flags & f)
    return text + "." if flags & TcpFlags.ACK else text or "none"


_FLAG_LETTERS = (
    (TcpFlags.SYN, "S"),
    (TcpFlags.FIN, "F"),
    (TcpFlags.PSH, "P"),
    (TcpFlags.RST, "R"),
    (TcpFlags.URG, "U"),
    (TcpFlags.ECE, "E"),
    (TcpFlags.CWR, "W"),
)


def pseudo_header_sum(src: IPv4Address, dst: IPv4Address, tcp_length: int) -> int:
    """The one's complement sum of the TCP pseudo-header (RFC 9293 §3.1)."""
    pseudo = src.packed + dst.packed + struct.pack("!BBH", 0, IpProtocol.TCP, tcp_length)
    return ones_complement_sum(pseudo)


@dataclass(frozen=True, slots=True)
class TcpSegment:
    """One TCP segment. ``seq`` and ``ack`` are the 32-bit numbers as on the wire."""

    src_port: int
    dst_port: int
    seq: int
    ack: int
    flags: TcpFlags
    window: int
    payload: bytes = b""
    mss: int | None = None
    """The MSS option's value, present on SYN segments."""
    urgent: int = 0

    @property
    def seg_len(self) -> int:
        """SEG.LEN of RFC 9293: payload bytes plus one each for SYN and FIN."""
        flags = int(self.flags)
        return len(self.payload) + bool(flags & _SYN) + bool(flags & _FIN)

    def has(self, flag: TcpFlags) -> bool:
        """True if any bit of ``flag`` is set."""
        return int.__and__(self.flags, flag) != 0

    def with_payload(self, payload: bytes) -> TcpSegment:
        """A copy carrying ``payload`` instead (used by tests and by retransmission)."""
        return replace(self, payload=payload)

    def options_bytes(self) -> bytes:
        """The encoded options, padded with End-of-Option-List to a multiple of 4 bytes."""
        options = b"" if self.mss is None else _MSS_OPTION.pack(OPTION_MSS, 4, self.mss)
        return options + bytes(-len(options) % 4)

    def to_bytes(self, src_ip: IPv4Address, dst_ip: IPv4Address) -> bytes:
        """The segment's octets, checksummed with the pseudo-header for these addresses."""
        if not (
            0 <= self.src_port <= 0xFFFF
            and 0 <= self.dst_port <= 0xFFFF
            and 0 <= self.seq <= 0xFFFF_FFFF
            and 0 <= self.ack <= 0xFFFF_FFFF
            and 0 <= self.window <= 0xFFFF
            and 0 <= self.urgent <= 0xFFFF
        ):  # one test per segment; which field is wrong is found only when one is
            for name, value, bits in (
                ("src_port", self.src_port, 16),
                ("dst_port", self.dst_port, 16),
                ("seq", self.seq, 32),
                ("ack", self.ack, 32),
                ("window", self.window, 16),
                ("urgent", self.urgent, 16),
            ):
                if not 0 <= value < 1 << bits:
                    raise ValueError(f"TCP {name} {value} does not fit in {bits} bits")
        options = self.options_bytes()
        header_len = HEADER_BYTES + len(options)
        unsummed = (
            _FORMAT.pack(
                self.src_port,
                self.dst_port,
                self.seq,
                self.ack,
                (header_len // 4) << 4,
                int(self.flags),
                self.window,
                0,
                self.urgent,
            )
            + options
            + self.payload
        )
        start = pseudo_header_sum(src_ip, dst_ip, len(unsummed))
        checksum = internet_checksum(unsummed, start)
        return unsummed[:16] + checksum.to_bytes(2, "big") + unsummed[18:]

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        src_ip: IPv4Address,
        dst_ip: IPv4Address,
        *,
        verify_checksum: bool = True,
    ) -> TcpSegment:
        """Decode a segment that travelled from ``src_ip`` to ``dst_ip``.

        ``data`` is exactly the IPv4 payload (its length enters the pseudo-header).
        Raises :class:`DecodeError` for a short buffer, a bad data offset, malformed
        options or a checksum mismatch.
        """
        if len(data) < HEADER_BYTES:
            raise DecodeError(f"TCP: {len(data)} bytes, shorter than a {HEADER_BYTES}-byte header")
        src_port, dst_port, seq, ack, offset, flags, window, _csum, urgent = _FORMAT.unpack_from(
            data
        )
        header_len = (offset >> 4) * 4
        if not HEADER_BYTES <= header_len <= len(data):
            raise DecodeError(f"TCP: data offset {header_len} outside {HEADER_BYTES}..{len(data)}")
        if verify_checksum:
            start = pseudo_header_sum(src_ip, dst_ip, len(data))
            if internet_checksum(data, start) != 0:
                raise DecodeError("TCP: checksum mismatch")
        mss = _parse_options(data[HEADER_BYTES:header_len])
        return cls(
            src_port,
            dst_port,
            seq,
            ack,
            FLAGS_BY_VALUE[flags],
            window,
            bytes(data[header_len:]),
            mss,
            urgent,
        )

    def __str__(self) -> str:
        """A one-line summary in tcpdump's style, handy in traces and test failures."""
        text = f"{self.src_port} > {self.dst_port}: Flags [{flags_str(self.flags)}], seq {self.seq}"
        if self.payload:
            text += f":{(self.seq + len(self.payload)) % (1 << 32)}"
        if self.flags & TcpFlags.ACK:
            text += f", ack {self.ack}"
        text += f", win {self.window}"
        if self.mss is not None:
            text += f", options [mss {self.mss}]"
        return text + f", length {len(self.payload)}"


def _parse_options(options: bytes) -> int | None:
    """Walk the option list (RFC 9293 §3.2) and return the MSS value if present."""
    mss = None
    i = 0
    while i < len(options):
        kind = options[i]
        if kind == OPTION_END:
            break
        if kind == OPTION_NOP:
            i += 1
            continue
        if i + 1 >= len(options):
            raise DecodeError(f"TCP: option {kind} has no length byte")
        length = options[i + 1]
        if length < 2 or i + length > len(options):
            raise DecodeError(f"TCP: option {kind} has bad length {length}")
        if kind == OPTION_MSS:
            if length != 4:
                raise DecodeError(f"TCP: MSS option of length {length}, expected 4")
            mss = int.from_bytes(options[i + 2 : i + 4], "big")
        i += length
    return mss
