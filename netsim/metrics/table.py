"""A results table as named columns of plain Python values.

A run's tables (frames, ports, MAC events, the applications' and the features' tables)
are built once, at its end, and most runs only write them as CSV and summarise them in
summary.json. Neither needs pandas, whose import alone takes longer than a small run:
so a :class:`Table` keeps its columns as lists, :mod:`netsim.metrics.csv_file` writes
them, :mod:`netsim.metrics.stats` summarises them, and :meth:`Table.to_pandas` makes the
DataFrame only when someone asks for it (``results.frames`` in a notebook, a plot).

The DataFrame is the one pandas would have built from the rows, with the same dtypes: a
table is made from its rows (tuples or dicts) as pandas makes one, and keeps them that
way for :meth:`to_pandas`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


class Table:
    """Rows of a results table, held as one list per named column."""

    __slots__ = ("_columns", "_dtypes", "_frame")

    def __init__(
        self, columns: Mapping[str, list[Any]], dtypes: Mapping[str, str] | None = None
    ) -> None:
        lengths = {len(values) for values in columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns of different lengths: {sorted(lengths)}")
        self._columns = dict(columns)
        self._dtypes = dict(dtypes or {})
        """Columns pandas must give a dtype it would not infer (``astype``)."""
        self._frame: pd.DataFrame | None = None

    @classmethod
    def from_rows(
        cls,
        rows: Sequence[Sequence[Any]],
        names: Sequence[str],
        dtypes: Mapping[str, str] | None = None,
    ) -> Table:
        """A table of ``rows`` (tuples in the order of ``names``), as
        ``pd.DataFrame.from_records(rows, columns=names)`` makes one."""
        columns = {name: list(map(itemgetter(i), rows)) for i, name in enumerate(names)}
        return cls(columns, dtypes)

    @classmethod
    def from_dicts(
        cls, rows: Sequence[Mapping[str, Any]], names: Sequence[str] | None = None
    ) -> Table:
        """A table of ``rows`` (dicts), as ``pd.DataFrame(rows, columns=names)`` makes one:
        without ``names``, every key in the order it first appears. A key a row lacks is
        missing there (NaN, as pandas fills it); a key not in ``names`` is left out."""
        if names is None:
            names = list(dict.fromkeys(key for row in rows for key in row))
        nan = math.nan
        return cls({name: [row.get(name, nan) for row in rows] for name in names})

    @property
    def names(self) -> list[str]:
        """The column names, in order."""
        return list(self._columns)

    @property
    def columns(self) -> dict[str, list[Any]]:
        """Each column's values, by name (the lists themselves: do not change them)."""
        return self._columns

    @property
    def dtypes(self) -> dict[str, str]:
        """The dtypes :meth:`to_pandas` sets beyond pandas' own inference."""
        return self._dtypes

    def __getitem__(self, name: str) -> list[Any]:
        return self._columns[name]

    def __len__(self) -> int:
        return len(next(iter(self._columns.values()), ()))

    @property
    def empty(self) -> bool:
        """No rows (or no columns), as ``DataFrame.empty`` says."""
        return not self._columns or len(self) == 0

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """Each row as a tuple, in column order."""
        return zip(*self._columns.values(), strict=True)

    def records(self) -> list[dict[str, Any]]:
        """Each row as a dict (``DataFrame.to_dict("records")``)."""
        names = self.names
        return [dict(zip(names, row, strict=True)) for row in self.rows()]

    def where(self, name: str, value: object) -> Table:
        """The rows whose column ``name`` equals ``value``."""
        keep = [i for i, v in enumerate(self._columns[name]) if v == value]
        return Table({n: [c[i] for i in keep] for n, c in self._columns.items()}, self._dtypes)

    def to_pandas(self) -> pd.DataFrame:
        """The table as a DataFrame, built on first use (and then kept): pandas infers
        each column's dtype from the rows, as it did when the table was made with it."""
        if self._frame is None:
            import pandas as pd

            if not self._columns:
                frame = pd.DataFrame()  # (as pandas makes a table of no rows and no names)
            else:
                frame = pd.DataFrame.from_records(list(self.rows()), columns=self.names)
            if self._dtypes:
                frame = frame.astype(self._dtypes)
            self._frame = frame
        return self._frame

    def __repr__(self) -> str:
        return f"Table({len(self)} rows: {', '.join(self.names)})"
