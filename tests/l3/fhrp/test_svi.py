"""HSRP and VRRP on a layer-3 switch's SVIs, and a DHCP server on the switch.

Two WS-C3750G-12S share the floor VLAN's gateway (``interface Vlan10`` with ``vrrp``).
The PC gets its address from switch A's pool; when A fails, B's SVI takes over the
virtual MAC within VRRP's master down interval, and the ping resumes.
"""

from __future__ import annotations

import pytest

import netsim

SCENARIO = """\
name: svi-vrrp
duration: 40s
topology:
  nodes:
    pc1: {kind: host, ip: dhcp}
    mail: {kind: host, ip: 10.1.20.25/24, gateway: 10.1.20.1}
    lan: {kind: switch, ports: 8}
    A:
      kind: switch
      model: WS-C3750G-12S
      interfaces:
        Gi1/0/1: {vlan: 10}
        Gi1/0/2: {switchport: false, ip: 10.0.1.1/30}
        Vlan10: {ip: 10.1.10.2/24, vrrp: {group: 10, ip: 10.1.10.1, priority: 110}}
      routes: [{to: default, via: 10.0.1.2}]
      dhcp:
        - {name: floor, network: 10.1.10.0/24, gateway: 10.1.10.1, range: [10.1.10.10, 10.1.10.99]}
    B:
      kind: switch
      model: WS-C3750G-12S
      interfaces:
        Gi1/0/1: {vlan: 10}
        Gi1/0/2: {switchport: false, ip: 10.0.2.1/30}
        Vlan10: {ip: 10.1.10.3/24, vrrp: {group: 10, ip: 10.1.10.1}}
      routes: [{to: default, via: 10.0.2.2}]
    R:
      kind: router
      interfaces:
        Gi0/0: {ip: 10.0.1.2/30}
        Gi0/1: {ip: 10.0.2.2/30}
        Gi0/2: {ip: 10.1.20.1/24}
      routes: [{to: 10.1.10.0/24, via: 10.0.2.1}]   # return traffic through B
  links:
    - endpoints: [pc1, lan]
    - endpoints: ["A:Gi1/0/1", lan]
    - endpoints: ["B:Gi1/0/1", lan]
    - endpoints: ["A:Gi1/0/2", "R:Gi0/0"]
    - endpoints: ["B:Gi1/0/2", "R:Gi0/1"]
    - endpoints: ["R:Gi0/2", mail]
traffic:
  - {kind: ping, from: pc1, to: mail, count: 150, interval: 100ms, start: 20s}
events:
  - {at: 25.05s, action: device-down, device: A}
"""
FAILURE = 25.05
MASTER_DOWN = 3 + 156 / 256


def test_an_svi_pair_fails_over_within_the_master_down_interval() -> None:
    res = netsim.run(netsim.loads(SCENARIO))
    dhcp = res.extra["dhcp"].set_index("host")
    assert dhcp.loc["pc1", "address"] == "10.1.10.10/24"
    assert dhcp.loc["pc1", "gateway"] == "10.1.10.1"
    fhrp = res.extra["fhrp"]
    taken = fhrp[(fhrp["device"] == "B") & (fhrp["new"] == "master")]["time"].min()
    assert MASTER_DOWN - 1 <= taken - FAILURE <= MASTER_DOWN
    ping = res.ping
    assert (ping[ping["t_sent"] < FAILURE]["outcome"] == "reply").all()
    resumed = ping[(ping["t_sent"] > FAILURE) & (ping["outcome"] == "reply")]["t_received"].min()
    assert 0 <= resumed - taken <= 0.1 + float(ping["rtt"].max())


@pytest.mark.parametrize(
    ("old", "new", "path", "words"),
    [
        (
            "Gi1/0/1: {vlan: 10}\n        Gi1/0/2: {switchport: false, ip: 10.0.1.1/30}",
            "Gi1/0/1: {vlan: 10, vrrp: {group: 10, ip: 10.1.10.1}}\n"
            "        Gi1/0/2: {switchport: false, ip: 10.0.1.1/30}",
            "topology.nodes.A.interfaces.Gi1/0/1.vrrp",
            "goes on an SVI",
        ),
        (
            "Vlan10: {ip: 10.1.10.3/24, vrrp: {group: 10, ip: 10.1.10.1}}",
            "Vlan10: {ip: 10.1.10.3/24, vrrp: {group: 10, ip: 10.1.10.254}}",
            "topology.nodes.B.interfaces.Vlan10.vrrp[0].ip",
            "VRRP group 10 on 10.1.10.0/24: virtual IP 10.1.10.254 here, but 10.1.10.1 on A",
        ),
    ],
)
def test_bad_svi_groups_name_the_path(old: str, new: str, path: str, words: str) -> None:
    assert old in SCENARIO
    with pytest.raises(netsim.ScenarioError) as caught:
        netsim.loads(SCENARIO.replace(old, new))
    messages = [str(p) for p in caught.value.problems]
    assert any(path in m and words in m for m in messages), messages
