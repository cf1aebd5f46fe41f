"""The run's summary tables: every column as wide as its widest cell, never touching.

A fixed 8-character column ran wide numbers into their neighbours (``traffic  sent``
over ``bulk12345678901234``); a table sized to its contents keeps two spaces between any
two cells, with numbers right-aligned on their last digit.
"""

from __future__ import annotations

from hypothesis import given, seed, settings
from hypothesis import strategies as st

from netsim.metrics.text_table import GAP, format_table


def test_wide_cells_widen_their_column_and_numbers_line_up():
    lines = format_table(
        ["traffic", "sent", "mean"],
        [["a-very-long-traffic-name", 12345678901234, "1.000 us"], ["x", 5, "123456.789 us"]],
    )
    assert lines == [
        "traffic                             sent           mean",
        "a-very-long-traffic-name  12345678901234       1.000 us",
        "x                                      5  123456.789 us",
    ]


cell = st.one_of(st.integers(-(10**15), 10**15), st.text("abc xyz.-", min_size=1, max_size=30))


@settings(derandomize=True, max_examples=60, deadline=None)
@seed(14)
@given(st.lists(st.lists(cell, min_size=3, max_size=3), min_size=1, max_size=8))
def test_cells_can_always_be_read_back(rows):
    """Whatever the contents, each line splits back into its cells at the column edges."""
    header = ["h1", "h2", "h3"]
    lines = format_table(header, rows)
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(3)]
    for line, row in zip(lines[1:], rows, strict=True):
        padded = line.ljust(sum(widths) + 2 * len(GAP))
        start = 0
        for i, width in enumerate(widths):
            assert padded[start : start + width].strip() == str(row[i]).strip()
            start += width
            if i < 2:
                assert padded[start : start + len(GAP)] == GAP
                start += len(GAP)
