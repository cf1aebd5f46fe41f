"""TCP for netsim's hosts, sans-IO (RFC 9293 with RFC 6298 timers and RFC 5681 congestion control).

- :mod:`.segment`: the wire format; :mod:`.seqnum`: 32-bit sequence arithmetic.
- :mod:`.states`: the state diagram as a table; :mod:`.events`: what the application hears.
- :mod:`.config`: per-connection knobs; :mod:`.rto`: the retransmission timeout;
  :mod:`.congestion`: slow start, congestion avoidance, fast retransmit and recovery.
- :mod:`.connection`: one connection; :mod:`.demux`: a host's listeners and connections.
"""

from netsim.net.tcp.config import TcpConfig
from netsim.net.tcp.connection import TcpConnection, TcpSample, TcpStats
from netsim.net.tcp.demux import Listener, OutgoingSegment, TcpDemux
from netsim.net.tcp.endpoint import Endpoint, FourTuple
from netsim.net.tcp.events import (
    Closed,
    Connected,
    DataReceived,
    EndOfStream,
    Reset,
    TcpEvent,
    TimedOut,
    Writable,
)
from netsim.net.tcp.segment import TcpFlags, TcpSegment
from netsim.net.tcp.states import TcpState, TcpStateError

__all__ = [
    "Closed",
    "Connected",
    "DataReceived",
    "EndOfStream",
    "Endpoint",
    "FourTuple",
    "Listener",
    "OutgoingSegment",
    "Reset",
    "TcpConfig",
    "TcpConnection",
    "TcpDemux",
    "TcpEvent",
    "TcpFlags",
    "TcpSample",
    "TcpSegment",
    "TcpState",
    "TcpStateError",
    "TcpStats",
    "TimedOut",
    "Writable",
]
