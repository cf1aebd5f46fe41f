"""DHCP messages (RFC 2131 §2, options RFC 2132): a BOOTP packet with a magic cookie.

A client (UDP port 68) and a server (port 67) exchange one fixed 236-byte BOOTP header::

    op (1 request, 2 reply) | htype (1 Ethernet) | hlen (6) | hops
    xid (transaction id, chosen by the client)
    secs | flags (bit 15: reply by broadcast)
    ciaddr (client's current address) | yiaddr ("your" address, offered)
    siaddr (next server) | giaddr (relay agent's address)
    chaddr (16 bytes, the client MAC first) | sname (64) | file (128)

then the magic cookie 99.130.83.99 and options as type-length-value triples, ended by
option 255 and padded to the 300-byte BOOTP minimum (RFC 1542). Option 53 says which
DHCP message this is (DISCOVER, OFFER, REQUEST, ACK, ...). The decoder keeps every
option's raw bytes, so a message decodes and re-encodes to the same options; typed views
(:meth:`DhcpMessage.lease_time`, :meth:`DhcpMessage.router`, ...) read the common ones.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from netsim.l2.frame import MacAddress
from netsim.net.addressing import IPv4Address
from netsim.net.errors import DecodeError

SERVER_PORT = 67
"""The UDP port DHCP servers and relay agents listen on."""
CLIENT_PORT = 68
"""The UDP port DHCP clients listen on."""
MAGIC_COOKIE = bytes([99, 130, 83, 99])
"""RFC 2131 §3: the first four option bytes of every DHCP message."""
BOOTP_HEADER_BYTES = 236
"""The fixed BOOTP part, from ``op`` to the end of ``file``."""
MIN_MESSAGE_BYTES = 300
"""RFC 1542 §3.1.1: relay agents and old servers expect at least a 300-byte BOOTP message."""
FLAG_BROADCAST = 0x8000
"""RFC 2131 §2: the client cannot take unicast before it has an address."""
ZERO = IPv4Address(0)
"""0.0.0.0: the source of a client without an address, and an unset address field."""

_HEADER = struct.Struct("!BBBBIHH4s4s4s4s16s64s128s")


class BootpOp(IntEnum):
    """The BOOTP ``op`` field: from a client or from a server."""

    BOOTREQUEST = 1
    BOOTREPLY = 2


class DhcpMessageType(IntEnum):
    """Option 53 (RFC 2132 §9.6): which DHCP message this is."""

    DISCOVER = 1
    OFFER = 2
    REQUEST = 3
    DECLINE = 4
    ACK = 5
    NAK = 6
    RELEASE = 7
    INFORM = 8


class DhcpOption(IntEnum):
    """The option codes netsim writes or reads by name (RFC 2132, RFC 3046)."""

    PAD = 0
    SUBNET_MASK = 1
    ROUTER = 3
    DNS_SERVERS = 6
    HOST_NAME = 12
    REQUESTED_ADDRESS = 50
    LEASE_TIME = 51
    MESSAGE_TYPE = 53
    SERVER_ID = 54
    PARAMETER_REQUEST_LIST = 55
    RENEWAL_TIME = 58
    REBINDING_TIME = 59
    CLIENT_ID = 61
    RELAY_AGENT_INFO = 82
    END = 255


@dataclass(frozen=True, slots=True)
class DhcpMessage:
    """One DHCP message: the BOOTP fields and the options (code -> raw value bytes).

    ``options`` keep the order they are encoded in; option 53 is always sent first, as
    every stack does, so it need not be in ``options`` (``message_type`` holds it).
    """

    op: BootpOp
    message_type: DhcpMessageType
    xid: int
    chaddr: MacAddress
    ciaddr: IPv4Address = ZERO
    yiaddr: IPv4Address = ZERO
    siaddr: IPv4Address = ZERO
    giaddr: IPv4Address = ZERO
    hops: int = 0
    secs: int = 0
    flags: int = 0
    options: Mapping[int, bytes] = field(default_factory=dict)

    # -- typed views of common options ---------------------------------------------------

    def _address_option(self, code: DhcpOption) -> IPv4Address | None:
        value = self.options.get(code)
        return IPv4Address(value[:4]) if value is not None and len(value) >= 4 else None

    @property
    def broadcast(self) -> bool:
        """The client asked for replies by broadcast (it has no address yet)."""
        return bool(self.flags & FLAG_BROADCAST)

    @property
    def subnet_mask(self) -> IPv4Address | None:
        """Option 1."""
        return self._address_option(DhcpOption.SUBNET_MASK)

    @property
    def router(self) -> IPv4Address | None:
        """The first address of option 3 (the default gateway)."""
        return self._address_option(DhcpOption.ROUTER)

    @property
    def server_id(self) -> IPv4Address | None:
        """Option 54: which server made the offer or is being answered."""
        return self._address_option(DhcpOption.SERVER_ID)

    @property
    def requested_address(self) -> IPv4Address | None:
        """Option 50: the address a REQUEST asks for."""
        return self._address_option(DhcpOption.REQUESTED_ADDRESS)

    @property
    def lease_time(self) -> int | None:
        """Option 51, in seconds."""
        value = self.options.get(DhcpOption.LEASE_TIME)
        return int.from_bytes(value, "big") if value is not None and len(value) == 4 else None

    @property
    def client_id(self) -> bytes:
        """Option 61 if sent, else the hardware type and MAC (how servers key a client)."""
        value = self.options.get(DhcpOption.CLIENT_ID)
        return value if value is not None else b"\x01" + self.chaddr.to_bytes(6, "big")

    # -- codec ---------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The message's octets, padded to 300 bytes; raises ``ValueError`` for a bad field."""
        for name, value, limit in (
            ("hops", self.hops, 0xFF),
            ("secs", self.secs, 0xFFFF),
            ("flags", self.flags, 0xFFFF),
            ("xid", self.xid, 0xFFFF_FFFF),
        ):
            if not 0 <= value <= limit:
                raise ValueError(f"DHCP {name} {value} does not fit its field (max {limit})")
        header = _HEADER.pack(
            self.op,
            1,  # htype: Ethernet
            6,  # hlen: a MAC is 6 bytes
            self.hops,
            self.xid,
            self.secs,
            self.flags,
            self.ciaddr.packed,
            self.yiaddr.packed,
            self.siaddr.packed,
            self.giaddr.packed,
            self.chaddr.to_bytes(6, "big") + bytes(10),
            bytes(64),
            bytes(128),
        )
        body = bytearray(MAGIC_COOKIE)
        body += bytes([DhcpOption.MESSAGE_TYPE, 1, self.message_type])
        for code, octets in self.options.items():
            if code in (DhcpOption.PAD, DhcpOption.END, DhcpOption.MESSAGE_TYPE):
                raise ValueError(f"DHCP option {code} is written by the codec itself")
            if not 0 < code < 255 or len(octets) > 255:
                raise ValueError(f"DHCP option {code} with {len(octets)} bytes does not fit")
            body += bytes([code, len(octets)]) + octets
        body.append(DhcpOption.END)
        message = header + bytes(body)
        return message + bytes(max(0, MIN_MESSAGE_BYTES - len(message)))

    @classmethod
    def from_bytes(cls, data: bytes) -> DhcpMessage:
        """Decode a message; raise :class:`DecodeError` naming what is wrong.

        Pad options are skipped and decoding stops at the end option (what follows is
        padding). A message without option 53 is plain BOOTP, which netsim does not serve.
        """
        if len(data) < BOOTP_HEADER_BYTES + len(MAGIC_COOKIE):
            raise DecodeError(f"DHCP: {len(data)} bytes, shorter than the 240-byte header")
        op, htype, hlen, hops, xid, secs, flags, ci, yi, si, gi, ch, _s, _f = _HEADER.unpack_from(
            data
        )
        if op not in (BootpOp.BOOTREQUEST, BootpOp.BOOTREPLY):
            raise DecodeError(f"DHCP: op {op}, expected 1 (request) or 2 (reply)")
        if (htype, hlen) != (1, 6):
            raise DecodeError(
                f"DHCP: hardware type {htype} length {hlen}, expected Ethernet (1, 6)"
            )
        if data[BOOTP_HEADER_BYTES : BOOTP_HEADER_BYTES + 4] != MAGIC_COOKIE:
            raise DecodeError("DHCP: no magic cookie 99.130.83.99 after the BOOTP header")
        options: dict[int, bytes] = {}
        at = BOOTP_HEADER_BYTES + 4
        ended = False
        while at < len(data):
            code = data[at]
            if code == DhcpOption.PAD:
                at += 1
                continue
            if code == DhcpOption.END:
                ended = True
                break
            if at + 1 >= len(data) or at + 2 + data[at + 1] > len(data):
                raise DecodeError(f"DHCP: option {code} runs past the end of the message")
            options[code] = bytes(data[at + 2 : at + 2 + data[at + 1]])
            at += 2 + data[at + 1]
        if not ended:
            raise DecodeError("DHCP: options end without the end option (255)")
        kind = options.pop(DhcpOption.MESSAGE_TYPE, None)
        if kind is None or len(kind) != 1:
            raise DecodeError("DHCP: no message type option (53); plain BOOTP is not served")
        try:
            message_type = DhcpMessageType(kind[0])
        except ValueError:
            raise DecodeError(f"DHCP: unknown message type {kind[0]}") from None
        return cls(
            BootpOp(op),
            message_type,
            xid,
            int.from_bytes(ch[:6], "big"),
            IPv4Address(ci),
            IPv4Address(yi),
            IPv4Address(si),
            IPv4Address(gi),
            hops,
            secs,
            flags,
            options,
        )


def address_option(*addresses: IPv4Address) -> bytes:
    """The value of an option that lists IPv4 addresses (1, 3, 6, 50, 54)."""
    return b"".join(a.packed for a in addresses)


def seconds_option(seconds: int) -> bytes:
    """The value of a 32-bit time option (51, 58, 59)."""
    return int(seconds).to_bytes(4, "big")
