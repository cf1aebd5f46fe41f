"""A device as it was at one simulated instant, read from a run's results.

The MAC table at any time follows from mac_events.csv: learn and move bind an address to
a port, age-out removes it (refreshes change nothing a table shows). When the run took a
snapshot at that very instant (``netsim.run(sc, snapshots=[t])``, as ``netsim show``
does) the snapshot is used instead: it is the switch's own table, copied while it ran.
Counters only grow and are not in any event log, so a time before the end of the run
needs a snapshot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from netsim.l2.frame import mac_to_str
from netsim.metrics.results import Results
from netsim.show.registry import ShowError

BINDING_EVENTS = frozenset({"learn", "move", "refresh"})
"""MAC events that bind an address to a port."""


@dataclass(frozen=True)
class MacEntry:
    """One row of a MAC address table."""

    vlan: int
    mac: str
    """``02:00:00:00:00:01``."""
    port: str
    type: str
    """``DYNAMIC`` or ``STATIC``."""


@dataclass(frozen=True)
class DeviceAt:
    """``device`` of ``results`` at simulated time ``at`` (None: at the end of the run)."""

    results: Results
    device: str
    at: float | None

    @property
    def kind(self) -> str:
        """``switch``, ``host``, ``hub`` ..."""
        topology = self.results.topology
        if topology is not None and self.device in topology.nodes:
            return topology.nodes[self.device].kind
        rows = self.results.ports[self.results.ports["device"] == self.device]
        return str(rows["kind"].iloc[0]) if not rows.empty else "device"

    def _snapshot(self, table: pd.DataFrame) -> pd.DataFrame | None:
        """Rows of ``table`` for this device at exactly :attr:`at`, if it was snapshotted."""
        if self.at is None or table.empty:
            return None
        times = table["time"].astype(float)
        hit = times.map(lambda t: math.isclose(t, self.at or 0.0, rel_tol=1e-12, abs_tol=0.0))
        if not hit.any():
            return None
        return table[hit & (table["device"] == self.device)]

    def mac_table(self) -> list[MacEntry]:
        """The MAC address table, sorted by VLAN, then address."""
        snap = self._snapshot(self.results.mac_tables)
        if snap is not None:
            entries = [
                MacEntry(int(r["vlan"]), str(r["mac"]), str(r["port"]), str(r["type"]))
                for r in snap.to_dict("records")
            ]
        else:
            entries = self._replayed_mac_table()
        return sorted(entries, key=lambda e: (e.vlan, e.mac))

    def _replayed_mac_table(self) -> list[MacEntry]:
        events = self.results.mac_events
        mine = events[events["device"] == self.device]
        if self.at is not None:
            mine = mine[mine["time"].astype(float) <= self.at]
        bound: dict[tuple[int, str], str] = {}
        for row in mine.to_dict("records"):
            key = (int(row["vlan"]), str(row["mac"]))
            if row["event"] in BINDING_EVENTS:
                bound[key] = str(row["port"])
            elif row["event"] == "age-out":
                bound.pop(key, None)
        entries = [MacEntry(v, mac, port, "DYNAMIC") for (v, mac), port in bound.items()]
        topology = self.results.topology
        if topology is not None and self.device in topology.nodes:
            for mac, port in topology.nodes[self.device].static_macs:
                entries.append(MacEntry(1, mac_to_str(mac), port, "STATIC"))
        return entries

    def ports(self, counted: bool = False) -> list[dict[str, Any]]:
        """The device's ports in order: port, peer, speed_bps, duplex, status, counters.

        ``counted``: the counters must be those at :attr:`at` (else a :class:`ShowError`
        says how to record them); otherwise only the status is taken from a snapshot.
        """
        table = self.results.ports
        rows = table[table["device"] == self.device]
        if rows.empty:
            names = sorted(set(table["device"])) if not table.empty else []
            raise ShowError(f"no device {self.device!r} (devices: {', '.join(names)})")
        out = [{str(k): v for k, v in r.items()} for r in rows.to_dict("records")]
        for row in out:
            row["status"] = "connected" if row["peer"] else "notconnect"
        snap = self._snapshot(self.results.counters)
        if snap is not None:
            at_time = {
                str(r["port"]): {str(k): v for k, v in r.items()} for r in snap.to_dict("records")
            }
            for row in out:
                row.update(at_time[str(row["port"])])
        elif counted and self.at is not None and self.at < self._end():
            raise ShowError(
                f"counters of {self.device} at {self.at:g} s were not recorded: run with "
                f"netsim.run(scenario, snapshots=[{self.at:g}]), as `netsim show` does"
            )
        return out

    def _end(self) -> float:
        return float(self.results.summary.get("simulated_time", math.inf))
