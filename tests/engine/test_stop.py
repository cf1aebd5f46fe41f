"""A hard stop: ``stop: 2s`` ends the simulation at that time, whatever is in flight.

Without it a run drains: sources stop at ``duration`` and every queue empties, which
behind a saturated hub can take many simulated seconds. With it the clock stops at
``stop``; a frame still on a wire, inside a switch or queued for the medium is reported
``in-flight``, not lost, because nothing has happened to it yet. The oracle is the same
run without the stop: cutting a run short must not change its past, so every frame the
stopped run calls in flight is one that the full run resolves after the stop time.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import netsim
from netsim.cli import main

ROOT = Path(__file__).resolve().parents[2]
HUB = ROOT / "scenarios" / "hub-collisions.yaml"
STOP = 0.005


def _run(**overrides: object) -> netsim.Results:
    return netsim.run(netsim.load(HUB, overrides=overrides))


def test_stop_ends_a_saturated_hub_at_the_stop_time_and_marks_frames_in_flight(tmp_path):
    """Four stations offer 120 % of a 10 Mb/s hub for ten seconds; stop cuts it at 5 ms."""
    out = tmp_path / "stopped"
    args = ["run", str(HUB), "--set", "duration=10s", "--set", "stop=5ms", "--quiet"]
    assert main([*args, "--out", str(out), "--no-plots"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    frames = pd.read_csv(out / "frames.csv")
    assert summary["stop"] == STOP
    assert summary["simulated_time"] == STOP
    assert frames["t_queued"].max() <= STOP
    assert frames["t_last_bit_in"].max() <= STOP
    in_flight = frames[frames["outcome"] == "in-flight"]
    assert len(in_flight) > 0
    assert summary["frames"]["in_flight"] == len(in_flight)
    assert (
        summary["frames"]["delivered"] + summary["frames"]["dropped"] + len(in_flight)
        == summary["frames"]["sent"]
        == len(frames)
    )
    assert in_flight["t_last_bit_in"].isna().all()
    assert (in_flight["drop_reason"].isna()).all(), "in flight is not a drop"


def test_the_stop_does_not_change_the_past_and_in_flight_frames_resolve_later():
    """Same scenario and seed, drained to the end: frames the stopped run finished end the
    same way at the same times; its in-flight frames end after the stop, none before."""
    stopped = _run(duration="20ms", stop="5ms").frames.set_index("frame_id")
    full = _run(duration="20ms").frames.set_index("frame_id")
    assert stopped.index.isin(full.index).all()
    finished = stopped[stopped["outcome"] != "in-flight"]
    pd.testing.assert_frame_equal(finished, full.loc[finished.index])
    later = full.loc[stopped.index[stopped["outcome"] == "in-flight"]]
    assert len(later) > 0
    # Delivered after the stop, or dropped (excessive collisions): never delivered by it.
    assert ((later["outcome"] == "dropped") | (later["t_last_bit_in"] > STOP)).all()
    # And no frame the full run delivered by the stop is missing from the stopped run.
    early = full[(full["outcome"] == "delivered") & (full["t_last_bit_in"] <= STOP)]
    assert (stopped.loc[early.index, "outcome"] == "delivered").all()


def test_a_switched_fabric_reports_frames_on_the_wire_and_in_the_switch():
    """On full duplex nothing queues as objects: the frames in flight are the pending
    deliveries. One full frame a millisecond across two switches, stopped mid-frame."""
    text = """
name: stop-switched
duration: 1s
stop: 1.0005ms
topology:
  defaults: {link: {speed: 10M, delay: 5us}}
  nodes:
    h1: {kind: host}
    sw1: {kind: switch}
    sw2: {kind: switch}
    h2: {kind: host}
  links:
    - endpoints: [h1, sw1]
    - endpoints: [sw1, sw2]
    - endpoints: [sw2, h2]
traffic:
  - {kind: frames, from: h1, to: h2, size: 1518, interval: 1ms}
"""
    res = netsim.run(netsim.loads(text))
    frames = res.frames
    assert res.summary["simulated_time"] == 0.0010005
    # Frame 1 (t=0) took about 3.7 ms of serialization: at 1.0005 ms it is still crossing.
    assert list(frames["outcome"]) == ["in-flight", "in-flight"]
    assert res.summary["frames"]["dropped"] == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0s", "positive, finite"),
        ("-2s", "cannot be negative"),
        ("1e400s", "finite"),  # the quantity reader refuses it first
        ("2", "needs a unit"),
    ],
)
def test_stop_must_be_a_positive_finite_time(value, expected, capsys):
    assert main(["validate", str(HUB), "--set", f"stop={value}"]) == 2
    err = capsys.readouterr().err
    assert "stop" in err
    assert expected in err
    assert "Traceback" not in err
