"""``measure: frames:``: a long run need not keep a record of every frame.

``all`` lists every frame hosts send in frames.csv; ``sample N`` one in N, the same ones
in every run and in whatever order flows interleave; ``none`` no frame at all. The
simulation itself is unchanged: ports count every frame, and summary.json says how many
frames hosts sent and that frames.csv is a sample.
"""

from __future__ import annotations

import pandas as pd
import pytest

import netsim
from netsim.scenario.errors import ScenarioError

SCENARIO = """
name: sample
duration: 50ms
topology:
  defaults: {link: {speed: 100M, delay: 1us}}
  nodes:
    h1: {kind: host}
    h2: {kind: host}
    h3: {kind: host}
    sw1: {kind: switch, ports: 4}
  links:
    - endpoints: [h1, sw1]
    - endpoints: [h2, sw1]
    - endpoints: [h3, sw1]
traffic:
  - {kind: frames, name: a, from: h1, to: h3, size: 200, interval: 20us}
  - {kind: frames, name: b, from: h2, to: h3, size: 200, interval: 20us}
"""


def _run(frames: str) -> netsim.Results:
    return netsim.run(netsim.loads(SCENARIO + f"measure: {{frames: {frames}}}\n"))


def test_a_sample_is_a_subset_of_the_full_record_row_for_row() -> None:
    """Every sampled row is the very row the full record has for that frame."""
    full = _run("all")
    sampled = _run("sample 10")
    assert 0.05 * len(full.frames) < len(sampled.frames) < 0.2 * len(full.frames)
    rows = full.frames.set_index("frame_id").loc[sampled.frames["frame_id"]].reset_index()
    pd.testing.assert_frame_equal(rows, sampled.frames, check_exact=True)
    # Both flows are in the sample, though their frames alternate ids.
    assert set(sampled.frames["traffic"]) == {"a", "b"}
    pd.testing.assert_frame_equal(full.ports, sampled.ports)


def test_the_summary_says_what_was_recorded_and_counts_every_frame() -> None:
    """frames.csv may be short; the count of frames sent is not."""
    full = _run("all")
    none = _run("none")
    assert none.frames.empty
    assert none.summary["frames"]["recorded"] == "none"
    assert none.summary["frames"]["sent_by_hosts"] == len(full.frames)
    assert "recorded" not in full.summary["frames"]


@pytest.mark.parametrize("text", ["sample 0", "sample", "some", "sample -3"])
def test_a_bad_value_gets_one_located_message(text: str) -> None:
    """Anything but all, none or sample N (N from 1) is refused with where and what."""
    with pytest.raises(ScenarioError) as error:
        netsim.loads(SCENARIO + f"measure: {{frames: {text}}}\n")
    assert "measure.frames" in str(error.value)
