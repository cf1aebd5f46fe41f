"""Replay a run in the browser: frames moving across the topology, an event list to step.

    netsim animate scenarios/tcp-basics.yaml -o lab.html --from 0 --to 5ms

or in a notebook::

    import netsim, netsim.animate
    res = netsim.animate.record(netsim.load("scenarios/tcp-basics.yaml"), end=0.005)
    netsim.animate.display(res)

:func:`record` runs a scenario following every frame in a window of simulated time (at
most :data:`DEFAULT_MAX_FRAMES` of them, so the page stays small); :func:`page` turns
those results into one self-contained HTML file; :func:`display` embeds it in Jupyter.
"""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING, Any

from netsim.animate.page import render_page

if TYPE_CHECKING:
    from netsim.metrics.results import Results
    from netsim.scenario.load import LoadedScenario

__all__ = ["DEFAULT_MAX_FRAMES", "display", "page", "record"]

DEFAULT_MAX_FRAMES = 500
"""Frames a replay follows unless told otherwise: under a megabyte of page."""


def record(
    scenario: LoadedScenario,
    start: float = 0.0,
    end: float | None = None,
    max_frames: int = DEFAULT_MAX_FRAMES,
    seed: int | None = None,
) -> Results:
    """Run ``scenario`` following every frame sent between ``start`` and ``end``."""
    from netsim.api import run

    stop = math.inf if end is None else end
    if stop < start:
        raise ValueError(f"the window ends ({stop:g} s) before it starts ({start:g} s)")
    return run(
        scenario, seed=seed, snapshots=[start], window=(start, stop), window_frames=max_frames
    )


def _window(results: Results) -> tuple[float, float]:
    if results.hops.empty:
        raise ValueError(
            "these results followed no frames: make them with netsim.animate.record(scenario)"
        )
    start = float(results.mac_tables["time"].min()) if not results.mac_tables.empty else 0.0
    return start, float(results.hops["t_last_bit_in"].max())


def page(results: Results, title: str = "") -> str:
    """The self-contained HTML replay of ``results`` (made by :func:`record`)."""
    start, end = _window(results)
    # Imported here, not at the top: the CLI builds `animate`'s options from this package,
    # and `netsim validate` should not load the drawing code (matplotlib) for that.
    from netsim.animate.replay import replay_data

    return render_page(replay_data(results, start, end, title))


def display(results: Results, height: int = 760) -> Any:
    """The replay as an IPython HTML object (a notebook shows it in an iframe)."""
    from IPython.display import HTML

    doc = html.escape(page(results), quote=True)
    # Wrapped in a div: IPython warns about bare iframes, and a div keeps it full width.
    return HTML(  # type: ignore[no-untyped-call]
        f'<div class="netsim-replay"><iframe srcdoc="{doc}" sandbox="allow-scripts" '
        f'style="width:100%;height:{height}px;border:1px solid #ddd"></iframe></div>'
    )
