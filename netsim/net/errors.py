"""The one exception that every decoder in :mod:`netsim.net` raises for bad bytes."""

from __future__ import annotations


class DecodeError(ValueError):
    """Bytes that are not a well-formed packet of the protocol being decoded.

    A receiver drops such a packet (and may count it); it is never a crash. The message
    names the protocol and what was wrong, e.g. ``IPv4: header checksum mismatch``.
    """
