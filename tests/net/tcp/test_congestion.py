"""Slow start, congestion avoidance, fast retransmit and NewReno recovery, as arithmetic."""

from __future__ import annotations

import pytest

from netsim.net.tcp.congestion import RenoCongestionControl, initial_window

MSS = 1000


@pytest.mark.parametrize(
    ("smss", "segments"), [(536, 4), (1095, 4), (1460, 3), (2190, 3), (4000, 2)]
)
def test_initial_window_follows_rfc5681(smss: int, segments: int) -> None:
    """RFC 5681 §3.1: IW is 4, 3 or 2 segments as SMSS grows."""
    assert initial_window(smss) == segments * smss


def test_slow_start_doubles_each_round_trip() -> None:
    """Each ACK of a full segment adds one SMSS: a window's worth of ACKs doubles cwnd."""
    cc = RenoCongestionControl(MSS, initial_segments=2)
    sizes = [cc.cwnd]
    for _ in range(4):
        for _ in range(cc.cwnd // MSS):  # one round trip: every segment acknowledged
            cc.on_new_ack(MSS, 0)
        sizes.append(cc.cwnd)
    assert sizes == [2000, 4000, 8000, 16000, 32000]


def test_byte_counting_limits_growth_per_ack() -> None:
    """A stretch ACK covering many segments adds at most one SMSS (RFC 3465, L = 1)."""
    cc = RenoCongestionControl(MSS, initial_segments=2)
    cc.on_new_ack(10 * MSS, 0)
    assert cc.cwnd == 3 * MSS


def test_congestion_avoidance_adds_one_segment_per_window() -> None:
    """Above ssthresh, cwnd grows by one SMSS per cwnd bytes acknowledged."""
    cc = RenoCongestionControl(MSS, initial_segments=10)
    cc.ssthresh = 10 * MSS
    for _ in range(10):
        cc.on_new_ack(MSS, 0)
    assert cc.cwnd == 11 * MSS
    for _ in range(10):
        cc.on_new_ack(MSS, 0)
    assert cc.cwnd == 11 * MSS, "needs 11 segments' worth now"
    cc.on_new_ack(MSS, 0)
    assert cc.cwnd == 12 * MSS


def test_timeout_collapses_to_one_segment() -> None:
    """RFC 5681 eq. 4: ssthresh = max(FlightSize/2, 2·SMSS) and cwnd = 1 SMSS."""
    cc = RenoCongestionControl(MSS, initial_segments=20)
    cc.on_timeout(flight_size=20 * MSS, snd_max=0)
    assert (cc.cwnd, cc.ssthresh) == (MSS, 10 * MSS)
    cc.on_timeout(flight_size=MSS, snd_max=0)
    assert cc.ssthresh == 2 * MSS


def test_third_duplicate_ack_triggers_fast_retransmit_and_recovery() -> None:
    """Two duplicates do nothing; the third halves and inflates; a full ACK deflates."""
    cc = RenoCongestionControl(MSS, initial_segments=10)
    assert not cc.on_duplicate_ack(10 * MSS, snd_una=0, snd_max=10 * MSS)
    assert not cc.on_duplicate_ack(10 * MSS, snd_una=0, snd_max=10 * MSS)
    assert cc.on_duplicate_ack(10 * MSS, snd_una=0, snd_max=10 * MSS)
    assert cc.in_recovery and cc.ssthresh == 5 * MSS and cc.cwnd == 8 * MSS
    assert not cc.on_duplicate_ack(10 * MSS, 0, 10 * MSS)
    assert cc.cwnd == 9 * MSS, "each further duplicate means a segment left the network"
    assert not cc.on_new_ack(10 * MSS, ack=10 * MSS)
    assert not cc.in_recovery and cc.cwnd == 5 * MSS


def test_partial_ack_retransmits_the_next_hole() -> None:
    """NewReno (RFC 6582): an ACK below ``recover`` asks for the next retransmission."""
    cc = RenoCongestionControl(MSS, initial_segments=10)
    for _ in range(3):
        cc.on_duplicate_ack(10 * MSS, 0, 10 * MSS)
    assert cc.on_new_ack(3 * MSS, ack=3 * MSS)
    assert cc.in_recovery
    assert cc.cwnd == 8 * MSS - 3 * MSS + MSS


def test_no_second_fast_retransmit_for_the_same_window() -> None:
    """Duplicates for data sent before a timeout (below ``recover``) do not halve cwnd again."""
    cc = RenoCongestionControl(MSS, initial_segments=10)
    cc.on_timeout(flight_size=10 * MSS, snd_max=10 * MSS)
    for _ in range(3):
        assert not cc.on_duplicate_ack(MSS, snd_una=5 * MSS, snd_max=10 * MSS)
    assert not cc.in_recovery
