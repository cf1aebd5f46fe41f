"""Results files are written column by column, and must be the bytes pandas would write.

``write_csv`` exists for speed only: pandas' ``to_csv(index=False, float_format="%.12g")``
is the oracle, and every table is compared with it byte for byte: the tables of real
runs, and random tables with the awkward values (NaN, infinities, -0.0, text with commas,
quotes and line breaks, empty text, missing values).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import netsim
from netsim.metrics.csv_file import write_csv

SCENARIOS = ["scenarios/two-switches.yaml", "scenarios/labs/07-vlans.yaml",
             "scenarios/labs/08-qos.yaml", "scenarios/tcp-basics.yaml"]  # fmt: skip


def pandas_bytes(table: pd.DataFrame, path: Path) -> bytes:
    table.to_csv(path, index=False, float_format="%.12g")
    return path.read_bytes()


def ours(table: pd.DataFrame, path: Path) -> bytes:
    write_csv(table, path)
    return path.read_bytes()


def test_every_table_of_real_runs_is_written_as_pandas_writes_it(tmp_path: Path) -> None:
    compared = 0
    for scenario in SCENARIOS:
        res = netsim.run(netsim.load(scenario))
        tables = {"frames": res.frames, "ports": res.ports, "mac_events": res.mac_events}
        tables.update(res.extra)
        for name, table in tables.items():
            expected = pandas_bytes(table, tmp_path / "pandas.csv")
            assert ours(table, tmp_path / "ours.csv") == expected, (scenario, name)
            compared += 1
    assert compared >= 12


texts = st.one_of(st.none(), st.text(alphabet='a,"\n\r x\t;', max_size=6))
floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e-5, 123456789012.5, 1e16, 2.5e-7, 0.1 + 0.2]),
)


@settings(derandomize=True, max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(floats, st.integers(-(2**62), 2**62), st.booleans(), texts, texts),
        max_size=8,
    )
)
def test_random_tables_match_pandas_byte_for_byte(
    rows: list[tuple[float, int, bool, str | None, str | None]],
) -> None:
    table = pd.DataFrame.from_records(rows, columns=["t", "n", "flag", "text", "other"])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp)
        assert ours(table, path / "ours.csv") == pandas_bytes(table, path / "pandas.csv")


def test_a_single_text_column_quotes_an_empty_field_as_pandas_does(tmp_path: Path) -> None:
    table = pd.DataFrame({"drop_reason": ["", "fcs-error", ""]})
    assert ours(table, tmp_path / "a.csv") == pandas_bytes(table, tmp_path / "b.csv")


def test_columns_of_other_kinds_are_left_to_pandas(tmp_path: Path) -> None:
    table = pd.DataFrame(
        {"mixed": [1, "two", 3.5], "when": pd.to_datetime(["2026-01-01", None, "2026-03-01"])}
    )
    assert ours(table, tmp_path / "a.csv") == pandas_bytes(table, tmp_path / "b.csv")
