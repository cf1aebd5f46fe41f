"""The results of one run: tables, a summary, and saving them as files.

A run's tables are :class:`~netsim.metrics.table.Table` objects. :meth:`Results.save`
writes them and the summary is computed from them without pandas; ``results.frames``,
``results.extra["imap"]`` and the other tables are pandas DataFrames, each made the
first time it is read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from netsim.metrics.csv_file import write_table
from netsim.metrics.pcap import write_pcap
from netsim.metrics.stats import is_missing, mean, quantile
from netsim.metrics.table import Table

if TYPE_CHECKING:
    from typing import TypeAlias

    import pandas as pd

    from netsim.topology.topology import Topology

    TableLike: TypeAlias = Table | pd.DataFrame
    """A results table: as a run makes it, or a DataFrame (a test's, a notebook's)."""


def _frame(table: TableLike | None) -> pd.DataFrame:
    """``table`` as a DataFrame (an empty one for None)."""
    if table is None:
        import pandas as pd

        return pd.DataFrame()
    return table.to_pandas() if isinstance(table, Table) else table


class DataFrames(Mapping[str, "pd.DataFrame"]):
    """Tables by name, each seen as a pandas DataFrame, made when first looked up."""

    def __init__(self, tables: Mapping[str, TableLike]) -> None:
        self.tables = dict(tables)
        """The tables as they are kept (what :meth:`Results.save` writes)."""

    def __getitem__(self, name: str) -> pd.DataFrame:
        return _frame(self.tables[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self.tables)

    def __len__(self) -> int:
        return len(self.tables)

    def __repr__(self) -> str:
        return f"DataFrames({', '.join(self.tables)})"


class Results:
    """What a run produced (see DESIGN.md for the files :meth:`save` writes).

    Every table reads as a pandas DataFrame (``results.frames``, ``results.extra["tcp"]``),
    built on first access; ``results.tables`` holds them as the run made them.
    """

    def __init__(
        self,
        frames: TableLike,
        ports: TableLike,
        mac_events: TableLike,
        summary: dict[str, Any],
        wall_seconds: float = 0.0,
        extra: Mapping[str, TableLike] | None = None,
        captures: dict[str, list[tuple[float, Any]]] | None = None,
        topology: Topology | None = None,
        hops: TableLike | None = None,
        counters: TableLike | None = None,
        mac_tables: TableLike | None = None,
        counter_changes: TableLike | None = None,
        frame_bytes: dict[int, bytes] | None = None,
        window_cut: float | None = None,
    ) -> None:
        self.tables: dict[str, TableLike | None] = {
            "frames": frames,
            "ports": ports,
            "mac_events": mac_events,
            "hops": hops,
            "counters": counters,
            "mac_tables": mac_tables,
            "counter_changes": counter_changes,
        }
        """The run's own tables as they are kept (applications' tables: :attr:`extra`)."""
        self.summary = summary
        self.wall_seconds = wall_seconds
        """How long the run took on this machine; kept out of summary.json so that the
        same scenario and seed give byte-identical files."""
        self.extra = DataFrames(extra or {})
        """Applications' and features' tables by name: ``ping``, ``tcp``, ``imap`` ..."""
        self.captures = captures if captures is not None else {}
        """Captured ports (``node:port``): (time, frame) in time order."""
        self.topology = topology
        """The network that was simulated, as data (for drawing it)."""
        self.frame_bytes = frame_bytes if frame_bytes is not None else {}
        """frame_id -> octets (no FCS) of each followed frame, as first put on a link."""
        self.window_cut = window_cut
        """With ``netsim.run(..., window=...)``: when the window filled up, if it did."""

    @property
    def frames(self) -> pd.DataFrame:
        """One row per frame a host sent (frames.csv)."""
        return _frame(self.tables["frames"])

    @property
    def ports(self) -> pd.DataFrame:
        """One row per device port: its counters at the end of the run (ports.csv)."""
        return _frame(self.tables["ports"])

    @property
    def mac_events(self) -> pd.DataFrame:
        """One row per recorded MAC-table event (mac_events.csv)."""
        return _frame(self.tables["mac_events"])

    @property
    def hops(self) -> pd.DataFrame:
        """Every link crossed by the frames ``netsim.run(..., follow=[ids])`` followed."""
        return _frame(self.tables["hops"])

    @property
    def counters(self) -> pd.DataFrame:
        """Port counters at the instants ``netsim.run(..., snapshots=[t])`` asked for."""
        return _frame(self.tables["counters"])

    @property
    def mac_tables(self) -> pd.DataFrame:
        """Every switch's MAC table at those instants."""
        return _frame(self.tables["mac_tables"])

    @property
    def counter_changes(self) -> pd.DataFrame:
        """With ``netsim.run(..., window=...)``: the counters of the ports around each
        followed frame, whenever one of its hops changed them."""
        return _frame(self.tables["counter_changes"])

    @property
    def ping(self) -> pd.DataFrame:
        """One row per echo request (empty if the scenario pings nothing)."""
        return _frame(self.extra.tables.get("ping"))

    @property
    def tcp(self) -> pd.DataFrame:
        """One row per TCP transfer or exchange."""
        return _frame(self.extra.tables.get("tcp"))

    @property
    def imap(self) -> pd.DataFrame:
        """One row per IMAP command."""
        return _frame(self.extra.tables.get("imap"))

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
        for name in ("frames", "ports", "mac_events"):
            table = self.tables[name]
            write_table(table if table is not None else Table({}), out / f"{name}.csv")
        for name, table in self.extra.tables.items():
            write_table(table, out / f"{name}.csv")
        routes = self.extra.tables.get("routes")
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


def _rows(table: TableLike) -> Table:
    """``table`` as a Table: a DataFrame's rows as plain Python values."""
    if isinstance(table, Table):
        return table
    rows = cast("list[dict[str, Any]]", table.to_dict("records"))
    return Table.from_dicts(rows, [str(c) for c in table.columns])


def _groups(keys: list[Any], values: list[Any]) -> dict[str, list[Any]]:
    """``values`` grouped by ``keys`` in sorted key order, as ``groupby(sort=True)``
    groups them: rows whose key is missing belong to no group."""
    groups: dict[Any, list[Any]] = {}
    for key, value in zip(keys, values, strict=True):
        if key is not None and key == key:  # (NaN is the one value not equal to itself)
            groups.setdefault(key, []).append(value)
    return {str(key): groups[key] for key in sorted(groups)}


def summarize_frames(frames: TableLike) -> dict[str, Any]:
    """Counts by outcome and reason, and latency statistics of delivered frames.

    ``in_flight`` counts frames still on their way when a run hit its ``stop:`` time.
    """
    table = _rows(frames)
    outcome = table["outcome"] if table.names else []
    delivered = [i for i, o in enumerate(outcome) if o == "delivered"]
    dropped = [i for i, o in enumerate(outcome) if o == "dropped"]
    reasons: dict[str, int] = {}
    for i in dropped:
        reason = table["drop_reason"][i]
        if not is_missing(reason):
            reasons[str(reason)] = reasons.get(str(reason), 0) + 1
    latency = table["latency"] if table.names else []
    out: dict[str, Any] = {
        "sent": len(outcome),
        "delivered": len(delivered),
        "dropped": len(dropped),
        "in_flight": sum(1 for o in outcome if o == "in-flight"),
        "dropped_by_reason": {k: reasons[k] for k in sorted(reasons)},
        "latency": latency_stats([latency[i] for i in delivered]),
        "by_traffic": {},
    }
    if table.names:
        rows = list(zip(outcome, latency, strict=True))
        for traffic, group in _groups(table["traffic"], rows).items():
            ok = [lat for o, lat in group if o == "delivered"]
            out["by_traffic"][traffic] = {
                "sent": len(group),
                "delivered": len(ok),
                "latency": latency_stats(ok),
            }
    return out


def latency_stats(latency: list[Any]) -> dict[str, float | None]:
    """Mean, p50, p90, p99 and max of a latency column, in seconds: pandas' figures
    (missing values skipped), computed by :mod:`netsim.metrics.stats`."""
    if not latency:
        return {"mean": None, "p50": None, "p90": None, "p99": None, "max": None}

    def clean(x: float) -> float | None:
        return None if math.isnan(x) else float(f"{x:.12g}")

    ordered = sorted([float(v) for v in latency if v is not None and v == v])
    return {
        "mean": clean(mean(latency)),
        "p50": clean(quantile(ordered, 0.5)),
        "p90": clean(quantile(ordered, 0.9)),
        "p99": clean(quantile(ordered, 0.99)),
        "max": clean(ordered[-1] if ordered else math.nan),
    }


def capture_file_name(port: str) -> str:
    """``sw1:Gi0/1`` -> ``sw1_Gi0-1.pcap``."""
    return port.replace(":", "_").replace("/", "-") + ".pcap"


def _frame_octets(records: list[tuple[float, Any]]) -> list[tuple[float, bytes]]:
    # Captures hold frames as a NIC hands them up: without the 4-byte FCS.
    return [(t, frame.to_bytes()[:-4]) for t, frame in records]


def summarize_table(name: str, table: TableLike) -> dict[str, Any]:
    """A few aggregates of an application table for summary.json."""
    rows = _rows(table)
    out: dict[str, Any] = {"rows": len(rows)}
    if rows.empty:
        return out
    if name == "ping":
        replies = rows.where("outcome", "reply")
        out["replies"] = len(replies)
        out["rtt"] = latency_stats(replies["rtt"])
    if name in ("imap", "smtp", "pop3"):
        out["by_command"] = {
            command: latency_stats(group)
            for command, group in _groups(rows["command"], rows["latency"]).items()
        }
    if name == "dhcp":
        out["unconfigured"] = sum(1 for address in rows["address"] if is_missing(address))
    if name == "dhcp_pools":
        out["warnings"] = [w for w in rows["warning"] if w]
    if name == "routes":
        out["table"] = rows.records()
    if name == "delivery":
        out["by_via"] = {
            via: latency_stats(group)
            for via, group in _groups(rows["via"], rows["latency"]).items()
        }
    if name == "tcp":
        out["retransmissions"] = max(int(n) for n in rows["retransmissions"] if not is_missing(n))
        out["duration"] = latency_stats(rows["duration"])
    return out
