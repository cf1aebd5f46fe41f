"""Writing a results table as CSV: the bytes pandas writes, a column at a time.

``DataFrame.to_csv`` formats each value through several Python calls, which is most of
the cost of saving a run with 400,000 MAC events. :func:`write_csv` makes the same file
(a test compares the two byte for byte). Each column becomes text in one pass: ``%.12g``
for floats, an empty field for a missing value, and each distinct text quoted once by
the standard library's CSV writer, which is what pandas writes with (a field with a
comma, a quote or a line break is quoted). Rows are then plain joins. A table with a
column of another kind (dates, mixed objects) is left to pandas.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd

FLOAT_FORMAT = "%.12g"
"""How results files write floats: 12 significant digits, enough for picoseconds."""


def write_csv(table: pd.DataFrame, path: str | Path) -> None:
    """Write ``table`` to ``path`` as ``table.to_csv(path, index=False,
    float_format=FLOAT_FORMAT)`` does."""
    columns = [_column_text(table.iloc[:, i]) for i in range(table.shape[1])]
    if table.shape[1] < 2 or not table.columns.is_unique or any(c is None for c in columns):
        # (The CSV writer quotes a row's only field when it is empty: not a plain join.)
        table.to_csv(path, index=False, float_format=FLOAT_FORMAT)
        return
    with open(path, "w", newline="", encoding="utf-8") as out:
        csv.writer(out, lineterminator="\n").writerow([str(name) for name in table.columns])
        if len(table):
            out.write("\n".join(map(",".join, zip(*columns, strict=True))))
            out.write("\n")


def quoted(text: str) -> str:
    """``text`` as a field of a CSV row, quoted if it must be, as the CSV writer does."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([text, ""])
    return buffer.getvalue()[:-2]  # without the empty second field's "," and the "\n"


def _column_text(column: pd.Series) -> list[str] | None:
    """The column's fields as CSV text, or None for a kind of column left to pandas."""
    dtype = column.dtype
    if dtype.kind == "f" and isinstance(dtype, np.dtype):
        return [
            FLOAT_FORMAT % v if v == v else "" for v in column.to_numpy(dtype=np.float64).tolist()
        ]
    if dtype.kind in "iub" and isinstance(dtype, np.dtype):
        return [str(v) for v in column.tolist()]
    if isinstance(dtype, pd.StringDtype):
        # Text columns repeat a few values (device names, events, addresses): each
        # distinct value is quoted once, and a missing one (code -1) is the last, "".
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        texts = np.array([*(quoted(str(u)) for u in uniques), ""], dtype=object)
        return texts[codes].tolist()  # type: ignore[no-any-return]
    if dtype.kind == "O":
        seen: dict[str, str] = {}
        out: list[str] = []
        for v in column.tolist():
            if isinstance(v, str):
                text = seen.get(v)
                if text is None:
                    text = seen[v] = quoted(v)
                out.append(text)
            elif v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
                out.append("")
            else:
                return None  # a number or an object in a text column: pandas decides
        return out
    return None
