"""``show mac address-table``, ``show interfaces status``, ``show interfaces counters``.

Laid out as Cisco Catalyst switches (2960, 3750) print them, column for column, so a
student who learns them here reads a real switch's output the same way.
"""

from __future__ import annotations

from typing import Any

from netsim.show.registry import ShowError, register
from netsim.show.state import DeviceAt, MacEntry

FORWARDING_KINDS = frozenset({"switch", "bridge"})


def cisco_mac(mac: str) -> str:
    """``02:00:00:00:00:01`` -> ``0200.0000.0001``, as IOS writes addresses."""
    digits = mac.replace(":", "").replace("-", "").replace(".", "").lower()
    return ".".join(digits[i : i + 4] for i in range(0, 12, 4))


def _mac_filter(args: list[str]) -> tuple[str, Any]:
    """``dynamic``, ``static``, ``vlan N``, ``interface P`` or ``address M``: what to keep."""
    if not args:
        return ("all", None)
    word = args[0].lower()
    for name in ("dynamic", "static"):
        if name.startswith(word) and len(args) == 1:
            return (name, None)
    for name in ("vlan", "interface", "address"):
        if name.startswith(word) and len(args) == 2:
            if name == "vlan" and not args[1].isdigit():
                raise ShowError(f"vlan {args[1]!r}: expected a VLAN number, 1..4094")
            return (name, args[1])
    raise ShowError(
        f"mac address-table {' '.join(args)}: expected nothing, dynamic, static, "
        "vlan N, interface PORT or address MAC"
    )


def _keep(entry: MacEntry, how: str, value: Any) -> bool:
    if how == "dynamic":
        return entry.type == "DYNAMIC"
    if how == "static":
        return entry.type == "STATIC"
    if how == "vlan":
        return entry.vlan == int(value)
    if how == "interface":
        return entry.port.lower() == str(value).lower()
    if how == "address":
        return cisco_mac(entry.mac) == cisco_mac(str(value))
    return True


@register("mac address-table", "the MAC address table", FORWARDING_KINDS)
def mac_address_table(device: DeviceAt, args: list[str]) -> str:
    """Every address the switch knows: VLAN, address, type and port."""
    how, value = _mac_filter(args)
    entries = [e for e in device.mac_table() if _keep(e, how, value)]
    lines = [
        "          Mac Address Table",
        "-------------------------------------------",
        "",
        "Vlan    Mac Address       Type        Ports",
        "----    -----------       --------    -----",
    ]
    for e in entries:
        lines.append(f"{e.vlan:>4}    {cisco_mac(e.mac):<18}{e.type:<12}{e.port}")
    lines.append(f"Total Mac Addresses for this criterion: {len(entries)}")
    return "\n".join(lines) + "\n"


def _speed(bps: float) -> str:
    return f"{bps / 1e6:g}" if bps else "auto"


def _port_type(speed_bps: float, media: str | None) -> str:
    """What IOS prints in the Type column: the port's media (fibre, from the cable's
    media), else copper up to the port's fastest speed; unknown and unplugged: Not Present."""
    if media and "BASE-" in media.upper() and not media.upper().endswith("-T"):
        return media.upper().replace("BASE-", "Base") + " SFP"
    if speed_bps >= 1e9:
        return "10/100/1000BaseTX"
    if speed_bps >= 1e8:
        return "10/100BaseTX"
    return "10BaseT" if speed_bps else "Not Present"


@register("interfaces status", "one line per port: status, VLAN, duplex, speed")
def interfaces_status(device: DeviceAt, args: list[str]) -> str:
    """Port, Name (here: the device at the other end), Status, Vlan, Duplex, Speed, Type."""
    if args:
        raise ShowError(f"interfaces status {' '.join(args)}: takes no arguments")
    media = _media_of_ports(device)
    topology = device.results.topology
    node = topology.nodes.get(device.device) if topology is not None else None
    lines = [f"{'Port':<10}{'Name':<19}{'Status':<13}{'Vlan':<11}{'Duplex':>6} {'Speed':>6} Type"]
    for p in device.ports():
        connected = p["status"] == "connected"
        peer = str(p["peer"]).split(":")[0][:18]
        duplex = str(p["duplex"]) if connected else "auto"
        speed = _speed(float(p["speed_bps"])) if connected else "auto"
        fastest = dict(node.port_speeds).get(str(p["port"]), 0.0) if node is not None else 0.0
        kind = _port_type(fastest or float(p["speed_bps"]), media.get(str(p["port"])))
        vlan = "1"
        if node is not None and node.kind in FORWARDING_KINDS:
            cfg = node.interface(str(p["port"])).vlan
            vlan = "trunk" if cfg.is_trunk else str(cfg.access_vlan)
        lines.append(
            f"{p['port']!s:<10}{peer:<19}{p['status']:<13}{vlan:<11}{duplex:>6} {speed:>6} {kind}"
        )
    return "\n".join(lines) + "\n"


def _media_of_ports(device: DeviceAt) -> dict[str, str]:
    topology = device.results.topology
    out: dict[str, str] = {}
    if topology is None:
        return out
    for link in topology.links:
        for node, port in (link.a, link.b):
            if node == device.device and link.media:
                out[port] = link.media
    return out


COUNTER_BLOCKS = (
    (
        ("InOctets", "rx_octets"),
        ("InUcastPkts", "rx_unicast"),
        ("InMcastPkts", "rx_multicast"),
        ("InBcastPkts", "rx_broadcast"),
    ),
    (
        ("OutOctets", "tx_octets"),
        ("OutUcastPkts", "tx_unicast"),
        ("OutMcastPkts", "tx_multicast"),
        ("OutBcastPkts", "tx_broadcast"),
    ),
)
"""The two blocks of ``show interfaces counters``: IOS header, and our counter."""


@register("interfaces counters", "octets and unicast/multicast/broadcast frames, in and out")
def interfaces_counters(device: DeviceAt, args: list[str]) -> str:
    """Received, then sent: octets and frames by kind of destination address."""
    if args:
        raise ShowError(f"interfaces counters {' '.join(args)}: takes no arguments")
    ports = device.ports(counted=True)
    lines: list[str] = []
    for i, block in enumerate(COUNTER_BLOCKS):
        if i:
            lines.append("")
        lines.append(f"{'Port':<8}" + "".join(f"{title:>16}" for title, _ in block))
        for p in ports:
            values = "".join(f"{int(p[column]):>16}" for _, column in block)
            lines.append(f"{p['port']!s:<8}{values}")
    return "\n".join(lines) + "\n"
