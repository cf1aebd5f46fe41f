"""Comparing runs of a parameter sweep: one metric against the parameters.

The first parameter goes on the x axis; every combination of the others is one line (or,
when the first parameter is categorical, such as a switching mode, one bar per group).
Repeated rows for one point (several seeds) are averaged, with their spread as error bars.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from netsim.plots._figure import new_figure, save_figure, wants_log

MAX_GROUPS = 12
"""Most lines or bar groups drawn with a legend; more are still drawn, the legend omitted."""


def plot_sweep(
    table: pd.DataFrame,
    parameters: list[str],
    metric: str,
    path: Path,
    *,
    ylabel: str | None = None,
) -> Path:
    """Plot ``metric`` against ``parameters[0]``, one series per other-parameter combination.

    A numeric first parameter gives lines (log x when its values span decades); a
    categorical one gives grouped bars in order of first appearance. Points with several
    rows show their mean and, as error bars, the standard deviation. Returns ``path``.
    """
    if not parameters:
        raise ValueError("plot_sweep needs at least one parameter for the x axis")
    missing = [c for c in [*parameters, metric] if c not in table.columns]
    if missing:
        raise KeyError(f"columns not in the sweep table: {', '.join(missing)}")
    if not pd.api.types.is_numeric_dtype(table[metric]) or pd.api.types.is_bool_dtype(
        table[metric]
    ):
        raise ValueError(f"metric {metric!r} is not a numeric column")
    x, others = parameters[0], parameters[1:]
    data = table[[*parameters, metric]].dropna(subset=[metric])
    if data.empty:
        raise ValueError(f"no values of {metric!r} to plot")
    numeric_x = pd.api.types.is_numeric_dtype(data[x]) and not pd.api.types.is_bool_dtype(data[x])
    series = _series(data, x, others, metric)
    fig = new_figure(8.0, 5.0)
    ax = fig.add_subplot()
    if numeric_x:
        _lines(ax, series, x)
    else:
        _bars(ax, series, list(pd.unique(data[x])))
    ax.set_xlabel(x)
    ax.set_ylabel(ylabel or metric)
    ax.grid(True, which="both", alpha=0.3)
    if others and len(series) <= MAX_GROUPS:
        ax.legend(title=", ".join(others), fontsize="small")
    title = f"{ylabel or metric} by {x}"
    if others:
        title += f", per {', '.join(others)}"
    ax.set_title(title)
    return save_figure(fig, Path(path))


def _series(
    data: pd.DataFrame, x: str, others: list[str], metric: str
) -> list[tuple[str, pd.DataFrame]]:
    """(label, mean/std/n by x) for every combination of the other parameters."""
    groups = data.groupby(others, sort=False, dropna=False) if others else [((), data)]
    out: list[tuple[str, pd.DataFrame]] = []
    for key, group in groups:
        values = key if isinstance(key, tuple) else (key,)
        label = ", ".join(f"{p}={_value(v)}" for p, v in zip(others, values, strict=True))
        stats = group.groupby(x, sort=False)[metric].agg(["mean", "std", "count"])
        out.append((label or metric, stats))
    return out


def _value(value: object) -> str:
    """A parameter value for a legend: floats compact (``1e+09``, ``0.5``), others as is."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _lines(ax: Axes, series: list[tuple[str, pd.DataFrame]], x: str) -> None:
    markers = "osD^vP*Xh<>"
    for i, (label, stats) in enumerate(series):
        stats = stats.sort_index()
        err = stats["std"].fillna(0.0) if (stats["count"] > 1).any() else None
        # Earlier series wider and each its own marker: equal results stay distinguishable.
        ax.errorbar(
            stats.index.to_numpy(dtype=float),
            stats["mean"],
            yerr=err,
            marker=markers[i % len(markers)],
            markersize=7 - 3 * i / max(len(series) - 1, 1),
            capsize=3,
            linewidth=1.4 + 2.0 * (len(series) - 1 - i) / max(len(series) - 1, 1),
            label=label,
        )
    xs = np.concatenate([s.index.to_numpy(dtype=float) for _, s in series])
    if wants_log(xs):
        ax.set_xscale("log")


def _bars(ax: Axes, series: list[tuple[str, pd.DataFrame]], categories: list[object]) -> None:
    positions = np.arange(len(categories))
    width = 0.8 / len(series)
    for i, (label, stats) in enumerate(series):
        stats = stats.reindex(categories)
        err = stats["std"].fillna(0.0) if (stats["count"] > 1).any() else None
        ax.bar(
            positions - 0.4 + (i + 0.5) * width,
            stats["mean"].fillna(0.0),
            width=width * 0.95,
            yerr=err,
            capsize=3,
            label=label,
        )
    ax.set_xticks(positions, [str(c) for c in categories])
