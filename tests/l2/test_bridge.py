"""A bridge splits a shared LAN into two collision domains.

Two hubs joined by a learning bridge: once the bridge has learned who lives on which
side, traffic between two stations of one hub stays on that hub (the bridge *filters*
it), so each side carries its own load, and a collision on one side never reaches the
other, because the bridge stores and forwards whole frames only.
"""

from __future__ import annotations

import netsim

SCENARIO = """
name: bridged
duration: 50ms
topology:
  defaults: {link: {media: 10BASE-T, length: 10m}}
  nodes:
    hubA: {kind: hub, ports: 4}
    hubB: {kind: hub, ports: 4}
    br: {kind: bridge}
    a1: {kind: host}
    a2: {kind: host}
    b1: {kind: host}
    b2: {kind: host}
  links:
    - endpoints: [a1, hubA]
    - endpoints: [a2, hubA]
    - endpoints: [b1, hubB]
    - endpoints: [b2, hubB]
    - endpoints: ["br:1", hubA]
    - endpoints: ["br:2", hubB]
traffic:
  # Everyone introduces themselves first, so the bridge learns both sides.
  - {kind: frames, name: hello-a1, from: a1, to: broadcast, count: 1, start: 0s}
  - {kind: frames, name: hello-a2, from: a2, to: broadcast, count: 1, start: 1ms}
  - {kind: frames, name: hello-b1, from: b1, to: broadcast, count: 1, start: 2ms}
  - {kind: frames, name: hello-b2, from: b2, to: broadcast, count: 1, start: 3ms}
  - {kind: frames, name: local-a, from: a1, to: a2, size: 1518, rate: 40%, start: 5ms}
  - {kind: frames, name: local-b, from: b1, to: b2, size: 1518, rate: 40%, start: 5ms}
  - {kind: frames, name: across, from: a2, to: b1, size: 64, count: 10, interval: 2ms,
     start: 5ms}
"""


def test_a_bridge_filters_local_traffic_and_forwards_the_rest():
    res = netsim.run(netsim.loads(SCENARIO))
    frames = res.frames
    assert frames["outcome"].eq("delivered").all()
    hellos = frames[frames["traffic"].str.startswith("hello")]
    assert (hellos["receivers"] == 3).all()  # broadcasts cross the bridge
    bridge = res.ports[res.ports["device"] == "br"].set_index("port")
    # Out of side B the bridge sent only the hellos from A and the frames going across.
    assert bridge.loc["2", "tx_frames"] == 2 + 10
    assert bridge.loc["1", "tx_frames"] == 2


def test_collisions_stay_on_their_own_side():
    """Two stations of hub A send at once and collide; the bridge port on A sees the
    fragments, hub B and its stations never do."""
    text = SCENARIO.replace(
        "  - {kind: frames, name: local-b",
        "  - {kind: frames, name: clash, from: a2, to: a1, size: 1518, rate: 40%, start: 5ms}\n"
        "  - {kind: frames, name: local-b",
    )
    res = netsim.run(netsim.loads(text))
    ports = res.ports.set_index(["device", "port"])
    assert ports.loc[("a1", "eth0"), "collisions"] > 0
    assert ports.loc[("br", "1"), "runts"] > 0
    assert ports.loc[("br", "2"), "runts"] == 0
    assert ports.loc[("b1", "eth0"), "collisions"] == 0
    assert ports.loc[("b2", "eth0"), "runts"] == 0


def test_half_duplex_cable_collides_when_both_ends_talk():
    """A half-duplex cable is a collision domain of two: both ends sending at once
    collide and back off; with full duplex they never do."""
    text = """
name: hdx
duration: 20ms
topology:
  nodes:
    h1: {kind: host}
    sw: {kind: switch, ports: 2}
    h2: {kind: host}
  links:
    - {endpoints: [h1, sw], speed: 100M, duplex: DUPLEX}
    - {endpoints: [sw, h2], speed: 100M}
traffic:
  - {kind: frames, name: up, from: h1, to: h2, size: 512, rate: 60%, pattern: poisson}
  - {kind: frames, name: down, from: h2, to: h1, size: 512, rate: 60%, pattern: poisson}
"""
    half = netsim.run(netsim.loads(text.replace("DUPLEX", "half")))
    full = netsim.run(netsim.loads(text.replace("DUPLEX", "full")))
    half_ports = half.ports.set_index(["device", "port"])
    assert half_ports.loc[("h1", "eth0"), "collisions"] > 0
    assert half_ports.loc[("sw", "1"), "collisions"] > 0
    assert half_ports.loc[("h1", "eth0"), "duplex"] == "half"
    assert full.ports["collisions"].sum() == 0
    assert half.frames["outcome"].eq("delivered").mean() > 0.95
