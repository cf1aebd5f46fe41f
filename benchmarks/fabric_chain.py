"""Benchmark: switch forwards per wall-clock second on a chain of store-and-forward switches.

h1 -> sw1 -> sw2 -> sw3 -> sw4 -> h2 at 1 Gb/s, 100,000 frames of 512 bytes at 90 % load
(constant spacing), after one frame from h2 so every switch knows where h2 lives.
A forward is one frame leaving one switch; the figure is forwards / wall seconds of the
whole run (building, simulating and making the results tables). With ``--vlans`` the
hosts sit on access ports of VLAN 10 and the switches are joined by trunks, so every
frame is tagged and untagged on its way: the cost of the VLAN path. With ``--qos`` every
switch runs ``mls qos`` (four egress queues per port, the scheduler choosing each frame):
the cost of the QoS path.

Routing needs IP packets, so a routed hop is measured with pings: ``--ping`` runs the
switched chain (one subnet) with ``--frames`` pings instead of raw frames, and
``--routed`` the same pings across a chain of routers (a subnet per link, static
routes both ways, no processing delay or rate limit). A forward is then a frame leaving
a switch or a router, and wall seconds per forward compare the two hops.

    python benchmarks/fabric_chain.py [--frames N] [--switches N] [--vlans] [--qos] [--profile]
    python benchmarks/fabric_chain.py --ping|--routed [--frames N] [--switches N]
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import pstats
import time

import netsim


def scenario_text(frames: int, switches: int, vlans: bool = False, qos: bool = False) -> str:
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
    return f"""
name: bench-chain
duration: 10s
topology:
  defaults:
    link: {{speed: 1G, delay: 50ns}}
  nodes:
    h1: {{kind: host}}
    h2: {{kind: host}}
{nodes}
  links:
{links}
traffic:
  - {{kind: frames, name: warmup, from: h2, to: h1, count: 1}}
  - {{kind: frames, name: load, from: h1, to: h2, size: 512, count: {frames},
     start: 10us, rate: 90%}}
"""


def ping_scenario_text(pings: int, devices: int, routed: bool) -> str:
    """h1 - dev1 - ... - devN - h2 and ``pings`` echo requests from h1 to h2.

    Switched: one subnet, 10.0.0.0/24. Routed: link ``i`` (h1 - r1 is link 0) is the
    subnet 10.0.<i>.0/24: each router is .2 on the link towards h1 (.1 on the first)
    and .1 on the link towards h2.
    """
    names = [f"{'r' if routed else 'sw'}{i}" for i in range(1, devices + 1)]
    if routed:
        nodes = ["    h1: {kind: host, ip: 10.0.0.10/24, gateway: 10.0.0.1}"]
        for i, name in enumerate(names):
            back = "10.0.0.1/24" if i == 0 else f"10.0.{i}.2/24"
            routes = (
                [f"{{to: 10.0.{devices}.0/24, via: 10.0.{i + 1}.2}}"] if i < devices - 1 else []
            )
            if i > 0:
                routes.append(f"{{to: default, via: 10.0.{i}.1}}")
            nodes.append(
                f"    {name}: {{kind: router, ports: 2, interfaces: {{Gi0/0: {{ip: {back}}}, "
                f"Gi0/1: {{ip: 10.0.{i + 1}.1/24}}}}, "
                f"routes: [{', '.join(routes)}]}}"
            )
        nodes.append(f"    h2: {{kind: host, ip: 10.0.{devices}.20/24, gateway: 10.0.{devices}.1}}")
        ends = [("h1", f'"{names[0]}:Gi0/0"')]
        ends += [(f'"{a}:Gi0/1"', f'"{b}:Gi0/0"') for a, b in itertools.pairwise(names)]
        ends += [(f'"{names[-1]}:Gi0/1"', "h2")]
    else:
        nodes = ["    h1: {kind: host}", "    h2: {kind: host}"]
        nodes += [f"    {n}: {{kind: switch, ports: 4}}" for n in names]
        ends = list(itertools.pairwise(["h1", *names, "h2"]))
    links = "\n".join(f"    - endpoints: [{a}, {b}]" for a, b in ends)
    body = "\n".join(nodes)
    return f"""
name: bench-{"routed" if routed else "switched"}-pings
duration: 10s
topology:
  defaults:
    link: {{speed: 1G, delay: 50ns}}
  nodes:
{body}
  links:
{links}
traffic:
  - {{kind: ping, from: h1, to: h2, count: {pings}, interval: 20us, timeout: 1s}}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--switches", type=int, default=4)
    parser.add_argument("--vlans", action="store_true", help="access VLAN 10, trunks between")
    parser.add_argument("--qos", action="store_true", help="mls qos on every switch")
    parser.add_argument("--ping", action="store_true", help="pings across the switched chain")
    parser.add_argument("--routed", action="store_true", help="pings across a chain of routers")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if args.ping or args.routed:
        text = ping_scenario_text(args.frames, args.switches, args.routed)
    else:
        text = scenario_text(args.frames, args.switches, args.vlans, args.qos)
    scenario = netsim.loads(text)
    profiler = cProfile.Profile() if args.profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    results = netsim.run(scenario)
    if profiler:
        profiler.disable()
    wall = time.perf_counter() - started
    kind = "router" if args.routed else "switch"
    forwards = int(results.ports.loc[results.ports["kind"] == kind, "tx_frames"].sum())
    delivered = int((results.frames["outcome"] == "delivered").sum())
    if args.ping or args.routed:
        replies = int((results.ping["outcome"] == "reply").sum())
        devices = f"{args.switches} {kind}{'s' if kind == 'router' else 'es'}"
        print(f"{devices}, {args.frames:,} pings: {replies:,} replies")
    else:
        path = " (VLAN 10, trunks)" if args.vlans else ""
        path += " (mls qos)" if args.qos else ""
        print(
            f"{args.switches} switches{path}, {args.frames:,} frames at 90% load: "
            f"{delivered:,} delivered"
        )
    print(
        f"{forwards:,} {kind} forwards in {wall:.2f} s wall: {forwards / wall:,.0f} forwards/s, "
        f"{wall / forwards * 1e6:.2f} us per forward"
    )
    events = results.summary["events_processed"]
    print(f"{events:,} events: {events / wall:,.0f} events/s")
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
