"""The results of one run: tables, a summary, and saving them as files."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from netsim.metrics.csv_file import write_csv
from netsim.metrics.pcap import write_pcap
from netsim.topology.topology import Topology


@dataclass
class Results:
    """What a run produced (see DESIGN.md for the files :meth:`save` writes)."""

    frames: pd.DataFrame
    ports: pd.DataFrame
    mac_events: pd.DataFrame
    summary: dict[str, Any]
    wall_seconds: float = 0.0
    """How long the run took on this machine; kept out of summary.json so that the same
    scenario and seed give byte-identical files."""
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)
    """Applications' tables by name: ``ping``, ``tcp``, ``imap``."""
    captures: dict[str, list[tuple[float, Any]]] = field(default_factory=dict)
    """Captured ports (``node:port``): (time, frame) in time order."""
    topology: Topology | None = None
    """The network that was simulated, as data (for drawing it)."""
    hops: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Every link crossed by the frames ``netsim.run(..., follow=[ids])`` followed."""
    counters: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Port counters at the instants ``netsim.run(..., snapshots=[t])`` asked for."""
    mac_tables: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Every switch's MAC table at those instants."""
    counter_changes: pd.DataFrame = field(default_factory=pd.DataFrame)
    """With ``netsim.run(..., window=...)``: the counters of the ports around each followed
    frame, whenever one of its hops changed them."""
    frame_bytes: dict[int, bytes] = field(default_factory=dict)
    """frame_id -> octets (no FCS) of each followed frame, as first put on a link."""
    window_cut: float | None = None
    """With ``netsim.run(..., window=...)``: when the window filled up, if it did."""

    @property
    def ping(self) -> pd.DataFrame:
        """One row per echo request (empty if the scenario pings nothing)."""
        return self.extra.get("ping", pd.DataFrame())

    @property
    def tcp(self) -> pd.DataFrame:
        """One row per TCP transfer or exchange."""
        return self.extra.get("tcp", pd.DataFrame())

    @property
    def imap(self) -> pd.DataFrame:
        """One row per IMAP command."""
        return self.extra.get("imap", pd.DataFrame())

    def show(self, device: str, command: str, at: float | None = None) -> str:
        """What IOS prints for ``show COMMAND`` on ``device`` at simulated time ``at``.

        ``results.show("sw1", "mac address-table", at=2.5)``; ``at=None`` is the end of
        the run. Commands are those of :mod:`netsim.show` (``interfaces status``,
        ``interfaces counters`` ...); counters at a time need
        ``netsim.run(sc, snapshots=[t])``.
        """
        from netsim.show import show

        return show(self, device, command, at)

    def save(self, directory: str | Path) -> Path:
        """Write frames.csv, ports.csv, mac_events.csv and summary.json into ``directory``."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        write_csv(self.frames, out / "frames.csv")
        write_csv(self.ports, out / "ports.csv")
        write_csv(self.mac_events, out / "mac_events.csv")
        for name, table in self.extra.items():
            write_csv(table, out / f"{name}.csv")
        routes = self.extra.get("routes")
        if routes is not None and not routes.empty:
            from netsim.metrics.routing import routes_text

            (out / "routes.txt").write_text(routes_text(routes))
        if self.captures:
            folder = out / "captures"
            folder.mkdir(exist_ok=True)
            for port, records in self.captures.items():
                write_pcap(folder / capture_file_name(port), _frame_octets(records))
        (out / "summary.json").write_text(
            json.dumps(self.summary, indent=2, sort_keys=False) + "\n"
        )
        return out


def summarize_frames(frames: pd.DataFrame) -> dict[str, Any]:
    """Counts by outcome and reason, and latency statistics of delivered frames.

    ``in_flight`` counts frames still on their way when a run hit its ``stop:`` time.
    """
    delivered = frames[frames["outcome"] == "delivered"]
    dropped = frames[frames["outcome"] == "dropped"]
    out: dict[str, Any] = {
        "sent": len(frames),
        "delivered": len(delivered),
        "dropped": len(dropped),
        "in_flight": int((frames["outcome"] == "in-flight").sum()),
        "dropped_by_reason": {
            str(k): int(v) for k, v in dropped["drop_reason"].value_counts().sort_index().items()
        },
        "latency": latency_stats(delivered["latency"]),
        "by_traffic": {},
    }
    for traffic, group in frames.groupby("traffic", sort=True):
        ok = group[group["outcome"] == "delivered"]
        out["by_traffic"][str(traffic)] = {
            "sent": len(group),
            "delivered": len(ok),
            "latency": latency_stats(ok["latency"]),
        }
    return out


def latency_stats(latency: pd.Series) -> dict[str, float | None]:
    """Mean, p50, p90, p99 and max of a latency column, in seconds."""
    if latency.empty:
        return {"mean": None, "p50": None, "p90": None, "p99": None, "max": None}

    def clean(x: float) -> float | None:
        return None if math.isnan(x) else float(f"{x:.12g}")

    return {
        "mean": clean(float(latency.mean())),
        "p50": clean(float(latency.quantile(0.5))),
        "p90": clean(float(latency.quantile(0.9))),
        "p99": clean(float(latency.quantile(0.99))),
        "max": clean(float(latency.max())),
    }


def capture_file_name(port: str) -> str:
    """``sw1:Gi0/1`` -> ``sw1_Gi0-1.pcap``."""
    return port.replace(":", "_").replace("/", "-") + ".pcap"


def _frame_octets(records: list[tuple[float, Any]]) -> list[tuple[float, bytes]]:
    # Captures hold frames as a NIC hands them up: without the 4-byte FCS.
    return [(t, frame.to_bytes()[:-4]) for t, frame in records]


def summarize_table(name: str, table: pd.DataFrame) -> dict[str, Any]:
    """A few aggregates of an application table for summary.json."""
    out: dict[str, Any] = {"rows": len(table)}
    if name == "ping" and not table.empty:
        replies = table[table["outcome"] == "reply"]
        out["replies"] = len(replies)
        out["rtt"] = latency_stats(replies["rtt"].astype(float))
    if name in ("imap", "smtp", "pop3") and not table.empty:
        out["by_command"] = {
            str(cmd): latency_stats(group["latency"].astype(float))
            for cmd, group in table.groupby("command", sort=True)
        }
    if name == "dhcp" and not table.empty:
        out["unconfigured"] = int((table["address"].isna()).sum())
    if name == "dhcp_pools" and not table.empty:
        out["warnings"] = [w for w in table["warning"] if w]
    if name == "routes" and not table.empty:
        out["table"] = table.to_dict("records")
    if name == "delivery" and not table.empty:
        out["by_via"] = {
            str(via): latency_stats(group["latency"].astype(float))
            for via, group in table.groupby("via", sort=True)
        }
    if name == "tcp" and not table.empty:
        out["retransmissions"] = int(table["retransmissions"].max())
        out["duration"] = latency_stats(table["duration"].astype(float))
    return out
