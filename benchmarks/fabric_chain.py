"""Benchmark: switch forwards per wall-clock second on a chain of store-and-forward switches.

h1 -> sw1 -> sw2 -> sw3 -> sw4 -> h2 at 1 Gb/s, 100,000 frames of 512 bytes at 90 % load
(constant spacing), after one frame from h2 so every switch knows where h2 lives.
A forward is one frame leaving one switch; the figure is forwards / wall seconds of the
whole run (building, simulating and making the results tables). With ``--vlans`` the
hosts sit on access ports of VLAN 10 and the switches are joined by trunks, so every
frame is tagged and untagged on its way: the cost of the VLAN path. With ``--qos`` every
switch runs ``mls qos`` (four egress queues per port, the scheduler choosing each frame):
the cost of the QoS path.

    python benchmarks/fabric_chain.py [--frames N] [--switches N] [--vlans] [--qos] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import pstats
import time

import netsim


def scenario_text(
    frames: int, switches: int, vlans: bool = False, qos: bool = False, stp: str | None = None
) -> str:
    names = [f"sw{i}" for i in range(1, switches + 1)]
    # Ports 1 and 2 face the chain (trunks), port 3 a host (VLAN 10), when --vlans.
    config = ", interfaces: {1-2: {mode: trunk, allowed: [10]}, 3: {vlan: 10}}" if vlans else ""
    config += ", qos: true" if qos else ""
    nodes = "\n".join(f"    {n}: {{kind: switch, ports: 4{config}}}" for n in names)
    chain = ["h1", *names, "h2"]
    if vlans:
        ends = [("h1", f'"{names[0]}:3"')]
        ends += [(f'"{a}:2"', f'"{b}:1"') for a, b in itertools.pairwise(names)]
        ends += [(f'"{names[-1]}:3"', "h2")]
    else:
        ends = list(itertools.pairwise(chain))
    links = "\n".join(f"    - endpoints: [{a}, {b}]" for a, b in ends)
    # With spanning tree, host ports are PortFast and the load starts once the tree has
    # converged (RSTP: at once; 802.1D: 30 s), so every port forwards while it runs.
    start = "10us" if stp is None else ("1s" if stp in ("rstp", "rapid-pvst") else "31s")
    stp_default = (
        f"\n    switch: {{spanning_tree: {{mode: {stp}, portfast_default: true}}}}" if stp else ""
    )
    return f"""
name: bench-chain
duration: {"10s" if stp is None else "40s"}
topology:
  defaults:
    link: {{speed: 1G, delay: 50ns}}{stp_default}
  nodes:
    h1: {{kind: host}}
    h2: {{kind: host}}
{nodes}
  links:
{links}
traffic:
  - {{kind: frames, name: warmup, from: h2, to: h1, count: 1}}
  - {{kind: frames, name: load, from: h1, to: h2, size: 512, count: {frames},
     start: {start}, rate: 90%}}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--switches", type=int, default=4)
    parser.add_argument("--vlans", action="store_true", help="access VLAN 10, trunks between")
    parser.add_argument("--qos", action="store_true", help="mls qos on every switch")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    scenario = netsim.loads(scenario_text(args.frames, args.switches, args.vlans, args.qos))
    profiler = cProfile.Profile() if args.profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    results = netsim.run(scenario)
    if profiler:
        profiler.disable()
    wall = time.perf_counter() - started
    forwards = int(results.ports.loc[results.ports["kind"] == "switch", "tx_frames"].sum())
    delivered = int((results.frames["outcome"] == "delivered").sum())
    path = " (VLAN 10, trunks)" if args.vlans else ""
    path += " (mls qos)" if args.qos else ""
    print(
        f"{args.switches} switches{path}, {args.frames:,} frames at 90% load: "
        f"{delivered:,} delivered"
    )
    print(f"{forwards:,} switch forwards in {wall:.2f} s wall: {forwards / wall:,.0f} forwards/s")
    events = results.summary["events_processed"]
    print(f"{events:,} events: {events / wall:,.0f} events/s")
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
