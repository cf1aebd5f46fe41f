"""Where a TCP connection's ends are: an (address, port) pair, and the 4-tuple of both."""

from __future__ import annotations

from typing import NamedTuple

from netsim.net.addressing import IPv4Address


class Endpoint(NamedTuple):
    """One end of a connection: an IPv4 address and a TCP port."""

    ip: IPv4Address
    port: int

    def __str__(self) -> str:
        """``10.0.0.1:143``."""
        return f"{self.ip}:{self.port}"


class FourTuple(NamedTuple):
    """What identifies a connection on a host (RFC 9293 §3.3.1): both ends, local first."""

    local: Endpoint
    remote: Endpoint
