"""Benchmark: Python bytecodes executed per frame on fabric_chain's 4-switch chain.

Wall-clock figures swing by tens of per cent on a shared machine; the number of bytecodes
the interpreter runs does not. This counts them with ``sys.settrace`` (opcode events)
over two runs of the chain, ``--small`` and ``--large`` frames, and divides the
difference by the extra frames, so start-up and the results tables' fixed costs cancel.
A change to the hot path shows up here exactly, function by function.

    python benchmarks/opcodes_per_frame.py [--vlans] [--stp MODE] [--top N]
    python benchmarks/opcodes_per_frame.py --ping|--routed [--top N]
    python benchmarks/opcodes_per_frame.py --flood [--top N]

With ``--ping`` the frames are pings across the switched chain, with ``--routed`` the
same pings across a chain of four routers (see ``fabric_chain.py``): bytecodes per ping
(a request and a reply, eight forwards), comparing a switched and a routed hop without
the noise of a shared machine's clock. ``--stp rstp`` (or ``stp``, ``pvst``,
``rapid-pvst``) runs spanning tree on every switch and sends the frames once every port
forwards: the port-state gate must then cost nothing.
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
from fabric_chain import ping_scenario_text, scenario_text
from ns3_chain import scenario_text as flood_scenario_text

Counts = collections.Counter[str]


def count_opcodes(
    frames: int,
    vlans: bool,
    pings: str | None = None,
    stp: str | None = None,
    flood: bool = False,
) -> Counts:
    """Bytecodes run by ``netsim.run`` of the chain with ``frames`` frames (or pings, when
    ``pings`` is ``switched`` or ``routed``; or flooded frames, with ``flood``), by function."""
    if flood:
        scenario = netsim.loads(flood_scenario_text(frames, None))
    elif pings is None:
        scenario = netsim.loads(scenario_text(frames, 4, vlans, stp=stp))
    else:
        scenario = netsim.loads(ping_scenario_text(frames, 4, routed=pings == "routed"))
    return opcodes_by_function(scenario)


def opcodes_by_function(scenario: netsim.LoadedScenario) -> Counts:
    """Bytecodes run by ``netsim.run(scenario)``, by function (``sys.settrace``)."""
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
    parser.add_argument("--ping", action="store_true", help="pings across the switches")
    parser.add_argument("--routed", action="store_true", help="pings across four routers")
    parser.add_argument("--stp", default=None, help="spanning-tree mode on every switch")
    parser.add_argument("--flood", action="store_true", help="ns3_chain.py's flooding chain")
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    pings = "routed" if args.routed else "switched" if args.ping else None
    small = count_opcodes(args.small, args.vlans, pings, args.stp, args.flood)
    large = count_opcodes(args.large, args.vlans, pings, args.stp, args.flood)
    extra = args.large - args.small
    per_frame = {name: (large[name] - small.get(name, 0)) / extra for name in large}
    total = sum(per_frame.values())
    if pings is not None:
        device = "router" if pings == "routed" else "switch"
        print(f"4-{device} chain: {total:,.0f} bytecodes per ping (8 {device} forwards)")
    else:
        path = " (VLAN 10, trunks)" if args.vlans else ""
        path += f" (spanning tree: {args.stp})" if args.stp else ""
        path += " (every frame flooded, 100 Mb/s)" if args.flood else ""
        print(f"4-switch chain{path}: {total:,.0f} bytecodes per frame (4 switch forwards)")
    for name, count in sorted(per_frame.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"{count:9.1f}  {name}")


if __name__ == "__main__":
    main()
