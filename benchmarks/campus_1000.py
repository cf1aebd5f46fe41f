"""Benchmark: a 1,000-host campus, 60 s of IMAP, in wall and CPU seconds and peak memory.

scenarios/campus.yaml grown to 10 floors of 4 rooms of 24 PCs (960 hosts, 1,000 devices
with the switches and the server): every PC keeps its IMAP session with the mail server,
and the floor uplinks carry background load. Target: under 60 s of wall time.

    python benchmarks/campus_1000.py [--duration 60s] [--floors 10] [--rooms 4] [--hosts 24]
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import netsim

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "campus.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", default="60s")
    parser.add_argument("--floors", type=int, default=10)
    parser.add_argument("--rooms", type=int, default=4)
    parser.add_argument("--hosts", type=int, default=24)
    args = parser.parse_args()
    started = time.perf_counter()
    cpu_started = time.process_time()
    scenario = netsim.load(
        SCENARIO,
        sets=[
            f"duration={args.duration}",
            f"campus.floors.count={args.floors}",
            f"campus.floors.rooms={args.rooms}",
            f"campus.floors.room.hosts={args.hosts}",
            "limits.bytes=10GB",
        ],
    )
    results = netsim.run(scenario)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    s = results.summary
    hosts = sum(1 for n in scenario.topology.nodes.values() if n.kind == "host")
    print(
        f"campus of {hosts} hosts ({len(scenario.topology.nodes)} devices): "
        f"{s['simulated_time']:.0f} s simulated in {wall:.1f} s wall, {cpu:.1f} s CPU, "
        f"peak RSS {peak_mb:,.0f} MB ({s['events_processed']:,} events)"
    )
    print(f"IMAP commands: {len(results.imap):,}; frames from hosts: {len(results.frames):,}")


if __name__ == "__main__":
    main()
