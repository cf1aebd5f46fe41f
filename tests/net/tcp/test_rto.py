"""RFC 6298's retransmission timeout, number by number."""

from __future__ import annotations

import pytest

from netsim.net.tcp.rto import RtoEstimator


def test_before_any_sample_the_rto_is_one_second() -> None:
    """§2.1: until an RTT is measured, RTO = 1 s."""
    assert RtoEstimator().rto == 1.0


def test_first_sample() -> None:
    """§2.2: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4·RTTVAR = 3R (here above the minimum)."""
    est = RtoEstimator(min_rto=0.2)
    est.sample(0.1)
    assert est.srtt == pytest.approx(0.1)
    assert est.rttvar == pytest.approx(0.05)
    assert est.rto == pytest.approx(0.3)


def test_later_samples_smooth_with_alpha_and_beta() -> None:
    """§2.3: RTTVAR uses the old SRTT: 3/4·0.05 + 1/4·|0.1−0.2| = 0.0625; SRTT = 0.1125."""
    est = RtoEstimator(min_rto=0.2)
    est.sample(0.1)
    est.sample(0.2)
    assert est.rttvar == pytest.approx(0.0625)
    assert est.srtt == pytest.approx(0.1125)
    assert est.rto == pytest.approx(0.1125 + 4 * 0.0625)


def test_lan_rtts_hit_the_minimum() -> None:
    """On a LAN the formula gives microseconds; the RTO is clamped to min_rto (§2.4)."""
    rfc = RtoEstimator(min_rto=1.0)
    linux = RtoEstimator(min_rto=0.2)
    for est in (rfc, linux):
        est.sample(0.000_3)
    assert rfc.rto == 1.0 and linux.rto == 0.2


def test_granularity_keeps_rto_above_srtt() -> None:
    """With a perfectly steady RTT, RTTVAR decays to 0, but G keeps RTO > SRTT."""
    est = RtoEstimator(min_rto=0.001, granularity=0.01)
    for _ in range(200):
        est.sample(0.5)
    assert est.rto == pytest.approx(0.51, abs=1e-3)


def test_backoff_doubles_up_to_the_maximum_and_a_sample_ends_it() -> None:
    """§5.5: each timeout doubles the RTO, capped at max_rto; the next valid sample resets it."""
    est = RtoEstimator(initial_rto=1.0, min_rto=0.2, max_rto=60.0)
    values = []
    for _ in range(8):
        est.back_off()
        values.append(est.rto)
    assert values == [2, 4, 8, 16, 32, 60, 60, 60]
    est.sample(0.01)
    assert est.rto == 0.2
