"""StackWise and forwarding-rate limits.

A 3750 stack is one logical switch (one MAC table, interfaces Gi<member>/0/<port>) whose
members are joined by two counter-rotating 16 Gb/s rings. A frame between two members
travels the shorter way round and is stored and forwarded by each member it crosses:
hops * W*8/16e9 more than a frame that stays on one member. And a switch's forwarding
engine handles one frame every 1/forwarding_rate seconds.
"""

from __future__ import annotations

import pytest

import netsim

STACK = """
name: stack
duration: 10ms
topology:
  defaults: {link: {delay: 0s}}
  nodes:
    core: {kind: switch, model: WS-C3750G-12S, members: 4, forwarding_rate: 1000Mpps}
    a: {kind: host}
    b: {kind: host}
    c: {kind: host}
    d: {kind: host}
  links:
    - endpoints: [a, "core:Gi1/0/1"]
    - endpoints: [b, "core:Gi1/0/2"]
    - endpoints: [c, "core:Gi2/0/1"]
    - endpoints: [d, "core:Gi3/0/1"]
traffic:
  - {kind: frames, name: hb, from: b, to: broadcast, count: 1}
  - {kind: frames, name: hc, from: c, to: broadcast, count: 1, start: 10us}
  - {kind: frames, name: hd, from: d, to: broadcast, count: 1, start: 20us}
  - {kind: frames, name: same-member, from: a, to: b, size: 1518, count: 1, start: 1ms}
  - {kind: frames, name: next-member, from: a, to: c, size: 1518, count: 1, start: 2ms}
  - {kind: frames, name: two-away, from: a, to: d, size: 1518, count: 1, start: 3ms}
"""


def test_crossing_stack_members_costs_the_ring_arithmetic():
    latency = netsim.run(netsim.loads(STACK)).frames.set_index("traffic")["latency"]
    w = 1518 + 8
    ring_hop = w * 8 / 16e9
    # Member 1 -> 2 is one hop; 1 -> 3 in a ring of four is two hops either way round.
    assert latency["next-member"] - latency["same-member"] == pytest.approx(ring_hop, abs=1e-12)
    assert latency["two-away"] - latency["same-member"] == pytest.approx(2 * ring_hop, abs=1e-12)


def test_one_stack_learns_in_one_table():
    res = netsim.run(netsim.loads(STACK))
    learned = res.mac_events[res.mac_events["event"] == "learn"]
    assert set(learned["device"]) == {"core"}
    assert set(learned["port"]) == {"Gi1/0/1", "Gi1/0/2", "Gi2/0/1", "Gi3/0/1"}


def test_a_forwarding_engine_handles_one_frame_per_1_over_rate():
    """Four frames arrive together on four ports of a switch that forwards 10,000 frames
    a second: the engine takes them one by one, 100 us apart."""
    text = """
name: engine
duration: 10ms
topology:
  defaults: {link: {speed: 1G, delay: 0s}}
  nodes:
    sw: {kind: switch, ports: 5, forwarding_rate: 10kpps}
    s1: {kind: host}
    s2: {kind: host}
    s3: {kind: host}
    s4: {kind: host}
    sink: {kind: host}
  links:
    - endpoints: [s1, sw]
    - endpoints: [s2, sw]
    - endpoints: [s3, sw]
    - endpoints: [s4, sw]
    - endpoints: [sink, sw]
traffic:
  - {kind: frames, name: hello, from: sink, to: broadcast, count: 1}
  - {kind: frames, name: s1, from: s1, to: sink, size: 64, count: 1, start: 1ms}
  - {kind: frames, name: s2, from: s2, to: sink, size: 64, count: 1, start: 1ms}
  - {kind: frames, name: s3, from: s3, to: sink, size: 64, count: 1, start: 1ms}
  - {kind: frames, name: s4, from: s4, to: sink, size: 64, count: 1, start: 1ms}
"""
    frames = netsim.run(netsim.loads(text)).frames.set_index("traffic")
    wire = 72 * 8 / 1e9
    for k, name in enumerate(["s1", "s2", "s3", "s4"]):
        expected = wire + (k + 1) * 100e-6 + wire
        assert frames.loc[name, "latency"] == pytest.approx(expected, abs=1e-9)
