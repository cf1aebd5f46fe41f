"""The ladder (time-space) diagram: what it draws is what validation.md's formulas say.

For one frame crossing n = switches + 1 equal links (rate R, delay d, W = frame + 8 bytes
on the wire, T = W*8/R its serialization time), hop k (counted from 0) starts leaving its
sender at

- store-and-forward: k * (T + d)            every switch waits for the last bit;
- cut-through:       k * (22*8/R + d)       every switch waits for preamble + header;
- fragment-free:     k * (min(72, W)*8/R + d)   every switch waits for 64 frame bytes;

its first bit arrives d later and its last bit T after that. The last hop's last bit is
the RFC 1242 latency of ../shared/reference/validation.md. The tests read these instants
back from the corners of the parallelograms the figure draws, so the picture a student
sees is checked, not only the table behind it.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from matplotlib.patches import Polygon

import netsim
from netsim.plots.ladder import ladder_figure, ladder_path, path_devices, save_ladder

NS = 1e-9
US = 1e-6
RATE, DELAY = 100e6, 50e-9
MODES = ("store-and-forward", "cut-through", "fragment-free")


def decisive_bytes(mode: str, wire: int) -> int:
    """Bytes a switch in ``mode`` waits for before it starts sending (validation.md)."""
    return {"store-and-forward": wire, "cut-through": 22, "fragment-free": min(72, wire)}[mode]


def expected_hops(mode: str, switches: int, size: int) -> list[tuple[float, float, float]]:
    """(first bit out, first bit in, last bit in) of every hop, since the first bit left."""
    wire = size + 8
    serialize = wire * 8 / RATE
    step = decisive_bytes(mode, wire) * 8 / RATE + DELAY
    return [(k * step, k * step + DELAY, k * step + DELAY + serialize) for k in range(switches + 1)]


def drawn_bands(fig, panel: int) -> list[list[tuple[float, float]]]:
    """The corners (column, µs) of the frame's bands in one panel, left to right."""
    ax = fig.axes[panel]
    bands = [p.get_xy()[:4] for p in ax.patches if isinstance(p, Polygon)]
    return sorted((list(map(tuple, b)) for b in bands), key=lambda b: b[0][0])


@pytest.mark.parametrize("size", [64, 1518])
@pytest.mark.parametrize("switches", [1, 2, 3, 4])
def test_every_hop_drawn_equals_the_formulas(chain, switches: int, size: int):
    """1-4 switches, each mode: the hops table and the drawn corners agree with
    validation.md within 1 ns, and the last bit in is the RFC 1242 latency."""
    scenario = chain(["store-and-forward"] * switches, ["100M"] * (switches + 1), size=size)
    hops = netsim.follow_frame(scenario, 2)  # frame 1 is the warm-up that teaches the switches
    fig = ladder_figure(hops, title=f"{switches} switches, {size} B")
    for panel, mode in enumerate(MODES):
        path = ladder_path(hops[mode])
        assert path_devices(path) == ["h1", *(f"sw{i + 1}" for i in range(switches)), "h2"]
        t0 = float(path["t_first_bit_out"].iloc[0])
        want = expected_hops(mode, switches, size)
        bands = drawn_bands(fig, panel)
        assert len(bands) == switches + 1
        for k, (first_out, first_in, last_in) in enumerate(want):
            row = path.iloc[k]
            assert row["t_first_bit_out"] - t0 == pytest.approx(first_out, abs=NS)
            assert row["t_first_bit_in"] - t0 == pytest.approx(first_in, abs=NS)
            assert row["t_last_bit_in"] - t0 == pytest.approx(last_in, abs=NS)
            # Corners: first bit out, first bit in, last bit in, last bit out (µs).
            (x_out, y_fo), (x_in, y_fi), (_, y_li), _ = bands[k]
            assert (x_out, x_in) == (k, k + 1)
            assert y_fo * US == pytest.approx(first_out, abs=NS)
            assert y_fi * US == pytest.approx(first_in, abs=NS)
            assert y_li * US == pytest.approx(last_in, abs=NS)
        n, wire = switches + 1, size + 8
        rfc1242 = {
            "store-and-forward": n * (wire * 8 / RATE + DELAY),
            "cut-through": wire * 8 / RATE + (n - 1) * 22 * 8 / RATE + n * DELAY,
            "fragment-free": wire * 8 / RATE + (n - 1) * min(72, wire) * 8 / RATE + n * DELAY,
        }[mode]
        assert want[-1][2] == pytest.approx(rfc1242, abs=NS)
        shown = fig.axes[panel].get_title().splitlines()[1]  # "latency 12.632 µs"
        assert float(shown.split()[1].replace(",", "")) * US == pytest.approx(rfc1242, abs=NS)


def test_the_figure_renders_one_panel_per_mode_on_one_time_axis(chain, tmp_path, png_size):
    """Three panels side by side share the time axis, which grows downward, and the
    PNG is written."""
    hops = netsim.follow_frame(chain(["cut-through"] * 2, ["100M"] * 3, size=512), 2)
    out = save_ladder(hops, tmp_path / "ladder.png", title="two switches")
    width, height = png_size(out)
    assert width > height > 0
    fig = ladder_figure(hops)
    assert [ax.get_title().splitlines()[0] for ax in fig.axes] == list(MODES)
    bottom, top = fig.axes[0].get_ylim()
    assert bottom > top, "time must grow downward"
    assert all(ax.get_ylim() == (bottom, top) for ax in fig.axes)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == ["h1\neth0", "sw1\n1 → 2", "sw2\n1 → 2", "h2\neth0"]


def test_cut_through_pipelines_store_and_forward_does_not(chain):
    """Pipelining, the point of the picture: with cut-through the next hop starts before
    the previous one has ended (the bands overlap in time); with store-and-forward never."""
    hops = netsim.follow_frame(chain(["store-and-forward"] * 3, ["100M"] * 4, size=1518), 2)
    for mode, overlaps in [("store-and-forward", False), ("cut-through", True)]:
        path = ladder_path(hops[mode])
        starts = path["t_first_bit_out"].to_numpy()[1:]
        ends = path["t_last_bit_in"].to_numpy()[:-1]
        assert bool((starts < ends).all()) is overlaps, mode


def test_a_flooded_frame_is_drawn_to_the_receiver_asked_for():
    """The first frame of learning-aging floods to h2 and h3: ``to`` picks the branch."""
    scenario = netsim.load("scenarios/learning-aging.yaml")
    hops = netsim.follow_frame(scenario, 1, modes=None)["as configured"]
    assert path_devices(ladder_path(hops, to="h3")) == ["h1", "sw1", "h3"]
    assert path_devices(ladder_path(hops, to="h2")) == ["h1", "sw1", "h2"]
    with pytest.raises(ValueError, match="never reached 'nowhere'"):
        ladder_path(hops, to="nowhere")


def test_save_ladder_follows_the_branch_asked_for(tmp_path):
    """``save_ladder(..., to=)`` draws the path to that receiver (the CLI's ``--to``)."""
    scenario = netsim.load("scenarios/learning-aging.yaml")
    hops = netsim.follow_frame(scenario, 1, modes=None)
    assert save_ladder(hops, tmp_path / "h3.png", to="h3").stat().st_size > 0
    labels = [t.get_text() for t in ladder_figure(hops, to="h3").axes[0].get_xticklabels()]
    assert labels[-1] == "h3\neth0"


def test_collision_fragments_on_a_hub_are_drawn_before_the_frame():
    """On a hub a frame may collide and be retried: the aborted attempts are grey,
    hatched bands above (earlier than) the copy that got through."""
    scenario = netsim.load("scenarios/hub-collisions.yaml")
    hops = netsim.follow_frame(scenario, 3, modes=None)
    table = hops["as configured"]
    assert (table["bytes"] < 64).any(), "frame 3 of this scenario collides first"
    fig = ladder_figure(hops, to="server")
    hatched = [p for p in fig.axes[0].patches if p.get_hatch()]
    assert hatched and all(max(y for _, y in p.get_xy()) < 0 for p in hatched)


def test_drawing_a_ladder_never_imports_pyplot(tmp_path):
    """Like every netsim figure, the ladder uses matplotlib's object API only."""
    code = f"""
import sys
from pathlib import Path
import pandas as pd
from netsim.plots.ladder import save_ladder
hops = pd.DataFrame({{"frame_id": [1, 1], "from_port": ["a:eth0", "sw:2"],
    "to_port": ["sw:1", "b:eth0"], "t_first_bit_out": [0.0, 1e-6],
    "t_last_bit_out": [5e-6, 6e-6], "t_first_bit_in": [1e-7, 1.1e-6],
    "t_last_bit_in": [5.1e-6, 6.1e-6], "bytes": [512, 512]}})
save_ladder({{"cut-through": hops}}, Path({str(tmp_path / "l.png")!r}))
assert "matplotlib.pyplot" not in sys.modules, "pyplot was imported"
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
