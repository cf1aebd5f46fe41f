"""The numbers behind the figures, as pure functions of results tables (no drawing).

Kept apart from the plotting code so that tests can check them exactly and notebooks can
reuse them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PREAMBLE_AND_GAP_BYTES = 20
"""Bytes a transmitter spends per frame beyond the frame itself: 8 of preamble and SFD,
12 of inter-frame gap (ports.csv counts only the frame's octets)."""

MAC_SIZE_CHANGE = {"learn": 1, "age-out": -1}
"""How each mac_events.csv event changes a table's size; every other event (move, refresh,
flood, full) leaves it as it was."""

UTILIZATION_COLUMNS = ["device", "kind", "port", "label", "speed_bps", "utilization"]
MAC_SIZE_COLUMNS = ["device", "time", "size"]


def port_utilization(ports: pd.DataFrame, simulated_time: float) -> pd.DataFrame:
    """Transmit utilization of every connected port, highest first.

    ``utilization`` is the fraction of the run the port's transmitter was busy:
    ``(tx_octets + 20 * tx_frames) * 8 / (speed_bps * simulated_time)``, preamble and
    inter-frame gap included, as a traffic ``rate: 50%`` counts them. Ports without a
    link (``speed_bps`` 0) are left out; ``label`` is ``device:port``.
    """
    if simulated_time <= 0:
        raise ValueError(f"simulated_time must be positive, not {simulated_time}")
    if ports.empty:
        return pd.DataFrame(columns=UTILIZATION_COLUMNS)
    up = ports[ports["speed_bps"].astype(float) > 0]
    bits = (up["tx_octets"].astype(float) + PREAMBLE_AND_GAP_BYTES * up["tx_frames"]) * 8
    out = pd.DataFrame(
        {
            "device": up["device"].astype(str),
            "kind": up["kind"].astype(str) if "kind" in up else "",
            "port": up["port"].astype(str),
            "label": up["device"].astype(str) + ":" + up["port"].astype(str),
            "speed_bps": up["speed_bps"].astype(float),
            "utilization": bits / (up["speed_bps"].astype(float) * simulated_time),
        }
    )
    # A stable sort keeps ports.csv order among equals, so the figure is deterministic.
    out = out.sort_values("utilization", ascending=False, kind="stable")
    return out.reset_index(drop=True)


def mac_table_size(mac_events: pd.DataFrame) -> pd.DataFrame:
    """The size of every switch's MAC table after each change, from its events.

    A ``learn`` adds an entry and an ``age-out`` removes one (a port going down records
    an age-out per entry it loses); moves, refreshes, floods and a full table change
    nothing. Several events at one instant give one row, with the size after all of them.
    Static entries never appear in mac_events.csv, so they are not counted. Columns:
    ``device``, ``time`` (s), ``size``; devices in order of first appearance.
    """
    if mac_events.empty:
        return pd.DataFrame(columns=MAC_SIZE_COLUMNS).astype({"time": float, "size": "int64"})
    events = mac_events[["device", "time", "event"]].copy()
    events["delta"] = events["event"].map(MAC_SIZE_CHANGE).fillna(0).astype("int64")
    events = events[events["delta"] != 0]
    # mac_events.csv is in time order; a stable sort keeps same-instant events in order.
    events = events.sort_values("time", kind="stable")
    events["size"] = events.groupby("device", sort=False)["delta"].cumsum()
    last = events.groupby(["device", "time"], sort=False).tail(1)
    order = {d: i for i, d in enumerate(pd.unique(mac_events["device"]))}
    last = last.assign(_order=last["device"].map(order))
    last = last.sort_values(["_order", "time"], kind="stable")
    return last[MAC_SIZE_COLUMNS].reset_index(drop=True).astype({"time": float, "size": "int64"})


def ecdf(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The empirical CDF of ``values`` (NaN dropped): sorted values and fractions."""
    x = np.sort(values.dropna().to_numpy(dtype=float))
    y = np.arange(1, x.size + 1, dtype=float) / max(x.size, 1)
    return x, y
