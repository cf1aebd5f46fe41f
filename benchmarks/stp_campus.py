"""Benchmark: what spanning tree costs on a 100-switch campus (target: under 5 %).

scenarios/campus.yaml grown to 11 floors of 8 rooms (101 Catalysts: the building
stack, 11 floor switches, 88 room switches and the server room; one PC per room, 88
IMAP clients), run for the same simulated time with no spanning tree (the campus has no
loop, so none runs by default) and with rapid PVST+ on every switch
(``portfast_default: true``, so the PCs' ports forward at once), where every switch
sends a BPDU on each designated port every 2 s.

The two variants run in turn, ``--repeat`` times each (none, stp, none, stp, ...), so
that a change in the machine's load hits both alike, each run in a fresh process (runs
repeated in one process got faster round by round, which favoured the later variant).
Each run reports wall seconds and CPU seconds (``time.process_time``: other jobs disturb
it less than wall time, but on a busy 2-core machine still by tens of per cent). The
figures are the ratio of the medians and that of the best runs (other work only ever
adds time), and the median and range of the ratios of each pair (a pair runs back to
back, so a slow moment of the machine spoils one pair, not the figure). With
``--side-by-side`` the two runs of a pair run at the same time, each pinned to a core
of its own (the cores swapped every round): a virtual machine whose host is busy slows
both alike, where one after the other it slows one of them. The event
counts, and with ``--opcodes`` the Python bytecodes executed (counted once per variant
with ``sys.settrace``: slow, but no load can move it), are exact. Bytecodes leave out
what runs in C (allocation, the garbage collector, dicts, bytes), so ``--instructions``
also counts the machine instructions of each variant's run with valgrind's cachegrind:
a fresh process loads the scenario, and a second one loads and runs it, and the
difference is the run's. Valgrind simulates the CPU, so no load on the machine changes
the count (a 60 s campus takes a few minutes).

    python benchmarks/stp_campus.py [--duration 60s] [--repeat 5] [--mode rapid-pvst]
    python benchmarks/stp_campus.py --side-by-side --repeat 12
    python benchmarks/stp_campus.py --duration 20s --repeat 0 --opcodes
    python benchmarks/stp_campus.py --duration 60s --repeat 0 --instructions
"""

from __future__ import annotations

import argparse
import concurrent.futures
import functools
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import netsim

sys.path.insert(0, str(Path(__file__).resolve().parent))
from opcodes_per_frame import opcodes_by_function

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "campus.yaml"
BIG = ["campus.floors.count=11", "campus.floors.rooms=8", "campus.floors.room.hosts=1"]


def scenario(duration: str, mode: str | None) -> netsim.LoadedScenario:
    """The big campus, with spanning tree ``mode`` on every switch (``None``: none)."""
    sets = [*BIG, f"duration={duration}"]
    if mode is not None:
        sets += [
            f"topology.defaults.switch.spanning_tree.mode={mode}",
            "topology.defaults.switch.spanning_tree.portfast_default=true",
        ]
    return netsim.load(SCENARIO, sets=sets)


def measure_run(duration: str, mode: str | None) -> dict[str, float]:
    """Run the campus once in this process: wall and CPU seconds of ``netsim.run``
    (loading excluded) and what the run did."""
    loaded = scenario(duration, mode)
    wall, cpu = time.perf_counter(), time.process_time()
    results = netsim.run(loaded)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert results.topology is not None
    return {
        "wall": wall,
        "cpu": cpu,
        "switches": sum(1 for n in results.topology.nodes.values() if n.kind == "switch"),
        "events": int(results.summary["events_processed"]),
        # Background load frames count as multicast too: BPDUs are the difference.
        "multicast": int(results.ports["tx_multicast"].sum()),
        "imap": len(results.imap),
    }


def child_command(duration: str, mode: str | None) -> list[str]:
    """The command of a child process that runs the campus once and reports."""
    return [
        *(sys.executable, __file__, "--child", "run", "--duration", duration),
        *("--mode", mode or "none", "--report"),
    ]


def run_once(duration: str, mode: str | None) -> dict[str, float]:
    """:func:`measure_run` in a fresh Python process."""
    done = subprocess.run(child_command(duration, mode), check=True, capture_output=True, text=True)
    report: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    return report


def run_side_by_side(
    duration: str, modes: tuple[str | None, str | None], swap: bool
) -> list[dict[str, float]]:
    """Both variants at once, each in a fresh process pinned to a core of its own (the
    cores swapped when ``swap``): whatever else the machine does meanwhile, both feel it."""
    cores = (1, 0) if swap else (0, 1)
    children = [
        subprocess.Popen(
            child_command(duration, mode),
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=functools.partial(os.sched_setaffinity, 0, {core}),
        )
        for mode, core in zip(modes, cores, strict=True)
    ]
    reports = []
    for child in children:
        out, _ = child.communicate()
        if child.returncode:
            raise SystemExit(f"a campus run failed (exit status {child.returncode})")
        reports.append(json.loads(out.splitlines()[-1]))
    return reports


def count_opcodes(duration: str, mode: str | None) -> int:
    """Python bytecodes executed by one ``netsim.run``."""
    return sum(opcodes_by_function(scenario(duration, mode)).values())


def count_instructions(duration: str, mode: str | None, phase: str) -> int:
    """Machine instructions of a fresh process that loads (``phase="load"``) or loads
    and runs (``phase="run"``) the campus, counted by valgrind's cachegrind."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cachegrind.out"
        subprocess.run(
            [
                "valgrind",
                "--tool=cachegrind",
                "--cache-sim=no",
                f"--cachegrind-out-file={out}",
                sys.executable,
                __file__,
                "--child",
                phase,
                "--duration",
                duration,
                "--mode",
                mode or "none",
            ],
            check=True,
            capture_output=True,
            env=dict(os.environ, PYTHONHASHSEED="0"),
        )
        found = re.search(r"^summary: (\d+)", out.read_text(), re.MULTILINE)
        assert found, "cachegrind wrote no summary"
        return int(found.group(1))


def run_instructions(duration: str, modes: tuple[str | None, ...]) -> list[int]:
    """Machine instructions of one ``netsim.run`` per mode (loading subtracted); the
    valgrind processes run side by side, since load does not change what they count."""
    jobs = [(mode, phase) for mode in modes for phase in ("run", "load")]
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        counts = list(pool.map(lambda job: count_instructions(duration, *job), jobs))
    return [counts[i] - counts[i + 1] for i in range(0, len(counts), 2)]


def spread(values: list[float]) -> str:
    """The median of the pairs' ratios (a slow moment of the machine spoils one pair, not
    the figure) and their range."""
    if not values:
        return "-"
    text = f"median {statistics.median(values):+.1%}"
    if len(values) >= 8:
        # How far the median could be off: resample the pairs (a seeded bootstrap).
        draw = random.Random(1)
        medians = sorted(
            statistics.median(draw.choices(values, k=len(values))) for _ in range(2000)
        )
        text += f" (95 % interval {medians[50]:+.1%} .. {medians[1949]:+.1%})"
    return f"{text}, range {min(values):+.1%} .. {max(values):+.1%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", default="60s")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--mode", default="rapid-pvst")
    parser.add_argument(
        "--side-by-side", action="store_true", help="run each round's pair at once, a core each"
    )
    parser.add_argument("--opcodes", action="store_true", help="count bytecodes (slow)")
    parser.add_argument(
        "--instructions", action="store_true", help="count machine instructions (valgrind)"
    )
    # A child process: one run (and its report, for the timed rounds) or, for
    # --instructions, one load.
    parser.add_argument("--child", choices=("load", "run"), help=argparse.SUPPRESS)
    parser.add_argument("--report", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode = None if args.mode == "none" else args.mode
        if args.child == "load":
            scenario(args.duration, mode)
        elif args.report:
            print(json.dumps(measure_run(args.duration, mode)))
        else:
            netsim.run(scenario(args.duration, mode))
        return
    variants: tuple[tuple[str, str | None], ...] = (("none", None), (args.mode, args.mode))
    walls: dict[str, list[float]] = {label: [] for label, _ in variants}
    cpus: dict[str, list[float]] = {label: [] for label, _ in variants}
    facts: dict[str, tuple[int, int, int, int]] = {}
    print(f"load average {os.getloadavg()[0]:.1f} at the start")
    for round_ in range(args.repeat):
        if args.side_by_side:
            both = run_side_by_side(args.duration, (None, args.mode), swap=bool(round_ % 2))
        for index, (label, mode) in enumerate(variants):
            report = both[index] if args.side_by_side else run_once(args.duration, mode)
            wall, cpu = report["wall"], report["cpu"]
            walls[label].append(wall)
            cpus[label].append(cpu)
            facts[label] = (
                int(report["switches"]),
                int(report["events"]),
                int(report["multicast"]),
                int(report["imap"]),
            )
            print(f"round {round_ + 1} {label:>10}: {wall:6.2f} s wall, {cpu:6.2f} s CPU")
    stp = args.mode
    if args.repeat:
        for label, _ in variants:
            switches, events, _, imap = facts[label]
            print(
                f"spanning tree {label:>10}: median {statistics.median(walls[label]):6.2f} s wall, "
                f"{statistics.median(cpus[label]):6.2f} s CPU; {switches} switches, "
                f"{events:,} events, {imap:,} IMAP commands"
            )
        bpdus = facts[stp][2] - facts["none"][2]
        print(
            f"BPDUs sent: {bpdus:,}; events: {facts[stp][1] / facts['none'][1] - 1:+.2%} "
            f"({(facts[stp][1] - facts['none'][1]) / bpdus:.2f} per BPDU)"
        )
        for name, table in (("wall", walls), ("CPU", cpus)):
            extra = statistics.median(table[stp]) / statistics.median(table["none"]) - 1
            best = min(table[stp]) / min(table["none"]) - 1
            pairs = [s / n - 1 for s, n in zip(table[stp], table["none"], strict=True)]
            per_bpdu = (min(table[stp]) - min(table["none"])) / bpdus
            print(
                f"spanning tree costs {extra:+.1%} of the campus run's {name} time by the "
                f"medians, {best:+.1%} by the best runs ({per_bpdu * 1e6:.0f} µs per BPDU; "
                f"pairs {spread(pairs)}; target: < 5 %)"
            )
    if args.opcodes:
        none, with_stp = count_opcodes(args.duration, None), count_opcodes(args.duration, stp)
        print(
            f"bytecodes: {none:,} without, {with_stp:,} with spanning tree: "
            f"{with_stp / none - 1:+.2%}"
        )
    if args.instructions:
        if shutil.which("valgrind") is None:
            raise SystemExit("--instructions needs valgrind (Debian package valgrind)")
        none, with_stp = run_instructions(args.duration, (None, stp))
        print(
            f"machine instructions: {none:,} without, {with_stp:,} with spanning tree: "
            f"{with_stp / none - 1:+.2%}"
        )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
