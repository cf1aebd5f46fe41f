"""Benchmark: the spanning-tree engines alone on a 100-switch campus, in wall-clock seconds.

Issue 10 asks that BPDUs every 2 s on a 100-switch campus cost under 5 % of the campus
benchmark's wall time (benchmarks/campus.py, 60 simulated seconds). Before the engines
are wired into the switch, this measures their share directly: 4 distribution switches
in a full mesh and 96 access switches, each with one uplink to two of them (292 links),
run on the pure-Python bench (no SimPy, no frames) for 60 simulated seconds after
convergence. It reports the wall time of those 60 s, and the part spent inside the
engines (the rest is this bench's own event loop, which the simulator replaces by SimPy).

    python benchmarks/stp_engines.py [--engine stp|rstp] [--seconds 60]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from netsim.l2.stp.bench import Bench
from netsim.l2.stp.engine import PortConfig, path_cost
from netsim.l2.stp.rstp import RstpBridge
from netsim.l2.stp.stp import StpBridge

DISTRIBUTION = 4
ACCESS = 96


def campus(engine: type[StpBridge] | type[RstpBridge]) -> Bench:
    """4 distribution switches (priorities 4096, 8192, ...) meshed at 10G; 96 access
    switches with 1G uplinks to two distribution switches each."""
    bench = Bench()
    gig, ten = path_cost(1e9), path_cost(10e9)
    dist_ports: dict[int, dict[int, PortConfig]] = {d: {} for d in range(DISTRIBUTION)}
    uplinks: list[tuple[int, int]] = []
    for a in range(ACCESS):
        pair = (a % DISTRIBUTION, (a + 1) % DISTRIBUTION)
        uplinks.append(pair)
        for d in pair:
            dist_ports[d][len(dist_ports[d]) + 1] = PortConfig(gig)
    mesh = [(x, y) for x in range(DISTRIBUTION) for y in range(x + 1, DISTRIBUTION)]
    mesh_ports: dict[tuple[int, int], int] = {}
    for x, y in mesh:
        for d in (x, y):
            number = len(dist_ports[d]) + 1
            dist_ports[d][number] = PortConfig(ten)
            mesh_ports[(d, x + y - d)] = number
    for d in range(DISTRIBUTION):
        bench.add_bridge(f"D{d}", engine(0x100 + d, dist_ports[d], priority=4096 * (d + 1)))
    next_port = dict.fromkeys(range(DISTRIBUTION), 1)
    for a, pair in enumerate(uplinks):
        bench.add_bridge(f"A{a}", engine(0x200 + a, {1: PortConfig(gig), 2: PortConfig(gig)}))
        for uplink, d in enumerate(pair, start=1):
            bench.link(f"A{a}", uplink, f"D{d}", next_port[d])
            next_port[d] += 1
    for x, y in mesh:
        bench.link(f"D{x}", mesh_ports[(x, y)], f"D{y}", mesh_ports[(y, x)])
    return bench


class Stopwatch:
    """Wraps an engine and adds up the wall time spent in its methods."""

    total = 0.0

    def __init__(self, engine: Any) -> None:
        self._engine = engine

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._engine, name)
        if name not in ("receive", "tick", "enable_port", "disable_port", "next_deadline"):
            return attribute

        def timed(*args: Any) -> Any:
            started = time.perf_counter()
            try:
                return attribute(*args)
            finally:
                Stopwatch.total += time.perf_counter() - started

        return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["stp", "rstp"], default="rstp")
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    engine = StpBridge if args.engine == "stp" else RstpBridge
    bench = campus(engine)
    bench.run_until(60.0)  # converge (802.1D needs 30 s and more)
    for name, engine_ in list(bench.bridges.items()):
        bench.bridges[name] = Stopwatch(engine_)
    before = len(bench.transmitted())
    started = time.perf_counter()
    bench.run_until(60.0 + args.seconds)
    wall = time.perf_counter() - started
    bpdus = len(bench.transmitted()) - before
    print(
        f"{args.engine}: {len(bench.bridges)} switches, {args.seconds:.0f} s simulated in "
        f"{wall:.3f} s wall, {Stopwatch.total:.3f} s of it in the engines; {bpdus:,} BPDUs "
        f"sent and received ({Stopwatch.total / max(bpdus, 1) * 1e6:.1f} µs of engine "
        f"time per BPDU)"
    )


if __name__ == "__main__":
    main()
