"""Benchmark: the flooding chain in pure Python against the same code compiled by mypyc.

netsim is mypy --strict clean, so mypyc (shipped with mypy) can compile its hot modules
to C extensions. This script copies the ``netsim`` package to a scratch directory,
compiles :data:`HOT_MODULES` there (about a minute of CPU; ``--build-dir`` keeps the
result for the next run), then runs ``benchmarks/ns3_chain.py``'s chain with each tree in
turn, in separate processes, interleaved:

- the whole ``netsim run`` process (start-up, simulation, CSV output), wall and CPU
  seconds, as ``ns3_chain.py`` measures it;
- inside one process, CPU seconds per phase: the simulation (``Simulation.run``) and
  the rest (results tables and CSV), which pandas does and mypyc cannot speed up.

Both trees must write the same CSV files, byte for byte: the script checks.
netsim itself does not ship a compiled build (see the README's speed section for why).

    python benchmarks/mypyc_trial.py [--frames N] [--repeat K] [--build-dir DIR]
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ns3_chain

REPO = Path(__file__).resolve().parent.parent
HOT_MODULES = [
    "netsim/engine/sim.py",
    "netsim/engine/trace.py",
    "netsim/phy/port.py",
    "netsim/phy/link.py",
    "netsim/l2/frame.py",
    "netsim/l2/mac_table.py",
    "netsim/l2/storm.py",
    "netsim/l2/switch.py",
    "netsim/l2/host.py",
    "netsim/apps/frames.py",
    # Subclasses of compiled classes must be compiled too (Layer3Switch, PortChannel).
    "netsim/l3/switch.py",
    "netsim/l2/etherchannel.py",
]
"""The fabric's per-frame path on the chain (cProfile): the event loop, ports and links,
the switch and its MAC table, the frame, the hosts' NIC and the frame source."""

MYPY_INI = """[mypy]
python_version = 3.11
[mypy-simpy.*,networkx.*,matplotlib.*,distributed.*,dask.*,pyarrow.*]
ignore_missing_imports = True
"""

PHASES = """
import json, sys, time
import netsim, netsim.api as api
marks = {}
tables = api.frames_table
def frames_table(*args, **kwargs):  # called as soon as the simulation is over
    marks["end"] = time.process_time()
    return tables(*args, **kwargs)
api.frames_table = frames_table
scenario = netsim.load(sys.argv[1])
results = netsim.run(scenario, on_start=lambda: marks.setdefault("start", time.process_time()))
results.save(sys.argv[2])
done = time.process_time()
import netsim.engine.sim
print(json.dumps({"sim": marks["end"] - marks["start"], "rest": done - marks["end"],
                  "compiled": not netsim.engine.sim.__file__.endswith(".py")}))
"""


def source_digest() -> str:
    """A digest of the package's sources and the module list: when a kept build is stale."""
    digest = hashlib.sha256(json.dumps(HOT_MODULES).encode())
    for path in sorted((REPO / "netsim").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(REPO)).encode() + path.read_bytes())
    return digest.hexdigest()


def compile_tree(build_dir: Path) -> Path:
    """A copy of the ``netsim`` package in ``build_dir`` with :data:`HOT_MODULES` compiled."""
    marker = build_dir / "compiled-from"
    digest = source_digest()
    if marker.exists() and marker.read_text() == digest:
        return build_dir
    if build_dir.exists():
        shutil.rmtree(build_dir)
    shutil.copytree(REPO / "netsim", build_dir / "netsim")
    (build_dir / "mypy.ini").write_text(MYPY_INI)
    print(f"compiling {len(HOT_MODULES)} modules with mypyc in {build_dir} ...", flush=True)
    subprocess.run(
        [sys.executable, "-m", "mypyc", *HOT_MODULES],
        cwd=build_dir,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    marker.write_text(digest)
    return build_dir


def in_tree(tree: Path, *command: str) -> subprocess.CompletedProcess[str]:
    """Run ``command`` with ``tree``'s netsim first on the path."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs; medians")
    parser.add_argument("--build-dir", type=Path, default=None, help="keep the compiled tree")
    args = parser.parse_args()
    kept = args.build_dir.resolve() if args.build_dir is not None else None
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # ``python -c`` and ``-m`` put the working directory first on sys.path: work
        # where there is no netsim, so that PYTHONPATH picks the tree.
        os.chdir(work)
        compiled = compile_tree(kept or work / "compiled")
        trees = {"pure Python": REPO, "mypyc": compiled}
        scenario = work / "ns3-chain.yaml"
        scenario.write_text(ns3_chain.scenario_text(args.frames, None))
        whole: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
        phases: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
        for round_ in range(args.repeat):
            for name, tree in trees.items():
                os.environ["PYTHONPATH"] = str(tree)
                whole[name].append(ns3_chain.run_netsim(args.frames, None))
                out = work / f"{name}-{round_}"
                run = in_tree(tree, sys.executable, "-c", PHASES, str(scenario), str(out))
                phases[name].append(json.loads(run.stdout.splitlines()[-1]))
                if phases[name][-1]["compiled"] != (tree is compiled):
                    sys.exit(f"{tree}: netsim is not the build it should be")
                wall, cpu = whole[name][-1]
                p = phases[name][-1]
                print(
                    f"{name:12s} whole process {wall:6.2f} s wall {cpu:6.2f} s CPU;"
                    f" simulation {p['sim']:5.2f} s CPU, tables and CSV {p['rest']:5.2f} s",
                    flush=True,
                )
        same = all(
            filecmp.cmp(work / f"pure Python-0/{f}", work / f"mypyc-0/{f}", shallow=False)
            for f in ("frames.csv", "ports.csv", "mac_events.csv")
        )
        print(f"CSV files identical in both builds: {same}")

        def median(name: str, key: str) -> float:
            if key in ("wall", "cpu"):
                return statistics.median(w[key == "cpu"] for w in whole[name])
            return statistics.median(p[key] for p in phases[name])

        for key, label in [
            ("cpu", "whole process, CPU"),
            ("wall", "whole process, wall"),
            ("sim", "simulation only, CPU"),
            ("rest", "tables and CSV, CPU"),
        ]:
            pure, fast = median("pure Python", key), median("mypyc", key)
            print(f"{label:22s} {pure:6.2f} s pure, {fast:6.2f} s mypyc: {pure / fast:.2f}x")
        forwards = ns3_chain.BRIDGES * args.frames
        print(
            f"forwards per wall second: {forwards / median('pure Python', 'wall'):,.0f} pure,"
            f" {forwards / median('mypyc', 'wall'):,.0f} mypyc (load average"
            f" {os.getloadavg()[0]:.1f})"
        )
        if not same:
            sys.exit("the compiled build wrote different results")


if __name__ == "__main__":
    main()
