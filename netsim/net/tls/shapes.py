"""The handshakes TLS-in-the-simulation replays, as measured from OpenSSL.

``shapes.json`` (next to this module, written by ``benchmarks/tls_shapes.py``) lists,
for TLS 1.3 and TLS 1.2, every flight of a full handshake: who sends it and the content
type and length of each of its records. A flight is what one end writes before it must
wait for the other, so a handshake of four flights costs two round trips, and a client
may send application data after its last flight (TLS 1.3: after two flights, one round
trip; TLS 1.2: after the server's last, two round trips).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

#: The versions a scenario may ask for.
TLS_VERSIONS = ("1.3", "1.2")

#: Record content types (RFC 8446 5.1).
CHANGE_CIPHER_SPEC, ALERT, HANDSHAKE, APPLICATION_DATA = 20, 21, 22, 23

#: Largest plaintext in one record (RFC 8446 5.1: 2^14 octets).
MAX_PLAINTEXT = 16384


@dataclass(frozen=True)
class Flight:
    """The records one end sends before it waits for the other: (content type, length)."""

    sender: str
    records: tuple[tuple[int, int], ...]

    @property
    def octets(self) -> int:
        """The flight's size on the wire, record headers included."""
        return sum(5 + length for _, length in self.records)


@dataclass(frozen=True)
class TlsShape:
    """One version's handshake and the octets TLS adds to each application record."""

    version: str
    cipher: str
    handshake: tuple[Flight, ...]
    #: Flights the server sends once the handshake is over (TLS 1.3 session tickets).
    post_handshake: tuple[Flight, ...]
    #: Octets a record adds to its plaintext besides the header (tag, nonce, inner type).
    record_overhead: int

    @property
    def round_trips(self) -> int:
        """Round trips before the client may send application data."""
        flights = len(self.handshake)
        return flights // 2 if self.handshake[-1].sender == "client" else (flights + 1) // 2

    @property
    def round_trips_server_first(self) -> int:
        """Round trips the handshake adds before a server-first protocol's greeting.

        IMAP, POP3 and SMTP servers speak first. Without TLS the greeting leaves as the
        connection opens; with TLS it leaves with the server's last flight (TLS 1.2), or
        once the client's last flight is in (TLS 1.3): one round trip either way.
        """
        after_hello = len(self.handshake) - 1
        greeting_alone = 1 if self.handshake[-1].sender == "client" else 0
        return (after_hello + greeting_alone - 1) // 2

    @property
    def encrypted_inner_type(self) -> bool:
        """TLS 1.3 hides the real content type inside the record (RFC 8446 5.2)."""
        return self.version == "1.3"


@cache
def shape(version: str) -> TlsShape:
    """The measured handshake of TLS ``version`` ("1.3" or "1.2")."""
    if version not in TLS_VERSIONS:
        raise ValueError(f"unknown TLS version {version!r} (expected one of {TLS_VERSIONS})")
    text = resources.files("netsim.net.tls").joinpath("shapes.json").read_text()
    data = json.loads(text)[version]

    def flights(items: list[dict[str, object]]) -> tuple[Flight, ...]:
        return tuple(
            Flight(str(f["from"]), tuple((int(t), int(n)) for t, n in f["records"]))  # type: ignore[attr-defined]
            for f in items
        )

    return TlsShape(
        version=version,
        cipher=data["cipher"],
        handshake=flights(data["handshake"]),
        post_handshake=flights(data["post_handshake"]),
        record_overhead=int(data["record_overhead"]),
    )
