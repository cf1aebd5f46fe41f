"""Sequence sets such as ``1,4:7,9:*`` (RFC 3501 section 9, ``sequence-set``).

A set names messages either by message sequence number or by UID; ``*`` is the largest
number in use.  Parsing and resolving are separate so a set can be parsed once and then
resolved against whichever mailbox state applies.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

_MAX_NUMBER = 2**32 - 1
_ITEM = re.compile(r"([0-9]+|\*)(?::([0-9]+|\*))?")
# One regular expression for the whole set: each character has one reading, so it
# cannot backtrack.
_WELL_FORMED = re.compile(
    r"(?:[0-9]+|\*)(?::(?:[0-9]+|\*))?(?:,(?:[0-9]+|\*)(?::(?:[0-9]+|\*))?)*\Z"
)


def _number(text: str) -> int | None:
    return None if text == "*" else int(text)


class SequenceSetError(ValueError):
    """Text that is not a valid sequence set."""


@dataclass(frozen=True, slots=True)
class SequenceSet:
    """A parsed sequence set: ranges whose ends are numbers, or ``None`` for ``*``."""

    ranges: tuple[tuple[int | None, int | None], ...]

    @classmethod
    def parse(cls, text: str) -> SequenceSet:
        """Parse ``text``; raise :class:`SequenceSetError` if it is malformed."""
        if not text:
            raise SequenceSetError("empty sequence set")
        if text.isdigit() and text.isascii():
            # One message ("FETCH 7", "UID STORE 42"), the commonest set of all.
            number = int(text)
            if 0 < number <= _MAX_NUMBER:
                return cls(((number, number),))
        if _WELL_FORMED.match(text):
            # The common case, fast: a client may send thousands of ranges at once.
            found = [
                (_number(first), _number(last or first)) for first, last in _ITEM.findall(text)
            ]
            if all(n is None or 0 < n <= _MAX_NUMBER for pair in found for n in pair):
                return cls(tuple(found))
        # Slow, to say exactly what is wrong.
        ranges: list[tuple[int | None, int | None]] = []
        for item in text.split(","):
            ends = item.split(":")
            if len(ends) > 2:
                raise SequenceSetError(f"bad range {item!r}")
            numbers = tuple(_parse_number(e) for e in ends)
            ranges.append((numbers[0], numbers[-1]))
        return cls(tuple(ranges))

    def resolve(self, largest: int) -> list[int]:
        """Sorted distinct numbers of this set, with ``*`` meaning ``largest``.

        Numbers above ``largest`` are kept; the caller decides whether they are an
        error (sequence numbers) or simply match nothing (UIDs).
        """
        picked: set[int] = set()
        for first, last in self.ranges:
            low = largest if first is None else first
            high = largest if last is None else last
            if low > high:
                low, high = high, low
            if high - low > 10_000_000:
                high = min(high, max(largest, low))
            picked.update(range(low, high + 1))
        picked.discard(0)
        return sorted(picked)

    def bounds(self, largest: int) -> list[tuple[int, int]]:
        """Each range as (low, high) with ``*`` replaced by ``largest`` and ends ordered."""
        result = []
        for first, last in self.ranges:
            low = largest if first is None else first
            high = largest if last is None else last
            result.append((low, high) if low <= high else (high, low))
        return result

    def merged(self, largest: int) -> Ranges:
        """The set as disjoint ascending ranges, ``*`` meaning ``largest``.

        ``1:*,2,3:5,...`` may repeat itself thousands of times on one command line;
        merged, it costs no more than the numbers it really names.
        """
        spans = sorted(self.bounds(largest))
        lows: list[int] = []
        highs: list[int] = []
        for low, high in spans:
            if highs and low <= highs[-1] + 1:
                highs[-1] = max(highs[-1], high)
            else:
                lows.append(low)
                highs.append(high)
        return Ranges(tuple(lows), tuple(highs))

    def contains(self, number: int, largest: int) -> bool:
        """True if ``number`` lies in this set when ``*`` means ``largest``."""
        for first, last in self.ranges:
            low = largest if first is None else first
            high = largest if last is None else last
            if low > high:
                low, high = high, low
            if low <= number <= high:
                return True
        return False

    def largest_named(self) -> int:
        """The largest explicit number in the set (``*`` excluded), or 0."""
        return max((n for r in self.ranges for n in r if n is not None), default=0)


@dataclass(frozen=True, slots=True)
class Ranges:
    """Disjoint ranges in ascending order: ``lows[i]..highs[i]``, ends included."""

    lows: tuple[int, ...]
    highs: tuple[int, ...]

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter(zip(self.lows, self.highs, strict=True))

    def contains(self, number: int) -> bool:
        """True if ``number`` lies in one of the ranges (a binary search)."""
        i = bisect_right(self.lows, number) - 1
        return i >= 0 and number <= self.highs[i]


def _parse_number(text: str) -> int | None:
    """One end of a range: ``*`` or a non-zero 32-bit number."""
    if text == "*":
        return None
    if not text.isdigit() or not text.isascii():
        raise SequenceSetError(f"bad number {text!r}")
    value = int(text)
    if value == 0 or value > _MAX_NUMBER:
        raise SequenceSetError(f"number out of range: {text}")
    return value


def format_set(numbers: Iterable[int]) -> str:
    """Write numbers compactly, runs collapsed into ranges: ``1:3,7``."""
    parts: list[str] = []
    start = prev = None
    for n in sorted(set(numbers)):
        if prev is not None and n == prev + 1:
            prev = n
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}:{prev}")
        start = prev = n
    if start is not None:
        parts.append(str(start) if start == prev else f"{start}:{prev}")
    return ",".join(parts)
