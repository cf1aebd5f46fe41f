"""``show spanning-tree`` reads a switch's trees from stp.csv, at any simulated time.

On the triangle A-B-C (A root by its lower MAC), C's port 2 to A costs 3 (configured),
cheaper than B's gigabit 4, so C wins the B-C link: C:1 is designated and B:2 is the
blocked alternate. Ten seconds in, the other ports are still listening (802.1D waits a
forward delay, 15 s, before learning).
"""

from __future__ import annotations

import pytest

import netsim
from netsim.show import ShowError

TRIANGLE = """
name: triangle
duration: 40s
topology:
  defaults:
    switch: {spanning_tree: {mode: pvst}}
  nodes:
    A: {kind: switch, ports: 4}
    B: {kind: switch, ports: 4}
    C: {kind: switch, ports: 4, interfaces: {2: {spanning_tree: {cost: 3, port_priority: 64}}}}
  links:
    - endpoints: ["A:1", "B:1"]
    - endpoints: ["B:2", "C:1"]
    - endpoints: ["C:2", "A:2"]
"""


@pytest.fixture(scope="module")
def results() -> netsim.Results:
    return netsim.run(netsim.loads(TRIANGLE))


def test_the_root_says_so(results):
    text = results.show("A", "show spanning-tree")
    assert text.startswith("VLAN0001\n  Spanning tree enabled protocol ieee\n")
    assert "This bridge is the root" in text
    assert "Priority    32769  (priority 32768 sys-id-ext 1)" in text


def test_a_non_root_names_its_root_port_cost_and_blocked_port(results):
    text = results.show("C", "sh span vlan 1")
    assert "Cost        3\n             Port        2 (2)" in text
    lines = {line.split()[0]: line.split()[1:] for line in text.splitlines()[-2:]}
    assert lines["1"] == ["Desg", "FWD", "4", "128.1", "P2p"]
    assert lines["2"] == ["Root", "FWD", "3", "64.2", "P2p"]
    b = results.show("B", "show spanning-tree").splitlines()[-1].split()
    assert b == ["2", "Altn", "BLK", "4", "128.2", "P2p"]


def test_at_an_earlier_time_ports_are_still_listening(results):
    summary = results.show("B", "show spanning-tree summary", at=10.0)
    assert "Switch is in pvst mode" in summary
    assert "VLAN0001                      1         1        0          0          2" in summary


def test_asking_for_a_vlan_without_a_tree_is_one_clear_error(results):
    with pytest.raises(ShowError, match="VLAN 20 does not exist"):
        results.show("C", "show spanning-tree vlan 20")
