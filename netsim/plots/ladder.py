"""Ladder (time-space) diagrams: one frame's bits crossing every hop, mode beside mode.

Each device on the frame's path is a column and time runs downward. A hop is a band
between two columns: its top edge joins the first bit leaving one port to the first bit
reaching the next, its bottom edge does the same for the last bit. The band's height at
a column is the frame's serialization time there (``W*8/R``), its slope the propagation
delay. A store-and-forward switch starts its next band only below the end of the previous
one (it waits for the last bit); a cut-through switch starts it 22 bytes after the first
bit arrives, so the bands overlap in time: the frame is on several links at once. That
overlap is pipelining, and it is what the three panels side by side make visible.

The input is the ``hops`` table of :func:`netsim.follow_frame` (one per switching mode)
or of ``Results.hops``; nothing here runs a simulation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon

from netsim.metrics.tables import HOP_COLUMNS
from netsim.plots._figure import new_figure, save_figure

__all__ = ["LADDER_COLUMNS", "ladder_figure", "ladder_path", "path_devices", "save_ladder"]

MICROSECONDS = 1e6
"""Factor from simulated seconds to the diagram's unit, µs."""

MIN_FRAME_BYTES = 64
"""A hop carrying fewer bytes than this was a collision fragment or a runt, not a frame."""

BAND_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")
"""Colours of successive hops (Okabe-Ito), so neighbouring bands stay apart."""

FRAGMENT_COLOR = "#999999"
"""Colour of aborted attempts (collision fragments) on a shared medium."""

WAIT_COLOR = "#444444"
"""Colour of the bar marking how long a device held the frame's first bit."""

LADDER_COLUMNS = HOP_COLUMNS
"""The columns a hops table must have (those of ``Results.hops``)."""


def _device(port: str) -> str:
    """``sw1`` from ``sw1:Gi0/1``: ports are labelled ``device:port``."""
    return port.partition(":")[0]


def ladder_path(hops: pd.DataFrame, to: str | None = None) -> pd.DataFrame:
    """The hops of one frame from its source to one receiver, in order along the path.

    A flooded frame crosses links that lead elsewhere and a frame on a hub may be sent
    several times (collision fragments, then the frame): this picks the chain of hops
    that delivered the whole frame to device ``to``. By default ``to`` is the end of the
    longest chain (ties: the one whose last bit arrived last, then the first by name).
    Each hop's predecessor is the latest hop into its sending device that began arriving
    no later than it began leaving. Returns those rows, first hop first, index reset.
    """
    missing = [c for c in LADDER_COLUMNS if c not in hops.columns]
    if missing:
        raise ValueError(f"a hops table needs the columns {missing}")
    whole = hops[hops["bytes"] >= MIN_FRAME_BYTES].reset_index(drop=True)
    if whole.empty:
        raise ValueError("no hop of this frame carried a whole frame")
    senders = [_device(str(p)) for p in whole["from_port"]]
    receivers = [_device(str(p)) for p in whole["to_port"]]
    first_out = whole["t_first_bit_out"].to_numpy(dtype=float)
    first_in = whole["t_first_bit_in"].to_numpy(dtype=float)
    last_in = whole["t_last_bit_in"].to_numpy(dtype=float)

    def chain_into(end: int) -> list[int]:
        """Row numbers of the hops that led to hop ``end``, from the source onwards."""
        chain = [end]
        while True:
            head = chain[0]
            # Copies that reached the sender before it began sending this one.
            before = [
                i
                for i in range(len(whole))
                if receivers[i] == senders[head]
                and first_in[i] <= first_out[head]
                and i not in chain
            ]
            if not before:
                return chain
            # The latest arrival into the sender is the copy it forwarded.
            chain.insert(0, max(before, key=lambda i: (first_in[i], -i)))

    chains = [chain_into(i) for i in range(len(whole))]
    if to is not None:
        chains = [c for c in chains if receivers[c[-1]] == to]
        if not chains:
            raise ValueError(f"the frame never reached {to!r}")

    def rank(chain: list[int]) -> tuple[int, float, str]:
        # Ascending: more hops first, then later arrival, then the receiver's name.
        return (-len(chain), -float(last_in[chain[-1]]), receivers[chain[-1]])

    best = min(chains, key=rank)
    return whole.iloc[best].reset_index(drop=True)


def path_devices(path: pd.DataFrame) -> list[str]:
    """The devices along ``path`` (from :func:`ladder_path`): the diagram's columns."""
    return [_device(str(path["from_port"].iloc[0])), *(_device(str(p)) for p in path["to_port"])]


def ladder_figure(
    hops: dict[str, pd.DataFrame], title: str | None = None, *, to: str | None = None
) -> Figure:
    """A ladder diagram of one frame per entry of ``hops``, panels side by side.

    ``hops`` maps a label (a switching mode, say) to a hops table, as
    :func:`netsim.follow_frame` returns. Every panel shares one time axis, in µs since the
    frame's first bit left its source, growing downward, so the modes compare at a glance.
    Columns are the devices along the path to ``to`` (see :func:`ladder_path`); a dark bar
    on a switch's column spans the time from the first bit arriving to the first bit
    leaving, labelled with its length. Aborted attempts on a shared medium (collision
    fragments) are drawn in grey on the same hop.
    """
    if not hops:
        raise ValueError("nothing to draw: hops is empty")
    paths = {label: ladder_path(table, to) for label, table in hops.items()}
    # The longest path sets the panel width; the latest last bit sets the common depth.
    widest = max(len(p) + 1 for p in paths.values())
    end = max(
        (float(p["t_last_bit_in"].iloc[-1]) - float(p["t_first_bit_out"].iloc[0]))
        for p in paths.values()
    )
    fig = new_figure(max(5.5, 1.3 * widest) * len(paths) + 0.5, 7.0)
    axes = fig.subplots(1, len(paths), squeeze=False, sharey=True)[0]
    for ax, (label, path) in zip(axes, paths.items(), strict=True):
        _panel(ax, label, path, hops[label])
    # Collision fragments on the drawn hops came before the copy that got through.
    earliest = min(_earliest_attempt(hops[label], path) for label, path in paths.items())
    top = min(0.0, earliest) * MICROSECONDS
    span = end * MICROSECONDS - top
    axes[0].set_ylim(end * MICROSECONDS + 0.12 * span, top - 0.04 * span)
    axes[0].set_ylabel("µs since the frame's first bit left its source (time runs down)")
    handles = [
        Patch(facecolor=BAND_COLORS[0], alpha=0.35, label="bits on a link"),
        Line2D([], [], color="black", linewidth=1.6, label="first bit"),
        Line2D([], [], color="black", linewidth=1.0, linestyle="--", label="last bit"),
        Patch(color=WAIT_COLOR, label="held in a device: first bit in → first bit out"),
    ]
    if any(bool((t["bytes"] < MIN_FRAME_BYTES).any()) for t in hops.values()):
        handles.append(Patch(color=FRAGMENT_COLOR, alpha=0.5, label="collision fragment"))
    columns = len(handles) if len(paths) > 1 else 2
    fig.legend(handles=handles, loc="outside lower center", ncols=columns, fontsize="small")
    frame_ids = sorted({int(i) for t in hops.values() for i in t["frame_id"]})
    heading = f"Frame {', '.join(map(str, frame_ids))}: first and last bit across every hop"
    fig.suptitle(f"{title}\n{heading}" if title else heading)
    return fig


def _earliest_attempt(hops: pd.DataFrame, path: pd.DataFrame) -> float:
    """When the first attempt on ``path``'s first hop began, relative to the copy drawn."""
    t0 = float(path["t_first_bit_out"].iloc[0])
    first = hops[hops["from_port"] == path["from_port"].iloc[0]]
    return float(first["t_first_bit_out"].min()) - t0 if not first.empty else 0.0


def _panel(ax: Axes, label: str, path: pd.DataFrame, hops: pd.DataFrame) -> None:
    """Draw one frame's path on ``ax``: columns, bands, holding bars and the latency."""
    t0 = float(path["t_first_bit_out"].iloc[0])
    devices = path_devices(path)
    x = {i: float(i) for i in range(len(devices))}
    for i in x:
        ax.axvline(x[i], color="#BBBBBB", linewidth=1.0, zorder=0)
    # Aborted attempts on the same hops, under the bands (a hub's collisions and backoff).
    pairs = {
        (str(a), str(b)): i
        for i, (a, b) in enumerate(zip(path["from_port"], path["to_port"], strict=True))
    }
    fragments = hops[hops["bytes"] < MIN_FRAME_BYTES]
    for _, row in fragments.iterrows():
        hop = pairs.get((str(row["from_port"]), str(row["to_port"])))
        if hop is not None:
            _band(ax, row, x[hop], x[hop + 1], t0, FRAGMENT_COLOR, fragment=True)
    for i, (_, row) in enumerate(path.iterrows()):
        _band(ax, row, x[i], x[i + 1], t0, BAND_COLORS[i % len(BAND_COLORS)], fragment=False)
        if i > 0:
            _holding_bar(ax, x[i], path.iloc[i - 1], row, t0)
    latency = (float(path["t_last_bit_in"].iloc[-1]) - t0) * MICROSECONDS
    last = len(devices) - 1
    ax.annotate(
        f"last bit in: {_us(latency)} µs",
        (x[last], latency),
        xytext=(-4, 10),
        textcoords="offset points",
        ha="right",
        va="top",
        fontsize="small",
        fontweight="bold",
    )
    ax.axhline(latency, color="black", linewidth=0.6, linestyle=":", zorder=0)
    ax.set_xticks(list(x.values()), _column_labels(path))
    ax.xaxis.tick_top()
    ax.set_xlim(-0.35, last + 0.35)
    ax.set_title(f"{label}\nlatency {_us(latency)} µs", fontsize="medium")
    ax.grid(True, axis="y", alpha=0.3)


def _band(
    ax: Axes,
    row: pd.Series,
    x_out: float,
    x_in: float,
    t0: float,
    color: str,
    *,
    fragment: bool,
) -> None:
    """One hop as a parallelogram: first bit out→in on top, last bit out→in below."""

    def us(column: str) -> float:
        return (float(row[column]) - t0) * MICROSECONDS

    corners = np.array(
        [
            (x_out, us("t_first_bit_out")),
            (x_in, us("t_first_bit_in")),
            (x_in, us("t_last_bit_in")),
            (x_out, us("t_last_bit_out")),
        ]
    )
    ax.add_patch(
        Polygon(
            corners,
            closed=True,
            facecolor=color,
            edgecolor="none",
            alpha=0.25 if fragment else 0.35,
            hatch="///" if fragment else None,
            zorder=1,
        )
    )
    if fragment:
        return
    ax.plot(corners[:2, 0], corners[:2, 1], color="black", linewidth=1.6, zorder=3)
    ax.plot(corners[2:, 0], corners[2:, 1], color="black", linewidth=1.0, linestyle="--", zorder=3)


def _holding_bar(ax: Axes, x: float, into: pd.Series, out: pd.Series, t0: float) -> None:
    """A bar on a device's column from the first bit in to the first bit out, labelled."""
    start = (float(into["t_first_bit_in"]) - t0) * MICROSECONDS
    stop = (float(out["t_first_bit_out"]) - t0) * MICROSECONDS
    ax.plot([x, x], [start, stop], color=WAIT_COLOR, linewidth=5, solid_capstyle="butt", zorder=2)
    # Just below the bar's end, inside the next band: clear of both first-bit lines.
    ax.annotate(
        f"holds {_us(stop - start)} µs",
        (x, stop),
        xytext=(5, -4),
        textcoords="offset points",
        ha="left",
        va="top",
        fontsize="x-small",
        color=WAIT_COLOR,
    )


def _column_labels(path: pd.DataFrame) -> list[str]:
    """``h1 (eth0)``, ``sw1 (1 → 8)``, ...: each device with the ports the frame used."""
    outs = [str(p) for p in path["from_port"]]
    ins = [str(p) for p in path["to_port"]]
    labels = [f"{_device(outs[0])}\n{outs[0].partition(':')[2]}"]
    for i, port_in in enumerate(ins):
        device, _, name_in = port_in.partition(":")
        if i + 1 < len(outs):
            labels.append(f"{device}\n{name_in} → {outs[i + 1].partition(':')[2]}")
        else:
            labels.append(f"{device}\n{name_in}")
    return labels


def _us(value: float) -> str:
    """A time in µs to the nanosecond, trailing zeros dropped: ``4.16``, ``12.632``."""
    text = f"{value:,.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def save_ladder(
    hops: dict[str, pd.DataFrame],
    path: Path,
    title: str | None = None,
    *,
    to: str | None = None,
) -> Path:
    """Draw :func:`ladder_figure` of ``hops`` (path to ``to``) as a PNG at ``path``."""
    return save_figure(ladder_figure(hops, title, to=to), Path(path))
