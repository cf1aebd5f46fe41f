"""What each switching mode does with damaged frames.

- A bit error makes the FCS fail. Store-and-forward checks the FCS, so a corrupted frame
  stops at the first store-and-forward switch; cut-through and fragment-free switches have
  already started sending it, so it crosses them and is dropped by the next
  store-and-forward switch or by the receiving host's NIC.
- A collision leaves a fragment shorter than 64 bytes (a runt). Store-and-forward and
  fragment-free switches drop it; a cut-through switch forwards it if it holds a header.
"""

from __future__ import annotations

import pytest

import netsim


@pytest.mark.parametrize(
    ("modes", "dropped_at"),
    [
        (["store-and-forward", "store-and-forward"], "sw1"),
        (["cut-through", "store-and-forward"], "sw2"),
        (["fragment-free", "store-and-forward"], "sw2"),
        (["cut-through", "cut-through"], "h2"),
        (["fragment-free", "cut-through"], "h2"),
    ],
)
def test_corrupted_frames_stop_at_the_first_store_and_forward_device(chain, modes, dropped_at):
    scenario = chain(
        modes,
        ["1G"] * 3,
        size=1000,
        count=20,
        interval="20us",
        learn_first=False,
        bers=[1.0, 0.0, 0.0],
    )
    res = netsim.run(scenario)
    probe = res.frames[res.frames["traffic"] == "probe"]
    assert (probe["outcome"] == "dropped").all()
    assert set(probe["drop_device"]) == {dropped_at}
    assert set(probe["drop_reason"]) == {"fcs-error"}
    ports = res.ports.set_index("device")
    fcs = ports.groupby(level=0)["fcs_errors"].sum()
    assert fcs[dropped_at] == 20
    assert fcs.drop(dropped_at).sum() == 0


RUNTS = """
name: runts
duration: 20ms
topology:
  nodes:
    h1: {{kind: host}}
    h3: {{kind: host}}
    hub1: {{kind: hub, ports: 4}}
    sw1: {{kind: switch, ports: 4, mode: {mode}}}
    sw2: {{kind: switch, ports: 4}}
    h2: {{kind: host}}
  links:
    # 2 km fibre to the hub: h1 and h3 start together and hear each other only 20 us
    # later, so the fragments that reach sw1 carry a whole header.
    - {{endpoints: [h1, hub1], media: 10BASE-FL, length: 2km}}
    - {{endpoints: [h3, hub1], media: 10BASE-FL, length: 2km}}
    - {{endpoints: [hub1, sw1], media: 10BASE-FL, length: 2km}}
    - {{endpoints: [sw1, sw2], media: 10BASE-T, length: 10m}}
    - {{endpoints: [sw2, h2], media: 10BASE-T, length: 10m}}
traffic:
  - {{kind: frames, name: a, from: h1, to: h2, size: 512, count: 1}}
  - {{kind: frames, name: b, from: h3, to: h2, size: 512, count: 1}}
"""


def runts_by_device(mode: str) -> tuple[netsim.Results, dict[str, int]]:
    res = netsim.run(netsim.loads(RUNTS.format(mode=mode)))
    runts = res.ports.groupby("device")["runts"].sum().to_dict()
    return res, runts


@pytest.mark.parametrize("mode", ["store-and-forward", "fragment-free"])
def test_runts_stop_at_store_and_forward_and_fragment_free_switches(mode):
    res, runts = runts_by_device(mode)
    assert runts["sw1"] >= 1
    assert runts["sw2"] == 0 and runts["h2"] == 0
    # The senders back off and try again: both frames arrive in the end.
    assert res.frames["outcome"].eq("delivered").all()
    assert res.ports.set_index("device").loc["h1", "collisions"] >= 1


def test_cut_through_forwards_collision_fragments():
    res, runts = runts_by_device("cut-through")
    assert runts["sw1"] == 0
    assert runts["sw2"] >= 1  # the next store-and-forward switch stops them
    assert res.frames["outcome"].eq("delivered").all()
