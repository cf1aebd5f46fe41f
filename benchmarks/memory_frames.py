"""Benchmark: peak memory per million frames, with frames.csv kept whole, sampled or off.

One host sends N frames of 512 bytes across two switches to another host (each in its own
process, so each peak is its own). The figure is the peak resident set size of the whole
``netsim run`` process, tables and CSV files included, and the growth per million frames
over a run of the same scenario with ``measure: {frames: none}``.

    python benchmarks/memory_frames.py [--frames 300000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

SCENARIO = """
name: memory
duration: 100s
topology:
  defaults: {{link: {{speed: 1G, delay: 1us}}}}
  nodes:
    h1: {{kind: host}}
    h2: {{kind: host}}
    sw1: {{kind: switch, ports: 2}}
    sw2: {{kind: switch, ports: 2}}
  links:
    - endpoints: [h1, sw1]
    - endpoints: [sw1, sw2]
    - endpoints: [sw2, h2]
traffic:
  - {{kind: frames, name: warm, from: h2, to: h1, count: 1}}
  - {{kind: frames, from: h1, to: h2, size: 512, count: {frames}, rate: 50%, start: 1ms}}
measure: {{frames: {measure}}}
"""


def peak_rss_mb(frames: int, measure: str) -> float:
    """Peak RSS in MB of one ``netsim run`` process (its own, measured by the child)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "memory.yaml"
        path.write_text(SCENARIO.format(frames=frames, measure=measure))
        code = (
            "import resource, sys; from netsim.cli import main; "
            f"main(['run', {str(path)!r}, '--out', {tmp + '/out'!r}, '--quiet', '--no-plots']); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        ).stdout
        return int(out.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300_000)
    args = parser.parse_args()
    base = peak_rss_mb(args.frames, "none")
    print(f"{args.frames:,} frames, frames: none       peak RSS {base:7.0f} MB")
    for measure in ("sample 100", "all"):
        rss = peak_rss_mb(args.frames, measure)
        per_million = (rss - base) / args.frames * 1e6
        print(
            f"{args.frames:,} frames, frames: {measure:<10} peak RSS {rss:7.0f} MB "
            f"({per_million:+,.0f} MB per million frames over none)"
        )


if __name__ == "__main__":
    main()
