"""Comparing the runs of a sweep: a metric against the first parameter, one series per
combination of the others. A numeric parameter (a link speed, a frame size) gives lines;
a categorical one (the switching mode) gives grouped bars. Repeated runs of one point
(several seeds) are averaged, their standard deviation drawn as an error bar.
"""

from __future__ import annotations

import itertools

import pandas as pd
import pytest
from matplotlib.figure import Figure

from netsim.plots import sweep
from netsim.plots.sweep import plot_sweep

MODES = ["store-and-forward", "cut-through", "fragment-free"]


def table() -> pd.DataFrame:
    rows = []
    for mode, size, rate, seed in itertools.product(MODES, [64, 512, 1518], [1e8, 1e9], [1, 2]):
        latency = (size + 8) * 8 / rate * (3 if mode == "store-and-forward" else 1) + seed * 1e-7
        rows.append({"mode": mode, "size": size, "rate": rate, "seed": seed, "latency": latency})
    return pd.DataFrame(rows)


@pytest.fixture
def captured(monkeypatch) -> list[Figure]:
    """The figures plot_sweep saves, to look inside them."""
    figures: list[Figure] = []
    real = sweep.save_figure

    def keep(fig, path):
        figures.append(fig)
        return real(fig, path)

    monkeypatch.setattr(sweep, "save_figure", keep)
    return figures


def test_a_numeric_parameter_gives_one_line_per_other_combination(tmp_path, captured, png_size):
    path = plot_sweep(
        table(), ["size", "mode", "rate"], "latency", tmp_path / "s.png", ylabel="latency (s)"
    )
    assert path == tmp_path / "s.png"
    width, height = png_size(path)
    assert width >= 600 and height >= 400
    ax = captured[0].axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(legend) == 6  # 3 modes x 2 rates
    assert "mode=cut-through, rate=1e+09" in legend
    assert ax.get_xlabel() == "size" and ax.get_ylabel() == "latency (s)"
    # Two seeds per point: the mean is drawn.
    series = next(c for c in ax.containers if c.get_label() == legend[0])
    line = series.lines[0]
    expected = table().query("mode == 'store-and-forward' and rate == 1e8")
    assert list(line.get_ydata()) == pytest.approx(
        expected.groupby("size")["latency"].mean().tolist()
    )


def test_a_categorical_parameter_gives_grouped_bars(tmp_path, captured):
    data = table()
    plot_sweep(data[data["size"] == 512], ["mode", "rate"], "latency", tmp_path / "bars.png")
    ax = captured[0].axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == MODES  # order of appearance
    bars = [p for p in ax.patches]
    assert len(bars) == 3 * 2
    # Within a mode the two rates sit side by side, 100 Mb/s (slower, higher) first.
    heights = [b.get_height() for b in sorted(bars, key=lambda b: b.get_x())]
    assert heights[0] > heights[1]
    assert ax.get_ylabel() == "latency"


def test_a_single_parameter_needs_no_legend(tmp_path, captured):
    data = pd.DataFrame({"rate": [1e7, 1e8, 1e9], "goodput": [9.4e6, 9.4e7, 9.4e8]})
    plot_sweep(data, ["rate"], "goodput", tmp_path / "one.png")
    ax = captured[0].axes[0]
    assert ax.get_legend() is None
    assert ax.get_xscale() == "log"  # three decades of rate


def test_bad_requests_say_what_is_wrong(tmp_path):
    data = table()
    with pytest.raises(ValueError, match="at least one parameter"):
        plot_sweep(data, [], "latency", tmp_path / "x.png")
    with pytest.raises(KeyError, match="nope"):
        plot_sweep(data, ["nope"], "latency", tmp_path / "x.png")
    with pytest.raises(ValueError, match="not a numeric column"):
        plot_sweep(data, ["size"], "mode", tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
