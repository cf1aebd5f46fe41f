"""Work limits: a scenario that asks for unbounded work is refused at validation, with the
culprit's path and the ``limits:`` key that would allow it, before anything runs.

The estimate (``netsim.scenario.limits``) is simple on purpose: every frame or packet a
source sends times the links it crosses. The last tests check it against the events a
real run processes, so the limits mean what they say.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import netsim
from netsim.cli import main
from netsim.scenario import model as m
from netsim.scenario.errors import Problem
from netsim.scenario.limits import _traffic_work, link_graph
from netsim.scenario.load import from_data
from netsim.scenario.source import parse_yaml

BASE = """\
name: base
duration: 1ms
topology:
  nodes:
    h1: {kind: host}
    sw1: {kind: switch, ports: 4}
    sw2: {kind: switch, ports: 4}
    h2: {kind: host}
  links:
    - endpoints: [h1, sw1]
    - endpoints: [sw1, sw2]
    - endpoints: [sw2, h2]
traffic:
  - {kind: frames, from: h1, to: h2, size: 64, count: 1}
"""


def write(tmp_path, text):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def problems_of(text: str, *sets: str) -> list[Problem]:
    """The problems loading ``text`` (with ``--set`` values) reports."""
    data, source = parse_yaml(text, "s.yaml")
    with pytest.raises(netsim.ScenarioError) as caught:
        from_data(data, source, sets=sets)
    return caught.value.problems


UNBOUNDED = [
    (
        "frames every picosecond with no count",
        "traffic[0]={kind: frames, from: h1, to: h2, interval: 1ps}",
        "traffic[0]",
        "events",
    ),
    (
        "a billion pings with no interval",
        "traffic[0]={kind: ping, from: h1, to: h2, count: 1000000000, interval: 0}",
        "traffic[0]",
        "events",
    ),
    (
        "a terabyte over TCP",
        "traffic[0]={kind: tcp, from: h1, to: h2, bytes: 1TB}",
        "traffic[0]",
        "events",
    ),
    (
        "a mailbox of 100,000 messages of 1 GB",
        "traffic[0]={kind: imap, server: h2, clients: [h1],"
        " mailbox: {messages: 100000, mean_size: 1GB}}",
        "traffic[0]",
        "bytes",
    ),
    (
        "a million hosts from counts",
        "topology.nodes.pc={kind: host, count: 10000}",
        None,
        "nodes",
    ),
]


@pytest.mark.parametrize(
    ("what", "setting", "path", "limit"), UNBOUNDED, ids=[u[0] for u in UNBOUNDED]
)
def test_unbounded_work_is_refused_with_the_key_that_allows_it(what, setting, path, limit):
    text = BASE + "limits: {nodes: 5000}\n" if limit == "nodes" else BASE
    found = problems_of(text, setting)
    mine = [p for p in found if f"limits.{limit}" in p.message]
    assert mine, found
    assert path is None or mine[0].path == path
    assert mine[0].line is not None
    assert "to run it anyway" in mine[0].message


def test_templates_whose_counts_multiply_are_counted_before_they_expand():
    """100 rooms of 10,000 PCs would be a million nodes: refused from the counts alone,
    at the template use that multiplies, without building a million dicts first."""
    text = (
        "name: t\nduration: 1ms\n"
        "templates:\n  room:\n    nodes:\n      pc: {kind: host, count: 10000}\n"
        "      sw: {kind: switch}\n"
        "topology:\n  use:\n    - {template: room, count: 100}\n"
    )
    (problem,) = problems_of(text)
    assert problem.path == "topology.use[0]"
    assert problem.line == 10
    assert "1,000,100 devices, over the limit of 10,000" in problem.message
    assert "limits: {nodes: 2000000}" in problem.message


def test_a_campus_too_big_is_refused_after_it_expands():
    text = (
        "name: c\nduration: 1ms\nlimits: {nodes: 50}\n"
        "campus:\n  floors: {count: 3, rooms: 2, room: {hosts: 12}}\n"
    )
    (problem,) = problems_of(text)
    assert problem.path == "topology.nodes"
    assert "over the limit of 50" in problem.message


def test_raising_the_limit_in_the_scenario_lets_it_through():
    text = BASE.replace("count: 1}", "interval: 10ps}")
    assert any("limits.events" in p.message for p in problems_of(text))
    allowed = netsim.loads(text + "limits: {events: 1000000000}\n")
    assert allowed.model.limits.events == 1_000_000_000


def test_limits_can_be_raised_from_the_command_line(tmp_path, capsys):
    path = write(tmp_path, BASE.replace("count: 1}", "interval: 10ps}"))
    assert main(["validate", str(path)]) == 2
    assert "limits.events" in capsys.readouterr().err
    assert main(["validate", str(path), "--set", "limits.events=1000000000"]) == 0


def test_limits_themselves_are_validated():
    (problem,) = problems_of(BASE + "limits: {events: lots}\n")
    assert problem.path == "limits.events"
    assert problem.line == 15
    (problem,) = problems_of(BASE + "limits: {hosts: 5}\n")
    assert "unknown key 'hosts'" in problem.message


def test_a_sweep_grid_over_the_runs_limit_is_refused_by_validate(tmp_path, capsys):
    grid = "sweep:\n  seed: [" + ", ".join(map(str, range(40))) + "]\n"
    grid += "  traffic[0].size: [" + ", ".join(map(str, range(64, 94))) + "]\n"
    path = write(tmp_path, BASE + grid)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:15: sweep: this sweep is a grid of 1,200 runs, over the limit of 1,000" in err
    assert main(["validate", str(path), "--set", "limits.runs=1200"]) == 0
    assert "a sweep of 1200 runs" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("sweep", "where", "words"),
    [
        ("  traffic[5].count: [1, 2]\n", "s.yaml:16: sweep.traffic[5].count", "no such list item"),
        (
            "  topology.nodes.sw9.mode: [cut-through]\n",
            "s.yaml:4: topology.nodes.sw9",
            "required key 'kind' is missing",
        ),
        ("  traffic[0].size: [64, 9000]\n", "s.yaml:14: traffic[0].size", "1522"),
        ("  seed: 5\n", "s.yaml:16: sweep.seed", "valid list"),
    ],
    ids=["a path that does not exist", "a node that does not exist", "a bad value", "no list"],
)
def test_validate_catches_what_sweep_would_reject(tmp_path, capsys, sweep, where, words):
    path = write(tmp_path, BASE + "sweep:\n" + sweep)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"error: {tmp_path / where}" in err and words in err, err


def actual_events(text: str) -> tuple[float, int]:
    scenario = netsim.loads(text)
    graph = link_graph(scenario.topology)
    estimate = sum(
        _traffic_work(t, scenario.model, scenario.topology, graph)[0]
        for t in scenario.model.traffic
    )
    res = netsim.run(scenario)
    # Background load sends its frames without events (lazily): they count as work too.
    background = int(res.ports["tx_multicast"].sum())
    return estimate, res.summary["events_processed"] + background


@pytest.mark.parametrize(
    "traffic",
    [
        "{kind: frames, from: h1, to: h2, size: 512, count: 2000, interval: 10us}",
        "{kind: frames, from: h1, to: h2, size: [64, 1518], rate: 50%}",
        "{kind: ping, from: h1, to: h2, count: 200, interval: 1us}",
        "{kind: tcp, from: h1, to: h2, bytes: 2MB}",
        "{kind: load, link: [sw1, sw2], rate: 30%}",
    ],
    ids=["frames by count", "frames by rate", "ping", "tcp bulk", "load"],
)
def test_the_estimate_is_within_a_small_factor_of_the_real_work(traffic):
    """The limit is a promise about the run: the estimated events are within a factor of
    three of what the engine processes (ARP and timers are the difference), counting the
    background frames generated without events as one each."""
    text = BASE.replace("duration: 1ms", "duration: 20ms").replace(
        "  - {kind: frames, from: h1, to: h2, size: 64, count: 1}", f"  - {traffic}"
    )
    estimate, actual = actual_events(text)
    assert actual / 3 <= estimate <= actual * 3, (estimate, actual)


def test_every_default_limit_is_documented_in_the_readme():
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for key, field in m.Limits.model_fields.items():
        assert f"{key}:" in text and f"{field.default:,}" in text, key
    assert math.isfinite(m.Limits().events)
