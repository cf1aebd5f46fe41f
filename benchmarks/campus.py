"""Benchmark: scenarios/campus.yaml, 60 s of mail traffic, in wall-clock seconds.

72 PCs on a three-tier Catalyst campus keep IMAP sessions with the mail server while the
floor uplinks carry 10 % of background load both ways. Target: under 60 s of wall time
for the 60 simulated seconds. Tables only (no figures), as `netsim run --no-plots`.

    python benchmarks/campus.py [--duration 60s] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from pathlib import Path

import netsim

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "campus.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", default="60s")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    cpu_started = time.process_time()
    scenario = netsim.load(SCENARIO, sets=[f"duration={args.duration}"])
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    results = netsim.run(scenario)
    if profiler:
        profiler.disable()
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    s = results.summary
    print(
        f"campus: {s['simulated_time']:.0f} s simulated in {wall:.1f} s wall, {cpu:.1f} s CPU "
        f"({s['events_processed']:,} events, {s['events_processed'] / wall:,.0f} events/s)"
    )
    print(f"IMAP commands: {len(results.imap):,}; frames from hosts: {len(results.frames):,}")
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
