"""Layer-3 results: every routing device's routes, and what each interface did.

- ``routes.csv`` (and ``routes`` in summary.json): one row per installed route, as
  ``show ip route`` lists it: code (C connected, S static), prefix, next hop,
  outgoing interface, administrative distance;
- ``routes.txt``: the same as IOS prints it, one block per device;
- ``l3_interfaces.csv``: one row per layer-3 interface (routed port or SVI): address,
  MAC and its counters (packets in, out, routed on, dropped for TTL or no route, ICMP
  sent, ARP).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from netsim.l2.frame import mac_to_str
from netsim.metrics.table import Table
from netsim.metrics.tables import register_table
from netsim.topology.build import Network

if TYPE_CHECKING:
    import pandas as pd

ROUTE_COLUMNS = ["device", "code", "prefix", "next_hop", "interface", "distance"]
L3_COLUMNS = [
    "device",
    "interface",
    "address",
    "mac",
    "rx_packets",
    "tx_packets",
    "forwarded",
    "to_self",
    "ttl_exceeded",
    "no_route",
    "host_unreachable",
    "bad_packets",
    "icmp_sent",
    "arp_requests",
    "arp_replies",
]


@register_table("routes")
def routes_table(net: Network) -> Table:
    """One row per route of every routing device, in ``show ip route`` order."""
    rows: list[dict[str, Any]] = []
    for name, engine in net.engines.items():
        for route in engine.table.routes():
            rows.append(
                {
                    "device": name,
                    "code": str(route.source.value),
                    "prefix": str(route.prefix),
                    "next_hop": "" if route.next_hop is None else str(route.next_hop),
                    "interface": route.interface,
                    "distance": route.distance,
                }
            )
    return Table.from_dicts(rows, ROUTE_COLUMNS)


@register_table("l3_interfaces")
def l3_interfaces_table(net: Network) -> Table:
    """One row per layer-3 interface: its address, MAC and counters."""
    rows: list[dict[str, Any]] = []
    for name, engine in net.engines.items():
        for iface in engine.interfaces.values():
            rows.append(
                {
                    "device": name,
                    "interface": iface.name,
                    "address": str(iface.address),
                    "mac": mac_to_str(iface.mac),
                    **iface.counters.as_dict(),
                }
            )
    return Table.from_dicts(rows, L3_COLUMNS)


def show_ip_route(routes: Table | pd.DataFrame, device: str) -> str:
    """``show ip route`` on ``device``, from the rows of routes.csv.

    As IOS prints it (without the per-major-network headings): the codes, the gateway
    of last resort, then one line per route, ``C`` routes directly connected and ``S``
    routes with [distance/metric] and their next hop; ``*`` marks the default.
    """
    records = routes.records() if isinstance(routes, Table) else routes.to_dict("records")
    mine = [row for row in records if row["device"] == device]
    default = [row for row in mine if row["prefix"] == "0.0.0.0/0"]
    lines = ["Codes: C - connected, S - static, * - candidate default", ""]
    if not default:
        lines.append("Gateway of last resort is not set")
    else:
        lines.append(f"Gateway of last resort is {default[0]['next_hop']} to network 0.0.0.0")
    lines.append("")
    for row in mine:
        code = str(row["code"]) + ("*" if row["prefix"] == "0.0.0.0/0" else "")
        if row["code"] == "C":
            lines.append(f"{code:<8} {row['prefix']} is directly connected, {row['interface']}")
        else:
            lines.append(
                f"{code:<8} {row['prefix']} [{row['distance']}/0] via {row['next_hop']}, "
                f"{row['interface']}"
            )
    return "\n".join(lines) + "\n"


def routes_text(routes: Table | pd.DataFrame) -> str:
    """routes.txt: ``show ip route`` of every routing device, one block each."""
    blocks = [
        f"{device}#show ip route\n{show_ip_route(routes, str(device))}"
        for device in dict.fromkeys(routes["device"])
    ]
    return "\n".join(blocks)
