"""``show spanning-tree`` (``vlan N``, ``summary``): a switch's trees, read from stp.csv.

Every role and state change is a row of stp.csv, with the root the bridge believed in
at that moment, so the tree at any simulated time is the last row of each port up to
that time. Port costs and priorities come from the scenario (as configured, or by the
link's speed), timers from the switch's settings. The layout follows IOS 15.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from netsim.l2.stp.config import StpMode
from netsim.l2.stp.engine import bundle_path_cost, path_cost
from netsim.show.registry import ShowError, register
from netsim.show.state import DeviceAt
from netsim.show.switching import FORWARDING_KINDS
from netsim.topology.topology import NodeSpec

ROLE = {
    "root": "Root",
    "designated": "Desg",
    "alternate": "Altn",
    "backup": "Back",
    "disabled": "Disa",
}
STATE = {
    "forwarding": "FWD",
    "learning": "LRN",
    "listening": "LIS",
    "blocking": "BLK",
    "discarding": "BLK",
    "disabled": "DIS",
}
"""IOS shows an RSTP discarding port as BLK, as it does an 802.1D blocking one."""


@dataclass
class _Port:
    name: str
    role: str
    state: str


@dataclass
class _Tree:
    instance: int
    bridge_id: str
    root: str
    root_cost: int
    ports: dict[str, _Port]


def _trees(device: DeviceAt) -> list[_Tree]:
    """This switch's instances as they stood at ``device.at`` (or at the end)."""
    stp = device.results.extra.get("stp", pd.DataFrame())
    if stp.empty or device.device not in set(stp["bridge"]):
        raise ShowError(f"{device.device} runs no spanning tree in this run")
    rows = stp[stp["bridge"] == device.device]
    if device.at is not None:
        rows = rows[rows["time"].astype(float) <= device.at]
    trees: dict[int, _Tree] = {}
    for row in rows.to_dict("records"):
        instance = int(row["instance"])
        tree = trees.setdefault(instance, _Tree(instance, "", "", 0, {}))
        tree.bridge_id, tree.root = str(row["bridge_id"]), str(row["root"])
        tree.root_cost = int(row["root_cost"])
        port = row["port"]
        if isinstance(port, str | int) and str(port) and row["role"] and row["state"]:
            tree.ports[str(port)] = _Port(str(port), str(row["role"]), str(row["state"]))
    return [trees[i] for i in sorted(trees)]


def _address(bridge_id: str) -> tuple[int, str]:
    """``32769.0201.0000.1000`` -> (32769, ``0201.0000.1000``)."""
    priority, _, mac = bridge_id.partition(".")
    return int(priority), mac


def _port_details(device: DeviceAt) -> dict[str, tuple[int, str, str]]:
    """Port name -> (cost, ``prio.nbr``, link type), from the scenario and the ports."""
    topology = device.results.topology
    if topology is None:
        return {}
    node = topology.nodes[device.device]
    speeds = {
        str(r["port"]): (float(r["speed_bps"]), str(r["duplex"]))
        for r in device.ports()
        if r["peer"]
    }
    out: dict[str, tuple[int, str, str]] = {}
    for number, name in enumerate(node.ports, start=1):
        if name not in speeds:
            continue
        speed, duplex = speeds[name]
        stp = node.interface(name).stp
        cost = stp.cost if stp is not None and stp.cost is not None else None
        priority = stp.port_priority if stp is not None and stp.port_priority else 128
        edge = stp is not None and bool(stp.portfast)
        if cost is None:
            cost = path_cost(speed, node.spanning_tree.cost_method) if speed > 0 else 0
        kind = ("P2p" if duplex == "full" else "Shr") + (" Edge" if edge else "")
        out[name] = (cost, f"{priority}.{number}", kind)
    _add_port_channels(node, speeds, out)
    return out


def _add_port_channels(
    node: NodeSpec, speeds: dict[str, tuple[float, str]], out: dict[str, tuple[int, str, str]]
) -> None:
    """A port-channel's row: the cost of its members' aggregate speed (or their configured
    cost), numbered after the physical ports as spanning tree numbers it."""
    groups: dict[int, list[str]] = {}
    for name in node.ports:
        channel = node.interface(name).channel
        if channel is not None:
            groups.setdefault(channel.group, []).append(name)
    for group, members in groups.items():
        stp = node.interface(members[0]).stp
        speed = max((speeds[m][0] for m in members if m in speeds), default=0.0)
        cost = stp.cost if stp is not None and stp.cost is not None else None
        if cost is None:
            method = node.spanning_tree.cost_method
            cost = bundle_path_cost(speed, len(members), method) if speed > 0 else 0
        priority = stp.port_priority if stp is not None and stp.port_priority else 128
        out[f"Po{group}"] = (cost, f"{priority}.{len(node.ports) + group}", "P2p")


def _instance_name(mode: StpMode, instance: int) -> str:
    return f"VLAN{instance:04d}" if mode.per_vlan else "Spanning tree (one for all VLANs)"


def _render(device: DeviceAt, tree: _Tree, mode: StpMode, details: dict[str, Any]) -> str:
    node = device.results.topology.nodes[device.device] if device.results.topology else None
    timers = node.spanning_tree.timers if node is not None else None
    times = (
        f"Hello Time {timers.hello_time:3g} sec  Max Age {timers.max_age:g} sec  "
        f"Forward Delay {timers.forward_delay:g} sec"
        if timers is not None
        else ""
    )
    root_priority, root_mac = _address(tree.root)
    priority, mac = _address(tree.bridge_id)
    protocol = "rstp" if mode.rapid else "ieee"
    lines = [_instance_name(mode, tree.instance), f"  Spanning tree enabled protocol {protocol}"]
    lines.append(f"  Root ID    Priority    {root_priority}")
    lines.append(f"             Address     {root_mac}")
    if tree.root == tree.bridge_id:
        lines.append("             This bridge is the root")
    else:
        root_port = next((p.name for p in tree.ports.values() if p.role == "root"), "")
        number = details.get(root_port, (0, "0.0", ""))[1].split(".")[1]
        lines.append(f"             Cost        {tree.root_cost}")
        lines.append(f"             Port        {number} ({root_port})")
    lines.append(f"             {times}")
    lines.append("")
    ext = f"  (priority {priority - tree.instance} sys-id-ext {tree.instance})"
    lines.append(f"  Bridge ID  Priority    {priority}{ext}")
    lines.append(f"             Address     {mac}")
    lines.append(f"             {times}")
    lines.append("")
    lines.append("Interface           Role Sts Cost      Prio.Nbr Type")
    lines.append("------------------- ---- --- --------- -------- --------------------------------")
    for name, port in tree.ports.items():
        cost, prio, kind = details.get(name, (0, "", ""))
        role = ROLE.get(port.role, port.role)
        state = STATE.get(port.state, port.state)
        lines.append(f"{name:<19} {role:<4} {state:<3} {cost:<9} {prio:<8} {kind}")
    return "\n".join(lines) + "\n"


def _mode(device: DeviceAt) -> StpMode:
    topology = device.results.topology
    if topology is None:
        return StpMode.STP
    return topology.nodes[device.device].spanning_tree.mode


@register("spanning-tree", "each spanning-tree instance: root, bridge ID, ports", FORWARDING_KINDS)
def spanning_tree(device: DeviceAt, args: list[str]) -> str:
    """``show spanning-tree`` and ``show spanning-tree vlan N``."""
    trees = _trees(device)
    mode = _mode(device)
    if args:
        if len(args) != 2 or not "vlan".startswith(args[0].lower()) or not args[1].isdigit():
            raise ShowError(f"spanning-tree {' '.join(args)}: expected 'vlan N' or 'summary'")
        vlan = int(args[1])
        trees = [t for t in trees if t.instance == (vlan if mode.per_vlan else 0)]
        if not trees:
            raise ShowError(f"spanning tree instance for VLAN {vlan} does not exist")
    details = _port_details(device)
    return "\n".join(_render(device, t, mode, details) for t in trees)


@register("spanning-tree summary", "ports per state in each instance", FORWARDING_KINDS)
def spanning_tree_summary(device: DeviceAt, args: list[str]) -> str:
    """``show spanning-tree summary``: the mode, the instances it is root of, and how many
    ports are in each state."""
    if args:
        raise ShowError(f"spanning-tree summary {' '.join(args)}: takes no arguments")
    trees = _trees(device)
    mode = _mode(device)
    roots = [_instance_name(mode, t.instance) for t in trees if t.root == t.bridge_id]
    lines = [
        f"Switch is in {mode} mode",
        f"Root bridge for: {', '.join(roots) if roots else 'none'}",
        "",
        "Name                   Blocking Listening Learning Forwarding STP Active",
        "---------------------- -------- --------- -------- ---------- ----------",
    ]
    totals = [0, 0, 0, 0, 0]
    for t in trees:
        counts = [
            sum(p.state in ("blocking", "discarding") for p in t.ports.values()),
            sum(p.state == "listening" for p in t.ports.values()),
            sum(p.state == "learning" for p in t.ports.values()),
            sum(p.state == "forwarding" for p in t.ports.values()),
        ]
        counts.append(sum(counts))
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        name = f"VLAN{t.instance:04d}" if mode.per_vlan else "(all VLANs)"
        lines.append(
            f"{name:<22} " + " ".join(f"{c:>{w}}" for c, w in zip(counts, WIDTHS, strict=True))
        )
    lines.append("---------------------- -------- --------- -------- ---------- ----------")
    label = f"{len(trees)} {'vlans' if mode.per_vlan else 'instance'}"
    lines.append(
        f"{label:<22} " + " ".join(f"{c:>{w}}" for c, w in zip(totals, WIDTHS, strict=True))
    )
    return "\n".join(lines) + "\n"


WIDTHS = (8, 9, 8, 10, 10)
"""The widths of the summary's count columns, as IOS lays them out."""
