"""Devices that fail: a failed device drops everything, its cables go dark, and it comes back.

A switch that fails takes its links down with it: its neighbours see link-down (and
forget what they learned on those ports), a frame already on its way to it is dropped
there (``device-down``), and a frame that would have to cross it finds no way out
(``no-egress``, ``link-down``). A StackWise stack is several switches joined by a ring:
one member failing takes only its own ports down, and the ring carries frames between the
others the other way round.
"""

from __future__ import annotations

import pytest

import netsim
from netsim.scenario.errors import ScenarioError
from netsim.topology.catalog import STACKWISE_RING_BPS

LINE = """
name: line
duration: 10ms
topology:
  defaults: {{link: {{speed: 1G, delay: {delay}}}}}
  nodes:
    h1: {{kind: host}}
    sw1: {{kind: switch}}
    sw2: {{kind: switch}}
    h2: {{kind: host}}
  links:
    - endpoints: [h1, sw1]
    - endpoints: [sw1, sw2]
    - endpoints: [sw2, h2]
traffic:
  - {{kind: frames, from: h1, to: h2, count: 10, interval: 1ms, size: 1000}}
events:
{events}
"""


def line(events: str, delay: str = "50ns") -> netsim.LoadedScenario:
    return netsim.loads(LINE.format(events=events, delay=delay))


def outcomes(results: netsim.Results) -> list[tuple[str, str, str]]:
    f = results.frames
    columns = (f["outcome"], f["drop_device"].fillna(""), f["drop_reason"].fillna(""))
    return list(zip(*columns, strict=True))


def test_a_failed_switch_takes_its_links_down_until_it_comes_back():
    """Frames 4-6 (sent at 3, 4, 5 ms) find sw2 down: sw1 has nowhere to send them."""
    res = netsim.run(
        line(
            "  - {at: 2.5ms, action: device-down, device: sw2}\n"
            "  - {at: 5.5ms, action: device-up, device: sw2}"
        )
    )
    got = outcomes(res)
    assert got[:3] == [("delivered", "", "")] * 3
    assert got[3:6] == [("dropped", "sw1", "no-egress")] * 3
    assert got[6:] == [("delivered", "", "")] * 4


def test_a_frame_on_its_way_to_a_switch_that_fails_is_dropped_there():
    """With 1 ms on every cable, the frame sent at 0 leaves sw1 just after 1 ms and reaches
    sw2 just after 2 ms: sw2 failing at 1.5 ms, as the frame is on the wire, drops it."""
    res = netsim.run(line("  - {at: 1.5ms, action: device-down, device: sw2}", delay="1ms"))
    assert outcomes(res)[0] == ("dropped", "sw2", "device-down")


def test_a_failed_host_sends_nothing():
    """Every frame a failed host's applications hand it is dropped at the host."""
    res = netsim.run(line("  - {at: 0.5ms, action: device-down, device: h1}"))
    assert set(outcomes(res)[1:]) == {("dropped", "h1", "device-down")}


def test_a_switch_coming_back_does_not_mend_a_cut_cable():
    """The cable between the switches was cut before sw2 failed: sw2's repair leaves it cut."""
    res = netsim.run(
        line(
            "  - {at: 0.5ms, action: link-down, link: [sw1, sw2]}\n"
            "  - {at: 1.5ms, action: device-down, device: sw2}\n"
            "  - {at: 2.5ms, action: device-up, device: sw2}"
        )
    )
    assert set(outcomes(res)[1:]) == {("dropped", "sw1", "no-egress")}


def test_the_neighbours_of_a_failed_switch_forget_what_they_learned_through_it():
    """h2 answers h1 once, so sw1 learns h2 behind its port to sw2. sw2's failure darkens
    that port, and 802.1D says a port that goes down loses its addresses: the entry ages
    out at the instant of the failure."""
    text = LINE.format(events="  - {at: 2.5ms, action: device-down, device: sw2}", delay="50ns")
    answer = "traffic:\n  - {kind: frames, from: h2, to: h1, count: 1}"
    scenario = netsim.loads(text.replace("traffic:", answer))
    events = netsim.run(scenario).mac_events
    gone = events[(events["device"] == "sw1") & (events["event"] == "age-out")]
    assert list(gone["time"]) == [0.0025]


HUB = """
name: hub
duration: 5ms
topology:
  defaults: {link: {speed: 10M, duplex: half}}
  nodes:
    h1: {kind: host}
    h2: {kind: host}
    hub1: {kind: hub, ports: 4}
  links:
    - endpoints: [h1, hub1]
    - endpoints: [h2, hub1]
traffic:
  - {kind: frames, from: h1, to: h2, count: 4, interval: 1ms}
events:
  - {at: 1.5ms, action: device-down, device: hub1}
  - {at: 3.5ms, action: device-up, device: hub1}
"""


def test_a_failed_hub_silences_its_segment():
    """A hub has no logic to stop, but its cables go dark: h1 cannot send at 2 and 3 ms."""
    got = outcomes(netsim.run(netsim.loads(HUB)))
    assert got == [("delivered", "", "")] * 2 + [("dropped", "h1", "link-down")] * 2


STACK = """
name: stack
duration: 1ms
topology:
  nodes:
    h1: {kind: host}
    h2: {kind: host}
    h3: {kind: host}
    stack: {kind: switch, model: WS-C3750G-12S, members: 5}
  links:
    - endpoints: [h1, "stack:Gi1/0/1"]
    - endpoints: [h2, "stack:Gi3/0/1"]
    - endpoints: [h3, "stack:Gi2/0/1"]
traffic:
  - {kind: frames, from: h1, to: h2, count: 1, size: 1000, start: 500us}
  - {kind: frames, from: h1, to: h3, count: 1, size: 1000, start: 600us}
"""


def test_a_stack_member_failure_leaves_the_ring_up():
    """Five members in a ring: member 1 reaches member 3 through member 2 (2 ring hops).
    With member 2 down, the frame goes the other way, through 5 and 4: one hop more, one
    more 1008-byte wire time on the 16 Gb/s ring. Member 2's own host is cut off."""
    before = netsim.run(netsim.loads(STACK)).frames
    member_2_fails = "events:\n  - {at: 0s, action: device-down, device: stack, member: 2}\n"
    after = netsim.run(netsim.loads(STACK + member_2_fails)).frames
    assert list(before["outcome"]) == ["delivered", "delivered"]
    assert after["outcome"].iloc[0] == "delivered"
    extra_hop = (1000 + 8) * 8 / STACKWISE_RING_BPS
    assert after["latency"].iloc[0] - before["latency"].iloc[0] == pytest.approx(extra_hop)
    assert after["outcome"].iloc[1] == "dropped"  # h3 hangs off the failed member


def test_two_failed_members_can_split_the_ring():
    """Members 2 and 4 down: 1 and 3 have no way round the ring left."""
    events = (
        "events:\n"
        "  - {at: 0s, action: device-down, device: stack, member: 2}\n"
        "  - {at: 0s, action: device-down, device: stack, member: 4}\n"
    )
    frames = netsim.run(netsim.loads(STACK + events)).frames
    assert (frames["outcome"].iloc[0], frames["drop_reason"].iloc[0]) == (
        "dropped",
        "stack-split",
    )


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ("{at: 1ms, action: device-down, device: sw9}", "unknown device 'sw9'"),
        ("{at: 1ms, action: device-down, device: sw1, member: 2}", "sw1 is not a stack"),
        ("{at: 1ms, action: device-up, device: sw1, member: 0}", "greater than or equal to 1"),
    ],
)
def test_a_bad_failure_event_is_one_clear_message(event, message):
    with pytest.raises(ScenarioError) as caught:
        line(f"  - {event}")
    text = str(caught.value)
    assert message in text
    assert "events[0]" in text
