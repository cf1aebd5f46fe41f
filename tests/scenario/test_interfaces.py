"""Per-interface configuration: a switch's ``interfaces:`` written as an engineer writes it.

A key names one interface or a range, like IOS's ``interface range Fa0/1 - 12``; the
value says what the port is: an access port in one VLAN, or a trunk with its allowed and
native VLANs. The scenario loader resolves every key onto the node's real ports, so a
range that runs past the last port is caught before anything runs.
"""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import netsim
from netsim.cli import main
from netsim.l2.vlan import PortMode, PortVlan
from netsim.scenario.interfaces import describe_ports, expand_range
from netsim.scenario.load import from_data

C2960 = [f"Fa0/{i}" for i in range(1, 25)] + ["Gi0/1", "Gi0/2"]

SCENARIO = """\
name: vlans
duration: 1ms
topology:
  nodes:
    sw1:
      kind: switch
      model: WS-C2960-24TT-L
      interfaces: {Gi0/1: {mode: trunk, allowed: [10, 20], native: 1}, Fa0/1-12: {vlan: 10}}
    sw2:
      kind: switch
      ports: 8
      interfaces:
        1-4, 7: {vlan: 20}
        8: {mode: trunk}
    srv: {kind: host, vlan: 20}
  links:
    - endpoints: ["sw1:Gi0/1", "sw2:5"]
    - endpoints: [srv, "sw2:8"]
"""


def test_the_issue_example_resolves_onto_the_ports():
    """``Fa0/1-12: {vlan: 10}`` makes twelve access ports; ``Gi0/1`` is a trunk whose native
    VLAN 1 is left out of its allowed list (Cisco carries no VLAN-1 data then)."""
    topo = netsim.loads(SCENARIO).topology
    sw1 = topo.nodes["sw1"]
    assert [name for name, _ in sw1.interfaces] == [f"Fa0/{i}" for i in range(1, 13)] + ["Gi0/1"]
    assert sw1.interface("Fa0/12").vlan == PortVlan.access(10)
    assert sw1.interface("Fa0/13").vlan == PortVlan()  # unconfigured: access VLAN 1
    trunk = sw1.interface("Gi0/1").vlan
    assert trunk.mode is PortMode.TRUNK and trunk.allowed == {10, 20} and trunk.native == 1
    sw2 = topo.nodes["sw2"]
    assert [n for n, spec in sw2.interfaces if spec.vlan == PortVlan.access(20)] == [
        "1",
        "2",
        "3",
        "4",
        "7",
    ]
    assert sw2.interface("8").vlan == PortVlan.trunk()  # allowed all, native 1
    assert topo.nodes["srv"].vlan == 20


def test_expand_shows_each_switch_as_resolved(tmp_path, capsys):
    """``netsim expand`` prints the scenario, then what each port became, as comments."""
    path = tmp_path / "v.yaml"
    path.write_text(SCENARIO)
    assert main(["expand", str(path)]) == 0
    out = capsys.readouterr().out
    tail = out[out.index("# Interfaces") :]
    assert tail.splitlines()[1:] == [
        "#   sw1: VLAN 1: Fa0/13-24, Gi0/2",
        "#   sw1: VLAN 10: Fa0/1-12",
        "#   sw1: Gi0/1: trunk, native 1, allowed 10,20",
        "#   sw2: VLAN 1: 5-6",
        "#   sw2: VLAN 20: 1-4, 7",
        "#   sw2: 8: trunk, native 1, allowed all",
        "#   srv: eth0 is the sub-interface eth0.20 (tagged)",
    ]
    # The output is still a scenario that loads to the same topology.
    again = tmp_path / "again.yaml"
    again.write_text(out)
    assert netsim.load(again).topology == netsim.load(path).topology


def test_a_port_number_key_can_be_overridden_with_set():
    """``--set topology.nodes.sw2.interfaces.8.mode=access`` reaches the key written ``8``."""
    loaded = netsim.loads(SCENARIO)
    changed = from_data(
        loaded.data, loaded.source, sets=["topology.nodes.sw2.interfaces.8.mode=access"]
    )
    assert changed.topology.nodes["sw2"].interface("8").vlan == PortVlan.access(1)


def test_a_port_configured_twice_is_refused():
    text = SCENARIO.replace("8: {mode: trunk}", "8: {mode: trunk}\n        3-5: {vlan: 30}")
    with pytest.raises(netsim.ScenarioError) as caught:
        netsim.loads(text)
    (problem,) = caught.value.problems
    assert problem.path == "topology.nodes.sw2.interfaces.3-5"
    assert problem.line == 15
    assert problem.message == "sw2:3 is already configured by '1-4, 7'"


def test_trunk_settings_on_an_access_port_say_what_is_missing():
    text = SCENARIO.replace("8: {mode: trunk}", "8: {allowed: [10]}")
    with pytest.raises(netsim.ScenarioError) as caught:
        netsim.loads(text)
    (problem,) = caught.value.problems
    assert problem.path == "topology.nodes.sw2.interfaces.8.allowed"
    assert "a trunk setting; add mode: trunk" in problem.message


def test_ranges_read_like_ios():
    assert expand_range("Fa0/1 - 3", C2960) == (["Fa0/1", "Fa0/2", "Fa0/3"], None)
    assert expand_range("Fa0/24,Gi0/1-2", C2960) == (["Fa0/24", "Gi0/1", "Gi0/2"], None)
    stack = [f"Gi{m}/0/{i}" for m in (1, 2) for i in range(1, 13)]
    assert expand_range("Gi2/0/11-12", stack) == (["Gi2/0/11", "Gi2/0/12"], None)
    names, problem = expand_range("Fa0/20-26", C2960)
    assert names == [] and problem is not None
    assert "there is no Fa0/25..Fa0/26 (its interfaces are Fa0/1-24, Gi0/1-2)" in problem
    assert expand_range("Gi0/1-", C2960)[1] == (
        "no interface 'Gi0/1-' (its interfaces are Fa0/1-24, Gi0/1-2)"
    )


@settings(derandomize=True, max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(C2960), min_size=1, max_size=26, unique=True))
def test_describing_ports_and_reading_the_description_back_is_the_identity(chosen):
    """``describe_ports`` writes a set of ports as IOS ranges; reading them back gives the
    same ports in port order."""
    ordered = [p for p in C2960 if p in chosen]
    assert expand_range(describe_ports(ordered), C2960) == (ordered, None)


def test_a_scenario_snippet_for_the_readme_validates():
    """The README's interface example is accepted as written."""
    snippet = textwrap.dedent(
        """\
        name: readme
        duration: 1ms
        topology:
          nodes:
            sw1:
              kind: switch
              model: WS-C2960-24TT-L
              interfaces:
                Fa0/1-12: {vlan: 10}
                Fa0/13-24: {vlan: 20}
                Gi0/1: {mode: trunk, allowed: [10, 20]}
        """
    )
    assert netsim.loads(snippet).topology.nodes["sw1"].interface("Fa0/20").vlan.access_vlan == 20
