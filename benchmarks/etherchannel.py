"""Benchmark: what EtherChannel costs a run, in wall-clock seconds.

Two measurements, each the best of ``--rounds`` runs:

1. **LACP on a quiet campus.** One distribution switch with ``--bundles`` access switches,
   each joined by a 2-link LACP bundle at the fast rate (an LACPDU per member per second
   each way), no traffic, for ``--seconds`` simulated seconds. Reports the LACPDUs sent
   and the wall time per LACPDU (engine, frame on the wire, decode).
2. **Forwarding through a bundle.** 16 flows of raw frames (``--frames`` in all) across two
   switches, once over one 1G link and once over a static 2 x 1G bundle. Reports the
   wall time per frame of each and the bundle's extra cost per frame (the hash, the
   member lookup).

    PYTHONPATH=$PWD python benchmarks/etherchannel.py [--bundles 48] [--seconds 300]
        [--frames 160000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import yaml

import netsim
from netsim.engine.sim import Simulation
from netsim.l2.switch import Switch
from netsim.topology.build import build

LACP_FAST = {"channel_mode": "active", "lacp_rate": "fast"}


def quiet_campus(bundles: int, seconds: float) -> dict[str, Any]:
    """A distribution switch and ``bundles`` access switches, each by a 2 x 1G LACP bundle."""
    dist = {
        f"{2 * i + 1}-{2 * i + 2}": {"channel_group": i + 1, **LACP_FAST} for i in range(bundles)
    }
    nodes: dict[str, Any] = {"dist": {"kind": "switch", "ports": 2 * bundles, "interfaces": dist}}
    links = []
    for i in range(bundles):
        nodes[f"a{i}"] = {
            "kind": "switch",
            "ports": 2,
            "interfaces": {"1-2": {"channel_group": 1, **LACP_FAST}},
        }
        links += [{"endpoints": [f"dist:{2 * i + m}", f"a{i}:{m}"]} for m in (1, 2)]
    return {
        "name": "lacp-campus",
        "duration": f"{seconds:g}s",
        "topology": {"nodes": nodes, "links": links},
    }


def forwarding(members: int, frames: int) -> dict[str, Any]:
    """16 hosts on each side of two switches joined by ``members`` links (a static bundle
    when more than one), 16 flows of ``frames`` frames in all, to known destinations."""
    nodes: dict[str, Any] = {}
    for s in ("sw1", "sw2"):
        nodes[s] = {"kind": "switch", "ports": 24}
        if members > 1:
            nodes[s]["interfaces"] = {f"1-{members}": {"channel_group": 1, "channel_mode": "on"}}
    links: list[dict[str, Any]] = [
        {"endpoints": [f"sw1:{i}", f"sw2:{i}"]} for i in range(1, members + 1)
    ]
    for side, sw in (("a", "sw1"), ("b", "sw2")):
        for i in range(1, 17):
            nodes[f"{side}{i}"] = {"kind": "host"}
            links.append({"endpoints": [f"{side}{i}", sw]})
    # Each b_i says hello first, so that the switches know where it is: no flooding.
    hellos = [
        {"kind": "frames", "from": f"b{i}", "to": f"a{i}", "size": 64, "count": 1}
        for i in range(1, 17)
    ]
    traffic = hellos + [
        {
            "kind": "frames",
            "from": f"a{i}",
            "to": f"b{i}",
            "size": 512,
            "count": frames // 16,
            "interval": "100us",
            "start": "1ms",
        }
        for i in range(1, 17)
    ]
    return {
        "name": "bundle-forwarding",
        "duration": "1s",
        "topology": {"defaults": {"link": {"speed": "1G"}}, "nodes": nodes, "links": links},
        "traffic": traffic,
    }


def best(data: dict[str, Any], rounds: int) -> tuple[float, float, netsim.Results]:
    """The best wall and CPU seconds of ``rounds`` runs (CPU time is what to compare on a
    shared machine: other jobs stretch the wall time, not this process's CPU time)."""
    scenario = netsim.loads(yaml.safe_dump(data))
    walls: list[float] = []
    cpus: list[float] = []
    res: netsim.Results | None = None
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        res = netsim.run(scenario)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    assert res is not None
    return min(walls), min(cpus), res


def lacpdus_sent(data: dict[str, Any], seconds: float) -> int:
    """LACPDUs sent in the run (counted on the agents, rebuilt for the count)."""
    scenario = netsim.loads(yaml.safe_dump(data))
    sim = Simulation(1)
    sim.horizon = seconds
    net = build(scenario.topology, sim)
    sim.run()
    return sum(
        d.channels.agent.pdus_sent
        for d in net.devices.values()
        if isinstance(d, Switch) and d.channels is not None and d.channels.agent is not None
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundles", type=int, default=48)
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--frames", type=int, default=160_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    campus = quiet_campus(args.bundles, args.seconds)
    wall, cpu, res = best(campus, args.rounds)
    pdus = lacpdus_sent(campus, args.seconds)
    up = sum(
        len(channel["bundled"])
        for switch in res.summary["port_channels"].values()
        for channel in switch.values()
    )
    print(
        f"LACP: {args.bundles} fast bundles, {args.seconds:g} s simulated: {pdus} LACPDUs "
        f"({up} members bundled), {wall:.2f} s wall, {cpu:.2f} s CPU, "
        f"{cpu / pdus * 1e6:.1f} us CPU per LACPDU"
    )
    per_frame = {}
    for members in (1, 2):
        wall, cpu, res = best(forwarding(members, args.frames), args.rounds)
        delivered = int((res.frames["outcome"] == "delivered").sum())
        per_frame[members] = cpu / delivered
        label = "one 1G link" if members == 1 else "a 2 x 1G bundle"
        print(
            f"forwarding over {label}: {delivered} frames, {wall:.2f} s wall, {cpu:.2f} s CPU, "
            f"{per_frame[members] * 1e6:.2f} us CPU per frame"
        )
    extra = per_frame[2] - per_frame[1]
    print(
        f"the bundle adds {extra * 1e6:.2f} us CPU per frame "
        f"({extra / per_frame[1]:+.1%} of a frame's cost)"
    )


if __name__ == "__main__":
    main()
