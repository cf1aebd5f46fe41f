"""The MAC address table, on its own: learn, refresh, move, age out, fill up, static.

A naive reference model (a dict of mac -> (port, last seen), checked in full at every
step) is run side by side with the real table on random sequences of frames; both must
always agree on where every address lives.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from netsim.l2.mac_table import MacEvent, MacTable


def recording_table(aging: float = 10.0, capacity: int | None = None):
    events: list[tuple[float, str, int, str]] = []
    table: MacTable[str] = MacTable(
        aging, capacity, lambda t, e, m, p, vlan: events.append((t, e, m, p))
    )
    return table, events


def test_learn_refresh_move():
    table, events = recording_table()
    table.learn(0xA, "1", 0.0)
    table.learn(0xA, "1", 1.0)
    table.learn(0xA, "2", 2.0)
    assert events == [
        (0.0, MacEvent.LEARN, 0xA, "1"),
        (1.0, MacEvent.REFRESH, 0xA, "1"),
        (2.0, MacEvent.MOVE, 0xA, "2"),
    ]
    assert table.lookup(0xA, 3.0) == "2"
    assert table.lookup(0xB, 3.0) is None


def test_aging_reports_the_instant_the_entry_expired_not_when_it_was_noticed():
    table, events = recording_table(aging=10.0)
    table.learn(0xA, "1", 0.0)
    table.learn(0xB, "2", 4.0)
    table.learn(0xA, "1", 5.0)  # refresh: A now expires at 15
    assert table.lookup(0xB, 100.0) is None
    assert events[-2:] == [(14.0, MacEvent.AGE_OUT, 0xB, "2"), (15.0, MacEvent.AGE_OUT, 0xA, "1")]
    assert len(table) == 0


def test_an_entry_is_gone_exactly_at_its_aging_time():
    table, _ = recording_table(aging=10.0)
    table.learn(0xA, "1", 0.0)
    assert table.lookup(0xA, 9.999) == "1"
    assert table.lookup(0xA, 10.0) is None


def test_zero_aging_means_never():
    table, events = recording_table(aging=0.0)
    table.learn(0xA, "1", 0.0)
    assert table.lookup(0xA, 1e9) == "1"
    assert [e[1] for e in events] == [MacEvent.LEARN]


def test_a_full_table_refuses_new_addresses_but_refreshes_known_ones():
    table, events = recording_table(capacity=2)
    for mac in (1, 2, 3):
        table.learn(mac, "p", 0.0)
    table.learn(1, "p", 1.0)
    assert [e[1] for e in events] == [
        MacEvent.LEARN,
        MacEvent.LEARN,
        MacEvent.FULL,
        MacEvent.REFRESH,
    ]
    assert table.lookup(3, 1.0) is None


def test_static_entries_never_age_never_move_and_do_not_count_against_capacity():
    table, events = recording_table(aging=1.0, capacity=1)
    table.add_static(0xA, "9")
    table.learn(0xA, "1", 0.0)
    table.learn(0xB, "2", 0.0)
    assert table.lookup(0xA, 100.0) == "9"
    assert table.lookup(0xB, 100.0) is None
    assert [e[1] for e in events] == [MacEvent.LEARN, MacEvent.AGE_OUT]  # B only


def test_flushing_a_port_forgets_only_its_entries():
    table, events = recording_table()
    table.learn(1, "a", 0.0)
    table.learn(2, "b", 0.0)
    table.flush_port("a", 3.0)
    assert table.entries() == {2: "b"}
    assert events[-1] == (3.0, MacEvent.AGE_OUT, 1, "a")


frames = st.lists(
    st.tuples(st.integers(0, 5), st.sampled_from("abc"), st.floats(0, 5)), max_size=60
)


@given(frames, st.sampled_from([0.0, 2.0, 7.5]), st.sampled_from([None, 1, 3]))
def test_agrees_with_a_naive_model(steps, aging, capacity):
    table, _ = recording_table(aging=aging, capacity=capacity)
    model: dict[int, tuple[str, float]] = {}
    now = 0.0
    for mac, port, dt in steps:
        now += dt
        if aging > 0:
            model = {m: (p, t) for m, (p, t) in model.items() if t + aging > now}
        if mac in model or capacity is None or len(model) < capacity:
            model[mac] = (port, now)
        table.learn(mac, port, now)
        for m in range(6):
            expected = model[m][0] if m in model else None
            assert table.lookup(m, now) == expected


def test_a_listener_that_ignores_refreshes_is_not_called_for_them():
    """Every frame refreshes its source's entry: a listener that records no refreshes
    (a switch's default) is spared one call per frame, and hears everything else."""
    heard: list[MacEvent] = []
    table: MacTable[str] = MacTable(
        10.0,
        1,
        lambda t, e, m, p, vlan: heard.append(e),
        reported=frozenset(MacEvent) - {MacEvent.REFRESH},
    )
    table.learn(0xA, "1", 0.0)
    table.learn(0xA, "1", 1.0)  # refresh: not reported, but the entry is renewed
    table.learn(0xB, "1", 2.0)  # the table (capacity 1) is full
    table.learn(0xA, "2", 3.0)
    assert heard == [MacEvent.LEARN, MacEvent.FULL, MacEvent.MOVE]
    table.age(12.5)
    assert table.lookup(0xA, 12.5) == "2"  # aged from 3.0, not from 0.0 or 1.0
    table.age(13.0)
    assert heard[-1] is MacEvent.AGE_OUT and table.lookup(0xA, 13.0) is None
