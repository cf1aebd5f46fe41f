"""Repetition in scenarios: ``count`` copies a node (and its cables), a template is a block
of devices instantiated several times, each copy cabled to the rest by its uplink."""

from __future__ import annotations

import pytest

import netsim

SCENARIO = """
name: tpl
duration: 1ms
templates:
  room:
    nodes:
      sw: {kind: switch, model: WS-C2960-24TT-L}
      pc: {kind: host, count: 12}
    links:
      - endpoints: [pc, sw]
topology:
  nodes:
    core: {kind: switch, ports: 24}
    printer: {kind: host, count: 2}
  links:
    - endpoints: [printer, core]
  use:
    - {template: room, name: lab, count: 3, uplink: ["sw:Gi0/1", core]}
traffic:
  - {kind: ping, from: lab1-pc01, to: lab3-pc12, count: 2, interval: 100us}
"""


def test_templates_and_counts_expand_to_plain_devices_and_cables():
    sc = netsim.loads(SCENARIO)
    nodes = sc.topology.nodes
    assert {"printer01", "printer02", "lab1-sw", "lab3-pc12"} <= set(nodes)
    assert "pc" not in nodes and "printer" not in nodes
    assert len(nodes) == 1 + 2 + 3 * 13
    ends = {(lk.a, lk.b) for lk in sc.topology.links}
    assert (("lab2-sw", "Gi0/1"), ("core", "4")) in ends  # printers took core:1 and 2, lab1 3
    assert (("lab2-pc05", "eth0"), ("lab2-sw", "Fa0/5")) in ends
    res = netsim.run(sc)
    assert (res.ping["outcome"] == "reply").all()


@pytest.mark.parametrize(
    ("edit", "path", "words"),
    [
        (
            ("template: room,", "template: rooms,"),
            "topology.use[0].template",
            "unknown template 'rooms' (templates: room)",
        ),
        (("count: 12}", "count: 0}"), "templates.room.nodes.pc.count", "count must be 1..10000"),
        (
            ('uplink: ["sw:Gi0/1", core]', 'uplink: ["switch:Gi0/1", core]'),
            "topology.use[0].uplink[0]",
            "'switch:Gi0/1' is not a node of template room",
        ),
        (
            ("    - endpoints: [printer, core]", '    - endpoints: ["printer:eth0", core]'),
            "topology.links[0].endpoints[0]",
            "printer has copies: name it without a port",
        ),
    ],
)
def test_bad_templates_say_where_and_why(edit, path, words):
    with pytest.raises(netsim.ScenarioError) as caught:
        netsim.loads(SCENARIO.replace(*edit))
    (problem,) = caught.value.problems
    assert problem.path == path and words in problem.message
