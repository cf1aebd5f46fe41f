"""The engine: callbacks at absolute times, in a deterministic order, and seeded streams."""

from __future__ import annotations

import pytest

from netsim.engine.sim import Simulation


def test_calls_run_in_time_order_and_ties_in_scheduling_order():
    sim = Simulation()
    seen: list[tuple[float, str]] = []
    for t, name in [(2.0, "c"), (1.0, "a"), (2.0, "d"), (1.0, "b")]:
        sim.call_at(t, lambda n=name: seen.append((sim.now, n)))
    sim.run()
    assert seen == [(1.0, "a"), (1.0, "b"), (2.0, "c"), (2.0, "d")]
    assert sim.events_processed == 4


def test_times_are_kept_exactly_as_computed():
    sim = Simulation()
    t = 0.1 + 0.2  # not representable as 0.3: must arrive unrounded
    sim.call_at(t, lambda: None)
    sim.run()
    assert sim.now == t


def test_a_call_in_the_past_runs_now():
    sim = Simulation()
    seen = []
    sim.call_at(5.0, lambda: sim.call_at(1.0, lambda: seen.append(sim.now)))
    sim.run()
    assert seen == [5.0]


def test_random_streams_depend_on_seed_and_name_only():
    a, b = Simulation(seed=1), Simulation(seed=1)
    b.rng("other").random()  # drawing from one stream does not shift another
    assert a.rng("x").random() == b.rng("x").random()
    assert Simulation(seed=2).rng("x").random() != Simulation(seed=1).rng("x").random()


def test_run_until_stops_the_clock_there():
    sim = Simulation()
    seen = []
    sim.call_at(1.0, lambda: seen.append(1))
    sim.call_at(3.0, lambda: seen.append(3))
    sim.run(until=2.0)
    assert seen == [1] and sim.now == 2.0
    sim.run()
    assert seen == [1, 3]


def test_events_processed_counts_every_call_made_across_runs():
    """summary.json's events_processed: each call made once, whether it was scheduled
    before the run or by another call, and none still pending at a stop."""
    sim = Simulation()

    def chain(k: int) -> None:
        if k:
            sim.call_at(sim.now + 1.0, chain, k - 1)

    chain(5)  # calls at 1, 2, 3, 4, 5
    sim.call_at(2.5, lambda: None)
    sim.run(until=3.0)
    assert sim.events_processed == 4  # 1, 2, 2.5, 3
    sim.run()
    assert sim.events_processed == 6


def test_a_call_that_raises_is_not_counted_and_later_ones_stay_pending():
    """A run stopped by an exception (a broadcast storm) counts the calls it finished."""
    sim = Simulation()

    def fail() -> None:
        raise RuntimeError("storm")

    sim.call_at(1.0, lambda: None)
    sim.call_at(2.0, fail)
    sim.call_at(3.0, lambda: None)
    with pytest.raises(RuntimeError, match="storm"):
        sim.run()
    assert sim.events_processed == 1
    assert [t for t, _ in sim.pending_calls()] == [3.0]
