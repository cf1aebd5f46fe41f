"""The retransmission timeout of RFC 6298: smoothed RTT, its variation, and back-off.

After the first RTT measurement R (§2.2)::

    SRTT <- R;  RTTVAR <- R/2

and after each later one R' (§2.3), with alpha = 1/8 and beta = 1/4::

    RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|
    SRTT   <- (1 - alpha) * SRTT + alpha * R'

then RTO = SRTT + max(G, K * RTTVAR) with K = 4, clamped to [min, max] (§2.4, §2.5).
Each expiry of the timer doubles the RTO (§5.5, "back off the timer"); a new sample
recomputes it from SRTT and RTTVAR, which ends the back-off. Which segments may be
measured is the sender's business (Karn's rule, see the connection).
"""

from __future__ import annotations

ALPHA = 1 / 8
"""Gain of the SRTT filter (RFC 6298 §2.3)."""
BETA = 1 / 4
"""Gain of the RTTVAR filter (RFC 6298 §2.3)."""
K = 4
"""How many RTT variations of headroom the RTO keeps above SRTT (RFC 6298 §2.2)."""


class RtoEstimator:
    """SRTT, RTTVAR and the current RTO of one connection."""

    def __init__(
        self,
        initial_rto: float = 1.0,
        min_rto: float = 1.0,
        max_rto: float = 60.0,
        granularity: float = 0.0,
    ) -> None:
        self.min_rto = min_rto
        self.max_rto = max_rto
        self.granularity = granularity
        self.srtt: float | None = None
        """Smoothed round-trip time, None before the first sample."""
        self.rttvar: float | None = None
        """Round-trip time variation, None before the first sample."""
        self.rto = initial_rto
        """The timeout to arm the retransmission timer with now, back-off included."""

    def sample(self, rtt: float) -> None:
        """Fold in one RTT measurement (seconds) and recompute the RTO."""
        if self.srtt is None or self.rttvar is None:
            self.srtt = rtt
            self.rttvar = rtt / 2
        else:
            # RTTVAR first: §2.3 updates it with the *old* SRTT.
            self.rttvar = (1 - BETA) * self.rttvar + BETA * abs(self.srtt - rtt)
            self.srtt = (1 - ALPHA) * self.srtt + ALPHA * rtt
        raw = self.srtt + max(self.granularity, K * self.rttvar)
        self.rto = min(self.max_rto, max(self.min_rto, raw))

    def back_off(self) -> None:
        """Double the RTO after a timeout, up to the maximum (§5.5)."""
        self.rto = min(self.max_rto, self.rto * 2)
