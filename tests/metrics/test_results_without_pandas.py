"""A run writes its tables and summary without pandas, and they are pandas' to the byte.

netsim builds its results tables as columns of plain values (``Table``), writes them as
CSV and computes summary.json's statistics itself, so that a small run need not import
pandas. pandas stays the oracle: each CSV file a run writes must be the bytes of
``DataFrame.to_csv(index=False, float_format="%.12g")`` of the DataFrame the API gives,
and each section of summary.json what the pandas expressions below (the ones netsim used
before) compute from those DataFrames.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import netsim
from netsim.api import json_safe
from netsim.metrics.csv_file import FLOAT_FORMAT, write_table
from netsim.metrics.results import summarize_frames
from netsim.metrics.table import Table

SCENARIOS = [
    "scenarios/two-switches.yaml",
    "scenarios/hub-collisions.yaml",
    "scenarios/tcp-basics.yaml",
    "scenarios/labs/07-vlans.yaml",
    "scenarios/labs/08-qos.yaml",
    "scenarios/labs/10-inter-vlan-routing.yaml",
    "scenarios/labs/12-mail-protocols.yaml",
    "scenarios/labs/13-availability.yaml",
    "scenarios/labs/17-fhrp-hsrp.yaml",
]


# --- The oracle: summary.json's sections as pandas computes them. ---------------------


def pandas_latency(latency: pd.Series) -> dict[str, float | None]:
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


def pandas_frames_summary(frames: pd.DataFrame) -> dict[str, Any]:
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
        "latency": pandas_latency(delivered["latency"]),
        "by_traffic": {},
    }
    for traffic, group in frames.groupby("traffic", sort=True):
        ok = group[group["outcome"] == "delivered"]
        out["by_traffic"][str(traffic)] = {
            "sent": len(group),
            "delivered": len(ok),
            "latency": pandas_latency(ok["latency"]),
        }
    return out


def pandas_table_summary(name: str, table: pd.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {"rows": len(table)}
    if table.empty:
        return out
    if name == "ping":
        replies = table[table["outcome"] == "reply"]
        out["replies"] = len(replies)
        out["rtt"] = pandas_latency(replies["rtt"].astype(float))
    if name in ("imap", "smtp", "pop3"):
        out["by_command"] = {
            str(cmd): pandas_latency(group["latency"].astype(float))
            for cmd, group in table.groupby("command", sort=True)
        }
    if name == "dhcp":
        out["unconfigured"] = int((table["address"].isna()).sum())
    if name == "dhcp_pools":
        out["warnings"] = [w for w in table["warning"] if w]
    if name == "routes":
        out["table"] = table.to_dict("records")
    if name == "delivery":
        out["by_via"] = {
            str(via): pandas_latency(group["latency"].astype(float))
            for via, group in table.groupby("via", sort=True)
        }
    if name == "tcp":
        out["retransmissions"] = int(table["retransmissions"].max())
        out["duration"] = pandas_latency(table["duration"].astype(float))
    return out


def as_json(value: Any) -> str:
    return json.dumps(json_safe(value), sort_keys=True)


# --- Whole runs. ------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: Path(s).stem)
def test_every_file_of_a_run_is_what_pandas_writes_and_computes(
    scenario: str, tmp_path: Path
) -> None:
    res = netsim.run(netsim.load(scenario))
    out = res.save(tmp_path / "run")
    frames = {"frames": res.frames, "ports": res.ports, "mac_events": res.mac_events}
    frames.update(res.extra)
    written = {p.stem for p in out.glob("*.csv")}
    assert written == set(frames)
    for name, frame in frames.items():
        frame.to_csv(tmp_path / "pandas.csv", index=False, float_format=FLOAT_FORMAT)
        expected = (tmp_path / "pandas.csv").read_bytes()
        assert (out / f"{name}.csv").read_bytes() == expected, name
    summary = json.loads((out / "summary.json").read_text())
    assert as_json(summary["frames"]) == as_json(pandas_frames_summary(res.frames))
    for name, frame in res.extra.items():
        if name != "availability":  # (its section is the failures' own, not a table's)
            assert as_json(summary[name]) == as_json(pandas_table_summary(name, frame)), name


def test_thousands_of_latencies_are_summarised_as_pandas_summarises_them() -> None:
    # Enough delivered frames that NumPy's pairwise sum splits the column into blocks.
    frames = pd.DataFrame(
        {
            "traffic": ["a", "b"] * 1500,
            "outcome": ["delivered", "delivered", "dropped"] * 1000,
            "drop_reason": ["", "", "fcs-error"] * 1000,
            "latency": [1e-6 * (1 + (i * 7919) % 1000) / 3 for i in range(3000)],
        }
    )
    ours = summarize_frames(Table.from_dicts(frames.to_dict("records")))
    assert as_json(ours) == as_json(pandas_frames_summary(frames))


# --- Random tables. ----------------------------------------------------------------------

values = st.one_of(
    st.none(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet='a,"\n x;', max_size=4),
    st.booleans(),
)


def column_of(kind: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
    return st.lists(st.one_of(st.none(), kind), min_size=3, max_size=3)


columns = st.one_of(
    st.lists(st.integers(-(2**63), 2**63 - 1), min_size=3, max_size=3),
    column_of(st.floats(allow_nan=True, allow_infinity=True)),
    column_of(st.integers(-(2**40), 2**40)),
    column_of(st.text(alphabet='a,"\n x;', max_size=4)),
    st.lists(st.booleans(), min_size=3, max_size=3),
    column_of(st.one_of(st.integers(-99, 99), st.text(alphabet='a,"\n x;', max_size=4))),
    st.lists(values, min_size=3, max_size=3),  # any mixture: pandas decides
)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.lists(columns, min_size=1, max_size=4), st.integers(0, 3))
def test_a_table_of_any_plain_values_is_written_as_pandas_writes_its_rows(
    cols: list[list[Any]], rows: int
) -> None:
    names = [f"c{i}" for i in range(len(cols))]
    records = [tuple(c[r] for c in cols) for r in range(rows)]
    table = Table.from_rows(records, names)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp)
        pd.DataFrame.from_records(records, columns=names).to_csv(
            path / "pandas.csv", index=False, float_format=FLOAT_FORMAT
        )
        write_table(table, path / "ours.csv")
        assert (path / "ours.csv").read_bytes() == (path / "pandas.csv").read_bytes()


@settings(derandomize=True, max_examples=100, deadline=None)
@given(
    st.lists(
        st.dictionaries(st.sampled_from(["a", "b", "c"]), values, min_size=1, max_size=3),
        max_size=4,
    )
)
def test_rows_as_dicts_make_the_dataframe_pandas_makes_of_them(rows: list[dict[str, Any]]) -> None:
    ours = Table.from_dicts(rows).to_pandas()
    pd.testing.assert_frame_equal(ours, pd.DataFrame(rows), check_index_type=False)
