"""What a TCP connection tells its application: events as frozen dataclasses.

The application (or the socket adapter on its behalf) drains them with
:meth:`~netsim.net.tcp.connection.TcpConnection.next_event` after feeding the
connection input. Data itself is not carried in an event: it waits in the receive
buffer until the application reads it, and only reading opens the receive window,
which is how a slow reader throttles a fast sender (flow control).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Connected:
    """The three-way handshake completed: the connection is ESTABLISHED."""


@dataclass(frozen=True, slots=True)
class DataReceived:
    """``nbytes`` new bytes arrived in order and can be read."""

    nbytes: int


@dataclass(frozen=True, slots=True)
class EndOfStream:
    """The peer closed its direction (its FIN arrived after all its data): reads return b""."""


@dataclass(frozen=True, slots=True)
class Writable:
    """Send-buffer space became free after a :meth:`send` that could not take everything."""


@dataclass(frozen=True, slots=True)
class Reset:
    """The peer reset the connection; ``refused`` if it was our SYN that it refused."""

    refused: bool = False


@dataclass(frozen=True, slots=True)
class TimedOut:
    """We gave up: a segment was retransmitted the maximum number of times unacknowledged."""


@dataclass(frozen=True, slots=True)
class Closed:
    """The connection reached CLOSED; always the last event, emitted exactly once."""


TcpEvent = Connected | DataReceived | EndOfStream | Writable | Reset | TimedOut | Closed
"""Any event a connection emits."""
