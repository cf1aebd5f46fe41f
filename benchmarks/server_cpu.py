"""How much CPU a server process tree has used, to the nanosecond (Linux /proc).

Shared by the benchmarks that compare serve-mail with Dovecot.  ``/proc/PID/stat``
counts CPU time in clock ticks of 10 ms, too coarse for commands of 20-100 µs, so the
live processes are read from ``/proc/PID/task/TID/schedstat`` (nanoseconds on the CPU,
every thread).  Children that have exited (Dovecot forks a process per login) are only
known to their parent's ``stat`` (its ``cutime`` and ``cstime``), in ticks.
"""

from __future__ import annotations

import cProfile
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from netsim.apps.serve_mail import BackgroundServer

Meter = Callable[[], float]
"""CPU seconds a server has used so far."""

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def _on_cpu(pid: int) -> float:
    """Seconds every thread of ``pid`` has been on a CPU (0 if it is gone)."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as schedstat:
                total += int(schedstat.read().split()[0])
    except OSError:
        pass
    return total / 1e9


def tree_cpu(root: int) -> Meter:
    """A meter of ``root`` and all its descendants, the reaped ones included."""

    def meter() -> float:
        parents: dict[int, int] = {}
        fields: dict[int, list[str]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit() and (found := _stat(int(entry))) is not None:
                fields[int(entry)] = found
                parents[int(entry)] = int(found[1])
        total = 0.0
        for pid, found in fields.items():
            ancestor = pid
            while ancestor not in (root, 0, 1) and ancestor in parents:
                ancestor = parents[ancestor]
            if ancestor == root:
                reaped = int(found[13]) + int(found[14])  # cutime, cstime
                total += _on_cpu(pid) + reaped / _TICKS
        return total

    return meter


def load_average() -> str:
    """The 1-minute load average and the CPU count, for the figures' caption."""
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"


def start_profiled(background: BackgroundServer) -> cProfile.Profile:
    """Start ``background`` with its server thread running under cProfile.

    The profiler is enabled in that thread only (cProfile follows one thread), so the
    benchmark's client, in the main thread, stays out of the figures.
    """
    profiler = cProfile.Profile()
    original = threading.Thread.run

    def traced(self: threading.Thread) -> None:
        profiler.enable()
        try:
            original(self)
        finally:
            profiler.disable()

    threading.Thread.run = traced  # type: ignore[method-assign]
    try:
        background.start()
    finally:
        threading.Thread.run = original  # type: ignore[method-assign]
    return profiler
