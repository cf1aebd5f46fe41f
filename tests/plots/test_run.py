"""The figures of a run: what each one shows, and that a figure without data is skipped.

``save_run_plots`` writes latency.png (frame latency per traffic source), imap_latency.png
(IMAP command latency), port_utilization.png (transmit utilization per port),
mac_table.png (MAC table size per switch over time) and topology.png, each only when the
run has data for it. Every figure is drawn with matplotlib's object API, never pyplot.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

import netsim
from netsim.metrics.results import Results
from netsim.plots.run import (
    imap_latency_figure,
    latency_figure,
    mac_table_figure,
    port_utilization_figure,
    save_run_plots,
)

ROOT = Path(__file__).resolve().parents[2]

OFFICE = """
name: plots-office
duration: 200ms
topology:
  defaults:
    link: {speed: 100M, delay: 1us}
    switch: {aging: 50ms}
  nodes:
    core: {kind: switch, ports: 4}
    access: {kind: switch, ports: 8}
    mail: {kind: host}
    h1: {kind: host}
    h2: {kind: host}
  links:
    - {endpoints: [access, core], speed: 1G}
    - {endpoints: [core, mail], speed: 1G}
    - endpoints: [h1, access]
    - endpoints: [h2, access]
traffic:
  - {kind: frames, name: bulk, from: h2, to: h1, size: 512, count: 50, interval: 100us}
  - kind: imap
    name: office
    server: mail
    clients: [h1, h2]
    session: [check-new-mail, NOOP]
    repeat: 2
    think: 10ms
"""

HUB = """
name: plots-hub
duration: 2ms
topology:
  defaults:
    link: {media: 10BASE-T, length: 20m}
  nodes:
    hub1: {kind: hub, ports: 4}
    a: {kind: host}
    b: {kind: host}
    c: {kind: host}
  links:
    - endpoints: [a, hub1]
    - endpoints: [b, hub1]
    - endpoints: [c, hub1]
traffic:
  - {kind: frames, name: a, from: a, to: c, size: 64, rate: 40%, pattern: poisson}
  - {kind: frames, name: b, from: b, to: c, size: 64, rate: 40%, pattern: poisson}
"""


@pytest.fixture(scope="module")
def office() -> tuple[netsim.LoadedScenario, Results]:
    scenario = netsim.loads(OFFICE)
    return scenario, netsim.run(scenario)


def check_png(path: Path, min_width: int = 600, min_height: int = 300) -> None:
    """A real PNG, as big as a readable figure and not absurdly big."""
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = imread(path)
    height, width = pixels.shape[:2]
    assert min_width <= width <= 4000 and min_height <= height <= 3000, (path.name, width, height)
    assert pixels.std() > 0.01, f"{path.name} is blank"


def test_a_mail_office_run_gets_all_five_figures(office, tmp_path):
    scenario, res = office
    paths = save_run_plots(res, scenario.topology, tmp_path / "figs")
    names = [
        "latency.png",
        "imap_latency.png",
        "port_utilization.png",
        "mac_table.png",
        "topology.png",
    ]
    assert [p.name for p in paths] == names
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == sorted(names)
    for path in paths:
        check_png(path)


def test_a_hub_run_has_no_imap_and_no_mac_table_figure(tmp_path):
    """A hub learns nothing and nobody speaks IMAP: those two figures are left out."""
    scenario = netsim.loads(HUB)
    res = netsim.run(scenario)
    paths = save_run_plots(res, scenario.topology, tmp_path)
    assert [p.name for p in paths] == ["latency.png", "port_utilization.png", "topology.png"]
    assert not (tmp_path / "imap_latency.png").exists()


def labels(fig) -> list[tuple[str, str, str]]:
    return [(ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) for ax in fig.axes]


def test_every_figure_has_a_title_and_axis_labels_with_units(office):
    _, res = office
    end = res.summary["simulated_time"]
    figs = {
        "latency": latency_figure(res.frames, "x"),
        "imap": imap_latency_figure(res.imap, "x"),
        "ports": port_utilization_figure(res.ports, end, "x"),
        "mac": mac_table_figure(res.mac_events, end, "x"),
    }
    units = {"latency": "(µs)", "imap": "(ms)", "ports": "speed", "mac": "time ("}
    for name, fig in figs.items():
        assert fig is not None, name
        for title, xlabel, ylabel in labels(fig):
            assert title and xlabel and ylabel, name
        assert units[name] in fig.axes[0].get_xlabel(), name
        assert fig.axes[0].get_legend() is not None, name


def test_latency_shows_each_traffic_source_and_the_wait_before_sending(office):
    """One ECDF per traffic source (bulk frames, the IMAP session's TCP, ARP); the bulk
    source's 512-byte frames take two store-and-forward hops when the path is idle."""
    _, res = office
    fig = latency_figure(res.frames)
    ax = fig.axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    sources = sorted(res.frames["traffic"].unique())
    assert [t.split(" ")[0] for t in legend] == sources
    assert any(t.startswith("bulk (n=50,") for t in legend)
    bulk = next(line for line in ax.get_lines() if line.get_label().startswith("bulk"))
    latency_us = 2 * (512 + 8) * 8 / 100e6 * 1e6 + 2  # two hops, 1 µs each
    xs = bulk.get_xdata()
    # Most cross an idle path; a few queue behind IMAP replies on the port to h1.
    assert xs.min() == pytest.approx(latency_us)
    assert np.median(xs) == pytest.approx(latency_us)


def test_latency_is_skipped_when_nothing_arrived(office):
    _, res = office
    dropped = res.frames.assign(outcome="dropped")
    assert latency_figure(dropped) is None
    assert latency_figure(res.frames.iloc[0:0]) is None


def test_imap_latency_has_a_row_per_command_fastest_on_top(office):
    _, res = office
    fig = imap_latency_figure(res.imap)
    rows = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    commands = res.imap["command"].unique()
    assert sorted(r.split(" (n=")[0] for r in rows) == sorted(commands)
    medians = res.imap.groupby("command")["latency"].median()
    top = rows[-1].split(" (n=")[0]  # matplotlib counts rows upwards
    assert medians[top] == medians.min()
    assert imap_latency_figure(pd.DataFrame()) is None


def test_port_utilization_lists_connected_ports_busiest_on_top(office):
    _, res = office
    fig = port_utilization_figure(res.ports, res.summary["simulated_time"])
    rows = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(rows) == (res.ports["speed_bps"] > 0).sum() == 8
    assert rows[-1].startswith("h2:eth0") or rows[-1].startswith("access:")
    assert all("(" in r and r.endswith(")") for r in rows)  # device:port (speed)
    bars = [p.get_width() for p in fig.axes[0].patches]
    assert bars == sorted(bars)  # bottom to top: least to most busy
    unconnected = res.ports.assign(speed_bps=0.0)
    assert port_utilization_figure(unconnected, 1.0) is None


def test_port_utilization_lists_at_most_thirty_ports():
    ports = pd.DataFrame(
        {
            "device": [f"sw{i // 10}" for i in range(45)],
            "kind": "switch",
            "port": [str(i % 10) for i in range(45)],
            "speed_bps": 1e9,
            "tx_frames": range(45),
            "tx_octets": [1000 * i for i in range(45)],
        }
    )
    fig = port_utilization_figure(ports, 1.0)
    assert len(fig.axes[0].get_yticklabels()) == 30
    assert "top 30 of 45" in fig.axes[0].get_title()


def test_mac_table_marks_first_learn_plus_aging(office):
    """With aging given, a dashed line marks the first learn + aging for each switch."""
    _, res = office
    end = res.summary["simulated_time"]
    fig = mac_table_figure(res.mac_events, end, aging={"access": 0.05, "core": 0.05})
    ax = fig.axes[0]
    steps = [line for line in ax.get_lines() if line.get_linestyle() == "-"]
    marks = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(steps) == 2 and len(marks) == 2
    first = res.mac_events[res.mac_events["event"] == "learn"].groupby("device")["time"].min()
    assert sorted(m.get_xdata()[0] for m in marks) == pytest.approx(sorted(first + 0.05))
    # Each step line ends where the run does, at the final table size (all aged out: 0).
    assert all(line.get_ydata()[-1] == 0 for line in steps)
    assert all(line.get_xdata()[-1] == pytest.approx(end) for line in steps)
    # Aging past the end of the run: no line, a note instead.
    late = mac_table_figure(res.mac_events, end, aging={"core": 300.0})
    assert [line.get_linestyle() for line in late.axes[0].get_lines()] == ["-", "-"]
    assert "aging (300 s) falls after the run: core" in late.axes[0].get_xlabel()
    assert mac_table_figure(res.mac_events.iloc[0:0], end) is None


def test_plotting_never_imports_pyplot(tmp_path):
    """A fresh interpreter draws every figure and still has no pyplot (no global state)."""
    code = f"""
import sys
from pathlib import Path
import pandas as pd
from netsim.metrics.results import Results
from netsim.plots.run import save_run_plots
from netsim.plots.sweep import plot_sweep
from netsim.topology.topology import LinkSpec, NodeSpec, Topology
results = Path({str(ROOT / "results")!r})
topo = Topology(
    {{"sw": NodeSpec("sw", "switch", ("1", "2")), "a": NodeSpec("a", "host", ("eth0",)),
      "b": NodeSpec("b", "host", ("eth0",))}},
    [LinkSpec(("a", "eth0"), ("sw", "1"), 1e8, 0.0, "full"),
     LinkSpec(("sw", "2"), ("b", "eth0"), 1e8, 0.0, "half")],
)
frames = pd.DataFrame({{"traffic": ["t", "t"], "outcome": ["delivered"] * 2,
    "latency": [1e-5, 2e-5], "t_queued": [0.0, 0.0], "t_first_bit_out": [0.0, 1e-6]}})
ports = pd.DataFrame({{"device": ["sw"], "kind": ["switch"], "port": ["1"],
    "speed_bps": [1e8], "tx_frames": [1], "tx_octets": [64]}})
macs = pd.DataFrame({{"time": [0.0], "device": ["sw"], "event": ["learn"]}})
imap = pd.DataFrame({{"command": ["NOOP"], "latency": [1e-4], "status": ["OK"]}})
res = Results(frames, ports, macs, {{"scenario": "s", "simulated_time": 1.0}},
              extra={{"imap": imap}})
out = save_run_plots(res, topo, Path({str(tmp_path)!r}), aging={{"sw": 0.5}})
plot_sweep(pd.DataFrame({{"m": ["a", "b"], "y": [1.0, 2.0]}}), ["m"], "y",
           Path({str(tmp_path / "sweep.png")!r}))
assert len(out) == 5, out
assert "matplotlib.pyplot" not in sys.modules, "pyplot was imported"
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_plots_import_only_data_layers():
    """netsim.plots reads metrics and topology data; it never reaches up into the api,
    cli, scenario or apps, and never imports pyplot."""
    allowed = ("netsim.metrics", "netsim.topology", "netsim.plots")
    for path in sorted((ROOT / "netsim" / "plots").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                assert "pyplot" not in name, (path.name, name)
                if name.startswith("netsim"):
                    assert name.startswith(allowed), (path.name, name)


def test_aging_marks_default_to_the_topologys_switches(office, tmp_path, monkeypatch):
    """The scenario gives every switch 50 ms of aging: save_run_plots marks it unasked;
    an empty ``aging`` turns the marks off."""
    from netsim.plots import run

    scenario, res = office
    saved: dict[str, object] = {}
    real = run.save_figure

    def keep(fig, path):
        saved[path.name] = fig
        return real(fig, path)

    monkeypatch.setattr(run, "save_figure", keep)

    def dashed(aging):
        save_run_plots(res, scenario.topology, tmp_path, aging=aging)
        ax = saved["mac_table.png"].axes[0]
        return [line for line in ax.get_lines() if line.get_linestyle() == "--"]

    assert len(dashed(None)) == 2
    assert dashed({}) == []


def test_many_traffic_sources_keep_the_nine_biggest_and_merge_the_rest():
    """Fifteen sources would be an unreadable tangle: the nine with most frames get a
    line each, the other six share one."""
    rows = [
        {
            "traffic": f"s{i:02d}",
            "outcome": "delivered",
            "latency": 1e-5 * (i + 1),
            "t_queued": 0.0,
            "t_first_bit_out": 0.0,
        }
        for i in range(15)
        for _ in range(i + 1)  # source i sends i + 1 frames
    ]
    fig = latency_figure(pd.DataFrame(rows))
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert len(fig.axes) == 1  # nobody waited: no second panel
    assert [t.split(" ")[0] for t in legend[:9]] == [f"s{i:02d}" for i in range(6, 15)]
    assert legend[9].startswith("other (6 sources) (n=21,")
