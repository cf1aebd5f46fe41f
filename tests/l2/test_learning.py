"""MAC learning as a switch does it (IEEE 802.1D), watched through mac_events.csv and the
port counters.

A switch floods a frame whose destination it does not know to every port but the ingress,
learns the source address on the ingress port, and sends later frames for a learned
address to that port only. An entry not refreshed for the aging time is removed, and the
next frame to that address floods again. A full table learns nothing new, so frames to
unknown addresses keep flooding. A host that moves is re-learned on its new port.
"""

from __future__ import annotations

import pandas as pd
import pytest

import netsim

THREE_HOSTS = """
name: learning
duration: 50ms
topology:
  defaults: {{link: {{speed: 100M, delay: 0s}}}}
  nodes:
    h1: {{kind: host}}
    h2: {{kind: host}}
    h3: {{kind: host}}
    sw1: {{kind: switch, ports: 3, aging: {aging}{extra}}}
  links:
    - endpoints: [h1, "sw1:1"]
    - endpoints: [h2, "sw1:2"]
    - endpoints: [h3, "sw1:3"]
traffic:
  - {{kind: frames, name: first, from: h1, to: h2, count: 1, start: 0s}}
  - {{kind: frames, name: reply, from: h2, to: h1, count: 1, start: 1ms}}
  - {{kind: frames, name: later, from: h1, to: h2, count: 1, start: 2ms}}
  - {{kind: frames, name: after-aging, from: h1, to: h2, count: 1, start: 20ms}}
"""


def run(aging: str = "300s", extra: str = "") -> netsim.Results:
    return netsim.run(netsim.loads(THREE_HOSTS.format(aging=aging, extra=extra)))


def floods_of(events: pd.DataFrame) -> list[float]:
    return list(events.loc[events["event"] == "flood", "time"])


def test_first_frame_floods_reply_is_learned_later_frames_are_unicast():
    res = run()
    ev = res.mac_events
    h1, h2 = "02:00:00:00:00:01", "02:00:00:00:00:02"
    learned = ev[ev["event"] == "learn"][["mac", "port"]].values.tolist()
    assert learned == [[h1, "1"], [h2, "2"]]
    assert floods_of(ev) == [pytest.approx((64 + 8) * 8 / 100e6)]  # only the first frame
    # h3 saw exactly one frame: the flooded first one, which its NIC ignored.
    h3 = res.ports.set_index(["device", "port"]).loc[("h3", "eth0")]
    assert h3["rx_frames"] == 1
    assert res.frames["outcome"].eq("delivered").all()
    assert (res.frames["receivers"] == 1).all()


def test_an_idle_entry_ages_out_and_the_next_frame_floods_again():
    res = run(aging="5ms")
    ev = res.mac_events
    aged = ev[ev["event"] == "age-out"]
    t_reply_in = 1e-3 + 72 * 8 / 100e6  # h2's entry was last refreshed by the reply
    h2_aged = aged[aged["mac"] == "02:00:00:00:00:02"]["time"]
    assert list(h2_aged) == [pytest.approx(t_reply_in + 5e-3)]
    floods = floods_of(ev)
    assert len(floods) == 2 and floods[1] == pytest.approx(20e-3 + 72 * 8 / 100e6)


def test_aging_zero_never_ages():
    res = run(aging="0s")
    assert not (res.mac_events["event"] == "age-out").any()
    assert len(floods_of(res.mac_events)) == 1


def test_a_full_table_learns_nothing_more_and_keeps_flooding():
    res = run(extra=", mac_table_size: 1")
    ev = res.mac_events
    assert list(ev.loc[ev["event"] == "full", "mac"]) == ["02:00:00:00:00:02"]
    # h2 was never learned: every frame to it floods, so h3 sees all three.
    assert len(floods_of(ev)) == 3
    assert res.ports.set_index(["device", "port"]).loc[("h3", "eth0"), "rx_frames"] == 3


def test_static_entries_never_flood_and_never_age():
    """h2 is nailed to port 2: frames to it never flood, however long it stays silent.
    (h1 is dynamic: with a 1 ms aging time the reply to it floods.)"""
    res = run(aging="1ms", extra=', static_macs: {"02:00:00:00:00:02": "2"}')
    ev = res.mac_events
    assert list(ev.loc[ev["event"] == "flood", "mac"]) == ["02:00:00:00:00:01"]
    assert not (ev["mac"] == "02:00:00:00:00:02").any()


MOVE = """
name: move
duration: 10ms
topology:
  defaults: {link: {speed: 100M, delay: 0s}}
  nodes:
    core: {kind: switch, ports: 4}
    acc1: {kind: switch, ports: 4}
    acc2: {kind: switch, ports: 4}
    h1: {kind: host}
    h2: {kind: host}
  links:
    - endpoints: ["core:1", "acc1:4"]
    - endpoints: ["core:2", "acc2:4"]
    - endpoints: ["core:3", h2]
    - endpoints: ["acc1:1", h1]
traffic:
  - {kind: frames, name: before, from: h1, to: h2, count: 1, start: 0s}
  - {kind: frames, name: stale, from: h2, to: h1, count: 1, start: 2ms}
  - {kind: frames, name: moved, from: h1, to: h2, count: 1, start: 3ms}
  - {kind: frames, name: relearned, from: h2, to: h1, count: 1, start: 4ms}
events:
  - {at: 1ms, action: host-move, host: h1, to: "acc2:1"}
"""


def test_a_host_that_moves_is_relearned_on_its_new_port():
    """After h1 moves from acc1 to acc2, the core still points at acc1 until h1 speaks:
    a frame for h1 in between goes the old way and is lost. h1's next frame makes the
    core *move* the entry, and replies reach h1 again."""
    res = netsim.run(netsim.loads(MOVE))
    outcome = res.frames.set_index("traffic")["outcome"]
    assert outcome["before"] == "delivered"
    assert outcome["stale"] == "dropped"
    # acc1 forgot h1 when its cable came out, and has no other port to flood to.
    stale = res.frames.set_index("traffic").loc["stale"]
    assert (stale["drop_device"], stale["drop_reason"]) == ("acc1", "no-egress")
    assert outcome["moved"] == "delivered"
    assert outcome["relearned"] == "delivered"
    ev = res.mac_events
    moves = ev[(ev["event"] == "move") & (ev["device"] == "core")]
    assert moves[["mac", "port"]].values.tolist() == [["02:00:00:00:00:01", "2"]]
    # acc1 lost its entry for h1 when the link went down (802.1D flushes a downed port).
    flushed = ev[(ev["event"] == "age-out") & (ev["device"] == "acc1")]
    assert list(flushed["time"]) == [pytest.approx(1e-3)]


def test_changing_the_aging_time_applies_to_entries_already_learned():
    """At 3 ms the aging time drops from 300 s to 1 ms: h2, last seen at 1 ms, ages out at
    once; h1, seen at 2 ms, 1 ms after that. So the frame at 20 ms floods."""
    text = THREE_HOSTS.format(aging="300s", extra="").replace(
        "traffic:", "events:\n  - {at: 3ms, action: set-aging, device: sw1, aging: 1ms}\ntraffic:"
    )
    res = netsim.run(netsim.loads(text))
    ev = res.mac_events
    aged = ev[ev["event"] == "age-out"].set_index("mac")["time"]
    t_in = 72 * 8 / 100e6
    assert aged["02:00:00:00:00:02"] == pytest.approx(3e-3)
    assert aged["02:00:00:00:00:01"].iloc[0] == pytest.approx(2e-3 + t_in + 1e-3)
    assert len(floods_of(ev)) == 2


def test_a_switch_with_no_other_port_up_drops_what_it_would_flood():
    """The bridge's far side is down: a frame for an unknown address has nowhere to go."""
    text = MOVE.replace(
        'events:\n  - {at: 1ms, action: host-move, host: h1, to: "acc2:1"}',
        'events:\n  - {at: 1ms, action: link-down, link: ["core:1", "acc1:4"]}',
    )
    res = netsim.run(netsim.loads(text))
    frames = res.frames.set_index("traffic")
    assert frames.loc["moved", "drop_reason"] == "no-egress"
    assert frames.loc["moved", "drop_device"] == "acc1"
