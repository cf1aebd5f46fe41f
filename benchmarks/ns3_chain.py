"""Benchmark: the flooding bridge chain against ns-3's C++ BridgeNetDevice, in the same run.

The chain of ``/work/shared/anchors/ns3`` (``ns3-bridge-bench --mode=chain``): a host, 4
store-and-forward switches and a host, each link 100 Mb/s with 500 ns delay; 100,000
frames of 1046 bytes at 90 % load, constant spacing, to a host that never sends, so every
switch floods every frame. The figure is 4 × 100,000 forwards divided by the wall time
of the whole ``netsim run`` process (start-up, simulation, CSV output). When
``ns3-bridge-bench`` is on PATH it runs too, and the ratio netsim / ns-3 is printed:
absolute figures from one machine do not carry over to another, the ratio does.

    python benchmarks/ns3_chain.py [--frames N] [--repeat K] [--measure-frames all|none|sample:N]
    python benchmarks/ns3_chain.py --phases

``--phases`` runs the chain once in this process and splits its wall time: loading the
scenario, the event loop, the rest of ``netsim.run`` (building the network, the results
tables) and writing the CSV files. ``ns3-bridge-bench`` times its event loop alone
(``Simulator::Run``), so the loop's forwards per second against ns-3's is the
like-for-like comparison of the two engines; the issue's figure is the whole process.
"""

from __future__ import annotations

import argparse
import itertools
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BRIDGES = 4
RATE_BPS = 100e6
FRAME_BYTES = 1046
LOAD = 0.9


def scenario_text(frames: int, measure_frames: str | None) -> str:
    names = [f"sw{i}" for i in range(1, BRIDGES + 1)]
    nodes = "\n".join(f"    {n}: {{kind: switch, ports: 2}}" for n in names)
    chain = ["h0", *names, "h1"]
    links = "\n".join(f"    - endpoints: [{a}, {b}]" for a, b in itertools.pairwise(chain))
    measure = ""
    if measure_frames is not None:
        value = measure_frames.replace("sample:", "sample ")
        measure = f"measure:\n  frames: {value}\n"
    # 90 % of 100 Mb/s counts the preamble and the gap: a frame every 1066*8/(0.9*1e8) s.
    # The duration only has to outlast them: ``count`` ends the flow.
    duration = frames * (FRAME_BYTES + 20) * 8 / (LOAD * RATE_BPS) + 0.01
    return f"""
name: ns3-chain
duration: {duration:.6f}s
topology:
  defaults:
    link: {{speed: 100M, delay: 500ns}}
  nodes:
    h0: {{kind: host}}
    h1: {{kind: host}}
{nodes}
  links:
{links}
traffic:
  - {{kind: frames, name: flood, from: h0, to: h1, size: {FRAME_BYTES}, count: {frames},
     rate: 90%, pattern: constant}}
{measure}"""


def run_netsim(frames: int, measure_frames: str | None) -> tuple[float, float]:
    """Wall and CPU seconds of one whole ``netsim run`` process, CSV output included."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ns3-chain.yaml"
        path.write_text(scenario_text(frames, measure_frames))
        out = f"{tmp}/out"
        command = [sys.executable, "-m", "netsim", "run", str(path), "--out", out, "--quiet"]
        cpu_before = _children_cpu()
        started = time.perf_counter()
        subprocess.run([*command, "--no-plots"], check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - started, _children_cpu() - cpu_before


def phases(frames: int) -> None:
    """Print where one run's wall time goes, and the event loop's own forwards/s."""
    import netsim
    from netsim.engine.sim import Simulation

    loop = 0.0
    run_loop = Simulation.run

    def timed_run(self: Simulation, *args: object, **kwargs: object) -> None:
        nonlocal loop
        started = time.perf_counter()
        run_loop(self, *args, **kwargs)  # type: ignore[arg-type]
        loop += time.perf_counter() - started

    Simulation.run = timed_run  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        scenario = netsim.loads(scenario_text(frames, None))
        t1 = time.perf_counter()
        results = netsim.run(scenario)
        t2 = time.perf_counter()
        results.save(Path(tmp) / "out")
        t3 = time.perf_counter()
    Simulation.run = run_loop  # type: ignore[method-assign]
    ours = BRIDGES * frames / loop
    print(f"load {t1 - t0:.2f} s, event loop {loop:.2f} s, rest of run {t2 - t1 - loop:.2f} s,")
    print(f"CSV {t3 - t2:.2f} s: the event loop alone does {ours:,.0f} forwards/s")
    ns3 = run_ns3(frames)
    if ns3 is not None:
        print(f"ns-3's event loop: {ns3:,.0f} forwards/s; loop against loop: {ours / ns3:.2f}")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_ns3(frames: int) -> float | None:
    """ns-3's bridge forwards per wall second on the same chain, or None without it."""
    binary = shutil.which("ns3-bridge-bench")
    if binary is None:
        return None
    sim_time = frames * FRAME_BYTES * 8 / (LOAD * RATE_BPS)
    out = subprocess.run(
        [binary, "--printDefaults=0", "--mode=chain", f"--simTime={sim_time:.4f}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    match = re.search(r"bridge_forwards_per_wall_s=([0-9.]+)", out)
    return float(match.group(1)) if match else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs; medians")
    parser.add_argument("--measure-frames", default=None, help="all, none or sample:N")
    parser.add_argument("--phases", action="store_true", help="split one run's time (above)")
    args = parser.parse_args()
    if args.phases:
        phases(args.frames)
        return
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(args.repeat):
        wall, cpu = run_netsim(args.frames, args.measure_frames)
        ours.append(BRIDGES * args.frames / wall)
        ns3 = run_ns3(args.frames)
        if ns3 is not None:
            theirs.append(ns3)
        line = f"netsim {ours[-1]:,.0f} forwards/s ({wall:.2f} s wall, {cpu:.2f} s CPU)"
        if ns3 is not None:
            line += f"   ns-3 {ns3:,.0f} forwards/s"
        print(line, flush=True)
    netsim_fps = statistics.median(ours)
    print(f"median netsim: {netsim_fps:,.0f} forwards per wall second")
    if theirs:
        ns3_fps = statistics.median(theirs)
        print(f"median ns-3:   {ns3_fps:,.0f} forwards per wall second")
        print(f"ratio netsim / ns-3: {netsim_fps / ns3_fps:.2f} (target >= 1.0, aim 1.5)")
    else:
        print("ns3-bridge-bench is not on PATH: no ratio (see /work/shared/anchors/README.md)")


if __name__ == "__main__":
    main()
