"""``show ip route`` and ``show ip interface brief``: the routing table as IOS prints it.

Connected routes (C) come from the interfaces' subnets; static ones (S) carry
[administrative distance/metric] and their next hop; the default route is starred and
named the gateway of last resort. The same text is saved as routes.txt with a run.
"""

from __future__ import annotations

import json

import pytest

import netsim
from netsim.show.registry import ShowError

SCENARIO = """
name: show-routes
duration: 10ms
topology:
  nodes:
    h1: {kind: host, ip: 10.0.10.11/24, gateway: 10.0.10.1}
    core:
      kind: switch
      model: WS-C3750G-12S
      interfaces:
        Gi1/0/1: {vlan: 10}
        Gi1/0/12: {switchport: false, ip: 10.0.99.1/30}
        Vlan10: {ip: 10.0.10.1/24}
      routes:
        - {to: 10.0.50.0/24, via: 10.0.99.2}
    edge:
      kind: router
      interfaces:
        Gi0/0: {ip: 10.0.99.2/30}
        Gi0/1: {ip: 10.0.50.1/24}
      routes:
        - {to: default, via: 10.0.99.1}
    mail: {kind: host, ip: 10.0.50.25/24, gateway: 10.0.50.1}
  links:
    - endpoints: [h1, "core:Gi1/0/1"]
    - endpoints: ["core:Gi1/0/12", "edge:Gi0/0"]
    - endpoints: ["edge:Gi0/1", mail]
traffic:
  - {kind: ping, from: h1, to: mail, count: 2, interval: 1ms}
"""


@pytest.fixture(scope="module")
def results() -> netsim.Results:
    return netsim.run(netsim.loads(SCENARIO))


def test_show_ip_route_on_a_router_with_a_default_route(results):
    assert results.show("edge", "show ip route") == (
        "Codes: C - connected, S - static, * - candidate default\n"
        "\n"
        "Gateway of last resort is 10.0.99.1 to network 0.0.0.0\n"
        "\n"
        "S*       0.0.0.0/0 [1/0] via 10.0.99.1, Gi0/0\n"
        "C        10.0.50.0/24 is directly connected, Gi0/1\n"
        "C        10.0.99.0/30 is directly connected, Gi0/0\n"
    )


def test_show_ip_route_on_a_layer3_switch_lists_its_svi_and_routed_port(results):
    text = results.show("core", "sh ip ro")
    assert "Gateway of last resort is not set" in text
    assert "C        10.0.10.0/24 is directly connected, Vlan10" in text
    assert "S        10.0.50.0/24 [1/0] via 10.0.99.2, Gi1/0/12" in text


def test_show_ip_interface_brief(results):
    lines = results.show("core", "show ip interface brief").splitlines()
    assert lines[0].split() == ["Interface", "IP-Address", "OK?", "Method", "Status", "Protocol"]
    assert lines[1].split() == ["Vlan10", "10.0.10.1", "YES", "manual", "up", "up"]
    assert lines[2].split() == ["Gi1/0/12", "10.0.99.1", "YES", "manual", "up", "up"]


def test_a_host_has_no_routing_table(results):
    with pytest.raises(ShowError, match="h1 is a host, not a router or switch"):
        results.show("h1", "ip route")


def test_the_run_saves_routes_txt_and_routes_in_summary_json(results, tmp_path):
    results.save(tmp_path)
    text = (tmp_path / "routes.txt").read_text()
    assert text.startswith("core#show ip route\n")
    assert "edge#show ip route\n" in text
    summary = json.loads((tmp_path / "summary.json").read_text())
    table = summary["routes"]["table"]
    assert {"device": "edge", "code": "S", "prefix": "0.0.0.0/0", "next_hop": "10.0.99.1",
            "interface": "Gi0/0", "distance": 1} in table  # fmt: skip
    l3 = results.extra["l3_interfaces"].set_index(["device", "interface"])
    assert l3.loc[("edge", "Gi0/0"), "forwarded"] == 2  # the two echo replies, routed on
    assert l3.loc[("edge", "Gi0/1"), "forwarded"] == 2  # the two requests
