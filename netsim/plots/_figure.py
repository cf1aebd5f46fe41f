"""Shared figure plumbing: object-API figures, saving, units and scales.

Only ``matplotlib.figure.Figure`` is used, never pyplot: a figure is a plain object that
``savefig`` renders with the Agg canvas, so plotting needs no display and no global state.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

DPI = 120
"""Resolution of every saved PNG (a 8x5 in figure is 960x600 pixels)."""

KIND_COLORS = {
    "host": "#0072B2",
    "switch": "#E69F00",
    "bridge": "#009E73",
    "hub": "#D55E00",
}
"""One colour per device kind (Okabe-Ito, readable by colour-blind students)."""

OTHER_COLOR = "#999999"
"""Colour of anything whose kind is not in :data:`KIND_COLORS`."""

LOG_SPREAD = 50.0
"""A positive axis spanning more than this ratio (max/min) is drawn logarithmic."""


def new_figure(width: float, height: float) -> Figure:
    """A fresh figure of ``width`` x ``height`` inches with constrained layout."""
    return Figure(figsize=(width, height), layout="constrained")


def save_figure(fig: Figure, path: Path) -> Path:
    """Render ``fig`` as a PNG at ``path`` (parents created) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, format="png")
    return path


def wants_log(values: Iterable[float]) -> bool:
    """Whether positive ``values`` spread over enough decades to need a log axis."""
    arr = np.asarray([v for v in values if np.isfinite(v) and v > 0], dtype=float)
    return arr.size > 1 and float(arr.max()) / float(arr.min()) > LOG_SPREAD


def time_unit(span: float) -> tuple[float, str]:
    """A (factor, unit) pair that shows times up to ``span`` seconds with small numbers."""
    if span < 1e-3:
        return 1e6, "µs"
    if span < 1.0:
        return 1e3, "ms"
    return 1.0, "s"


def format_rate(bps: float) -> str:
    """A link speed as people write it: ``1G``, ``100M``, ``2.5G``, ``64k``."""
    if not np.isfinite(bps) or bps <= 0:
        return "?"
    for factor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if bps >= factor:
            return f"{bps / factor:g}{suffix}"
    return f"{bps:g}"


def format_seconds(seconds: float) -> str:
    """A duration with a fitting unit: ``3 ms``, ``300 s``, ``50 µs``."""
    factor, unit = time_unit(seconds)
    return f"{seconds * factor:g} {unit}"
