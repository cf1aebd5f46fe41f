"""``show etherchannel summary``, ``show etherchannel load-balance``,
``show interfaces port-channel N``.

The bundles a switch has come from its configuration (the scenario's ``channel_group``
keys); each member's flag at a given time comes from lacp.csv, which has a row, with the
member's flag, every time a member's state changed. The counters view adds up the
members' own counters, as a port-channel's counters are the sum of its links'.
"""

from __future__ import annotations

from dataclasses import dataclass

from netsim.l2.etherchannel import ChannelMode
from netsim.show.registry import ShowError, register
from netsim.show.state import DeviceAt
from netsim.show.switching import FORWARDING_KINDS

FLAGS_LEGEND = """\
Flags:  D - down        P - bundled in port-channel
        I - stand-alone s - suspended
        H - Hot-standby (LACP only)
        R - Layer3      S - Layer2
        U - in use      f - failed to allocate aggregator

        M - not in use, minimum links not met
        u - unsuitable for bundling
        w - waiting to be aggregated
        d - default port
"""


@dataclass(frozen=True)
class Bundle:
    """One port-channel of the device as configured: group, mode and member ports."""

    group: int
    mode: ChannelMode
    members: tuple[str, ...]

    @property
    def name(self) -> str:
        """``Po1``."""
        return f"Po{self.group}"


def bundles(device: DeviceAt) -> list[Bundle]:
    """The device's port-channels, by group number (none: a ShowError saying so)."""
    topology = device.results.topology
    if topology is None:
        raise ShowError("these results carry no topology, so no EtherChannel configuration")
    node = topology.nodes[device.device]
    groups: dict[int, list[str]] = {}
    modes: dict[int, ChannelMode] = {}
    for port in node.ports:
        channel = node.interface(port).channel
        if channel is not None:
            groups.setdefault(channel.group, []).append(port)
            modes[channel.group] = channel.mode
    return [Bundle(g, modes[g], tuple(ports)) for g, ports in sorted(groups.items())]


def member_flags(device: DeviceAt) -> dict[str, str]:
    """Each member port's flag at the device's time: its last lacp.csv row by then."""
    table = device.results.extra.get("lacp")
    flags: dict[str, str] = {}
    if table is None or table.empty:
        return flags
    rows = table[table["device"] == device.device]
    if device.at is not None:
        rows = rows[rows["time"].astype(float) <= device.at]
    for row in rows.to_dict("records"):
        flags[str(row["port"])] = str(row["flags"])
    return flags


def _no_args(name: str, args: list[str]) -> None:
    if args:
        raise ShowError(f"{name} {' '.join(args)}: takes no arguments")


@register("etherchannel summary", "port-channels and their members' flags", FORWARDING_KINDS)
def etherchannel_summary(device: DeviceAt, args: list[str]) -> str:
    """Group, Port-channel (SU in use, SD down), Protocol, and each member with its flag."""
    _no_args("etherchannel summary", args)
    found = bundles(device)
    flags = member_flags(device)
    lines = [
        FLAGS_LEGEND,
        "",
        f"Number of channel-groups in use: {len(found)}",
        f"Number of aggregators:           {len(found)}",
        "",
        "Group  Port-channel  Protocol    Ports",
        "------+-------------+-----------+-----------------------------------------------",
    ]
    for bundle in found:
        marks = [flags.get(port, "D") for port in bundle.members]
        state = "SU" if "P" in marks else "SD"
        protocol = "LACP" if bundle.mode.lacp else "-"
        ports = " ".join(
            f"{f'{port}({mark})':<12}" for port, mark in zip(bundle.members, marks, strict=True)
        )
        lines.append(
            f"{bundle.group:<7}{f'{bundle.name}({state})':<16}{protocol:<10}{ports}".rstrip()
        )
    return "\n".join(lines) + "\n"


@register("etherchannel load-balance", "what the EtherChannel hash reads", FORWARDING_KINDS)
def etherchannel_load_balance(device: DeviceAt, args: list[str]) -> str:
    """The ``port-channel load-balance`` method, as IOS prints it."""
    _no_args("etherchannel load-balance", args)
    topology = device.results.topology
    if topology is None:
        raise ShowError("these results carry no topology, so no EtherChannel configuration")
    method = topology.nodes[device.device].load_balance
    return (
        "EtherChannel Load-Balancing Configuration:\n"
        f"        {method}\n\n"
        "EtherChannel Load-Balancing Addresses Used Per-Protocol:\n"
        f"Non-IP: {_addresses(method, ip=False)}\n"
        f"  IPv4: {_addresses(method, ip=True)}\n"
    )


def _addresses(method: str, ip: bool) -> str:
    """What the hash reads for a frame (an IP method falls back to MACs for non-IP)."""
    mac = method.replace("ip", "mac") if not ip else method
    words = {"src": "Source", "dst": "Destination"}
    parts = mac.split("-")
    kind = "IP address" if parts[-1] == "ip" else "MAC address"
    sides = [words[p] for p in parts[:-1]]
    return f"{' XOR '.join(sides)} {kind}"


@register(
    "interfaces port-channel",
    "a port-channel's counters, member by member and in total",
    FORWARDING_KINDS,
)
def interfaces_port_channel(device: DeviceAt, args: list[str]) -> str:
    """``show interfaces port-channel 1``: frames and octets each member carried, in and
    out, with its flag, then the bundle's total."""
    if len(args) != 1 or not args[0].isdigit():
        raise ShowError("interfaces port-channel N: give the channel group number, like 1")
    group = int(args[0])
    found = {b.group: b for b in bundles(device)}
    if group not in found:
        known = ", ".join(b.name for b in found.values()) or "none"
        raise ShowError(f"{device.device} has no Port-channel{group} (it has: {known})")
    bundle = found[group]
    flags = member_flags(device)
    ports = {str(p["port"]): p for p in device.ports(counted=True)}
    columns = ("rx_frames", "rx_octets", "tx_frames", "tx_octets")
    titles = ("InPkts", "InOctets", "OutPkts", "OutOctets")
    speed = float(ports[bundle.members[0]]["speed_bps"]) if bundle.members else 0.0
    up = [m for m in bundle.members if flags.get(m) == "P"]
    lines = [
        f"Port-channel{group} is {'up' if up else 'down'}, line protocol is "
        f"{'up' if up else 'down'}",
        f"  Bandwidth {speed * len(up) / 1e3:g} Kbit, {len(up)} of {len(bundle.members)} "
        "members bundled",
        "",
        f"{'Member':<10}{'Flag':<6}" + "".join(f"{t:>14}" for t in titles),
    ]
    totals = [0] * len(columns)
    for member in bundle.members:
        row = ports[member]
        values = [int(row[c]) for c in columns]
        totals = [t + v for t, v in zip(totals, values, strict=True)]
        cells = "".join(f"{v:>14}" for v in values)
        lines.append(f"{member:<10}{flags.get(member, 'D'):<6}{cells}")
    lines.append(f"{bundle.name:<16}" + "".join(f"{v:>14}" for v in totals))
    return "\n".join(lines) + "\n"
