"""Helpers for the scenario tests: a guard that turns a hang into a failure."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from types import FrameType

import pytest

HANG_SECONDS = 120
"""Generous: a guard catches hangs, it does not time anything (that is benchmarks/' job)."""


class Hang(Exception):
    """The guarded code ran past its generous bound: it would have hung."""


@contextmanager
def no_hang(seconds: int = HANG_SECONDS) -> Iterator[None]:
    """Fail with :class:`Hang` instead of hanging, if the block runs past ``seconds``."""

    def alarm(_signum: int, _frame: FrameType | None) -> None:
        raise Hang(f"still running after {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(name="no_hang")
def no_hang_fixture() -> Callable[..., AbstractContextManager[None]]:
    """The :func:`no_hang` guard, for tests in this folder."""
    return no_hang
