"""The knobs of a TCP connection, with defaults chosen for a teaching LAN simulator.

Where netsim departs from an RFC's number, the field says so and why. Every field can
be changed per connection (like a socket option); Nagle and delayed ACK can also be
switched on a live connection, like ``TCP_NODELAY`` and ``TCP_QUICKACK``.
"""

from __future__ import annotations

from dataclasses import dataclass

ETHERNET_MSS = 1460
"""1500-byte Ethernet MTU minus 20 bytes of IPv4 and 20 of TCP header (RFC 9293 §3.7.1)."""
DEFAULT_MSS = 536
"""The send MSS to assume when the peer's SYN carries no MSS option (RFC 9293 §3.7.1)."""


@dataclass(frozen=True, slots=True)
class TcpConfig:
    """Per-connection parameters; see each field for its source and reasoning."""

    mss: int = ETHERNET_MSS
    """The MSS we announce, and the cap on the segments we send."""

    nagle: bool = True
    """Nagle's algorithm (RFC 896, RFC 1122 §4.2.3.4): hold a small segment while earlier
    data is unacknowledged. On by default, as in every stack; False is TCP_NODELAY."""

    delayed_ack: bool = True
    """Delay ACKs (RFC 1122 §4.2.3.2, RFC 5681 §4.2) hoping to piggyback them on data."""

    delayed_ack_timeout: float = 0.040
    """How long an ACK may wait. RFC 1122 allows up to 0.5 s; Linux uses 40 ms
    (TCP_DELACK_MIN), which is what students meet in practice, so netsim does too."""

    receive_buffer: int = 65535
    """Bytes the receive buffer holds; the advertised window is its free space. Without
    window scaling (RFC 7323, not implemented) a window cannot exceed 65535 anyway."""

    send_buffer: int = 256 * 1024
    """Bytes :meth:`send` accepts before the application must wait for ACKs."""

    initial_rto: float = 1.0
    """RTO before the first RTT sample (RFC 6298 §2.1)."""

    min_rto: float = 0.200
    """Lower bound on the RTO. RFC 6298 §2.4 says 1 s, but on a LAN with sub-millisecond
    RTTs that hides every loss behind a full second; Linux uses 200 ms, which makes
    retransmission timeouts visible yet realistic. Set 1.0 for the RFC's value."""

    max_rto: float = 60.0
    """Upper bound on the RTO (RFC 6298 §2.5 allows 60 s or more)."""

    clock_granularity: float = 0.001
    """G in RFC 6298 §2: simulated clocks are exact, but a 1 ms tick keeps RTO > SRTT."""

    initial_window: int | None = None
    """Initial congestion window in segments; None means RFC 5681 §3.1 (3 for MSS 1460).
    Linux uses 10 (RFC 6928)."""

    dupack_threshold: int = 3
    """Duplicate ACKs that trigger fast retransmit (RFC 5681 §3.2)."""

    max_retransmissions: int = 15
    """Retransmissions of one segment before giving up (RFC 1122 §4.2.3.5 R2; Linux's
    tcp_retries2 is 15)."""

    max_syn_retransmissions: int = 6
    """Retransmissions of a SYN before giving up (Linux's tcp_syn_retries is 6)."""

    msl: float = 30.0
    """Maximum segment lifetime; TIME-WAIT lasts 2 MSL. RFC 9293 §3.4.2 suggests 2 min;
    Linux's TIME-WAIT is a fixed 60 s, hence 30 s here."""

    slow_start_after_idle: bool = True
    """Restart from the initial window after more than one RTO without sending (RFC 5681
    §4.1, Linux's tcp_slow_start_after_idle). Visible in IMAP sessions: a big FETCH after
    a pause needs extra round trips."""

    trace: bool = False
    """Record a :class:`~netsim.net.tcp.connection.TcpSample` (cwnd, ssthresh, SRTT...)
    at every ACK and timeout, for plots of slow start and recovery. Off by default: it
    costs memory on long transfers."""

    def __post_init__(self) -> None:
        if not 88 <= self.mss <= 65495:
            raise ValueError(f"MSS {self.mss} is out of range")
        if self.receive_buffer < 1 or self.send_buffer < 1:
            raise ValueError("TCP buffers need at least one byte")
        if not 0 < self.min_rto <= self.initial_rto <= self.max_rto:
            raise ValueError("need 0 < min_rto <= initial_rto <= max_rto")
        if not 0 <= self.delayed_ack_timeout <= 0.5:
            raise ValueError("RFC 1122 §4.2.3.2: an ACK must not be delayed more than 0.5 s")
        if self.dupack_threshold < 1:
            raise ValueError("dupack_threshold must be positive")
