"""Layer-3 mistakes in a scenario: one clear message each, with the file, YAML path and line.

A router with two interfaces on overlapping subnets, a host whose gateway is not on its
own subnet, a static route whose next hop no interface can reach, an SVI for a VLAN the
switch does not have, routing asked of a layer-2 switch: each is reported where it was
written, and nothing is simulated.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import netsim

BASE = """\
name: routed
duration: 1ms
topology:
  nodes:
    h1: {kind: host, ip: 10.0.10.11/24, gateway: 10.0.10.1}
    core:
      kind: switch
      model: WS-C3750G-12S
      interfaces:
        Gi1/0/1-6: {vlan: 10}
        Gi1/0/12: {switchport: false, ip: 10.0.99.1/30}
        Vlan10: {ip: 10.0.10.1/24}
      routes:
        - {to: 10.0.50.0/24, via: 10.0.99.2}
    r1:
      kind: router
      interfaces:
        Gi0/0: {ip: 10.0.99.2/30}
        Gi0/1: {ip: 10.0.50.1/24}
      routes:
        - {to: default, via: 10.0.99.1}
    acc:
      kind: switch
      model: WS-C2960-24TT-L
  links:
    - endpoints: [h1, "core:Gi1/0/1"]
    - endpoints: ["core:Gi1/0/12", "r1:Gi0/0"]
"""

CASES = [
    (
        "overlapping subnets on one router",
        ("Gi0/1: {ip: 10.0.50.1/24}", "Gi0/1: {ip: 10.0.99.5/29}"),
        "topology.nodes.r1.interfaces.Gi0/1.ip",
        19,
        "r1: Gi0/1's subnet 10.0.99.0/29 overlaps Gi0/0's 10.0.99.0/30",
    ),
    (
        "an SVI overlapping a routed port",
        ("Vlan10: {ip: 10.0.10.1/24}", "Vlan10: {ip: 10.0.99.9/24}"),
        "topology.nodes.core.interfaces.Gi1/0/12.ip",
        11,
        "overlaps Vlan10's 10.0.99.0/24",
    ),
    (
        "a gateway outside the host's subnet",
        ("gateway: 10.0.10.1}", "gateway: 10.0.20.1}"),
        "topology.nodes.h1.gateway",
        5,
        "h1's gateway 10.0.20.1 is outside its subnet 10.0.10.0/24",
    ),
    (
        "a static route to an unknown next hop",
        ("via: 10.0.99.2}", "via: 10.0.77.2}"),
        "topology.nodes.core.routes[0].via",
        14,
        "core: next hop 10.0.77.2 is on none of its subnets",
    ),
    (
        "an SVI for a VLAN that does not exist",
        ("Vlan10: {ip: 10.0.10.1/24}", "Vlan30: {ip: 10.0.30.1/24}"),
        "topology.nodes.core.interfaces.Vlan30",
        12,
        "core has no VLAN 30 (its VLANs are 1, 10)",
    ),
    (
        "a routed port without an address",
        ("{switchport: false, ip: 10.0.99.1/30}", "{switchport: false}"),
        "topology.nodes.core.interfaces.Gi1/0/12.switchport",
        11,
        "core:Gi1/0/12 is a routed port: give it an ip",
    ),
    (
        "an address on a switch port",
        ("{switchport: false, ip: 10.0.99.1/30}", "{ip: 10.0.99.1/30}"),
        "topology.nodes.core.interfaces.Gi1/0/12.ip",
        11,
        "needs switchport: false",
    ),
    (
        "a second SVI on a layer-2 switch",
        (
            "model: WS-C2960-24TT-L\n",
            "model: WS-C2960-24TT-L\n      interfaces: {Fa0/1: {vlan: 20}, "
            "Vlan1: {ip: 10.0.1.2/24}, Vlan20: {ip: 10.0.2.2/24}}\n",
        ),
        "topology.nodes.acc.interfaces.Vlan20",
        25,
        "a WS-C2960-24TT-L is a layer-2 switch: one management SVI only",
    ),
    (
        "a bad prefix in a route",
        ("{to: default, via: 10.0.99.1}", "{to: 10.0.0.0/33, via: 10.0.99.1}"),
        "topology.nodes.r1.routes[0].to",
        21,
        "not an IPv4 prefix: '10.0.0.0/33'",
    ),
    (
        "an SVI with a port setting",
        ("Vlan10: {ip: 10.0.10.1/24}", "Vlan10: {ip: 10.0.10.1/24, mode: trunk}"),
        "topology.nodes.core.interfaces.Vlan10.mode",
        12,
        "an SVI has an address only; 'mode' is a port setting",
    ),
]


@pytest.mark.parametrize(
    ("what", "change", "yaml_path", "line", "words"), CASES, ids=[c[0] for c in CASES]
)
def test_a_layer3_mistake_names_file_path_line_and_expectation(
    tmp_path: Path, what, change, yaml_path, line, words
):
    old, new = change
    assert old in BASE, old
    path = tmp_path / "bad.yaml"
    path.write_text(BASE.replace(old, new, 1))
    with pytest.raises(netsim.ScenarioError) as caught:
        netsim.load(path)
    messages = [str(p) for p in caught.value.problems]
    location = f"{path}:{line}: {yaml_path}: "
    assert any(m.startswith(location) and words in m for m in messages), messages
    assert len(messages) == 1, messages


def test_the_base_scenario_is_valid(tmp_path: Path):
    path = tmp_path / "good.yaml"
    path.write_text(BASE)
    netsim.load(path)


def test_a_loop_through_a_router_is_no_layer2_loop(tmp_path: Path):
    """Two routed links between the same two devices close no broadcast loop: a router
    forwards no broadcasts, so the loop check looks at its ports one by one."""
    text = BASE.replace(
        "        Gi0/1: {ip: 10.0.50.1/24}",
        "        Gi0/1: {ip: 10.0.50.1/24}\n        Gi0/2: {ip: 10.0.98.2/30}",
    )
    text = text.replace(
        "        Gi1/0/12: {switchport: false, ip: 10.0.99.1/30}",
        "        Gi1/0/12: {switchport: false, ip: 10.0.99.1/30}\n"
        "        Gi1/0/11: {switchport: false, ip: 10.0.98.1/30}",
    )
    text += '    - endpoints: ["core:Gi1/0/11", "r1:Gi0/2"]\n'
    path = tmp_path / "two.yaml"
    path.write_text(text)
    netsim.load(path)
