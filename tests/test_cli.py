"""The command line's drawing commands: a topology picture, and a frame's ladder diagram
per switching mode; a frame that does not exist is one clear error. Output paths that
cannot be written are one message each, found before any work; Ctrl-C saves a run's
results so far."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from netsim.cli import main

ROOT = Path(__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n"


def test_draw_writes_the_topology(tmp_path, capsys):
    out = tmp_path / "topo.png"
    assert main(["draw", str(ROOT / "scenarios" / "mail-office.yaml"), "-o", str(out)]) == 0
    assert out.read_bytes().startswith(PNG)
    assert "9 devices" in capsys.readouterr().out


def test_ladder_draws_one_frame_in_the_three_modes(tmp_path, capsys):
    out = tmp_path / "ladder.png"
    args = ["ladder", str(ROOT / "scenarios" / "two-switches.yaml"), "--frame", "3", "-o", str(out)]
    assert main(args) == 0
    assert out.read_bytes().startswith(PNG)
    assert "store-and-forward, cut-through, fragment-free" in capsys.readouterr().out


def test_ladder_of_a_frame_that_never_was_is_an_error(tmp_path, capsys):
    args = [
        "ladder",
        str(ROOT / "scenarios" / "two-switches.yaml"),
        "--frame",
        "999",
        "-o",
        str(tmp_path / "x.png"),
    ]
    assert main(args) == 2
    assert "--frame 999: frame 999 never crossed a link" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


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


def scenario_file(tmp_path: Path, text: str = BASE) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("out", "words"),
    [
        (
            lambda tmp: (tmp / "f.txt", (tmp / "f.txt").write_text("x"))[0],
            "is a file, not a folder",
        ),
        (lambda tmp: tmp / "f.txt" / "sub", "cannot create the folder"),
        (lambda tmp: Path("/proc/netsim-cannot-be-here"), "cannot create the folder"),
    ],
    ids=["a file", "under a file", "an uncreatable path"],
)
def test_a_bad_out_path_is_one_message_before_the_run(tmp_path, capsys, out, words):
    (tmp_path / "f.txt").write_text("x")
    target = out(tmp_path)
    status = main(["run", str(scenario_file(tmp_path)), "--out", str(target), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith(f"error: --out {target}: {words}") and err.count("\n") == 1, err


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
def test_a_folder_without_write_permission_is_one_message(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    status = main(["run", str(scenario_file(tmp_path)), "--out", str(locked), "--quiet"])
    assert status == 2
    assert "cannot write into this folder" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["draw", "ladder"])
def test_a_figure_path_that_cannot_be_written_is_one_message(tmp_path, capsys, command):
    extra = ["--frame", "1"] if command == "ladder" else []
    for target, words in [
        (tmp_path, "is a folder; give a file name"),
        (tmp_path / "missing" / "x.png", f"the folder {tmp_path / 'missing'} does not exist"),
    ]:
        argv = [command, str(scenario_file(tmp_path)), *extra, "-o", str(target)]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert f"error: -o {target}: {words}" in err and "Traceback" not in err


def test_ctrl_c_stops_the_run_and_saves_what_it_has(tmp_path):
    """SIGINT (Ctrl-C) to ``netsim run``: exit status 130 (128 + SIGINT), and the results
    folder holds valid tables and a summary that says the run was interrupted."""
    long_run = BASE.replace("duration: 1ms", "duration: 100s").replace(
        "count: 1}", "interval: 1us}"
    )
    path = scenario_file(tmp_path, long_run + "limits: {events: 1000000000}\n")
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "netsim", "run", str(path), "--out", str(out)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()  # printed once the scenario is loaded and built
        assert first.startswith("running base:"), first
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=120)  # catches a hang; times nothing
        status = proc.returncode
    finally:
        proc.kill()
    assert status == 130, rest
    assert "interrupted at" in rest and "Traceback" not in rest
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] is True
    # The signal may land before the first event is processed: 0 is a fair time reached.
    assert 0 <= summary["simulated_time"] < 100
    frames = pd.read_csv(out / "frames.csv")
    assert set(frames["outcome"]) <= {"delivered", "dropped", "in-flight"}
    assert summary["frames"]["sent"] == len(frames)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_stops_a_sweep_without_a_traceback(tmp_path, workers):
    """A terminal sends SIGINT to the whole process group: the main process and every
    worker. Workers ignore it and are stopped by the main process, which exits with 130;
    nobody prints a traceback."""
    long_run = BASE.replace("duration: 1ms", "duration: 100s").replace(
        "count: 1}", "interval: 1us}"
    )
    text = long_run + "limits: {events: 1000000000}\nsweep:\n  seed: [1, 2, 3]\n"
    path = scenario_file(tmp_path, text)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "netsim",
            "sweep",
            str(path),
            "--workers",
            workers,
            "--out",
            str(tmp_path / "out"),
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        start_new_session=True,  # its own process group, as a terminal gives a command
    )
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        assert first.startswith("running 3 runs"), first
        os.killpg(proc.pid, signal.SIGINT)
        _, rest = proc.communicate(timeout=120)  # catches a hang; times nothing
        status = proc.returncode
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert status == 130, rest
    assert "interrupted" in rest and "Traceback" not in rest, rest


def test_run_prints_each_measured_path_availability(tmp_path, capsys):
    """Lab 13 ends with its path: outages, downtime, measured and analytic availability;
    availability.csv holds one row per outage."""
    out = tmp_path / "lab10"
    assert main(["run", str(ROOT / "scenarios/labs/13-availability.yaml"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "path             outages  downtime  measured A  analytic A" in printed
    assert "f1r1h01 -> mail      463   18888 s     0.98111     0.98240" in printed
    assert len(pd.read_csv(out / "availability.csv")) == 463


def test_run_stopped_by_the_storm_guard_says_why_and_saves(tmp_path, capsys):
    """A loop without spanning tree: the run stops at limits.floods, says so in one line,
    and the results are saved."""
    lab = Path(__file__).resolve().parents[1] / "scenarios" / "labs" / "16-broadcast-storm.yaml"
    assert main(["run", str(lab), "--out", str(tmp_path), "--no-plots", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "stopped: broadcast storm: frame 1 was flooded 20000 times" in err
    assert (tmp_path / "summary.json").exists() and (tmp_path / "mac_events.csv").exists()
