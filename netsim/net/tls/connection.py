"""One end of a TLS connection, sans-IO: handshake flights and record framing, no crypto.

The h11 pattern: feed what TCP delivered to :meth:`TlsConnection.receive_data`, take
events from :meth:`TlsConnection.next_event` until :data:`NEED_DATA`, and write out
:meth:`TlsConnection.data_to_send` (the next handshake flight, when it is this end's
turn) and what :meth:`TlsConnection.send` returns (application data in records).

The handshake replays a measured :class:`~netsim.net.tls.shapes.TlsShape` flight by
flight: an end sends its flight once it has received every record of the peer's
previous one, so the simulated handshake takes the real one's round trips and octets.
Records carry their plaintext where the ciphertext would be and zeros where the AEAD tag
would be; a TLS 1.3 record ends its plaintext with the real content type (RFC 8446 5.2),
a TLS 1.2 record starts with the 8-octet explicit nonce of AES-GCM (RFC 5288).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import Enum

from netsim.net.tls.shapes import (
    ALERT,
    APPLICATION_DATA,
    CHANGE_CIPHER_SPEC,
    HANDSHAKE,
    MAX_PLAINTEXT,
    TLS_VERSIONS,
    Flight,
    TlsShape,
    shape,
)

_VERSION_ON_WIRE = 0x0303  # TLS 1.3 records also say "1.2" (RFC 8446 5.1)
_TAG = 16  # AES-GCM's authentication tag
_NONCE_12 = 8  # TLS 1.2 AES-GCM's explicit nonce
_MAX_RECORD = MAX_PLAINTEXT + 256  # RFC 8446 5.2: the largest ciphertext allowed
_CLOSE_NOTIFY = b"\x01\x00"  # alert level warning, description close_notify


class TlsError(Exception):
    """The peer sent something that is not the TLS this end expects."""


class Role(Enum):
    """Which end: the client speaks first."""

    CLIENT = "client"
    SERVER = "server"


class State(Enum):
    """Where the connection is."""

    HANDSHAKING = "handshaking"
    CONNECTED = "connected"
    CLOSED = "closed"


#: The legal transitions: (state, what happened) -> next state.
TRANSITIONS: dict[tuple[State, str], State] = {
    (State.HANDSHAKING, "handshake done"): State.CONNECTED,
    (State.HANDSHAKING, "close"): State.CLOSED,
    (State.CONNECTED, "close"): State.CLOSED,
    (State.CLOSED, "close"): State.CLOSED,
}


@dataclass(frozen=True)
class HandshakeComplete:
    """This end may now send application data."""


@dataclass(frozen=True)
class ApplicationData:
    """Plaintext the peer sent."""

    data: bytes


@dataclass(frozen=True)
class Closed:
    """The peer sent close_notify, or TCP reached end of stream."""


class _NeedData:
    def __repr__(self) -> str:
        return "NEED_DATA"


#: :meth:`TlsConnection.next_event` has nothing more until more bytes arrive.
NEED_DATA = _NeedData()

Event = HandshakeComplete | ApplicationData | Closed


class TlsConnection:
    """One end of a simulated TLS connection following ``shape``.

    A server may leave ``shape`` out: it then answers in the version whose ClientHello
    arrives, as a real server picks the version the client offers.
    """

    def __init__(self, role: Role, shape: TlsShape | None = None) -> None:
        if shape is None and role is Role.CLIENT:
            raise ValueError("a TLS client must know which version it offers")
        self.role = role
        self._shape = shape
        self.state = State.HANDSHAKING
        #: Octets of records (headers included) written and read, handshake and data.
        self.octets_sent = 0
        self.octets_received = 0
        self._next_flight = 0  # index into shape.handshake of the flight under way
        self._records_seen = 0  # records of that flight received so far
        self._inbox = bytearray()
        self._outbox = bytearray()
        self._events: list[Event] = []
        self._eof = False
        if role is Role.CLIENT:
            self._send_own_flights()

    @property
    def shape(self) -> TlsShape:
        """The handshake under way (a server knows it once the ClientHello is in)."""
        if self._shape is None:
            raise TlsError("no ClientHello yet: the version is not chosen")
        return self._shape

    # -- the application's side ------------------------------------------------------

    def data_to_send(self) -> bytes:
        """Handshake records this end must write now (empty when it waits)."""
        out = bytes(self._outbox)
        self._outbox.clear()
        self.octets_sent += len(out)
        return out

    def send(self, data: bytes) -> bytes:
        """``data`` framed as application-data records, ready for TCP."""
        if self.state is not State.CONNECTED:
            raise TlsError(f"cannot send application data while {self.state.value}")
        out = bytearray()
        for i in range(0, len(data), MAX_PLAINTEXT):
            out += self._record(APPLICATION_DATA, data[i : i + MAX_PLAINTEXT])
        self.octets_sent += len(out)
        return bytes(out)

    def close(self) -> bytes:
        """A close_notify alert (RFC 8446 6.1); nothing more may be sent after it."""
        if self.state is State.CLOSED:
            return b""
        self._move("close")
        if self._shape is None:
            return b""  # nothing was agreed: there is no record to close
        out = self._record(ALERT, _CLOSE_NOTIFY)
        self.octets_sent += len(out)
        return out

    def receive_data(self, data: bytes) -> None:
        """Bytes from TCP; ``b""`` is the end of the stream."""
        if not data:
            self._eof = True
            return
        self.octets_received += len(data)
        self._inbox += data

    def next_event(self) -> Event | _NeedData:
        """The next thing that happened, or :data:`NEED_DATA`."""
        while not self._events:
            if not self._read_record():
                if self._eof and self.state is not State.CLOSED:
                    self._eof = False
                    self.state = State.CLOSED
                    return Closed()
                return NEED_DATA
        return self._events.pop(0)

    # -- records ---------------------------------------------------------------------

    def _read_record(self) -> bool:
        if len(self._inbox) < 5:
            return False
        kind, version, length = struct.unpack_from("!BHH", self._inbox)
        if kind not in (CHANGE_CIPHER_SPEC, ALERT, HANDSHAKE, APPLICATION_DATA):
            raise TlsError(f"record of unknown content type {kind}")
        if version >> 8 != 3 or length > _MAX_RECORD:
            raise TlsError(f"malformed record header (version {version:#06x}, length {length})")
        if len(self._inbox) < 5 + length:
            return False
        body = bytes(self._inbox[5 : 5 + length])
        del self._inbox[: 5 + length]
        if self.state is State.HANDSHAKING:
            self._handshake_record(kind, length)
        else:
            self._connected_record(kind, body)
        return True

    def _handshake_record(self, kind: int, length: int) -> None:
        if self._shape is None:
            self._shape = _version_offered(kind, length)
        flight = self.shape.handshake[self._next_flight]
        if flight.sender == self.role.value:  # pragma: no cover - guarded by _send_own_flights
            raise TlsError("received a record while it was this end's turn")
        expected = flight.records[self._records_seen]
        if (kind, length) != expected:
            raise TlsError(
                f"unexpected handshake record (type {kind}, {length} octets; "
                f"expected type {expected[0]}, {expected[1]} octets)"
            )
        self._records_seen += 1
        if self._records_seen == len(flight.records):
            self._records_seen = 0
            self._next_flight += 1
            self._send_own_flights()

    def _connected_record(self, kind: int, body: bytes) -> None:
        if self.shape.encrypted_inner_type and kind == APPLICATION_DATA:
            if len(body) < 1 + _TAG:
                raise TlsError("record shorter than its tag")
            kind, body = body[-1 - _TAG], body[: -1 - _TAG]
        elif kind == APPLICATION_DATA or (kind == ALERT and not self.shape.encrypted_inner_type):
            if len(body) < _NONCE_12 + _TAG:
                raise TlsError("record shorter than its nonce and tag")
            body = body[_NONCE_12:-_TAG]
        if kind == APPLICATION_DATA:
            if body:
                self._events.append(ApplicationData(body))
        elif kind == ALERT:
            self._move("close")
            self._events.append(Closed())
        # Post-handshake messages (TLS 1.3 session tickets) carry nothing for the application.

    def _send_own_flights(self) -> None:
        """Write this end's flights while it is its turn; note when the handshake is done."""
        flights = self.shape.handshake
        while self._next_flight < len(flights) and flights[self._next_flight].sender == (
            self.role.value
        ):
            self._outbox += self._flight(flights[self._next_flight])
            self._next_flight += 1
        if self._next_flight == len(flights):
            self._move("handshake done")
            self._events.append(HandshakeComplete())
            if self.role is Role.SERVER:
                for flight in self.shape.post_handshake:
                    self._outbox += self._flight(flight)

    def _flight(self, flight: Flight) -> bytes:
        # Handshake records are zeros of the measured length; an encrypted TLS 1.3 one
        # ends with its inner content type and its tag, like a real one.
        out = bytearray()
        for kind, length in flight.records:
            body = bytearray(length)
            if kind == APPLICATION_DATA and self.shape.encrypted_inner_type and length > _TAG:
                body[-1 - _TAG] = HANDSHAKE
            out += struct.pack("!BHH", kind, _VERSION_ON_WIRE, length) + body
        return bytes(out)

    def _record(self, kind: int, plaintext: bytes) -> bytes:
        if self.shape.encrypted_inner_type:
            body = plaintext + bytes([kind]) + bytes(_TAG)
            kind = APPLICATION_DATA
        else:
            body = bytes(_NONCE_12) + plaintext + bytes(_TAG)
        return struct.pack("!BHH", kind, _VERSION_ON_WIRE, len(body)) + body

    def _move(self, what: str) -> None:
        self.state = TRANSITIONS[(self.state, what)]


def _version_offered(kind: int, length: int) -> TlsShape:
    """The version whose ClientHello is a record of this type and length."""
    for version in TLS_VERSIONS:
        candidate = shape(version)
        if candidate.handshake[0].records[0] == (kind, length):
            return candidate
    raise TlsError(f"no known ClientHello is a record of type {kind} and {length} octets")
