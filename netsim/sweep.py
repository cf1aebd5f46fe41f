"""Parameter sweeps: run one scenario over a grid of values and compare.

A scenario's ``sweep:`` block maps YAML paths to lists of values; ``netsim sweep`` runs
the scenario once per point of their grid (the cartesian product, in the order written),
on a pool of worker processes, and gathers one tidy table: a row per point and traffic
source, a column per swept parameter. Every point is an ordinary deterministic run, so
the table is the same whatever the number of workers, and wherever they are: with a
scheduler address (``--scheduler tcp://host:8786``, or ``dask: {scheduler: ...}`` in the
sweep block) the points run on a Dask distributed cluster, which sends back each point's
rows and files, so the results folder looks the same as after a local run.

Ctrl-C stops a sweep: the points already run keep their folders, and
:class:`SweepInterrupted` carries their table. Workers ignore SIGINT (the terminal sends
it to the whole process group), so only the main process decides, and nothing prints a
traceback.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import signal
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from netsim.api import run
from netsim.scenario.errors import Problem, ScenarioError
from netsim.scenario.load import LoadedScenario, from_data

if TYPE_CHECKING:
    from distributed import Client


class SweepInterrupted(Exception):
    """Ctrl-C stopped a sweep; ``table`` holds the rows of the points that finished."""

    def __init__(self, table: pd.DataFrame, done: int, total: int) -> None:
        super().__init__(f"interrupted after {done} of {total} runs")
        self.table = table
        self.done = done
        self.total = total


@dataclass(frozen=True)
class SweepPoint:
    """One run of a sweep: its index and the values it sets."""

    index: int
    values: dict[str, Any]

    @property
    def label(self) -> str:
        """A folder name for this point, ``003-mode=cut-through``."""
        parts = [f"{path.split('.')[-1]}={value}" for path, value in self.values.items()]
        slug = re.sub(r"[^A-Za-z0-9_.=,-]+", "_", ",".join(parts))
        return f"{self.index:03d}-{slug}"[:120]


def grid(scenario: LoadedScenario) -> list[SweepPoint]:
    """The points of ``scenario``'s sweep, each checked to load (errors name the path)."""
    sweep = scenario.model.sweep_grid
    if not sweep:
        raise ScenarioError(
            [scenario.source.problem(("sweep",), "this scenario has no sweep: block to run")]
        )
    runs = math.prod(len(values) for values in sweep.values())
    if runs > scenario.model.limits.runs:
        raise ScenarioError(
            [
                scenario.source.problem(
                    ("sweep",),
                    f"this sweep is a grid of {runs:,} runs, over the limit of "
                    f"{scenario.model.limits.runs:,}; sweep fewer values, or raise "
                    f"limits.runs (like limits: {{runs: {runs}}}) to run it anyway",
                )
            ]
        )
    paths = list(sweep)
    points = [
        SweepPoint(i, dict(zip(paths, combo, strict=True)))
        for i, combo in enumerate(itertools.product(*(sweep[p] for p in paths)))
    ]
    for point in points:
        _load_point(scenario, point)
    return points


def _load_point(scenario: LoadedScenario, point: SweepPoint) -> LoadedScenario:
    data = {k: v for k, v in scenario.written.items() if k != "sweep"}
    try:
        return from_data(data, scenario.source, overrides=point.values)
    except ScenarioError as e:
        where = ", ".join(f"{p}={v!r}" for p, v in point.values.items())
        raise ScenarioError([_at_sweep(scenario, p, where) for p in e.problems]) from None


def _at_sweep(scenario: LoadedScenario, problem: Problem, where: str) -> Problem:
    """A point's problem; one with a path that cannot be set is located at its sweep key."""
    message = f"{problem.message} (sweep point {where})"
    if problem.file == "override":
        located = scenario.source.problem(("sweep", problem.path), message)
        return located
    return Problem(problem.file, problem.path, problem.line, message)


Job = tuple[LoadedScenario, SweepPoint, str | None]
"""What one worker needs: the scenario, the point, and where to save its run (or None)."""


def _run_point(job: Job) -> pd.DataFrame:
    scenario, point, out = job
    loaded = _load_point(scenario, point)
    results = run(loaded)
    if results.summary["interrupted"]:
        raise KeyboardInterrupt  # run() kept this point's partial results; stop the sweep
    if out is not None:
        results.save(Path(out) / point.label)
    return summary_rows(point, results.summary)


def _ignore_sigint() -> None:
    """In a worker: Ctrl-C is for the main process, which stops the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


PointFiles = dict[str, bytes]
"""A point's results folder as file contents by relative path (``frames.csv`` ...)."""


def _run_point_remotely(job: Job) -> tuple[pd.DataFrame, PointFiles]:
    """Run a point on a cluster worker: the rows, and the files its folder would hold.

    A worker may be another machine, so it writes nothing where the sweep was started;
    it saves into a scratch folder of its own and sends the bytes back.
    """
    scenario, point, out = job
    loaded = _load_point(scenario, point)
    results = run(loaded)
    files: PointFiles = {}
    if out is not None:
        with tempfile.TemporaryDirectory(prefix="netsim-point-") as scratch:
            folder = results.save(scratch)
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    files[path.relative_to(folder).as_posix()] = path.read_bytes()
    return summary_rows(point, results.summary), files


def summary_rows(point: SweepPoint, summary: dict[str, Any]) -> pd.DataFrame:
    """A point's rows: one per traffic source, one per IMAP command, and one per path whose
    availability was measured (``availability f1r1h01 -> mail``)."""
    rows: list[dict[str, Any]] = []
    for traffic, t in summary["frames"]["by_traffic"].items():
        rows.append(
            {
                "traffic": traffic,
                "sent": t["sent"],
                "delivered": t["delivered"],
                **{f"latency_{k}": v for k, v in t["latency"].items()},
            }
        )
    for command, stats in summary.get("imap", {}).get("by_command", {}).items():
        rows.append({"traffic": f"imap {command}", **{f"latency_{k}": v for k, v in stats.items()}})
    for path, measured in summary.get("availability", {}).get("paths", {}).items():
        rows.append(
            {
                "traffic": f"availability {path}",
                "availability_measured": measured["measured"],
                "availability_analytic": measured["analytic"],
                "outages": measured["outages"],
                "downtime": measured["downtime"],
            }
        )
    table = pd.DataFrame(rows)
    for i, (path, value) in enumerate(point.values.items()):
        table.insert(i, path, str(value) if isinstance(value, list | dict) else value)
    table.insert(0, "point", point.index)
    return table


def run_sweep(
    scenario: LoadedScenario,
    workers: int | None = None,
    out: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    scheduler: str | None = None,
) -> pd.DataFrame:
    """Run every point of the sweep; return the combined table (saved runs go to ``out``).

    The points run in ``workers`` local processes (default: one per core), or on the Dask
    cluster whose scheduler is at ``scheduler`` (default: the sweep block's ``dask:``).
    """
    points = grid(scenario)
    jobs: list[Job] = [(scenario, p, str(out) if out is not None else None) for p in points]
    cluster = scenario.model.sweep_cluster
    scheduler = scheduler or (cluster.scheduler if cluster is not None else None)
    if scheduler is not None:
        from distributed import Client

        with Client(scheduler) as client:  # type: ignore[no-untyped-call]
            return _run_on_cluster(client, jobs, out, progress)
    workers = workers or os.cpu_count() or 1
    tables: list[pd.DataFrame] = []
    if workers == 1 or len(points) == 1:
        if progress:
            progress(0, len(jobs))
        try:
            for i, job in enumerate(jobs):
                tables.append(_run_point(job))
                if progress:
                    progress(i + 1, len(jobs))
        except KeyboardInterrupt:
            raise SweepInterrupted(_combined(tables), len(tables), len(jobs)) from None
        return _combined(tables)
    # Workers forked while SIGINT is ignored start ignoring it (the initializer covers the
    # other start methods): a Ctrl-C can never catch one half-started.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    stop = threading.Event()
    try:
        pool = ProcessPoolExecutor(
            max_workers=min(workers, len(points)), initializer=_ignore_sigint
        )
        futures = [pool.submit(_run_point, job) for job in jobs]
    finally:
        # From here on Ctrl-C only raises a flag that the loop below looks at: an
        # exception thrown into concurrent.futures' own locking could leave a lock held
        # and the sweep hung.
        signal.signal(signal.SIGINT, lambda _signum, _frame: stop.set())
    try:
        if progress:
            progress(0, len(jobs))
        for i, future in enumerate(futures):
            table = _result(future, stop)
            if table is None:
                break
            tables.append(table)
            if progress:
                progress(i + 1, len(jobs))
    finally:
        signal.signal(signal.SIGINT, previous)
    if stop.is_set():
        # A point under way would otherwise run to its end: stop the workers first
        # (shutdown forgets them), then the pool.
        for worker in list((getattr(pool, "_processes", None) or {}).values()):
            worker.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise SweepInterrupted(_combined(tables), len(tables), len(jobs))
    pool.shutdown()
    return _combined(tables)


def _result(future: Future[pd.DataFrame], stop: threading.Event) -> pd.DataFrame | None:
    """The future's result, or None once ``stop`` is set (Ctrl-C): it waits in short
    slices, so that the main thread wakes to run the signal handler and look at the flag."""
    while not stop.is_set():
        try:
            return future.result(timeout=0.25)
        except TimeoutError:
            continue
    return None


def _combined(tables: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


def _run_on_cluster(
    client: Client,
    jobs: list[Job],
    out: Path | None,
    progress: Callable[[int, int], None] | None,
) -> pd.DataFrame:
    """Submit every point to the cluster; gather their rows in point order."""
    from distributed import as_completed

    futures = client.map(_run_point_remotely, jobs, pure=False)
    for done, _future in enumerate(as_completed(futures), start=1):  # type: ignore[no-untyped-call]
        if progress:
            progress(done, len(jobs))
    tables: list[pd.DataFrame] = []
    for (_scenario, point, _out), future in zip(jobs, futures, strict=True):
        rows, files = future.result()
        tables.append(rows)
        if out is not None:
            for relative, data in files.items():
                target = out / point.label / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
    return pd.concat(tables, ignore_index=True)


def write_parquet(table: pd.DataFrame, path: Path) -> None:
    """Write a sweep table as one Parquet file (pyarrow), for pandas, Polars, DuckDB, Spark.

    A swept parameter's column can mix types (``[100M, 1000000]``); Parquet columns have
    one type, so such a column is written as text, as sweep.csv shows it.
    """
    table = table.copy()
    for column in table.columns:
        if table[column].dtype == object:
            kinds = {type(v) for v in table[column] if v is not None and v == v}
            if len(kinds) > 1:
                table[column] = table[column].map(lambda v: v if v is None or v != v else str(v))
    table.to_parquet(path, index=False, engine="pyarrow")
