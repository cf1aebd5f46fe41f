"""The public surface: ``netsim.load`` / ``netsim.run`` / ``Results.save`` and ``netsim run``.

A run is a pure function of the scenario and the seed: the same inputs give the same
bytes in every results file. And nothing is lost without a trace: every frame a host
sent is either delivered or dropped with a device and a reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import netsim
from netsim.cli import main

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


def test_every_bundled_scenario_validates_and_runs(tmp_path, capsys):
    """Each runs as shipped, but cut to at most 2 simulated seconds: the campus is
    benchmarked at full length in benchmarks/, not in the tests."""
    assert SCENARIOS, "scenarios/ is empty"
    for path in SCENARIOS:
        out = tmp_path / path.stem
        assert main(["validate", str(path)]) == 0, path
        short = ["--set", "duration=2s"] if netsim.load(path).model.duration > 2 else []
        assert main(["run", str(path), "--out", str(out), *short]) == 0, path
        for name in ("frames.csv", "ports.csv", "mac_events.csv", "summary.json"):
            assert (out / name).is_file(), (path, name)
        summary = json.loads((out / "summary.json").read_text())
        assert summary["frames"]["sent"] > 0, path
    assert "frames:" in capsys.readouterr().out


def test_same_seed_same_bytes_different_seed_different_results(tmp_path):
    path = ROOT / "scenarios" / "hub-collisions.yaml"
    for run in ("a", "b"):
        assert main(["run", str(path), "--out", str(tmp_path / run), "--quiet"]) == 0
    assert main(["run", str(path), "--out", str(tmp_path / "c"), "--seed", "7", "--quiet"]) == 0
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert {"frames.csv", "mac_events.csv", "ports.csv", "summary.json"} <= set(files)
    assert {"latency.png", "topology.png", "port_utilization.png"} <= set(files)
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "frames.csv").read_bytes() != (
        tmp_path / "c" / "frames.csv"
    ).read_bytes()


def test_set_overrides_a_value_and_the_summary_says_which_scenario_ran(tmp_path):
    path = ROOT / "scenarios" / "two-switches.yaml"
    out = tmp_path / "ct"
    assert (
        main(
            [
                "run",
                str(path),
                "--out",
                str(out),
                "--quiet",
                "--set",
                "topology.nodes.sw1.mode=cut-through",
            ]
        )
        == 0
    )
    base = netsim.run(netsim.load(path))
    cut = netsim.run(netsim.load(path, sets=["topology.nodes.sw1.mode=cut-through"]))
    assert cut.frames["latency"].sum() < base.frames["latency"].sum()
    summary = json.loads((out / "summary.json").read_text())
    assert (
        summary["scenario_sha256"]
        == netsim.load(path, overrides={"topology.nodes.sw1.mode": "cut-through"}).digest
    )
    assert summary["seed"] == 1


def test_python_api_returns_dataframes_and_saves_them(tmp_path):
    sc = netsim.load(ROOT / "scenarios" / "two-switches.yaml", overrides={"seed": 3})
    res = netsim.run(sc)
    assert res.summary["seed"] == 3
    assert {
        "frame_id",
        "src",
        "dst",
        "size",
        "t_first_bit_out",
        "t_last_bit_in",
        "latency",
        "hops",
        "outcome",
        "drop_device",
        "drop_reason",
    } <= set(res.frames.columns)
    assert {
        "device",
        "port",
        "speed_bps",
        "duplex",
        "rx_frames",
        "tx_octets",
        "discards",
        "fcs_errors",
        "runts",
        "collisions",
        "late_collisions",
        "excessive_collisions",
        "max_queue_bytes",
    } <= set(res.ports.columns)
    assert list(res.mac_events.columns) == ["time", "device", "event", "mac", "port", "vlan"]
    out = res.save(tmp_path / "r")
    assert (out / "frames.csv").read_text().splitlines()[0].startswith("frame_id,")


MODES = ["store-and-forward", "cut-through", "fragment-free"]


@st.composite
def random_networks(draw: st.DrawFn) -> dict:
    """A random tree of switches (maybe a hub), hosts hanging off it, random traffic,
    small buffers and bit errors, so frames are lost in every way the fabric knows."""
    n_switches = draw(st.integers(1, 4))
    nodes: dict = {}
    links: list = []
    for i in range(n_switches):
        nodes[f"sw{i}"] = {
            "kind": "switch",
            "ports": 8,
            "mode": draw(st.sampled_from(MODES)),
            "buffer": draw(st.sampled_from(["3KB", "20KB", "1MB"])),
        }
        if i:
            parent = draw(st.integers(0, i - 1))
            links.append(
                {
                    "endpoints": [f"sw{parent}", f"sw{i}"],
                    "speed": draw(st.sampled_from(["10M", "100M", "1G"])),
                }
            )
    attach_points = [f"sw{i}" for i in range(n_switches)]
    if draw(st.booleans()):
        nodes["hub0"] = {"kind": "hub", "ports": 6}
        links.append({"endpoints": ["hub0", "sw0"], "speed": "10M"})
        attach_points.append("hub0")
    n_hosts = draw(st.integers(2, 6))
    for h in range(n_hosts):
        nodes[f"h{h}"] = {"kind": "host", "buffer": "4KB"}
        at = draw(st.sampled_from(attach_points))
        link = {"endpoints": [f"h{h}", at]}
        if at == "hub0":
            link["speed"] = "10M"
        else:
            link["speed"] = draw(st.sampled_from(["10M", "100M", "1G"]))
            link["ber"] = draw(st.sampled_from([0.0, 0.0, 1e-5]))
        links.append(link)
    traffic = []
    for t in range(draw(st.integers(1, 4))):
        src = draw(st.integers(0, n_hosts - 1))
        dst = draw(st.sampled_from([h for h in range(n_hosts) if h != src] + [-1]))
        traffic.append(
            {
                "kind": "frames",
                "name": f"t{t}",
                "from": f"h{src}",
                "to": "broadcast" if dst < 0 else f"h{dst}",
                "size": draw(st.sampled_from([64, 512, 1518, [64, 1518]])),
                "rate": f"{draw(st.integers(5, 100))}%",
                "pattern": draw(st.sampled_from(["constant", "poisson"])),
            }
        )
    return {
        "name": "random",
        "seed": draw(st.integers(1, 1000)),
        "duration": "3ms",
        "topology": {"nodes": nodes, "links": links},
        "traffic": traffic,
    }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_networks())
def test_conservation_every_frame_is_delivered_or_dropped_with_a_reason(data):
    res = netsim.run(netsim.loads(yaml.safe_dump(data)))
    frames = res.frames
    assert frames["frame_id"].is_unique
    assert set(frames["outcome"]) <= {"delivered", "dropped"}
    dropped = frames[frames["outcome"] == "dropped"]
    assert (dropped["drop_reason"] != "").all()
    assert (dropped["drop_reason"] != "unreachable").all()
    delivered = frames[frames["outcome"] == "delivered"]
    assert (delivered["latency"] > 0).all()
    assert (delivered["hops"] >= 1).all()
    # A host's transmit counter counts exactly the frames that left its NIC.
    sent_by = frames[frames["t_first_bit_out"].notna()].groupby("src").size()
    tx = res.ports[res.ports["kind"] == "host"].set_index("device")["tx_frames"]
    for host, count in sent_by.items():
        assert tx[host] <= count


def test_the_readme_example_scenario_is_valid_and_runs():
    """The scenario README.md shows as the format's tour must not rot."""
    import re

    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    tour = netsim.loads(blocks[0], name="README.md")
    res = netsim.run(tour)
    assert {"frames1", "ping2", "tcp3", "tcp4", "imap5"} <= set(res.frames["traffic"]) | set(
        res.tcp["traffic"]
    ) | set(res.ping["traffic"]) | set(res.imap["traffic"])


def test_an_interrupted_run_returns_what_it_has():
    """Ctrl-C is a KeyboardInterrupt wherever the simulation is: here the progress
    callback raises it after the first 20,000 events. The run stops there, and its
    results are whole tables, marked as interrupted."""
    text = """\
name: long
duration: 10s
topology:
  nodes:
    h1: {kind: host}
    sw1: {kind: switch, ports: 4}
    h2: {kind: host}
  links:
    - endpoints: [h1, sw1]
    - endpoints: [sw1, h2]
traffic:
  - {kind: frames, from: h1, to: h2, size: 64, interval: 1us}
limits: {events: 100000000}
"""

    def ctrl_c(now: float) -> None:
        raise KeyboardInterrupt

    res = netsim.run(netsim.loads(text), progress=ctrl_c)
    assert res.summary["interrupted"] is True
    assert res.summary["events_processed"] == 20_000
    assert 0 < res.summary["simulated_time"] < 10
    assert set(res.frames["outcome"]) == {"delivered", "in-flight"}
    in_flight = res.frames[res.frames["outcome"] == "in-flight"]
    assert (in_flight["drop_reason"] == "").all()
    assert res.summary["frames"]["sent"] == len(res.frames)
    assert netsim.run(netsim.loads(text.replace("10s", "1ms"))).summary["interrupted"] is False


def test_json_safe_leaves_no_infinity_or_nan():
    from netsim.api import json_safe

    value = {"a": [1.0, float("inf"), {"b": float("nan")}], "c": (float("-inf"), 2), "d": "x"}
    assert json_safe(value) == {"a": [1.0, None, {"b": None}], "c": [None, 2], "d": "x"}
