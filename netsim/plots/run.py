"""The figures of one run, drawn from its :class:`~netsim.metrics.results.Results`.

Each ``*_figure`` function returns a :class:`~matplotlib.figure.Figure`, or ``None`` when
the run has nothing to show; :func:`save_run_plots` writes those that exist as PNGs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import cbook
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator, PercentFormatter

from netsim.metrics.results import Results
from netsim.plots._figure import (
    KIND_COLORS,
    OTHER_COLOR,
    format_rate,
    format_seconds,
    new_figure,
    save_figure,
    time_unit,
    wants_log,
)
from netsim.plots.data import ecdf, mac_table_size, port_utilization
from netsim.plots.topology import topology_figure
from netsim.topology.topology import Topology

MAX_SERIES = 10
"""Most lines one chart draws before the smallest groups are merged into "other"."""

LEARNING_KINDS = frozenset({"switch", "bridge"})
"""Device kinds with a MAC table (and so an aging time)."""

MAX_PORTS = 30
"""Most ports the utilization chart lists (the busiest)."""

FAILED_STATUS_COLOR = "#D55E00"
"""Colour of IMAP commands answered NO or BAD."""


def save_run_plots(
    results: Results,
    topology: Topology,
    directory: Path,
    *,
    aging: dict[str, float] | None = None,
) -> list[Path]:
    """Write the run's figures that have data into ``directory``; return their paths.

    ``latency.png``, ``imap_latency.png``, ``port_utilization.png``, ``mac_table.png``
    and ``topology.png``, in that order, each only if there is something to draw.
    ``aging`` (seconds by switch name) marks when each switch's first entry could age
    out; by default it is read from the topology's switches and bridges (``{}``: no marks).
    """
    directory = Path(directory)
    if aging is None:
        aging = {n: spec.aging for n, spec in topology.nodes.items() if spec.kind in LEARNING_KINDS}
    name = str(results.summary.get("scenario", "")) or "run"
    end = _simulated_time(results)
    figures: list[tuple[str, Figure | None]] = [
        ("latency.png", latency_figure(results.frames, name)),
        ("imap_latency.png", imap_latency_figure(results.imap, name)),
        ("port_utilization.png", port_utilization_figure(results.ports, end, name)),
        ("mac_table.png", mac_table_figure(results.mac_events, end, name, aging=aging)),
        (
            "topology.png",
            topology_figure(topology, f"{name}: topology") if topology.nodes else None,
        ),
    ]
    return [save_figure(fig, directory / file) for file, fig in figures if fig is not None]


def _simulated_time(results: Results) -> float:
    end = results.summary.get("simulated_time") or results.summary.get("duration") or 0.0
    return float(end)


def _top_groups(table: pd.DataFrame, column: str) -> list[tuple[str, pd.DataFrame]]:
    """Groups of ``table`` by ``column``, biggest first; past MAX_SERIES merged as "other"."""
    groups = sorted(
        ((str(k), g) for k, g in table.groupby(column, sort=True)),
        key=lambda kv: -len(kv[1]),
    )
    if len(groups) <= MAX_SERIES:
        return sorted(groups)
    keep = sorted(groups[: MAX_SERIES - 1])
    rest = groups[MAX_SERIES - 1 :]
    other = pd.concat([g for _, g in rest])
    return [*keep, (f"other ({len(rest)} sources)", other)]


def latency_figure(frames: pd.DataFrame, name: str = "") -> Figure | None:
    """ECDF of delivered frames' latency per traffic source, in µs (None if none arrived).

    Latency runs from the first bit out of the source to the last bit in at the
    destination (RFC 1242). A second panel shows how long frames waited in their
    sender's queue (on a hub: for the medium) when any did.
    """
    if frames.empty:
        return None
    ok = frames[frames["outcome"] == "delivered"]
    if ok.empty:
        return None
    # Rounded to the picosecond: differences of simulated times carry float noise (a
    # constant latency would otherwise smear over 1e-10 µs, a zero wait become 1e-15 µs).
    ok = ok.assign(
        latency_us=(ok["latency"].astype(float) * 1e6).round(6),
        wait_us=((ok["t_first_bit_out"].astype(float) - ok["t_queued"].astype(float)) * 1e6)
        .round(6)
        .clip(lower=0.0),
    )
    groups = _top_groups(ok, "traffic")
    waited = bool((ok["wait_us"] > 0).any())
    fig = new_figure(12.0 if waited else 8.0, 5.0)
    axes = fig.subplots(1, 2 if waited else 1, squeeze=False)[0]
    _ecdf_panel(
        axes[0],
        groups,
        "latency_us",
        "latency: first bit out to last bit in (µs)",
        "Frame latency per traffic source",
    )
    if waited:
        _ecdf_panel(
            axes[1],
            groups,
            "wait_us",
            "wait in the sender's queue before the first bit (µs)",
            "Queueing / medium-access delay at the sender",
        )
    dropped = len(frames) - len(ok)
    note = f"{len(ok)} frames delivered" + (f", {dropped} dropped (not shown)" if dropped else "")
    fig.suptitle(f"{name}: {note}" if name else note)
    return fig


def _ecdf_panel(
    ax: Axes, groups: list[tuple[str, pd.DataFrame]], column: str, xlabel: str, title: str
) -> None:
    # At most MAX_SERIES (10) groups: each gets its own colour of the default cycle.
    for i, (label, group) in enumerate(groups):
        x, y = ecdf(group[column])
        if x.size == 0:
            continue
        median = float(np.median(x))
        zero = float((x <= 0).mean())
        extra = f", {zero:.0%} did not wait" if column == "wait_us" and zero > 0 else ""
        # Steps start at the smallest value, so a constant latency is one vertical line.
        ax.step(
            np.concatenate([[x[0]], x]),
            np.concatenate([[0.0], y]),
            where="post",
            linewidth=_width(i, len(groups)),
            label=f"{label} (n={len(x)}, median {_number(median)} µs{extra})",
        )
    values = pd.concat([g[column] for _, g in groups])
    if wants_log(values):
        ax.set_xscale("log")
    else:
        ax.ticklabel_format(axis="x", useOffset=False)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("fraction of frames ≤ x")
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(title)
    ax.legend(title="traffic source", fontsize="small", loc="best")


def _width(i: int, n: int) -> float:
    """Line width of series ``i`` of ``n``: earlier ones wider, so identical series
    (four stations with the same latency, two switches learning the same hosts) still
    show every colour instead of the last one drawn hiding the others."""
    return 1.4 + 1.6 * (n - 1 - i) / max(n - 1, 1)


def _number(value: float) -> str:
    """Four significant digits, without an exponent up to millions: ``57.8``, ``10,070``."""
    return f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:.4g}"


def imap_latency_figure(imap: pd.DataFrame, name: str = "") -> Figure | None:
    """Box plot of IMAP command latency in ms, one row per command (None without IMAP).

    Every command is also a dot, so a handful of samples stays visible; commands whose
    status is not OK are drawn in red. Rows are sorted by median, fastest at the top.
    """
    if imap.empty:
        return None
    table = imap.assign(latency_ms=imap["latency"].astype(float) * 1e3)
    table = table[np.isfinite(table["latency_ms"])]
    if table.empty:
        return None
    by_cmd = {str(k): g for k, g in table.groupby("command", sort=True)}
    commands = sorted(by_cmd, key=lambda c: (float(by_cmd[c]["latency_ms"].median()), c))
    # Fastest at the top: matplotlib counts rows upwards, so reverse.
    commands.reverse()
    fig = new_figure(9.0, max(3.0, 0.45 * len(commands) + 1.6))
    ax = fig.add_subplot()
    for row, cmd in enumerate(commands, start=1):
        _box(ax, by_cmd[cmd]["latency_ms"].to_numpy(), row)
    ax.set_yticks(range(1, len(commands) + 1), [f"{c} (n={len(by_cmd[c])})" for c in commands])
    rng = np.random.default_rng(0)  # fixed jitter: the same run gives the same picture
    failed = False
    for row, cmd in enumerate(commands, start=1):
        group = by_cmd[cmd]
        bad = group["status"].astype(str) != "OK" if "status" in group else False
        jitter = rng.uniform(-0.18, 0.18, len(group)) + row
        colors = np.where(bad, FAILED_STATUS_COLOR, "#0072B2")
        failed = failed or bool(np.any(bad))
        ax.scatter(group["latency_ms"], jitter, s=10, c=colors, alpha=0.6, zorder=3)
    if wants_log(table["latency_ms"]):
        ax.set_xscale("log")
    ax.set_xlabel("latency: command sent to tagged reply received (ms)")
    ax.set_ylabel("IMAP command")
    ax.grid(True, axis="x", which="both", alpha=0.3)
    handles: list[Artist] = [Line2D([], [], marker="o", linestyle="", color="#0072B2", label="OK")]
    if failed:
        handles.append(
            Line2D([], [], marker="o", linestyle="", color=FAILED_STATUS_COLOR, label="NO / BAD")
        )
    handles.append(Patch(facecolor="none", edgecolor="black", label="box: quartiles, median"))
    ax.legend(handles=handles, fontsize="small", loc="lower right")
    title = f"IMAP latency by command ({len(table)} commands)"
    ax.set_title(f"{name}: {title}" if name else title)
    return fig


def _box(ax: Axes, values: np.ndarray, row: float, height: float = 0.6) -> None:
    """A horizontal box (quartiles, median, whiskers to 1.5 IQR) at ``row``.

    Drawn from patches and lines because ``Axes.bxp`` walks every rcParam, and reading
    ``backend`` there imports pyplot to pick a GUI backend: exactly the global state these
    figures stay away from.
    """
    stats = cbook.boxplot_stats(values)[0]
    ax.add_patch(
        Rectangle(
            (stats["q1"], row - height / 2),
            stats["q3"] - stats["q1"],
            height,
            facecolor="#E8E8E8",
            edgecolor="black",
            linewidth=1.0,
            zorder=2,
        )
    )
    ax.vlines(
        stats["med"], row - height / 2, row + height / 2, color="black", linewidth=2, zorder=2
    )
    ax.hlines(
        [row, row], [stats["whislo"], stats["q3"]], [stats["q1"], stats["whishi"]], color="black"
    )
    ax.vlines([stats["whislo"], stats["whishi"]], row - height / 4, row + height / 4, color="black")


def port_utilization_figure(
    ports: pd.DataFrame, simulated_time: float, name: str = ""
) -> Figure | None:
    """Horizontal bars of each connected port's transmit utilization, busiest on top.

    See :func:`netsim.plots.data.port_utilization` for the formula; at most
    :data:`MAX_PORTS` ports are listed. None if no port is connected or the run is empty.
    """
    if ports.empty or simulated_time <= 0:
        return None
    table = port_utilization(ports, simulated_time)
    if table.empty:
        return None
    shown = table.head(MAX_PORTS).iloc[::-1]  # busiest at the top
    fig = new_figure(9.0, max(3.0, 0.3 * len(shown) + 1.6))
    ax = fig.add_subplot()
    colors = [KIND_COLORS.get(k, OTHER_COLOR) for k in shown["kind"]]
    y = np.arange(len(shown))
    ax.barh(y, shown["utilization"], color=colors, height=0.7)
    ax.set_yticks(
        y,
        [
            f"{lab} ({format_rate(s)})"
            for lab, s in zip(shown["label"], shown["speed_bps"], strict=True)
        ],
    )
    top = float(shown["utilization"].max())
    for yi, u in zip(y, shown["utilization"], strict=True):
        ax.annotate(
            f"{u * 100:.3g}%",
            (u, yi),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize="x-small",
        )
    ax.set_xlim(0, max(top * 1.15, 1e-6))
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("transmit utilization: (frame bytes + 20 preamble/gap) x 8 / (speed x run time)")
    ax.set_ylabel("port (device:port, speed)")
    ax.grid(True, axis="x", alpha=0.3)
    kinds = list(dict.fromkeys(shown["kind"]))
    ax.legend(
        handles=[Patch(color=KIND_COLORS.get(k, OTHER_COLOR), label=k) for k in kinds],
        title="device kind",
        fontsize="small",
        loc="lower right",
    )
    count = (
        f"top {len(shown)} of {len(table)} ports"
        if len(table) > len(shown)
        else (f"{len(table)} connected ports")
    )
    title = f"Port utilization over {format_seconds(simulated_time)} ({count})"
    ax.set_title(f"{name}: {title}" if name else title)
    return fig


def mac_table_figure(
    mac_events: pd.DataFrame,
    simulated_time: float,
    name: str = "",
    *,
    aging: dict[str, float] | None = None,
) -> Figure | None:
    """Step plot of each switch's MAC table size over the run (None without learning).

    With ``aging`` (seconds by switch), a dashed line in the switch's colour marks its
    first learn plus the aging time: the earliest instant an entry can age out.
    """
    sizes = mac_table_size(mac_events)
    if sizes.empty:
        return None
    end = max(simulated_time, float(sizes["time"].max()))
    factor, unit = time_unit(end)
    fig = new_figure(9.0, 5.0)
    ax = fig.add_subplot()
    devices = list(dict.fromkeys(sizes["device"]))
    late: dict[float, list[str]] = {}
    for i, device in enumerate(devices):
        rows = sizes[sizes["device"] == device]
        t = np.concatenate([[0.0], rows["time"].to_numpy(), [end]]) * factor
        n = np.concatenate([[0], rows["size"].to_numpy(), [rows["size"].iloc[-1]]])
        color = f"C{i % 10}"
        ax.step(
            t,
            n,
            where="post",
            color=color,
            linewidth=_width(i, len(devices)),
            label=f"{device} (peak {int(rows['size'].max())})",
        )
        if aging and device in aging:
            learns = mac_events[(mac_events["device"] == device) & (mac_events["event"] == "learn")]
            if learns.empty:
                continue
            mark = float(learns["time"].min()) + aging[device]
            if mark <= end:
                ax.axvline(
                    mark * factor,
                    color=color,
                    linestyle="--",
                    linewidth=1.0,
                    label=f"{device}: first learn + aging ({format_seconds(aging[device])})",
                )
            else:
                late.setdefault(aging[device], []).append(device)
    ax.set_xlim(0, end * factor)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    xlabel = f"simulated time ({unit})"
    ax.grid(True, alpha=0.3)
    legend = len(devices) <= 12
    if legend:
        ax.legend(title="switch", fontsize="small", loc="best")
    if late:
        notes = [
            f"first learn + aging ({format_seconds(age)}) falls after the run: "
            + ", ".join(names[:6])
            + (f" and {len(names) - 6} more" if len(names) > 6 else "")
            for age, names in sorted(late.items())
        ]
        # Under the axis label rather than on the plot, where it would hide the steps.
        xlabel += "\n" + "\n".join(notes)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("MAC addresses in the table")
    title = "MAC table size over time (learn +1, age-out -1)"
    if not legend:
        title += f", {len(devices)} switches"
    ax.set_title(f"{name}: {title}" if name else title)
    return fig
