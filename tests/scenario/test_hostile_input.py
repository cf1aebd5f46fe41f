"""Hostile input: whatever a scenario file or a ``--set`` holds, netsim answers with one
located message and exit status 2, quickly, and never with a traceback or a hang.

A scenario is read as plain, bounded YAML (``netsim.scenario.source``): nesting at most 64
levels deep, at most 200,000 values once aliases are expanded (the "billion laughs": a
kilobyte of aliases of aliases stands for gigabytes), no application tags (``!foo``), no
merge keys (``<<``), and only regular files (a FIFO blocks, /dev/zero never ends).
Every quantity is finite and within a physical range, and types are strict: ``true`` is
not a number of ports.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from netsim.cli import main
from netsim.scenario.source import MAX_DEPTH, MAX_FILE_BYTES, MAX_VALUES

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

LOCATED = re.compile(r"^error: (?P<file>[^:]+)(:(?P<line>\d+))?: (?P<path>[^:]+): (?P<msg>.+)$")
"""One problem as the command line prints it: file, line (when known), YAML path, message."""


def alias_bomb(levels: int = 9, fan: int = 10) -> str:
    """About a kilobyte of YAML whose aliases expand to ``fan ** levels`` values."""
    lines = ["b0: &b0 [" + ", ".join(["lol"] * fan) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"b{i}: &b{i} [" + ", ".join([f"*b{i - 1}"] * fan) + "]")
    return "\n".join(lines) + "\n"


def refused(capsys, argv, no_hang) -> list[re.Match[str]]:
    """Run the CLI; it must exit 2 with located ``error:`` lines and nothing else."""
    with no_hang():
        status = main(argv)
    err = capsys.readouterr().err
    assert status == 2, err
    assert "Traceback" not in err
    matches = [LOCATED.match(line) for line in err.splitlines()]
    assert err and all(matches), err
    return [m for m in matches if m is not None]


def write(tmp_path: Path, text: str, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("what", "text", "line", "path", "words"),
    [
        (
            "an application tag",
            BASE.replace("name: base", "name: !shell base"),
            1,
            "name",
            "unknown YAML tag '!shell'",
        ),
        (
            "a Python tag",
            BASE.replace("name: base", "name: !!python/object:os.system x"),
            1,
            "name",
            "unknown YAML tag '!!python/object:os.system'",
        ),
        (
            "a tag on a mapping",
            BASE.replace("{kind: host}", "!node {kind: host}", 1),
            5,
            "topology.nodes.h1",
            "unknown YAML tag '!node' on a mapping",
        ),
        (
            "a binary value",
            BASE.replace("name: base", "name: !!binary aGVsbG8="),
            1,
            "name",
            "unknown YAML tag '!!binary'",
        ),
        (
            "a merge key",
            BASE.replace("    h2: {kind: host}", "    h2: {<<: {kind: host}}"),
            7,
            "topology.nodes.h2",
            "YAML merge keys (<<) are not supported",
        ),
        (
            "nesting 5,000 deep",
            BASE + "x: " + "[" * 5000 + "]" * 5000 + "\n",
            13,
            "(syntax)",
            f"nested more than {MAX_DEPTH} levels deep",
        ),
        (
            "an alias bomb",
            BASE + alias_bomb(),
            18,
            "b5",
            f"expands to more than {MAX_VALUES:,} values",
        ),
        (
            "an alias inside its own anchor",
            BASE + "x: &loop [*loop]\n",
            13,
            "x",
            "an alias refers to a list or mapping that contains it",
        ),
        (
            "a list as a mapping key",
            BASE + "? [a, b]\n: 1\n",
            13,
            "(top level)",
            "a mapping key must be a plain value",
        ),
        ("two documents", BASE + "---\nname: other\n", 13, "(syntax)", "not valid YAML"),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 40 and "\n" not in v else "",
)
@pytest.mark.parametrize("command", ["validate", "run"])
def test_pathological_yaml_is_refused_with_its_line(
    tmp_path, capsys, no_hang, command, what, text, line, path, words
):
    scenario = write(tmp_path, text)
    (problem,) = refused(
        capsys,
        [command, str(scenario), "--out", str(tmp_path / "out")]
        if command == "run"
        else [command, str(scenario)],
        no_hang,
    )
    assert problem["file"] == str(scenario)
    assert problem["line"] == str(line), what
    assert problem["path"] == path
    assert words in problem["msg"]
    assert not (tmp_path / "out" / "summary.json").exists()


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (alias_bomb().replace("\n", ", ").join("{}"), "expands to more than"),
        ("[" * 3000, f"nested more than {MAX_DEPTH} levels deep"),
        ("!!python/object/apply:os.system [ls]", "unknown YAML tag"),
        ("{<<: {a: 1}}", "merge keys"),
    ],
    ids=["alias bomb", "deep nesting", "python tag", "merge key"],
)
@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_set_value_is_read_as_the_same_bounded_yaml(
    tmp_path, capsys, no_hang, command, value, words
):
    scenario = write(tmp_path, BASE)
    argv = [command, str(scenario), "--set", f"description={value}"]
    (problem,) = refused(capsys, argv, no_hang)
    assert problem["file"] == "--set description"
    assert words in problem["msg"]


def test_text_that_is_not_yaml_is_a_string_in_a_set_value(tmp_path, capsys):
    """``--set description=a: b: c`` is not valid YAML; it is taken as the text it is."""
    scenario = write(tmp_path, BASE)
    assert main(["validate", str(scenario), "--set", "description=a: b: c"]) == 0


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda tmp: Path("/dev/zero"), "is not a regular file"),
        (lambda tmp: tmp, "is a folder; expected a scenario file"),
        (lambda tmp: (os.mkfifo(tmp / "pipe"), tmp / "pipe")[1], "is not a regular file"),
        (lambda tmp: write(tmp, "x" * (MAX_FILE_BYTES + 1)), f"at most {MAX_FILE_BYTES:,}"),
        (
            lambda tmp: (tmp / "b.yaml", (tmp / "b.yaml").write_bytes(b"name: \xff\xfe"))[0],
            "is not UTF-8 text",
        ),
    ],
    ids=["a device", "a directory", "a FIFO", "a huge file", "binary"],
)
def test_a_scenario_path_that_is_not_a_scenario_file_is_one_message(
    tmp_path, capsys, no_hang, make, words
):
    """Device files and FIFOs are refused from their ``stat``: opening a FIFO with no
    writer blocks forever, and /dev/zero never ends."""
    path = make(tmp_path)
    (problem,) = refused(capsys, ["validate", str(path)], no_hang)
    assert problem["file"] == str(path)
    assert problem["path"] == "(file)"
    assert words in problem["msg"]


@pytest.mark.parametrize(
    ("setting", "path", "words"),
    [
        ("topology=hello", "topology", "expected a mapping with nodes, links and defaults"),
        ("topology.nodes=[h1]", "topology.nodes", "expected a mapping of node names"),
        ("topology.links=7", "topology.links", "expected a list of links"),
        ("traffic=5", "traffic", "expected a list of traffic sources"),
        ("events=now", "events", "expected a list of events"),
        ("templates=[1]", "templates", "expected a mapping of template names"),
        ("templates={room: 3}", "templates.room", "expected {nodes, links}"),
        ("templates={room: {nodes: [pc]}}", "templates.room.nodes", "expected a mapping"),
        ("campus=3", "campus", "expected a mapping (building, floors"),
        ("topology.nodes.sw1.ports=true", "topology.nodes.sw1.ports", "valid integer"),
        ("topology.nodes.h1.nagle=1", "topology.nodes.h1.nagle", "valid boolean"),
        ("traffic[0].count=2.0", "traffic[0].count", "valid integer"),
        ("topology.links[0].ber=.nan", "topology.links[0].ber", "finite number"),
        ("seed=-1", "seed", "greater than or equal to 0"),
        ("sweep={seed: []}", "sweep.seed", "at least 1 item"),
    ],
)
def test_wrong_types_anywhere_are_one_located_message(
    tmp_path, capsys, no_hang, setting, path, words
):
    scenario = write(tmp_path, BASE)
    problems = refused(capsys, ["validate", str(scenario), "--set", setting], no_hang)
    assert [p["path"] for p in problems] == [path]
    assert problems[0]["file"] == str(scenario) and problems[0]["line"] is not None
    assert words in problems[0]["msg"]


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ("topology.defaults.link.delay=1e999s", "a time must be a finite number"),
        ("topology.defaults.link.speed=1e999G", "a rate must be a finite number"),
        ("topology.defaults.switch.buffer=1e300GB", "a size must be 1 B to 1 TB"),
        ("topology.defaults.link.delay=1e300s", "a time must be 1 ps to 1,000,000 s"),
        ("topology.defaults.link.speed=1e300G", "a rate must be 1 kb/s to 1 Tb/s"),
        ("topology.defaults.link.speed=1bps", "a rate must be 1 kb/s to 1 Tb/s"),
        ("topology.defaults.link.length=1e9km", "a length must be 1 mm to 100 km"),
        ("topology.defaults.switch.forwarding_rate=1e30Mpps", "a frame rate must be"),
        ("duration=1e-30s", "a time must be 1 ps"),
    ],
)
def test_every_quantity_is_finite_and_physical(tmp_path, capsys, no_hang, setting, words):
    scenario = write(tmp_path, BASE)
    (problem,) = refused(capsys, ["validate", str(scenario), "--set", setting], no_hang)
    assert problem["path"] == setting.split("=")[0]
    assert words in problem["msg"]


def test_summary_json_is_strict_json_after_any_run(tmp_path):
    """json.loads accepts ``Infinity`` and ``NaN``; JSON does not. Every number in a
    summary must be finite (or null)."""

    def no_constants(name: str) -> None:
        raise AssertionError(f"{name} in summary.json")

    scenario = write(tmp_path, BASE.replace("count: 1}", "count: 3, interval: 1us}"))
    assert main(["run", str(scenario), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    json.loads((tmp_path / "out" / "summary.json").read_text(), parse_constant=no_constants)


def test_a_set_path_thousands_of_parts_deep_is_refused(tmp_path, capsys, no_hang):
    """``--set a.a.a...=1`` would build a mapping as deep as the path."""
    scenario = write(tmp_path, BASE)
    deep = ".".join(["a"] * 5000)
    (problem,) = refused(capsys, ["validate", str(scenario), "--set", f"{deep}=1"], no_hang)
    assert problem["file"] == "--set"
    assert f"a path of more than {MAX_DEPTH} parts" in problem["msg"]


@pytest.mark.parametrize("line", ["SELECT {3}", "APPEND INBOX {5+}", "NOOP\r\nLOGOUT"])
def test_a_raw_imap_line_with_a_literal_is_refused_before_the_run(tmp_path, capsys, no_hang, line):
    """The simulated client sends a raw command as written and has no literal data to
    send after the server's ``+``: refused at validation, not a failure mid-run."""
    scenario = write(tmp_path, BASE)
    traffic = f"traffic=[{{kind: imap, server: h2, clients: [h1], session: [{json.dumps(line)}]}}]"
    (problem,) = refused(capsys, ["run", str(scenario), "--set", traffic], no_hang)
    assert problem["path"] == "traffic[0]"
    assert "a raw command is one line, without literals" in problem["msg"]
