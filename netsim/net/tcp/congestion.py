"""Congestion control: slow start, congestion avoidance, fast retransmit and recovery.

This is RFC 5681 (Reno) with the NewReno fix of RFC 6582 for several losses in one
window. The sender owns the sequence numbers; this object owns ``cwnd`` and
``ssthresh`` and tells the sender when to retransmit. All quantities are bytes.

- Slow start (§3.1): while cwnd < ssthresh, each ACK of new data grows cwnd by the bytes
  it acknowledged, at most one SMSS (appropriate byte counting, RFC 3465 with L = 1),
  so cwnd doubles every round trip.
- Congestion avoidance (§3.1): above ssthresh, cwnd grows by one SMSS per cwnd bytes
  acknowledged, about one segment per round trip.
- Timeout (§3.1, eq. 4): ssthresh = max(FlightSize / 2, 2 SMSS), cwnd = 1 SMSS.
- Restart after idle (§4.1): a sender silent for longer than the RTO restarts from
  min(cwnd, IW), since a burst of a whole old window could overflow a queue.
- Fast retransmit (§3.2): the third duplicate ACK means a segment was lost but later
  ones arrive: retransmit it, set ssthresh as above and cwnd = ssthresh + 3 SMSS, then
  inflate cwnd by one SMSS for each further duplicate (each means a segment left the
  network). The ACK of all data outstanding at the loss ends recovery: cwnd = ssthresh.
  A partial ACK during recovery reveals the next hole: retransmit it (RFC 6582 §3.2).
"""

from __future__ import annotations


def initial_window(smss: int) -> int:
    """The initial cwnd in bytes by RFC 5681 §3.1: 2, 3 or 4 segments depending on SMSS."""
    if smss > 2190:
        return 2 * smss
    if smss > 1095:
        return 3 * smss
    return 4 * smss


class RenoCongestionControl:
    """cwnd and ssthresh of one sender, and its fast-recovery bookkeeping."""

    def __init__(
        self, smss: int, initial_segments: int | None = None, dupack_threshold: int = 3
    ) -> None:
        self.smss = smss
        self.dupack_threshold = dupack_threshold
        """Duplicate ACKs that signal a loss."""
        self.initial_window = (
            initial_window(smss) if initial_segments is None else initial_segments * smss
        )
        """IW in bytes: the cwnd to start with, and the most to restart with after idling."""
        self.cwnd = self.initial_window
        """The congestion window: bytes the sender may have in flight."""
        self.ssthresh = 1 << 30
        """Slow-start threshold; "arbitrarily high" initially (§3.1)."""
        self.duplicate_acks = 0
        """Consecutive duplicate ACKs seen."""
        self.in_recovery = False
        """True between a fast retransmit and the ACK that covers ``recover``."""
        self.recover = 0
        """RFC 6582's "recover": the highest sequence sent when loss was detected."""
        self._acked_in_ca = 0

    @property
    def in_slow_start(self) -> bool:
        """True while cwnd is below ssthresh."""
        return self.cwnd < self.ssthresh

    def _halve(self, flight_size: int) -> None:
        self.ssthresh = max(flight_size // 2, 2 * self.smss)

    def on_new_ack(self, acked: int, ack: int) -> bool:
        """An ACK advanced SND.UNA to ``ack`` by ``acked`` bytes; True means retransmit the
        segment now at SND.UNA (a partial ACK during fast recovery)."""
        self.duplicate_acks = 0
        if self.in_recovery:
            if ack >= self.recover:
                # Full ACK: deflate the window (RFC 6582 §3.2 step 3, the simple option).
                self.in_recovery = False
                self.cwnd = self.ssthresh
                self._acked_in_ca = 0
                return False
            # Partial ACK: deflate by what was acknowledged, add back one SMSS if that was
            # at least one segment, and fill the next hole (RFC 6582 §3.2 step 3).
            self.cwnd = max(self.cwnd - acked, self.smss)
            if acked >= self.smss:
                self.cwnd += self.smss
            return True
        if self.in_slow_start:
            self.cwnd += min(acked, self.smss)
        else:
            self._acked_in_ca += acked
            if self._acked_in_ca >= self.cwnd:
                self._acked_in_ca -= self.cwnd
                self.cwnd += self.smss
        return False

    def on_duplicate_ack(self, flight_size: int, snd_una: int, snd_max: int) -> bool:
        """A duplicate ACK (RFC 5681 §2) arrived; True means fast-retransmit SND.UNA now."""
        self.duplicate_acks += 1
        if self.in_recovery:
            self.cwnd += self.smss
            return False
        if self.duplicate_acks == self.dupack_threshold and snd_una >= self.recover:
            # The snd_una >= recover test (RFC 6582 §3.2 step 2) stops duplicate ACKs
            # caused by retransmissions after a timeout from halving cwnd again.
            self._halve(flight_size)
            self.cwnd = self.ssthresh + self.dupack_threshold * self.smss
            self.in_recovery = True
            self.recover = snd_max
            return True
        return False

    def on_idle_restart(self) -> None:
        """After an idle period longer than the RTO, the ACK clock has stopped and the
        network's state is unknown: start again from at most the initial window (§4.1)."""
        self.cwnd = min(self.cwnd, self.initial_window)
        self._acked_in_ca = 0

    def on_timeout(self, flight_size: int, snd_max: int) -> None:
        """The retransmission timer expired: back to one segment and slow start (eq. 4)."""
        self._halve(flight_size)
        self.cwnd = self.smss
        self.duplicate_acks = 0
        self.in_recovery = False
        self.recover = snd_max
        self._acked_in_ca = 0
