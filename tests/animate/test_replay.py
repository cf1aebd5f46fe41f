"""What a replay records and writes, without a browser: windows, the frame cap, the file.

A window follows every frame put on a link inside it, to the end of its journey; a cap
keeps a long run's page small and says where it cut; the page is one file that names no
other resource; a notebook gets the same page in an iframe.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import netsim
from netsim.animate import display, page, record
from netsim.cli import main

ROOT = Path(__file__).resolve().parents[2]
LEARNING = ROOT / "scenarios" / "learning-aging.yaml"
TCP = ROOT / "scenarios" / "tcp-basics.yaml"


def page_data(text: str) -> dict:
    match = re.search(
        r'<script id="netsim-data" type="application/json">(.*?)</script>', text, re.S
    )
    assert match is not None
    return json.loads(match.group(1))


def test_a_window_follows_the_frames_sent_inside_it():
    """learning-aging sends frames at 0, 1, 2, 6, 8 and 8.5 ms: a 1.5..7 ms window holds
    the two sent at 2 and 6 ms, hop by hop, as a follow=[ids] run records them."""
    scenario = netsim.load(LEARNING)
    results = record(scenario, start=0.0015, end=0.007)
    assert sorted(results.frame_bytes) == [3, 4]
    followed = netsim.run(scenario, follow=[3, 4]).hops
    assert results.hops.reset_index(drop=True).equals(followed.reset_index(drop=True))
    assert results.window_cut is None


def test_following_frames_changes_nothing_the_run_measures():
    """A replay's run is the same run: same frames, same times, same MAC events."""
    scenario = netsim.load(LEARNING)
    plain, replayed = netsim.run(scenario), record(scenario)
    assert plain.frames.equals(replayed.frames)
    assert plain.mac_events.equals(replayed.mac_events)
    assert plain.ports.equals(replayed.ports)


def test_the_frame_cap_cuts_the_window_and_says_where(tmp_path, capsys):
    out = tmp_path / "tcp.html"
    assert main(["animate", str(TCP), "-o", str(out), "--max-frames", "40"]) == 0
    captured = capsys.readouterr()
    assert "40 frames" in captured.out
    assert "note: more than 40 frames in the window: the replay stops at" in captured.err
    data = page_data(out.read_text())
    assert len(data["frames"]) == 40
    assert data["window"]["cut"] is not None


def test_the_page_is_one_file_that_fetches_nothing(tmp_path):
    results = record(netsim.load(LEARNING))
    text = page(results, title="lab </script> & co")
    assert "default-src 'none'" in text  # the browser refuses any fetch
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "lab &lt;/script&gt; &amp; co" in text
    data = page_data(text)
    assert len(data["events"]) == 14
    first = results.mac_events.iloc[0]
    assert data["mac"]["events"][0][:3] == [first["time"], "sw1", "learn"]


def test_results_without_followed_frames_are_a_clear_error():
    with pytest.raises(
        ValueError, match=r"followed no frames: make them with netsim.animate.record"
    ):
        page(netsim.run(netsim.load(LEARNING)))


def test_a_notebook_gets_the_page_in_an_iframe():
    html = display(record(netsim.load(LEARNING)))
    assert '<iframe srcdoc="&lt;!DOCTYPE html&gt;' in html.data
    assert 'sandbox="allow-scripts"' in html.data


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--from", "soon"], "error: "),
        (["--from", "5ms", "--to", "1ms"], "the window ends (0.001 s) before it starts"),
        (["--max-frames", "0"], "--max-frames: expected 1 or more"),
    ],
)
def test_animate_mistakes_are_one_line_and_status_2(tmp_path, capsys, argv, message):
    out = tmp_path / "x.html"
    assert main(["animate", str(LEARNING), "-o", str(out), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("name", ["learning-aging", "hub-collisions", "two-switches"])
def test_the_counters_a_replay_ends_with_are_ports_csv(name):
    """Each frame's hops note the counters of the ports around it (a hub's too), so a
    window over the whole run ends with the run's own counters on every port it touched."""
    scenario = netsim.load(ROOT / "scenarios" / f"{name}.yaml")
    results = record(scenario)
    assert results.window_cut is None
    last = results.counter_changes.groupby(["device", "port"]).last()
    ports = results.ports.set_index(["device", "port"])
    assert len(last) >= len(ports[ports["peer"] != ""]) - 1
    for key, row in last.iterrows():
        for name_ in ("rx_frames", "tx_frames", "rx_octets", "tx_octets", "collisions", "runts"):
            assert row[name_] == ports.loc[key, name_], (key, name_)
