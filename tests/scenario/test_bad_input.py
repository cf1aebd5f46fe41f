"""Bad scenario files get one clear message each: the file, the YAML path, the line, and
what was expected. Never a traceback, and every problem in the file at once.

Each case below is a small edit of a valid scenario; the expected message names the YAML
path and says what is wrong in words a student understands.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import netsim
from netsim.cli import main

BASE = """\
name: base
duration: 1ms
topology:
  nodes:
    h1: {kind: host}
    sw1: {kind: switch, ports: 4}
    h2: {kind: host}
  links:
    - endpoints: [h1, sw1]
    - endpoints: [sw1, h2]
traffic:
  - {kind: frames, from: h1, to: h2, size: 64, count: 1}
"""

# (what is wrong, the edit as (old, new), expected YAML path, expected line, words expected).
# Two more kinds of bad input (a loop, full duplex to a hub) have tests of their own below.
CASES = [
    (
        "unknown node in a link",
        ("[sw1, h2]", "[sw1, h9]"),
        "topology.links[1].endpoints[1]",
        10,
        "unknown node 'h9'",
    ),
    (
        "a port used twice",
        ("[h1, sw1]", '[h1, "sw1:1"]\n    - endpoints: [h2, "sw1:1"]'),
        "topology.links[1].endpoints[1]",
        10,
        "port sw1:1 is already used by topology.links[0]",
    ),
    (
        "an unknown switching mode",
        ("{kind: switch, ports: 4}", "{kind: switch, mode: cut-thru}"),
        "topology.nodes.sw1.mode",
        6,
        "'store-and-forward', 'cut-through' or 'fragment-free'",
    ),
    (
        "10BASE2 in full duplex",
        ("[sw1, h2]", "[sw1, h2]\n      media: 10BASE2\n      duplex: full"),
        "topology.links[1].duplex",
        12,
        "10BASE2 is a shared coax bus",
    ),
    (
        "a link longer than its media allows",
        ("[sw1, h2]", "[sw1, h2]\n      media: 100BASE-TX\n      length: 150m"),
        "topology.links[1].length",
        12,
        "at most 100 m; this link is 150 m",
    ),
    (
        "a frame size out of range",
        ("size: 64", "size: 1600"),
        "traffic[0].size",
        12,
        "less than or equal to 1522",
    ),
    (
        "an untagged frame over 1518",
        ("size: 64", "size: 1520"),
        "traffic[0]",
        12,
        "over 1518 bytes",
    ),
    ("a quantity without a unit", ("duration: 1ms", "duration: 5"), "duration", 2, "needs a unit"),
    (
        "an unknown unit",
        ("duration: 1ms", "duration: 5 fortnights"),
        "duration",
        2,
        "unknown time unit 'fortnights' in '5 fortnights' (use s, ms, us, ns, min or h)",
    ),
    (
        "a typo in a key",
        ("{kind: switch, ports: 4}", "{kind: switch, prots: 4}"),
        "topology.nodes.sw1.prots",
        6,
        "unknown key 'prots' (did you mean 'ports'?)",
    ),
    (
        "an unknown node kind",
        ("{kind: switch, ports: 4}", "{kind: firewall}"),
        "topology.nodes.sw1",
        6,
        "unknown kind 'firewall'",
    ),
    (
        "a missing duration",
        ("duration: 1ms\n", ""),
        "(top level)",
        1,
        "required key 'duration' is missing",
    ),
    (
        "traffic from a switch",
        ("from: h1", "from: sw1"),
        "traffic[0].from",
        12,
        "sw1 is a switch; expected a host",
    ),
    (
        "a port the switch does not have",
        ("[sw1, h2]", '["sw1:Gi0/1", h2]'),
        "topology.links[1].endpoints[0]",
        10,
        "sw1 has no port 'Gi0/1' (its ports are 1..4)",
    ),
    (
        "a media/speed mismatch",
        ("[sw1, h2]", "[sw1, h2]\n      media: 10BASE-T\n      speed: 100M"),
        "topology.links[1].speed",
        12,
        "10BASE-T runs at 10M, not 100M",
    ),
    (
        "a duplicate key",
        ("    h2: {kind: host}", "    h2: {kind: host}\n    h2: {kind: host}"),
        "topology.nodes.h2",
        8,
        "duplicate key 'h2'",
    ),
    ("not YAML at all", ("  nodes:", "  nodes: [unclosed"), "(syntax)", None, "not valid YAML"),
    (
        "a negative bit-error rate",
        ("[sw1, h2]", "[sw1, h2]\n      ber: -1e-9"),
        "topology.links[1].ber",
        11,
        "greater than or equal to 0",
    ),
    (
        "both interval and rate",
        ("count: 1}", "count: 5, interval: 1ms, rate: 10%}"),
        "traffic[0]",
        12,
        "either interval or rate, not both",
    ),
    (
        "a capture on a port that does not exist",
        ("traffic:", "measure: {capture: ['sw1:9']}\ntraffic:"),
        "measure.capture[0]",
        11,
        "no port 'sw1:9' (write it as node:port)",
    ),
    (
        "a VLAN outside 1..4094",
        ("ports: 4}", "ports: 4, interfaces: {1: {vlan: 4095}}}"),
        "topology.nodes.sw1.interfaces.1.vlan",
        6,
        "VLAN 4095 is outside 1..4094",
    ),
    (
        "an access VLAN on a trunk",
        ("ports: 4}", "ports: 4, interfaces: {4: {mode: trunk, vlan: 10}}}"),
        "topology.nodes.sw1.interfaces.4.vlan",
        6,
        "an access VLAN on a trunk",
    ),
    (
        "an interface range that does not exist",
        ("ports: 4}", "ports: 4, interfaces: {2-6: {vlan: 10}}}"),
        "topology.nodes.sw1.interfaces.2-6",
        6,
        "range '2-6' does not exist: there is no 5..6 (its interfaces are 1-4)",
    ),
    (
        "a native VLAN not in the allowed list",
        ("ports: 4}", "ports: 4, interfaces: {4: {mode: trunk, allowed: [10], native: 20}}}"),
        "topology.nodes.sw1.interfaces.4.native",
        6,
        "native VLAN 20 is not in the allowed list [10]",
    ),
]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return path


def edit(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


@pytest.mark.parametrize(
    ("what", "change", "yaml_path", "line", "words"),
    CASES,
    ids=[c[0] for c in CASES],
)
def test_bad_input_names_file_path_line_and_expectation(
    tmp_path, what, change, yaml_path, line, words
):
    path = write(tmp_path, edit(*change))
    with pytest.raises(netsim.ScenarioError) as caught:
        netsim.load(path)
    messages = [str(p) for p in caught.value.problems]
    location = f"{path}:{line}: {yaml_path}: " if line is not None else f"{path}"
    assert any(m.startswith(location) and words in m for m in messages), messages


def test_a_loop_is_refused_because_spanning_tree_is_not_modelled(tmp_path):
    text = BASE.replace("    h2: {kind: host}", "    h2: {kind: host}\n    sw2: {kind: switch}")
    text = text.replace(
        "    - endpoints: [sw1, h2]",
        "    - endpoints: [sw1, h2]\n    - endpoints: [sw1, sw2]\n    - endpoints: [sw2, sw1]",
    )
    with pytest.raises(netsim.ScenarioError) as caught:
        netsim.load(write(tmp_path, text))
    (problem,) = caught.value.problems
    assert problem.path == "topology.links[3].endpoints"
    assert problem.line == 13
    assert "closes a loop between sw2 and sw1; spanning tree is not modelled" in problem.message


def test_links_to_a_hub_cannot_be_full_duplex(tmp_path):
    text = edit("{kind: switch, ports: 4}", "{kind: hub, ports: 4}")
    text = text.replace("[sw1, h2]", "[sw1, h2]\n      duplex: full")
    with pytest.raises(netsim.ScenarioError) as caught:
        netsim.load(write(tmp_path, text))
    assert [p.path for p in caught.value.problems] == ["topology.links[1].duplex"]
    assert "a hub is a repeater" in caught.value.problems[0].message


def test_every_problem_is_reported_at_once(tmp_path):
    text = edit("[sw1, h2]", "[sw1, h9]").replace("size: 64", "size: 10")
    with pytest.raises(netsim.ScenarioError) as caught:
        netsim.load(write(tmp_path, text))
    paths = {p.path for p in caught.value.problems}
    assert "traffic[0].size" in paths  # pydantic catches this first; links wait for a valid file


@pytest.mark.parametrize("command", ["run", "validate"])
def test_the_cli_prints_one_line_per_problem_and_no_traceback(tmp_path, capsys, command):
    path = write(tmp_path, edit("duration: 1ms", "duration: 5"))
    status = main([command, str(path), "--set", "seed=2"])
    err = capsys.readouterr().err
    assert status == 2
    expected = "a time needs a unit: 5 is ambiguous (write it like 50ns, 1ms or 300s)"
    assert err == f"error: {path}:2: duration: {expected}\n"
    assert "Traceback" not in err


def test_a_missing_file_is_one_clear_line(tmp_path, capsys):
    status = main(["validate", str(tmp_path / "nope.yaml")])
    assert status == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'nope.yaml'}: (file): no such file\n"


def test_a_bad_set_override_names_the_path(tmp_path, capsys):
    path = write(tmp_path, BASE)
    assert main(["validate", str(path), "--set", "traffic[5].count=2"]) == 2
    assert "traffic[5]: no such list item" in capsys.readouterr().err
    assert main(["validate", str(path), "--set", "nonsense"]) == 2
    assert "expected PATH=VALUE" in capsys.readouterr().err


def test_the_base_scenario_is_valid(tmp_path, capsys):
    """The cases above break a scenario that is itself fine."""
    assert main(["validate", str(write(tmp_path, BASE))]) == 0
    assert "ok" in capsys.readouterr().out


def test_the_messages_read_well():
    """The cases' scenario snippets stay small enough to read in a test report."""
    assert all(len(textwrap.dedent(c[1][1])) < 120 for c in CASES)


def test_a_capture_on_a_hub_port_is_refused_with_the_reason(tmp_path):
    text = edit("{kind: switch, ports: 4}", "{kind: hub, ports: 4}")
    text = text.replace("traffic:", "measure: {capture: ['sw1:1']}\ntraffic:")
    with pytest.raises(netsim.ScenarioError) as caught:
        netsim.load(write(tmp_path, text))
    (problem,) = caught.value.problems
    assert problem.path == "measure.capture[0]"
    assert "sw1 is a hub: it repeats bits, it does not see frames" in problem.message
