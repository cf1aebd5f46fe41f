"""ICMP (RFC 792): echo request and reply, and the errors routers send back.

An ICMP message is type, code, checksum and four type-specific bytes, then a body.
For echo those four bytes are an identifier and a sequence number, and the body is
data that the reply must return unchanged. The checksum (RFC 1071) covers the whole
message. Other types decode to :class:`IcmpMessage` so a host can count or log them.

An error (time exceeded, destination unreachable) quotes the packet that caused it:
its IP header and the first 8 bytes of its data (RFC 792), enough for the sender to
find the ping or connection concerned (:func:`icmp_error`, :func:`quoted_echo`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from netsim.net.checksum import internet_checksum
from netsim.net.errors import DecodeError

HEADER_BYTES = 8
"""Type, code, checksum and the four type-specific bytes."""

_FORMAT = struct.Struct("!BBH4s")
_ECHO_FIELDS = struct.Struct("!HH")


QUOTED_DATA_BYTES = 8
"""How much of the offending packet's data an ICMP error quotes after its IP header."""


class IcmpType(IntEnum):
    """The ICMP message types netsim knows by name."""

    ECHO_REPLY = 0
    DESTINATION_UNREACHABLE = 3
    ECHO_REQUEST = 8
    TIME_EXCEEDED = 11


class UnreachableCode(IntEnum):
    """Destination unreachable codes (RFC 792) that a router sends."""

    NET = 0
    """No route to the destination's network."""
    HOST = 1
    """The last router could not reach the host (ARP got no answer)."""


TIME_EXCEEDED_IN_TRANSIT = 0
"""Time exceeded code 0: the TTL reached zero on the way (code 1 is reassembly)."""


@dataclass(frozen=True, slots=True)
class IcmpMessage:
    """Any ICMP message: ``rest`` is the four type-specific header bytes."""

    type: int
    code: int
    rest: bytes = bytes(4)
    body: bytes = b""

    def to_bytes(self) -> bytes:
        """The message's octets with a correct checksum."""
        if len(self.rest) != 4:
            raise ValueError("the ICMP rest-of-header is exactly 4 bytes")
        unsummed = _FORMAT.pack(self.type, self.code, 0, self.rest) + self.body
        checksum = internet_checksum(unsummed)
        return unsummed[:2] + checksum.to_bytes(2, "big") + unsummed[4:]

    @classmethod
    def from_bytes(cls, data: bytes, *, verify_checksum: bool = True) -> IcmpMessage:
        """Decode any ICMP message; :class:`DecodeError` if short or the checksum fails."""
        if len(data) < HEADER_BYTES:
            raise DecodeError(
                f"ICMP: {len(data)} bytes, shorter than the {HEADER_BYTES}-byte header"
            )
        if verify_checksum and internet_checksum(data) != 0:
            raise DecodeError("ICMP: checksum mismatch")
        icmp_type, code, _checksum, rest = _FORMAT.unpack_from(data)
        return cls(icmp_type, code, rest, bytes(data[HEADER_BYTES:]))


@dataclass(frozen=True, slots=True)
class IcmpEcho:
    """An echo request or reply: ``ping`` matches replies by identifier and sequence."""

    is_request: bool
    identifier: int
    sequence: int
    data: bytes = b""

    @classmethod
    def request(cls, identifier: int, sequence: int, data: bytes = b"") -> IcmpEcho:
        """An echo request."""
        return cls(True, identifier, sequence, data)

    def reply(self) -> IcmpEcho:
        """The reply to this request: same identifier, sequence and data (RFC 792)."""
        if not self.is_request:
            raise ValueError("only an echo request can be replied to")
        return IcmpEcho(False, self.identifier, self.sequence, self.data)

    def to_message(self) -> IcmpMessage:
        """This echo as a generic ICMP message."""
        icmp_type = IcmpType.ECHO_REQUEST if self.is_request else IcmpType.ECHO_REPLY
        return IcmpMessage(
            icmp_type, 0, _ECHO_FIELDS.pack(self.identifier, self.sequence), self.data
        )

    def to_bytes(self) -> bytes:
        """The echo message's octets with a correct checksum."""
        return self.to_message().to_bytes()

    @classmethod
    def from_message(cls, message: IcmpMessage) -> IcmpEcho:
        """The echo inside a generic message; :class:`DecodeError` if it is not an echo."""
        if message.type not in (IcmpType.ECHO_REQUEST, IcmpType.ECHO_REPLY) or message.code != 0:
            raise DecodeError(f"ICMP: type {message.type} code {message.code} is not an echo")
        identifier, sequence = _ECHO_FIELDS.unpack(message.rest)
        return cls(message.type == IcmpType.ECHO_REQUEST, identifier, sequence, message.body)

    @classmethod
    def from_bytes(cls, data: bytes, *, verify_checksum: bool = True) -> IcmpEcho:
        """Decode an echo request or reply."""
        return cls.from_message(IcmpMessage.from_bytes(data, verify_checksum=verify_checksum))


def decode_icmp(data: bytes) -> IcmpEcho | IcmpMessage:
    """Decode an ICMP message, as an :class:`IcmpEcho` when it is one."""
    message = IcmpMessage.from_bytes(data)
    if message.type in (IcmpType.ECHO_REQUEST, IcmpType.ECHO_REPLY) and message.code == 0:
        return IcmpEcho.from_message(message)
    return message


def icmp_error(icmp_type: int, code: int, offending: bytes) -> IcmpMessage:
    """An ICMP error about the IPv4 packet ``offending`` (its bytes, header first).

    The body quotes the offending header and the first 8 bytes of its data (RFC 792);
    the four bytes after the checksum are unused and zero.
    """
    header_length = (offending[0] & 0x0F) * 4
    return IcmpMessage(icmp_type, code, bytes(4), offending[: header_length + QUOTED_DATA_BYTES])


def quoted_echo(message: IcmpMessage) -> IcmpEcho | None:
    """The echo request an ICMP error quotes, if it quotes one (what ``ping`` reports).

    Only the identifier and sequence number survive the 8-byte quote; the data is cut.
    """
    body = message.body
    if len(body) < 20:
        return None
    start = (body[0] & 0x0F) * 4
    quoted = body[start : start + QUOTED_DATA_BYTES]
    if len(quoted) < QUOTED_DATA_BYTES or body[9] != 1 or quoted[0] != IcmpType.ECHO_REQUEST:
        return None
    identifier, sequence = _ECHO_FIELDS.unpack(quoted[4:8])
    return IcmpEcho.request(identifier, sequence)
