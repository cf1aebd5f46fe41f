"""Hubs and coax buses carry a frame bit by bit, with delays from IEEE 802.3.

A frame's latency across a shared segment is its wire time (preamble included) plus the
signal's delay: the cables at their own speed, and each repeater hop. Nothing is stored,
so unlike a switch a hub adds only a few bit times, whatever the frame's size.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import netsim
from netsim.phy.media import MEDIA, repeater_delay

NS = 1e-9


def wire(size: int, rate: float = 10e6) -> float:
    return (size + 8) * 8 / rate


@pytest.mark.parametrize("hubs", [1, 2, 4])
@pytest.mark.parametrize("size", [64, 1518])
def test_latency_through_hubs_is_wire_time_plus_cables_plus_repeater_hops(hubs, size):
    names = ["a"] + [f"hub{i}" for i in range(hubs)] + ["b"]
    nodes = "\n".join(f"    hub{i}: {{kind: hub, ports: 2}}" for i in range(hubs))
    links = "\n".join(f"    - {{endpoints: [{x}, {y}]}}" for x, y in itertools.pairwise(names))
    res = netsim.run(
        netsim.loads(
            f"""
name: hubs
duration: 1ms
topology:
  defaults: {{link: {{media: 10BASE-T, length: 80m}}}}
  nodes:
    a: {{kind: host}}
    b: {{kind: host}}
{nodes}
  links:
{links}
traffic:
  - {{kind: frames, from: a, to: b, size: {size}, count: 1}}
"""
        )
    )
    t = MEDIA["10BASE-T"]
    expected = wire(size) + (hubs + 1) * 80 * t.ns_per_m * NS + hubs * repeater_delay(10e6, t, t)
    (latency,) = res.frames["latency"]
    assert latency == pytest.approx(expected, abs=1 * NS)
    assert list(res.frames["hops"]) == [hubs + 1]


def test_a_hub_can_set_its_own_repeater_delay():
    """A scenario's ``delay`` on a hub replaces the 802.3 figure: 1 us here."""
    text = """
name: slow-hub
duration: 1ms
topology:
  defaults: {link: {speed: 10M, delay: 0s}}
  nodes:
    a: {kind: host}
    b: {kind: host}
    hub1: {kind: hub, ports: 2, delay: 1us}
  links:
    - endpoints: [a, hub1]
    - endpoints: [hub1, b]
traffic:
  - {kind: frames, from: a, to: b, size: 64, count: 1}
"""
    (latency,) = netsim.run(netsim.loads(text)).frames["latency"]
    assert latency == pytest.approx(wire(64) + 1e-6, abs=1 * NS)


COAX = """
name: thick
duration: 1ms
topology:
  nodes:
    trunk: {kind: coax, media: 10BASE5, length: 500m}
    west: {kind: host}
    middle: {kind: host}
    east: {kind: host}
  links:
    - {endpoints: [west, trunk], at: 0m}
    - {endpoints: [middle, trunk], at: 250m, length: 20m}
    - {endpoints: [east, trunk], at: 500m}
traffic:
  - {kind: frames, name: across, from: west, to: east, size: 64, count: 1}
  - {kind: frames, name: drop, from: west, to: middle, size: 64, count: 1, start: 500us}
"""


def test_stations_on_a_coax_bus_are_as_far_apart_as_their_taps():
    """West to east: 500 m of thick coax at 4.33 ns/m. West to middle: 250 m of coax
    and middle's 20 m AUI drop cable at 5.13 ns/m. Either way it is one segment."""
    res = netsim.run(netsim.loads(COAX))
    frames = res.frames.set_index("traffic")
    assert frames.loc["across", "latency"] == pytest.approx(wire(64) + 500 * 4.33 * NS, abs=NS)
    assert frames.loc["drop", "latency"] == pytest.approx(
        wire(64) + (250 * 4.33 + 20 * 5.13) * NS, abs=NS
    )
    assert list(frames["hops"]) == [1, 1]
    ports = res.ports.set_index(["device", "port"])
    assert ports.loc[("trunk", "tap2"), "peer"] == "middle:eth0"
    assert (ports.loc[[("west", "eth0"), ("east", "eth0")], "duplex"] == "half").all()


def test_stations_at_the_ends_of_a_coax_bus_collide():
    """West and east start together: each hears the other 2.165 us later, collides,
    backs off, and both frames get through in the end."""
    text = COAX.replace("name: drop, from: west, to: middle", "name: back, from: east, to: west")
    text = text.replace("start: 500us", "start: 0s")
    res = netsim.run(netsim.loads(text))
    assert (res.frames["outcome"] == "delivered").all()
    assert res.ports.set_index(["device", "port"]).loc[("west", "eth0"), "collisions"] >= 1


@settings(derandomize=True, max_examples=15, deadline=None)
@given(west=st.integers(0, 200), east=st.integers(0, 200))
def test_any_two_taps_are_their_distance_apart(west: int, east: int):
    """Taps anywhere along 500 m of thick coax (2.5 m marks): the frame takes its wire time
    plus 4.33 ns for every metre between the two taps."""
    if west == east:
        east = (east + 1) % 201
    text = COAX.replace("at: 0m", f"at: {west * 2.5}m").replace("at: 500m", f"at: {east * 2.5}m")
    frames = netsim.run(netsim.loads(text)).frames.set_index("traffic")
    distance = abs(west - east) * 2.5
    assert frames.loc["across", "latency"] == pytest.approx(
        wire(64) + distance * 4.33 * NS, abs=NS / 10
    )
