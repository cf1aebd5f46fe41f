"""Timers that only count down need no tick of their own.

A bridge may send a BPDU on a port only so often: 802.1D holds a port for a second after
each configuration BPDU (the hold timer), RSTP lets a port send six in a burst and gives
one back every second (the transmit credit). Most of the time nothing waits for these
timers to run out, and a simulator that woke every bridge for each of them would spend
half of its spanning-tree events doing nothing. So an engine asks to be ticked for them
only when a BPDU is being held back; otherwise the next call, whatever it is, finds them
run out and counts them down first.

The oracle is the same engine ticked at *every* timer (``Bench(every_timer=True)``): on
random networks whose links fail and come back, and on a booting chain that runs into
RSTP's burst limit, both must send the same BPDUs and make the same changes at the same
times, with fewer ticks.
"""

from __future__ import annotations

from hypothesis import given, settings

from netsim.l2.stp.bench import Bench
from netsim.l2.stp.engine import PortConfig
from netsim.l2.stp.rstp import RstpBridge
from netsim.l2.stp.stp import StpBridge
from tests.l2.stp.test_trees import Link, Network, churn, churned


def assert_same_run(lazy: Bench, eager: Bench) -> None:
    assert lazy.records == eager.records
    assert lazy.ticks < eager.ticks


@settings(max_examples=30, deadline=None, derandomize=True)
@given(churn())
def test_stp_hold_timers_ticked_or_caught_up_give_the_same_run(
    case: tuple[Network, list[tuple[float, int, bool]], list[Link]],
) -> None:
    net, events, _ = case
    assert_same_run(
        churned(StpBridge, net, events, every_timer=False),
        churned(StpBridge, net, events, every_timer=True),
    )


@settings(max_examples=30, deadline=None, derandomize=True)
@given(churn())
def test_rstp_transmit_credit_ticked_or_caught_up_gives_the_same_run(
    case: tuple[Network, list[tuple[float, int, bool]], list[Link]],
) -> None:
    net, events, _ = case
    assert_same_run(
        churned(RstpBridge, net, events, every_timer=False),
        churned(RstpBridge, net, events, every_timer=True),
    )


def booting_chain(every_timer: bool) -> Bench:
    """Eight RSTP bridges in a row booting at once: each changes its mind about the root
    up to seven times, so ports run out of transmit credit and hold news back."""
    bench = Bench(every_timer=every_timer)
    for i in range(1, 9):
        bench.add_bridge(f"S{i}", RstpBridge(i, {1: PortConfig(19), 2: PortConfig(19)}))
    for i in range(1, 8):
        bench.link(f"S{i}", 2, f"S{i + 1}", 1)
    bench.run_until(60)
    return bench


def test_news_held_back_for_the_credit_still_goes_out_on_time() -> None:
    """The burst limit is reached (a tick is then needed for the credit, and taken), and
    the run is the same as one ticked at every credit."""
    lazy, eager = booting_chain(every_timer=False), booting_chain(every_timer=True)
    assert_same_run(lazy, eager)
    sent_per_second: dict[tuple[str, int, int], int] = {}
    for time, bridge, port, _ in lazy.transmitted():
        key = (bridge, port, int(time))
        sent_per_second[key] = sent_per_second.get(key, 0) + 1
    assert max(sent_per_second.values()) >= 6  # the limit was reached
