"""The engine: callbacks at absolute times, in a deterministic order, and seeded streams."""

from __future__ import annotations

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
