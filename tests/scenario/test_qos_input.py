"""Bad QoS and SPAN settings: one clear message each, with the file, line and YAML path.

A weight of 0 would starve a queue, a queue number past 4 does not exist, a queue limit
above 100 % of the buffer cannot be, a SPAN destination that is also a source would copy
its own copies: each is refused where it is written, in words a student understands.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import netsim
from netsim.cli import main
from netsim.scenario.qos import parse_dscp

BASE = """\
name: qos-base
duration: 1ms
topology:
  nodes:
    h1: {kind: host}
    sw1:
      kind: switch
      model: WS-C2960-24TT-L
      interfaces:
        Fa0/1: {trust: dscp}
        Gi0/1: {priority_queue: true, srr_share: [1, 2, 3, 4]}
      qos:
        cos_map: {1: [5]}
      monitor:
        - {source: [Fa0/1, Fa0/2], direction: both, destination: Fa0/24}
    h2: {kind: host}
  links:
    - endpoints: [h1, "sw1:Fa0/1"]
    - endpoints: ["sw1:Gi0/1", h2]
traffic:
  - {kind: frames, from: h1, to: h2, size: 64, count: 1, dscp: EF}
"""

CASES = [
    (
        "a queue weight of 0",
        ("srr_share: [1, 2, 3, 4]", "srr_share: [1, 0, 3, 4]"),
        "topology.nodes.sw1.interfaces.Gi0/1.srr_share[1]",
        11,
        "a weight of 0 would starve its queue",
    ),
    (
        "three weights for four queues",
        ("srr_share: [1, 2, 3, 4]", "srr_share: [1, 2, 3]"),
        "topology.nodes.sw1.interfaces.Gi0/1.srr_share",
        11,
        "at least 4",
    ),
    (
        "a queue number out of range",
        ("cos_map: {1: [5]}", "cos_map: {5: [5]}"),
        "topology.nodes.sw1.qos.cos_map[5]",
        13,
        "queue 5 is out of range: a port has egress queues 1..4",
    ),
    (
        "a CoS out of range",
        ("cos_map: {1: [5]}", "cos_map: {1: [8]}"),
        "topology.nodes.sw1.qos.cos_map[1][0]",
        13,
        "less than or equal to 7",
    ),
    (
        "a CoS mapped to two queues",
        ("cos_map: {1: [5]}", "cos_map: {1: [5], 2: [5]}"),
        "topology.nodes.sw1.qos.cos_map[2]",
        13,
        "5 is mapped to queue 1 already",
    ),
    (
        "a queue limit above 100 %",
        ("{trust: dscp}", "{queue_limits: [25%, 25%, 25%, 150%]}"),
        "topology.nodes.sw1.interfaces.Fa0/1.queue_limits[3]",
        10,
        "at most 100 %; got 150 %",
    ),
    (
        "a queue limit without a unit",
        ("{trust: dscp}", "{queue_limits: [25, 25, 25, 25]}"),
        "topology.nodes.sw1.interfaces.Fa0/1.queue_limits[0]",
        10,
        "expected a share of the buffer like 25%",
    ),
    (
        "an unknown trust",
        ("{trust: dscp}", "{trust: ip-precedence}"),
        "topology.nodes.sw1.interfaces.Fa0/1.trust",
        10,
        "'none', 'cos' or 'dscp'",
    ),
    (
        "a SPAN destination that is also a source",
        ("destination: Fa0/24}", "destination: Fa0/2}"),
        "topology.nodes.sw1.monitor[0].destination",
        15,
        "Fa0/2 is a source of this session too; a SPAN destination cannot be a source",
    ),
    (
        "a SPAN source that does not exist",
        ("source: [Fa0/1, Fa0/2]", "source: [Fa0/1, Fa0/30]"),
        "topology.nodes.sw1.monitor[0].source[1]",
        15,
        "no interface 'Fa0/30'",
    ),
    (
        "a SPAN direction that does not exist",
        ("direction: both", "direction: in"),
        "topology.nodes.sw1.monitor[0].direction",
        15,
        "'both', 'rx' or 'tx'",
    ),
    (
        "a port that is a source of two sessions",
        (
            "destination: Fa0/24}",
            "destination: Fa0/24}\n        - {source: Fa0/2, destination: Fa0/23}",
        ),
        "topology.nodes.sw1.monitor[1].source",
        16,
        "Fa0/2 is already a source of monitor session 1",
    ),
    (
        "a destination inside the source VLAN",
        (
            "source: [Fa0/1, Fa0/2], direction: both",
            "source_vlan: 1, direction: both",
        ),
        "topology.nodes.sw1.monitor[0].destination",
        15,
        "Fa0/24 is a source of this session too (it is in VLAN 1)",
    ),
    (
        "a source VLAN no port is in",
        ("source: [Fa0/1, Fa0/2], direction: both", "source_vlan: 30, direction: both"),
        "topology.nodes.sw1.monitor[0].source_vlan",
        15,
        "no port is in VLAN 30",
    ),
    (
        "both source interfaces and a source VLAN",
        ("direction: both", "source_vlan: 1, direction: both"),
        "topology.nodes.sw1.monitor[0]",
        15,
        "one of the two",
    ),
    (
        "a DSCP that does not exist",
        ("dscp: EF}", "dscp: AF51}"),
        "traffic[0].dscp",
        21,
        "not a DSCP: 'AF51'",
    ),
    (
        "a DSCP out of range",
        ("dscp: EF}", "dscp: 64}"),
        "traffic[0].dscp",
        21,
        "less than or equal to 63",
    ),
    (
        "a host CoS without a tag to carry it",
        ("    h2: {kind: host}", "    h2: {kind: host, cos: 5}"),
        "topology.nodes.h2",
        16,
        "a CoS travels only in an 802.1Q tag",
    ),
    (
        "qos off with QoS keys on an interface",
        ("      qos:\n        cos_map: {1: [5]}\n", "      qos: false\n"),
        "topology.nodes.sw1.qos",
        12,
        "qos is false, yet interfaces set trust or queues",
    ),
]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "qos.yaml"
    path.write_text(text)
    return path


def edit(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


def test_the_base_scenario_is_valid_and_runs(tmp_path):
    res = netsim.run(netsim.load(write(tmp_path, BASE)))
    assert (res.frames["outcome"] == "delivered").all()
    assert len(res.extra["queues"]) == 26 * 4
    assert len(res.extra["span"]) == 1


@pytest.mark.parametrize(
    ("what", "change", "yaml_path", "line", "words"), CASES, ids=[c[0] for c in CASES]
)
def test_bad_qos_input_names_file_path_line_and_expectation(
    tmp_path, what, change, yaml_path, line, words
):
    path = write(tmp_path, edit(*change))
    with pytest.raises(netsim.ScenarioError) as caught:
        netsim.load(path)
    messages = [str(p) for p in caught.value.problems]
    location = f"{path}:{line}: {yaml_path}: "
    assert any(m.startswith(location) and words in m for m in messages), messages


def test_the_cli_reports_a_zero_weight_in_one_line(tmp_path, capsys):
    path = write(tmp_path, edit("srr_share: [1, 2, 3, 4]", "srr_share: [0, 2, 3, 4]"))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.count("error:") == 1


@pytest.mark.parametrize(
    ("name", "value"), [("EF", 46), ("af21", 18), ("AF43", 38), ("CS3", 24), ("default", 0)]
)
def test_dscp_names_are_the_rfc_code_points(name, value):
    """RFC 3246 EF = 46; RFC 2597 AFxy = 8x + 2y; RFC 2474 CSx = 8x."""
    assert parse_dscp(name) == value
