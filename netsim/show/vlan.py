"""``show vlan brief``: the VLANs a switch knows, and the access ports in each.

A switch's VLANs are VLAN 1 and every VLAN its ports are configured with (access VLANs,
trunks' native VLANs and allowed lists); trunk ports are not listed under any VLAN, as on
IOS (``show interfaces trunk`` lists them). The four legacy FDDI and Token Ring VLANs,
1002-1005, appear on every Catalyst, so they appear here too.
"""

from __future__ import annotations

from netsim.l2.vlan import DEFAULT_VLAN
from netsim.show.registry import ShowError, register
from netsim.show.state import DeviceAt
from netsim.show.switching import FORWARDING_KINDS

LEGACY_VLANS = (
    (1002, "fddi-default"),
    (1003, "token-ring-default"),
    (1004, "fddinet-default"),
    (1005, "trnet-default"),
)
PORTS_WIDTH = 31
"""Characters of the Ports column before IOS wraps the list onto the next line."""


def vlan_name(vlan: int) -> str:
    """IOS's default name: ``default`` for VLAN 1, ``VLAN0010`` for VLAN 10."""
    return "default" if vlan == DEFAULT_VLAN else f"VLAN{vlan:04d}"


def _wrap(ports: list[str]) -> list[str]:
    lines: list[str] = []
    line = ""
    for port in ports:
        piece = port if not line else f"{line}, {port}"
        if line and len(piece) > PORTS_WIDTH:
            lines.append(line)
            line = port
        else:
            line = piece
    return [*lines, line] if line else [""]


@register("vlan brief", "the VLANs and their access ports", FORWARDING_KINDS)
def vlan_brief(device: DeviceAt, args: list[str]) -> str:
    """VLAN, Name, Status, Ports: one block per VLAN, wrapped as IOS wraps it."""
    if args:
        raise ShowError(f"vlan brief {' '.join(args)}: takes no arguments")
    topology = device.results.topology
    if topology is None:
        raise ShowError("these results carry no topology, so no VLAN configuration")
    node = topology.nodes[device.device]
    members: dict[int, list[str]] = {DEFAULT_VLAN: []}
    for port in node.ports:
        cfg = node.interface(port).vlan
        if cfg.is_trunk:
            members.setdefault(cfg.native, [])
            for vlan in sorted(cfg.allowed or ()):
                members.setdefault(vlan, [])
        else:
            members.setdefault(cfg.access_vlan, []).append(port)
    lines = [
        f"{'VLAN':<5}{'Name':<33}{'Status':<10}Ports",
        f"{'-' * 4} {'-' * 32} {'-' * 9} {'-' * PORTS_WIDTH}",
    ]
    for vlan in sorted(members):
        wrapped = _wrap(members[vlan])
        lines.append(f"{vlan:<5}{vlan_name(vlan):<33}{'active':<10}{wrapped[0]}".rstrip())
        lines.extend(" " * 48 + more for more in wrapped[1:])
    for vlan, name in LEGACY_VLANS:
        lines.append(f"{vlan:<5}{name:<33}act/unsup")
    return "\n".join(lines) + "\n"
