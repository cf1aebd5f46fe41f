"""``show standby brief`` and ``show vrrp brief``: each group's state at a time of the run.

Both read fhrp.csv (every state change) and the scenario's configuration: a group's state
at time ``t`` is the last change at or before ``t``; the active (master) and standby
routers are those whose interfaces on the same subnet were in those states then.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from netsim.l3.fhrp.hsrp import HsrpConfig
from netsim.l3.fhrp.vrrp import VrrpConfig
from netsim.net.addressing import IPv4Interface
from netsim.show.registry import ShowError, register
from netsim.show.state import DeviceAt

ROUTING_KINDS = frozenset({"router", "switch"})


@dataclass(frozen=True)
class _Group:
    device: str
    interface: str
    address: IPv4Interface
    config: HsrpConfig | VrrpConfig


def _groups(device: DeviceAt, kind: type[HsrpConfig] | type[VrrpConfig]) -> list[_Group]:
    topology = device.results.topology
    if topology is None:
        return []
    out = []
    for name, node in topology.nodes.items():
        for port, spec in (*node.interfaces, *node.svi_services):
            for config in spec.fhrp:
                if isinstance(config, kind) and spec.ip is not None:
                    out.append(_Group(name, port, IPv4Interface(spec.ip), config))
    return out


def _states(device: DeviceAt, protocol: str) -> dict[tuple[str, str, int], str]:
    """(device, interface, group) -> its state at the time asked (or the end)."""
    table = device.results.extra.get("fhrp", pd.DataFrame())
    if table.empty:
        return {}
    rows = table[table["protocol"] == protocol]
    if device.at is not None:
        rows = rows[rows["time"].astype(float) <= device.at]
    last = rows.groupby(["device", "interface", "group"], sort=False).tail(1)
    return {
        (str(device_), str(interface), int(group)): str(new)
        for device_, interface, group, new in zip(
            last["device"], last["interface"], last["group"], last["new"], strict=True
        )
    }


def _brief(device: DeviceAt, protocol: str, kind: type[HsrpConfig] | type[VrrpConfig]) -> str:
    groups = _groups(device, kind)
    mine = [g for g in groups if g.device == device.device]
    if not mine:
        raise ShowError(f"{device.device} has no {protocol.upper()} group")
    states = _states(device, protocol)
    top, second = ("active", "standby") if protocol == "hsrp" else ("master", "backup")

    def holder(group: _Group, state: str) -> str:
        for other in groups:
            same = other.address.network == group.address.network
            number = _number(other.config) == _number(group.config)
            key = (other.device, other.interface, _number(other.config))
            if same and number and states.get(key) == state:
                return "local" if other.device == device.device else str(other.address.ip)
        return "unknown"

    head = f"{'Interface':<12}{'Grp':>4} {'Pri':>4} P {'State':<8}"
    head += f"{top.capitalize():<16}{second.capitalize():<16}Virtual IP"
    lines = ["                     P indicates configured to preempt.", head]
    for group in mine:
        config = group.config
        state = states.get((group.device, group.interface, _number(config)), "init")
        preempt = "P" if config.preempt else " "
        lines.append(
            f"{group.interface:<12}{_number(config):>4} {config.priority:>4} {preempt} "
            f"{state.capitalize():<8}{holder(group, top):<16}{holder(group, second):<16}"
            f"{config.virtual_ip}"
        )
    return "\n".join(lines) + "\n"


def _number(config: HsrpConfig | VrrpConfig) -> int:
    return config.group if isinstance(config, HsrpConfig) else config.vrid


@register("standby brief", "HSRP groups: state, active and standby routers", ROUTING_KINDS)
def standby_brief(device: DeviceAt, args: list[str]) -> str:
    """One line per HSRP group of the device, as IOS prints it."""
    if args:
        raise ShowError(f"standby brief {' '.join(args)}: takes no arguments")
    return _brief(device, "hsrp", HsrpConfig)


@register("vrrp brief", "VRRP groups: state, master and backup routers", ROUTING_KINDS)
def vrrp_brief(device: DeviceAt, args: list[str]) -> str:
    """One line per VRRP group of the device."""
    if args:
        raise ShowError(f"vrrp brief {' '.join(args)}: takes no arguments")
    return _brief(device, "vrrp", VrrpConfig)
