"""Quantities in scenario files carry units; a bare number (other than 0) is ambiguous."""

from __future__ import annotations

import pytest

from netsim.scenario.units import parse_bytes, parse_length, parse_percent, parse_rate, parse_time


@pytest.mark.parametrize(
    ("text", "bps"),
    [
        ("10M", 10e6),
        ("100M", 100e6),
        ("1G", 1e9),
        ("100Mbps", 100e6),
        ("1Gb/s", 1e9),
        ("64kbps", 64e3),
        ("2.5G", 2.5e9),
        ("10 Mbit/s", 10e6),
    ],
)
def test_rates(text, bps):
    assert parse_rate(text) == pytest.approx(bps)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("50ns", 50e-9),
        ("1.5us", 1.5e-6),
        ("1µs", 1e-6),
        ("1ms", 1e-3),
        ("300s", 300.0),
        ("2min", 120.0),
        (0, 0.0),
        ("0s", 0.0),
        ("1e-3s", 1e-3),
    ],
)
def test_times(text, seconds):
    assert parse_time(text) == pytest.approx(seconds)


def test_sizes_lengths_percentages():
    assert parse_bytes("512KB") == 512_000
    assert parse_bytes("1MiB") == 1024 * 1024
    assert parse_bytes("1500B") == 1500
    assert parse_length("2km") == 2000.0
    assert parse_percent("90%") == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("parser", "value", "words"),
    [
        (parse_time, 5, "needs a unit"),
        (parse_time, "5", "needs a unit"),
        (parse_rate, 100, "needs a unit"),
        (parse_rate, "100Q", "unknown rate unit"),
        (parse_time, "-1s", "cannot be negative"),
        (parse_bytes, "12 parsecs", "unknown size unit"),
        (parse_percent, "150%", "(0, 100]"),
        (parse_percent, "0.5", "percentage"),
        (parse_time, True, "with a unit"),
        (parse_time, [1], "with a unit"),
    ],
)
def test_bad_quantities_say_what_was_expected(parser, value, words):
    with pytest.raises(ValueError, match=None) as caught:
        parser(value)
    assert words in str(caught.value)
