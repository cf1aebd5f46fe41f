"""``netsim sweep``: one scenario over a grid of values, one combined table, the same
whatever the number of worker processes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import netsim
from netsim.cli import main

SCENARIO = """
name: sw
duration: 2ms
topology:
  defaults: {link: {speed: 100M, delay: 100ns}}
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
  - {kind: frames, name: warm, from: h2, to: h1, count: 1}
  - {kind: frames, name: probe, from: h1, to: h2, size: [64, 1518], rate: 40%,
     pattern: poisson, start: 100us}
sweep:
  topology.defaults.switch.mode: [store-and-forward, cut-through, fragment-free]
  seed: [1, 2]
"""


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(SCENARIO)
    return path


def test_results_are_identical_with_one_or_two_workers(scenario_file, tmp_path, capsys):
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}"
        assert main(["sweep", str(scenario_file), "--workers", workers, "--out", str(out)]) == 0
    one = (tmp_path / "w1" / "sweep.csv").read_bytes()
    two = (tmp_path / "w2" / "sweep.csv").read_bytes()
    assert one == two
    table = pd.read_csv(tmp_path / "w1" / "sweep.csv")
    assert list(table.columns[:3]) == ["point", "topology.defaults.switch.mode", "seed"]
    assert len(set(table["point"])) == 6
    assert (tmp_path / "w1" / "sweep.png").is_file()
    assert len([p for p in (tmp_path / "w1").iterdir() if p.is_dir()]) == 6


def test_cut_through_beats_store_and_forward_in_the_table(scenario_file, tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["sweep", str(scenario_file), "--workers", "1", "--out", str(out)]) == 0
    table = pd.read_csv(out / "sweep.csv")
    probe = table[(table["traffic"] == "probe") & (table["seed"] == 1)]
    by_mode = probe.set_index("topology.defaults.switch.mode")["latency_p50"]
    assert by_mode["cut-through"] < by_mode["fragment-free"] < by_mode["store-and-forward"]


def test_a_bad_value_in_the_grid_names_the_point(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(SCENARIO.replace("fragment-free]", "fragment-free, cut-thru]"))
    from netsim.sweep import grid

    with pytest.raises(netsim.ScenarioError) as caught:
        grid(netsim.load(path))
    (problem,) = caught.value.problems
    assert "topology.defaults.switch.mode='cut-thru'" in problem.message


def test_a_scenario_without_a_sweep_is_told_so(tmp_path, capsys):
    path = tmp_path / "plain.yaml"
    path.write_text(SCENARIO.split("sweep:")[0])
    assert main(["sweep", str(path)]) == 2
    assert "no sweep: block" in capsys.readouterr().err


def test_a_sweep_can_vary_a_campus_key(tmp_path):
    """A campus block is expanded into nodes and links when the scenario loads; each point
    of a sweep over a campus key expands it again, with its own value, from the scenario
    as written: here one floor, then two."""
    from netsim.sweep import grid, run_sweep

    path = tmp_path / "campus.yaml"
    path.write_text(
        """
name: campus-sweep
duration: 1ms
campus:
  building: {model: WS-C3750G-12S}
  floors: {count: 1, model: WS-C2960G-24TC-L, rooms: 1, room: {kind: switch, hosts: 1}}
  server_room: {model: WS-C2960G-24TC-L, servers: {mail: {ip: 10.0.0.25/24}}}
traffic:
  - {kind: frames, name: hello, from: f1r1h01, to: mail, count: 1}
sweep:
  campus.floors.count: [1, 2]
"""
    )
    scenario = netsim.load(path)
    assert [p.values for p in grid(scenario)] == [
        {"campus.floors.count": 1},
        {"campus.floors.count": 2},
    ]
    run_sweep(scenario, workers=1, out=tmp_path / "out")
    points = sorted((tmp_path / "out").glob("*/ports.csv"))
    devices = [set(pd.read_csv(ports)["device"]) for ports in points]
    assert [("f2" in d, "f2r1h01" in d) for d in devices] == [(False, False), (True, True)]
    assert devices[0] < devices[1]


def test_a_sweep_of_random_failures_tabulates_availability(tmp_path, capsys):
    """A scenario with random failures and no traffic: each point's row is its path's
    availability, measured and analytic (the same for every seed: it depends on the
    rates only, while the failures, and so the measured figure, follow the seed), and
    sweep.png plots the measured one."""
    path = tmp_path / "failures.yaml"
    path.write_text(
        """
name: failures-sweep
duration: 20000s
topology:
  nodes:
    h1: {kind: host}
    sw1: {kind: switch}
    sw2: {kind: switch}
    h2: {kind: host}
  links:
    - endpoints: [h1, sw1]
    - endpoints: [sw1, sw2]
    - endpoints: [sw2, h2]
failures:
  - {link: [sw1, sw2], mtbf: 900s, mttr: 100s}
measure:
  availability: [[h1, h2]]
sweep:
  seed: [1, 2]
"""
    )
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--workers", "1", "--out", str(out)]) == 0
    assert "availability h1 -> h2" in capsys.readouterr().out
    table = pd.read_csv(out / "sweep.csv")
    assert table["traffic"].tolist() == ["availability h1 -> h2"] * 2
    assert table["availability_analytic"].tolist() == pytest.approx([0.9, 0.9])
    assert table["availability_measured"].nunique() == 2
    for seed, row in table.set_index("seed").iterrows():
        folder = next(out.glob(f"*seed={seed}"))
        outages = pd.read_csv(folder / "availability.csv")
        assert row["outages"] == len(outages)
        assert row["availability_measured"] == pytest.approx(1 - outages["duration"].sum() / 20000)
        assert row["availability_measured"] == pytest.approx(0.9, abs=0.05)
    assert (out / "sweep.png").is_file()
