"""``show ip route`` and ``show ip interface brief`` on a router or a layer-3 switch.

Both read the run's layer-3 tables (routes.csv, l3_interfaces.csv). Routes are static
and connected ones, fixed for the whole run, so the view is the same at any time.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from netsim.metrics.routing import show_ip_route
from netsim.show.registry import ShowError, register
from netsim.show.state import DeviceAt

ROUTING_KINDS = frozenset({"router", "switch"})


def _rows(device: DeviceAt, table: str) -> list[dict[Hashable, Any]]:
    rows = device.results.extra.get(table)
    mine = [] if rows is None else rows[rows["device"] == device.device].to_dict("records")
    if not mine:
        raise ShowError(f"{device.device} has no IP interface (no SVI, no routed port)")
    return mine


@register("ip route", "the routing table (connected and static routes)", ROUTING_KINDS)
def ip_route(device: DeviceAt, args: list[str]) -> str:
    """Codes, the gateway of last resort, one line per route."""
    if args:
        raise ShowError(f"ip route {' '.join(args)}: takes no arguments")
    _rows(device, "routes")
    return show_ip_route(device.results.extra["routes"], device.device)


@register("ip interface brief", "each IP interface, its address and state", ROUTING_KINDS)
def ip_interface_brief(device: DeviceAt, args: list[str]) -> str:
    """Interface, IP-Address, OK?, Method, Status, Protocol, as IOS lays them out."""
    if args:
        raise ShowError(f"ip interface brief {' '.join(args)}: takes no arguments")
    lines = [f"{'Interface':<23}{'IP-Address':<16}OK? Method Status                Protocol"]
    for row in _rows(device, "l3_interfaces"):
        address = str(row["address"]).split("/")[0]
        lines.append(f"{row['interface']!s:<23}{address:<16}YES manual up                    up")
    return "\n".join(lines) + "\n"
