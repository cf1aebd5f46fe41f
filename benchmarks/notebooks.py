"""Benchmark: how long each teaching notebook takes, top to bottom, in a fresh kernel.

The README quotes these figures to teachers, so they are measured, not guessed: each
notebook in notebooks/ is executed as the test suite does (nbclient, a new ``python3``
kernel, the notebook's folder as working directory), kernel start included, and the wall
seconds are printed, best of ``--rounds`` runs.

    python benchmarks/notebooks.py [--rounds 1] [NAME ...]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def run_once(path: Path) -> float:
    """Execute the notebook at ``path`` in a fresh kernel; return the wall seconds."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    started = time.perf_counter()
    client.execute()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebooks to time (default: all)")
    parser.add_argument("--rounds", type=int, default=1, help="runs per notebook; best is shown")
    args = parser.parse_args()
    paths = [NOTEBOOKS / f"{n}.ipynb" for n in args.names] or sorted(NOTEBOOKS.glob("*.ipynb"))
    for path in paths:
        best = min(run_once(path) for _ in range(max(1, args.rounds)))
        print(f"{path.stem:<20} {best:6.1f} s", flush=True)


if __name__ == "__main__":
    main()
