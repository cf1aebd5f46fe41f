"""Writing a results table as CSV: the bytes pandas writes, a column at a time.

``DataFrame.to_csv`` formats each value through several Python calls, which is most of
the cost of saving a run with 400,000 MAC events. :func:`write_csv` makes the same file
(a test compares the two byte for byte). Each column becomes text in one pass: ``%.12g``
for floats, an empty field for a missing value, and each distinct text quoted once by
the standard library's CSV writer, which is what pandas writes with (a field with a
comma, a quote or a line break is quoted). Rows are then plain joins. A table with a
column of another kind (dates, mixed objects) is left to pandas.

A run's own tables are :class:`~netsim.metrics.table.Table` objects, columns of plain
Python values that have never been a DataFrame: :func:`write_table` writes them without
loading pandas, giving each column the text of the dtype pandas would infer for it
(int64, float64, bool, text with missing values). A column of any other mixture is
rare, and is left to pandas through the DataFrame the table makes.
"""

from __future__ import annotations

import csv
import io
import math
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from netsim.metrics.table import Table

if TYPE_CHECKING:
    import pandas as pd

FLOAT_FORMAT = "%.12g"
"""How results files write floats: 12 significant digits, enough for picoseconds."""


def write_table(table: Table | pd.DataFrame, path: str | Path) -> None:
    """Write a results table to ``path`` as ``DataFrame.to_csv(path, index=False,
    float_format=FLOAT_FORMAT)`` writes its DataFrame."""
    if not isinstance(table, Table):
        write_csv(table, path)
        return
    texts = [plain_column_text(values) for values in table.columns.values()]
    columns = [text for text in texts if text is not None]
    # A column cast to int64 (frames' hops) is written as its ints, if it holds only ints.
    cast_as_written = all(
        dtype == "int64" and set(map(type, table[name])) <= {int}
        for name, dtype in table.dtypes.items()
    )
    if not columns or len(columns) < len(texts) or not cast_as_written:
        write_csv(table.to_pandas(), path)  # a column of a kind pandas must decide
        return
    if len(columns) == 1:
        # The CSV writer quotes a row's only field when it is empty.
        columns = [[text or '""' for text in columns[0]]]
    _write(path, table.names, columns)


def write_csv(table: pd.DataFrame, path: str | Path) -> None:
    """Write ``table`` to ``path`` as ``table.to_csv(path, index=False,
    float_format=FLOAT_FORMAT)`` does."""
    texts = [_column_text(table.iloc[:, i]) for i in range(table.shape[1])]
    columns = [text for text in texts if text is not None]
    if table.shape[1] < 2 or not table.columns.is_unique or len(columns) < len(texts):
        # (The CSV writer quotes a row's only field when it is empty: not a plain join.)
        table.to_csv(path, index=False, float_format=FLOAT_FORMAT)
        return
    _write(path, [str(name) for name in table.columns], columns)


def _write(path: str | Path, names: list[str], columns: list[list[str]]) -> None:
    """The header, then each row: its fields, already CSV text, joined by commas."""
    with open(path, "w", newline="", encoding="utf-8") as out:
        csv.writer(out, lineterminator="\n").writerow(names)
        if columns and columns[0]:
            out.write("\n".join(map(",".join, zip(*columns, strict=True))))
            out.write("\n")


def quoted(text: str) -> str:
    """``text`` as a field of a CSV row, quoted if it must be, as the CSV writer does."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([text, ""])
    return buffer.getvalue()[:-2]  # without the empty second field's "," and the "\n"


_INT64 = range(-(2**63), 2**63)


def plain_column_text(values: list[Any]) -> list[str] | None:
    """The fields of a column of plain Python values, as pandas writes the column it
    infers from them; None for a mixture whose dtype pandas must decide.

    Integers alone are int64; numbers with a missing value (None or NaN) or a float are
    float64, so an integer is written as a float (``%.12g``); text with missing values
    is text, a missing value an empty field; booleans alone are ``True``/``False``;
    text mixed with integers is an object column, each value written as ``str`` does.
    """
    kinds = set(map(type, values))
    if any(issubclass(kind, StrEnum) for kind in kinds):
        # An enumeration of text (a MAC event's kind) is text: pandas keeps its value.
        # (str.__str__ gives the plain string; an Enum's own hash is slow Python code.)
        if all(issubclass(kind, StrEnum) for kind in kinds):
            values = list(map(str.__str__, values))
        else:
            values = [str.__str__(v) if isinstance(v, StrEnum) else v for v in values]
        kinds = set(map(type, values))
    if not kinds or kinds <= {type(None)}:
        return [""] * len(values)
    if kinds == {int}:
        return list(map(str, values)) if _fits_int64(values) else None
    if kinds == {bool}:
        return list(map(str, values))
    if kinds <= {int, float, type(None)}:
        if int in kinds and not _fits_int64([v for v in values if type(v) is int]):
            return None
        if type(None) in kinds:
            return [FLOAT_FORMAT % v if v is not None and v == v else "" for v in values]
        texts = list(map(FLOAT_FORMAT.__mod__, values))
        if "nan" in texts:  # only NaN is written "nan": it is a missing value, an empty field
            texts = ["" if text == "nan" else text for text in texts]
        return texts
    if str in kinds and kinds <= {str, int, float, type(None)}:
        distinct = set(values)
        if any(type(v) is float and v == v for v in distinct):
            return None  # a float among text: pandas decides how to write it
        # Text with missing values (None, or NaN for a key a row lacked); or text and
        # integers, an object column whose values the CSV writer writes with str() (LACP's
        # partner port: a number, or empty). Each distinct value is quoted once.
        text = {v: "" if v is None or type(v) is float else quoted(str(v)) for v in distinct}
        return list(map(text.__getitem__, values))
    return None


def _fits_int64(values: list[int]) -> bool:
    """Every integer fits pandas' int64 (a larger one makes an object column)."""
    return min(values) in _INT64 and max(values) in _INT64


def _column_text(column: pd.Series) -> list[str] | None:
    """The column's fields as CSV text, or None for a kind of column left to pandas."""
    import numpy as np
    import pandas as pd

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
