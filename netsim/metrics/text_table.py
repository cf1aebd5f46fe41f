"""Plain-text tables for the terminal, each column as wide as its widest cell.

Fixed widths run wide numbers together (``1234567890123`` in a 12-character column
touches its neighbour); here every column is sized to its contents, and columns are
always separated by two spaces.
"""

from __future__ import annotations

from collections.abc import Sequence

GAP = "  "
"""What separates two columns, however wide they are."""


def format_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """The lines of a table: the header, then one line per row.

    The first column is left-aligned (it names the row); the others are right-aligned,
    so numbers line up on their last digit. Cells are shown with ``str``.
    """
    cells = [[str(c) for c in header], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    lines = []
    for line in cells:
        parts = [
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        ]
        lines.append(GAP.join(parts).rstrip())
    return lines
