"""Quantities with units, as scenario files write them: ``100M``, ``50ns``, ``512KB``, ``2km``.

Each parser takes what YAML gave (a string or a number) and returns plain SI floats (bits
per second, seconds, metres) or bytes. A bare number is refused (is ``delay: 50`` fifty
seconds or fifty nanoseconds?), except zero, which means the same in every unit.

Every quantity is finite and within a physical range (:data:`RANGES`): ``1e999s`` or
``1e300GB`` is a typo, not a scenario, and an infinite delay or rate would make every
timing formula meaningless.
"""

from __future__ import annotations

import math
import re

_NUMBER = r"(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)"
_PATTERN = re.compile(_NUMBER + r"\s*(?P<unit>[A-Za-zµ/%]*)\s*$")

_RATE_PREFIX = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
_TIME_UNITS = {
    "s": 1.0,
    "ms": 1e-3,
    "us": 1e-6,
    "µs": 1e-6,
    "ns": 1e-9,
    "ps": 1e-12,
    "min": 60.0,
    "h": 3600.0,
}
_LIFETIME_UNITS = {**_TIME_UNITS, "d": 86400.0}
"""A mean time between failures or to repair is written in hours or days, like a datasheet's."""
_BYTE_UNITS: dict[str, float] = {
    "B": 1,
    "KB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
    "TB": 1000**4,
    "kB": 1000,
    "KiB": 1024,
    "MiB": 1024**2,
    "GiB": 1024**3,
}
_LENGTH_UNITS = {"m": 1.0, "km": 1000.0, "cm": 0.01}


RANGES: dict[str, tuple[float, float, str]] = {
    "rate": (1e3, 1e12, "1 kb/s to 1 Tb/s"),
    "time": (1e-12, 1e6, "1 ps to 1,000,000 s (11.6 days, the longest Catalyst aging time)"),
    "lifetime": (1e-3, 1e13, "1 ms to 10^13 s (about 300,000 years)"),
    "size": (1, 1e12, "1 B to 1 TB"),
    "length": (1e-3, 1e5, "1 mm to 100 km"),
    "frame rate": (1.0, 1e10, "1 to 10,000 Mpps"),
}
"""For each kind of quantity: the smallest non-zero value, the largest, and how errors say it."""


def _in_range(scaled: float, kind: str, value: object) -> float:
    """``scaled`` if it is zero or within the range of ``kind``, else a clear ValueError."""
    low, high, words = RANGES[kind]
    if scaled != 0 and not low <= scaled <= high:
        raise ValueError(f"a {kind} must be {words} (or 0), got {value!r}")
    return scaled


def _split(value: object, what: str, example: str) -> tuple[float, str]:
    if isinstance(value, bool):
        raise ValueError(f"expected {what} with a unit, like {example}; got {value!r}")
    if isinstance(value, int | float):
        if value == 0:
            return 0.0, ""
        raise ValueError(f"{what} needs a unit: {value!r} is ambiguous (write it like {example})")
    if not isinstance(value, str):
        raise ValueError(f"expected {what} with a unit, like {example}; got {value!r}")
    m = _PATTERN.match(value.strip())
    if m is None:
        raise ValueError(f"expected {what} with a unit, like {example}; got {value!r}")
    number = float(m["num"])
    if not math.isfinite(number):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    unit = m["unit"]
    if not unit and number != 0:
        raise ValueError(f"{what} needs a unit: {value!r} is ambiguous (write it like {example})")
    return number, unit


def parse_rate(value: object) -> float:
    """A bit rate in bits per second: ``10M``, ``100Mbps``, ``1G``, ``1Gb/s``, ``64kbps``."""
    number, unit = _split(value, "a rate", "100M or 1G")
    if number == 0 and not unit:
        raise ValueError("a rate must be positive")
    bare = unit
    for suffix in ("bps", "bit/s", "b/s"):
        if unit.endswith(suffix):
            bare = unit[: -len(suffix)]
            break
    if bare not in _RATE_PREFIX or (bare == "" and unit == ""):
        raise ValueError(f"unknown rate unit in {value!r} (use k, M or G, optionally with bps)")
    rate = number * _RATE_PREFIX[bare]
    if rate <= 0:
        raise ValueError(f"a rate must be positive, got {value!r}")
    return _in_range(rate, "rate", value)


def _scaled(value: object, what: str, example: str, units: dict[str, float], known: str) -> float:
    """``value`` in the base unit of ``units``; ``what`` and ``known`` word the errors."""
    number, unit = _split(value, f"a {what}", example)
    if unit and unit not in units:
        raise ValueError(f"unknown {what} unit {unit!r} in {value!r} (use {known})")
    scaled = number * units.get(unit, 1.0)
    if scaled < 0:
        raise ValueError(f"a {what} cannot be negative, got {value!r}")
    return _in_range(scaled, what, value)


def parse_time(value: object) -> float:
    """A duration in seconds: ``50ns``, ``1.5us``, ``1ms``, ``300s``, ``2min``."""
    return _scaled(value, "time", "50ns, 1ms or 300s", _TIME_UNITS, "s, ms, us, ns, min or h")


def parse_lifetime(value: object) -> float:
    """A mean time between failures or to repair, in seconds: ``200000h``, ``4h``, ``30d``."""
    number, unit = _split(value, "a time", "200000h or 4h")
    if unit and unit not in _LIFETIME_UNITS:
        raise ValueError(f"unknown time unit {unit!r} in {value!r} (use s, min, h or d)")
    scaled = number * _LIFETIME_UNITS.get(unit, 1.0)
    if scaled <= 0:
        raise ValueError(f"a mean time between failures or to repair is positive: {value!r}")
    return _in_range(scaled, "lifetime", value)


def parse_bytes(value: object) -> int:
    """A size in bytes: ``1500B``, ``512KB`` (1000-based), ``1MiB`` (1024-based)."""
    return round(
        _scaled(value, "size", "512KB or 1MB", _BYTE_UNITS, "B, KB, MB, GB, TB, KiB, MiB or GiB")
    )


def parse_length(value: object) -> float:
    """A cable length in metres: ``100m``, ``2km``."""
    return _scaled(value, "length", "100m or 2km", _LENGTH_UNITS, "m or km")


def parse_percent(value: object) -> float:
    """A fraction written as a percentage: ``90%`` -> 0.9."""
    number, unit = _split(value, "a percentage", "90%")
    if unit != "%":
        raise ValueError(f"expected a percentage like 90%, got {value!r}")
    if not 0 < number <= 100:
        raise ValueError(f"a percentage of the link rate must be in (0, 100], got {value!r}")
    return number / 100.0


_PPS_PREFIX = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9}


def parse_frame_rate(value: object) -> float:
    """Frames (packets) per second: ``6.5Mpps``, ``148kpps``, ``1000fps``."""
    number, unit = _split(value, "a frame rate", "6.5Mpps")
    for suffix in ("pps", "fps"):
        if unit.endswith(suffix) and unit[: -len(suffix)] in _PPS_PREFIX:
            rate = number * _PPS_PREFIX[unit[: -len(suffix)]]
            if rate <= 0:
                break
            return _in_range(rate, "frame rate", value)
    raise ValueError(f"expected a frame rate like 6.5Mpps or 148kpps, got {value!r}")
