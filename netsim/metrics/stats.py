"""summary.json's statistics, computed as pandas computes them, without pandas.

A run's summary reports the mean, the 50th, 90th and 99th percentiles and the maximum of
its latencies. pandas (through NumPy) defines them precisely, and the summaries must stay
the same to the last bit whether or not pandas is loaded, so this module follows NumPy's
arithmetic step by step rather than the textbook formulas:

- a **sum** is NumPy's *pairwise* summation: blocks of up to 128 numbers are added with
  eight running partial sums, and longer runs are split in two halves, recursively. It
  rounds differently from adding the numbers one by one (``math.fsum`` is different again);
- a **mean** skips missing values (NaN) the way pandas does: they become 0.0 in place, the
  whole column is summed, and the sum is divided by the count of the others;
- a **quantile** interpolates linearly between the two order statistics around
  ``(n - 1) * q`` (Hyndman and Fan's method 7, NumPy's ``"linear"``), with NumPy's
  ``lerp``, which counts back from the upper neighbour when the fraction is 0.5 or more.

Tests compare each function with pandas on random columns, sizes and missing values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

_UNROLL = 8
"""Partial sums NumPy keeps while it adds a block."""
_BLOCK = 128
"""The longest run NumPy adds as one block; longer runs are halved first."""


def is_missing(value: object) -> bool:
    """None or NaN: what pandas counts as a missing value in a column of numbers."""
    return value is None or (isinstance(value, float) and value != value)


def pairwise_sum(values: Sequence[float]) -> float:
    """The sum of ``values`` as ``numpy.sum`` computes it for an array of float64."""
    return 0.0 + _pairwise(values, 0, len(values))


def _pairwise(values: Sequence[float], start: int, count: int) -> float:
    # NumPy's pairwise_sum (numpy/_core/src/umath/loops_utils.h.src), line for line.
    if count < _UNROLL:
        total = 0.0
        for i in range(start, start + count):
            total += values[i]
        return total
    if count <= _BLOCK:
        r = list(values[start : start + _UNROLL])
        end = start + count - count % _UNROLL
        i = start + _UNROLL
        while i < end:
            for j in range(_UNROLL):
                r[j] += values[i + j]
            i += _UNROLL
        total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for k in range(end, start + count):
            total += values[k]
        return total
    half = count // 2
    half -= half % _UNROLL
    return _pairwise(values, start, half) + _pairwise(values, start + half, count - half)


def mean(values: Sequence[float | None]) -> float:
    """``Series.mean()``: the mean of the values that are not missing (NaN if none)."""
    # (NaN is the one float not equal to itself.)
    present = [float(v) for v in values if v is not None and v == v]
    if not present:
        return math.nan
    if len(present) == len(values):
        return pairwise_sum(present) / len(present)
    filled = [0.0 if v is None or v != v else float(v) for v in values]
    return pairwise_sum(filled) / len(present)


def quantile(ordered: Sequence[float], q: float) -> float:
    """``numpy.quantile(values, q)`` (method ``"linear"``) of ``ordered``: the values
    without missing ones, sorted ascending. NaN when there are none."""
    n = len(ordered)
    if n == 0:
        return math.nan
    virtual = (n - 1) * q
    if virtual >= n - 1:
        below = above = ordered[-1]
        gamma = virtual + 1.0  # NumPy takes the last value twice, from index -1
    elif virtual < 0:
        below = above = ordered[0]
        gamma = virtual
    else:
        index = math.floor(virtual)
        below, above = ordered[index], ordered[index + 1]
        gamma = virtual - index
    difference = above - below
    if gamma >= 0.5:
        return above - difference * (1 - gamma)
    return below + difference * gamma
