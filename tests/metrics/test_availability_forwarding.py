"""Which cables carry data under spanning tree: the ``Forwarding`` the path monitor uses.

A cable is only as good as the ports at its ends. Spanning tree keeps a port that is up
from forwarding (blocking, listening, learning; discarding in RSTP), per instance: one
tree for the switch, or one per VLAN under PVST+. A cable carries a VLAN across only when
both its ends forward in that VLAN; a host, or a switch port without spanning tree,
always forwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from netsim.l2.stp.engine import PortState
from netsim.metrics.availability import SpanningTreeForwarding
from netsim.topology.topology import LinkSpec


@dataclass(eq=False)
class NamedPort:
    """All the check reads of a port: its name (and, as a dict key, its identity)."""

    name: str


def tree(ports: dict[str, list[int]], blocked: dict[tuple[str, int], PortState]) -> SimpleNamespace:
    """A switch's spanning tree as the forwarding check reads it: its instances (VLAN and
    ports) and its ``blocked`` (port, VLAN) -> state."""
    objects = {name: NamedPort(name) for name in ports}
    vlans = sorted({v for vs in ports.values() for v in vs})
    instances = [
        SimpleNamespace(
            vlan=v, ports={i: objects[n] for i, n in enumerate(sorted(ports)) if v in ports[n]}
        )
        for v in vlans
    ]
    return SimpleNamespace(
        instances=instances,
        blocked={(objects[n], v): state for (n, v), state in blocked.items()},
    )


def cable(a: tuple[str, str], b: tuple[str, str]) -> LinkSpec:
    return LinkSpec(a, b, 1e9, 0.0, "full")


def test_a_cable_forwards_only_when_neither_end_blocks():
    trees = {
        "s1": tree({"Gi0/1": [0], "Gi0/2": [0]}, {("Gi0/2", 0): PortState.BLOCKING}),
        "s2": tree({"Gi0/1": [0], "Gi0/2": [0]}, {("Gi0/1", 0): PortState.LEARNING}),
    }
    fwd = SpanningTreeForwarding(trees)  # type: ignore[arg-type]
    assert not fwd.forwards(cable(("s1", "Gi0/1"), ("s2", "Gi0/1")))  # s2's end learns
    assert not fwd.forwards(cable(("s1", "Gi0/2"), ("s2", "Gi0/2")))  # s1's end blocks
    assert fwd.forwards(cable(("s1", "Gi0/1"), ("h1", "")))  # a host always forwards
    assert not fwd.forwards(cable(("h1", ""), ("s1", "Gi0/2")))
    assert fwd.forwards(cable(("s3", "Gi0/1"), ("h1", "")))  # no spanning tree on s3


def test_under_pvst_a_trunk_forwards_if_some_vlan_crosses_it():
    """VLAN 10 blocks at s1 and VLAN 20 at s2: no VLAN gets across. Once s2 forwards
    VLAN 20 too, VLAN 20 crosses."""
    blocked = {("Gi0/1", 20): PortState.BLOCKING}
    trees = {
        "s1": tree({"Gi0/1": [10, 20]}, {("Gi0/1", 10): PortState.BLOCKING}),
        "s2": tree({"Gi0/1": [10, 20]}, blocked),
    }
    trunk = cable(("s1", "Gi0/1"), ("s2", "Gi0/1"))
    assert not SpanningTreeForwarding(trees).forwards(trunk)  # type: ignore[arg-type]
    trees["s2"] = tree({"Gi0/1": [10, 20]}, {})
    assert SpanningTreeForwarding(trees).forwards(trunk)  # type: ignore[arg-type]
