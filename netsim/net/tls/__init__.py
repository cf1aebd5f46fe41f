"""TLS in the simulation: the round trips and octets of a handshake, real record framing.

A simulated IMAPS (993), POP3S (995) or SMTPS (465) session, or one upgraded with
STARTTLS, pays what TLS costs on the wire: the handshake's flights (one round trip in
TLS 1.3, two in TLS 1.2, before the client may speak) with the record sizes of a real
OpenSSL handshake (:mod:`~netsim.net.tls.shapes`, measured by
``benchmarks/tls_shapes.py``), and every byte of application data inside TLS records
(a 5-octet header, the AEAD tag, at most 16 KiB of plaintext each). Nothing is
encrypted: a record carries its plaintext where the ciphertext would be, which keeps
captures readable and the simulation fast.

- :mod:`~netsim.net.tls.shapes`: the measured handshakes.
- :mod:`~netsim.net.tls.connection`: one end of a TLS connection, sans-IO.
- :mod:`~netsim.net.tls.socket`: the same over a simulated TCP socket (SimPy events).
"""

from netsim.net.tls.connection import (
    ApplicationData,
    Closed,
    HandshakeComplete,
    Role,
    TlsConnection,
    TlsError,
)
from netsim.net.tls.shapes import TLS_VERSIONS, TlsShape, shape

__all__ = [
    "TLS_VERSIONS",
    "ApplicationData",
    "Closed",
    "HandshakeComplete",
    "Role",
    "TlsConnection",
    "TlsError",
    "TlsShape",
    "shape",
]
