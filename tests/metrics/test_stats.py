"""summary.json's statistics are pandas' to the last bit, without pandas.

pandas is the oracle: ``Series.mean()`` (NumPy's pairwise sum, missing values skipped)
and ``Series.quantile(q)`` (linear interpolation between order statistics). Floats are
compared with ``==``, not approximately: a summary must not change by one bit when
netsim stops loading pandas to write it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.metrics.stats import mean, pairwise_sum, quantile

latencies = st.floats(min_value=0.0, max_value=1e3, allow_nan=False, allow_infinity=False)
column = st.lists(st.one_of(latencies, st.just(math.nan)), max_size=400)


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.lists(latencies, max_size=1100))
def test_the_sum_is_numpys_pairwise_sum(values: list[float]) -> None:
    assert pairwise_sum(values) == float(np.sum(np.array(values, dtype=np.float64)))


def test_a_long_column_is_summed_as_numpy_sums_it_not_one_by_one() -> None:
    values = [0.1 * (i % 97) + 1e-9 * i for i in range(20_000)]
    assert pairwise_sum(values) == float(np.sum(np.array(values)))
    assert pairwise_sum(values) != sum(values)  # the order of additions matters


@settings(derandomize=True, max_examples=200, deadline=None)
@given(column)
def test_the_mean_skips_missing_values_as_pandas_does(values: list[float]) -> None:
    assert same(mean(values), float(pd.Series(values, dtype="float64").mean()))


@settings(derandomize=True, max_examples=200, deadline=None)
@given(column, st.sampled_from([0.5, 0.9, 0.99, 0.0, 1.0, 0.25]))
def test_quantiles_are_pandas_linear_quantiles(values: list[float], q: float) -> None:
    ordered = sorted(v for v in values if not math.isnan(v))
    expected = float(pd.Series(values, dtype="float64").quantile(q))
    assert same(quantile(ordered, q), expected)


def test_no_values_have_no_mean_and_no_quantile() -> None:
    assert math.isnan(mean([])) and math.isnan(mean([None, math.nan]))
    assert math.isnan(quantile([], 0.5))
