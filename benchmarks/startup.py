"""Benchmark: how long a whole ``netsim`` process takes on the smallest bundled scenario.

Start-up dominates short runs: a student who runs one frame across two switches should
see the answer at once. Each command below is run as a fresh process, ``--repeat`` times
(default 5); the median wall time and the median CPU time (user + system, which a busy
machine inflates less) are printed. Target: ``netsim run`` under 1 s.

    python benchmarks/startup.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMALLEST = ROOT / "scenarios" / "two-switches.yaml"


def commands(out: str) -> dict[str, list[str]]:
    """What is timed: import, validate, a run with tables only, a run with figures."""
    netsim = [sys.executable, "-m", "netsim"]
    run = [*netsim, "run", str(SMALLEST), "--out", out, "--quiet"]
    return {
        "python -c 'import netsim'": [sys.executable, "-c", "import netsim"],
        "netsim validate two-switches.yaml": [*netsim, "validate", str(SMALLEST)],
        "netsim run two-switches.yaml --no-plots": [*run, "--no-plots"],
        "netsim run two-switches.yaml (with figures)": run,
    }


def timed(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one process running ``argv`` to completion."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    env_path = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = f"{ROOT}{os.pathsep}{env_path}" if env_path else str(ROOT)
    load = os.getloadavg()[0]
    print(f"{args.repeat} runs each, median; load average {load:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as out:
        for label, argv in commands(out).items():
            runs = [timed(argv) for _ in range(args.repeat)]
            wall = statistics.median(w for w, _ in runs)
            cpu = statistics.median(c for _, c in runs)
            print(f"  {label:<46} {wall:6.2f} s wall  {cpu:6.2f} s CPU")


if __name__ == "__main__":
    main()
