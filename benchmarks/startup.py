"""Benchmark: how long a whole ``netsim`` process takes on the smallest bundled scenario.

Start-up dominates short runs: a student who runs one frame across two switches should
see the answer at once. Each command below is run as a fresh process, ``--repeat`` times
(default 5); the median and best wall times and the median CPU time (user + system,
which a busy machine inflates less) are printed. Target: ``netsim run`` under 1 s.

Python reads each module's compiled bytecode from ``__pycache__`` when it can, as it
does for an installed package. Where bytecode is not written (``PYTHONDONTWRITEBYTECODE``
is set on the development machine) every process compiles netsim's sources again, about
0.25 s more. By default the benchmark keeps a bytecode cache in a temporary directory
(``PYTHONPYCACHEPREFIX``), filled by one untimed run of each command; ``--cold`` times
processes that compile every source instead.

``--against DIR`` times another checkout of netsim (the main branch, an older commit
from ``git archive``) in the same run, alternating A, B, A, B, so that both see the same
load; the ratio of the medians is printed.

    python benchmarks/startup.py [--repeat 5] [--cold] [--against DIR]
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


def commands(root: Path, out: str) -> dict[str, list[str]]:
    """What is timed: import, validate, a run with tables only, a run with figures."""
    smallest = str(root / "scenarios" / "two-switches.yaml")
    netsim = [sys.executable, "-m", "netsim"]
    run = [*netsim, "run", smallest, "--out", out, "--quiet"]
    return {
        "python -c 'import netsim'": [sys.executable, "-c", "import netsim"],
        "netsim validate two-switches.yaml": [*netsim, "validate", smallest],
        "netsim run two-switches.yaml --no-plots": [*run, "--no-plots"],
        "netsim run two-switches.yaml (with figures)": run,
    }


def environment(root: Path, cache: str | None) -> dict[str, str]:
    """The environment of a timed process: ``root`` first on the path; with ``cache``,
    bytecode written to and read from that directory."""
    env = dict(os.environ)
    env_path = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = f"{root}{os.pathsep}{env_path}" if env_path else str(root)
    if cache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = cache
    return env


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one process running ``argv`` to completion."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=cwd, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cold", action="store_true", help="no bytecode cache")
    parser.add_argument("--against", type=Path, help="another netsim checkout to compare")
    args = parser.parse_args()
    trees = {"this": ROOT}
    if args.against is not None:
        trees["other"] = args.against.resolve()
    load = os.getloadavg()[0]
    mode = "compiling every source" if args.cold else "with a bytecode cache"
    print(f"{args.repeat} runs each, {mode}; load average {load:.2f} on {os.cpu_count()} cores")
    for name, root in trees.items():
        print(f"  {name}: {root}")
    with tempfile.TemporaryDirectory() as scratch:
        out = str(Path(scratch) / "out")
        envs = {
            name: environment(root, None if args.cold else str(Path(scratch) / f"pyc-{name}"))
            for name, root in trees.items()
        }
        if not args.cold:
            for name, root in trees.items():  # fill the bytecode cache, untimed
                for argv in commands(root, out).values():
                    timed(argv, envs[name], root)
        labels = list(commands(ROOT, out))
        for label in labels:
            runs: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
            for _ in range(args.repeat):
                for name, root in trees.items():  # alternating: A, B, A, B ...
                    argv = commands(root, out)[label]
                    runs[name].append(timed(argv, envs[name], root))
            print(f"  {label}")
            medians = {}
            for name, times in runs.items():
                walls = [w for w, _ in times]
                medians[name] = statistics.median(walls)
                print(
                    f"    {name:<6} {medians[name]:6.3f} s wall (best {min(walls):.3f})"
                    f"  {statistics.median(c for _, c in times):6.3f} s CPU"
                )
            if "other" in medians:
                print(f"    this / other: {medians['this'] / medians['other']:.2f}")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
