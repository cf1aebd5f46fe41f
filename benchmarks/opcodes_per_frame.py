"""Benchmark: Python bytecodes executed per frame on fabric_chain's 4-switch chain.

Wall-clock figures swing by tens of per cent on a shared machine; the number of bytecodes
the interpreter runs does not. This counts them with ``sys.settrace`` (opcode events)
over two runs of the chain, ``--small`` and ``--large`` frames, and divides the
difference by the extra frames, so start-up and the results tables' fixed costs cancel.
A change to the hot path shows up here exactly, function by function.

    python benchmarks/opcodes_per_frame.py [--vlans] [--stp MODE] [--top N]

``--stp rstp`` (or ``stp``, ``pvst``, ``rapid-pvst``) runs spanning tree on every switch and
sends the frames once every port forwards: the port-state gate must then cost nothing.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import netsim

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fabric_chain import scenario_text

Counts = collections.Counter[str]


def count_opcodes(frames: int, vlans: bool, stp: str | None = None) -> Counts:
    """Bytecodes run by ``netsim.run`` of the chain with ``frames`` frames, by function."""
    scenario = netsim.loads(scenario_text(frames, 4, vlans, stp=stp))
    counts: Counts = collections.Counter()

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        if event == "opcode":
            counts[frame.f_code.co_qualname] += 1
        return tracer

    sys.settrace(tracer)
    try:
        netsim.run(scenario)
    finally:
        sys.settrace(None)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=50)
    parser.add_argument("--large", type=int, default=250)
    parser.add_argument("--vlans", action="store_true", help="access VLAN 10, trunks between")
    parser.add_argument("--stp", default=None, help="spanning-tree mode on every switch")
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    small = count_opcodes(args.small, args.vlans, args.stp)
    large = count_opcodes(args.large, args.vlans, args.stp)
    extra = args.large - args.small
    per_frame = {name: (large[name] - small.get(name, 0)) / extra for name in large}
    total = sum(per_frame.values())
    path = " (VLAN 10, trunks)" if args.vlans else ""
    path += f" (spanning tree: {args.stp})" if args.stp else ""
    print(f"4-switch chain{path}: {total:,.0f} bytecodes per frame (4 switch forwards)")
    for name, count in sorted(per_frame.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"{count:9.1f}  {name}")


if __name__ == "__main__":
    main()
