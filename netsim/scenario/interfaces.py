"""Per-interface configuration: interface names and ranges, resolved onto a node's ports.

A switch's ``interfaces:`` mapping is written the way an engineer configures a Catalyst:
a key names one interface (``Gi0/1``, or ``5`` on a generic switch) or a range, as IOS's
``interface range`` does (``Fa0/1-12``, ``Fa0/1 - 12``, ``Gi1/0/1-4, Gi2/0/1-4``); its
value is an :class:`~netsim.scenario.model.Interface`. Each key is checked against the
node's real ports, each port may be configured by one key only, and the settings must
fit together. The result is one :class:`~netsim.topology.topology.InterfaceSpec` per
configured port.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from netsim.l2.vlan import DEFAULT_VLAN, PortVlan
from netsim.scenario import model as m
from netsim.scenario.source import YamlPath
from netsim.topology.topology import InterfaceSpec, Topology

SVI_NAME = re.compile(r"^[Vv]lan\s*(?P<vid>\d+)$")
"""``Vlan10``: a switch virtual interface, the switch's router in VLAN 10."""
INTERNAL_VLAN_BASE = 1006
"""IOS allocates routed ports' internal VLANs from 1006 upwards."""
_RANGE = re.compile(r"^(?P<prefix>.*?)(?P<first>\d+)\s*-\s*(?P<last>\d+)$")
"""``Fa0/1-12``: a prefix, then the first and last number of the last position."""

ErrorSink = Callable[[YamlPath, str], None]
"""Where problems go: ``(yaml path, message)``."""


def expand_range(key: str, ports: Sequence[str]) -> tuple[list[str], str | None]:
    """The port names an interface key stands for, and the problem with it if any.

    >>> expand_range("Fa0/1-3, Gi0/1", ["Fa0/1", "Fa0/2", "Fa0/3", "Fa0/4", "Gi0/1"])
    (['Fa0/1', 'Fa0/2', 'Fa0/3', 'Gi0/1'], None)
    """
    names: list[str] = []
    known = set(ports)
    for item in (part.strip() for part in key.split(",")):
        if not item:
            return [], f"empty item in interface list {key!r}"
        if item in known:
            names.append(item)
            continue
        match = _RANGE.match(item)
        if match is None:
            return [], f"no interface {item!r} (its interfaces are {describe_ports(ports)})"
        prefix, first, last = match["prefix"], int(match["first"]), int(match["last"])
        if last < first:
            return [], f"range {item!r} runs backwards (write it low-high, like {prefix}1-12)"
        wanted = [f"{prefix}{n}" for n in range(first, last + 1)]
        missing = [name for name in wanted if name not in known]
        if missing:
            gone = missing[0] if len(missing) == 1 else f"{missing[0]}..{missing[-1]}"
            return [], (
                f"range {item!r} does not exist: there is no {gone} "
                f"(its interfaces are {describe_ports(ports)})"
            )
        names.extend(wanted)
    return names, None


def describe_ports(ports: Sequence[str]) -> str:
    """Port names as ranges, the way IOS lists them: ``Fa0/1-24, Gi0/1-2`` or ``1-8``."""
    runs: list[tuple[str, int, int]] = []
    others: list[str] = []
    for name in ports:
        match = re.match(r"^(.*?)(\d+)$", name)
        if match is None:
            others.append(name)
            continue
        prefix, number = match[1], int(match[2])
        if runs and runs[-1][0] == prefix and runs[-1][2] == number - 1:
            runs[-1] = (prefix, runs[-1][1], number)
        else:
            runs.append((prefix, number, number))
    parts = [f"{p}{a}" if a == b else f"{p}{a}-{b}" for p, a, b in runs]
    return ", ".join(parts + others)


def resolve_interfaces(
    node_name: str,
    configured: dict[str, m.Interface],
    ports: Sequence[str],
    path: YamlPath,
    error: ErrorSink,
) -> tuple[tuple[str, InterfaceSpec], ...]:
    """Each configured port of ``node_name`` and its settings, in port order.

    Problems go to ``error`` with the YAML path of the key (or of the setting) at fault.
    """
    owner: dict[str, str] = {}
    specs: dict[str, InterfaceSpec] = {}
    internal_vlan = INTERNAL_VLAN_BASE
    for key, settings in configured.items():
        where = (*path, key)
        if SVI_NAME.match(key):
            continue  # an SVI, not a port: netsim.scenario.routing resolves it
        names, problem = expand_range(key, ports)
        if problem is not None:
            error(where, f"{node_name}: {problem}")
            continue
        if settings.switchport is False or settings.ip is not None:
            routed = routed_port(node_name, key, names, settings, where, error)
            if routed is None:
                continue
            # IOS gives each routed port an internal VLAN of its own (1006 and up).
            vlan: PortVlan | None = PortVlan.access(internal_vlan)
            internal_vlan += 1
        else:
            routed = None
            vlan = port_vlan(settings, where, error)
        if vlan is None:
            continue
        for name in names:
            if name in owner:
                error(where, f"{node_name}:{name} is already configured by {owner[name]!r}")
                break
            owner[name] = key
            specs[name] = InterfaceSpec(vlan=vlan, ip=routed)
    return tuple((name, specs[name]) for name in ports if name in specs)


def routed_port(
    node_name: str,
    key: str,
    names: list[str],
    settings: m.Interface,
    where: YamlPath,
    error: ErrorSink,
) -> str | None:
    """A ``no switchport`` port's address, or None (and an error) if the settings clash."""
    if settings.ip is None:
        error((*where, "switchport"), f"{node_name}:{key} is a routed port: give it an ip")
        return None
    if settings.switchport is not False:
        error(
            (*where, "ip"),
            "an address on a switch port needs switchport: false (a routed port, IOS's "
            "no switchport); for an address in a VLAN, configure interface Vlan<N>",
        )
        return None
    if len(names) != 1:
        error(where, f"{key} names {len(names)} ports; each routed port has its own address")
        return None
    for vkey in ("mode", "vlan", "allowed", "native"):
        if getattr(settings, vkey) is not None:
            error((*where, vkey), f"a routed port is in no VLAN: drop {vkey!r}")
            return None
    return settings.ip


def port_vlan(settings: m.Interface, where: YamlPath, error: ErrorSink) -> PortVlan | None:
    """The VLAN side of one interface's settings, or None (and an error) if they clash."""
    trunk = settings.mode == "trunk"
    if trunk and settings.vlan is not None:
        error(
            (*where, "vlan"),
            f"an access VLAN on a trunk: a trunk carries its allowed VLANs tagged and its "
            f"native VLAN untagged; write native: {settings.vlan}, or mode: access",
        )
        return None
    if not trunk:
        for key in ("allowed", "native"):
            if getattr(settings, key) is not None:
                error(
                    (*where, key),
                    f"{key!r} is a trunk setting; add mode: trunk (an access port is in one "
                    "VLAN, given by vlan)",
                )
                return None
        return PortVlan.access(settings.vlan if settings.vlan is not None else DEFAULT_VLAN)
    allowed = None if settings.allowed is None or settings.allowed == "all" else settings.allowed
    native = settings.native if settings.native is not None else DEFAULT_VLAN
    # VLAN 1 may be left out of the list (Cisco keeps it as the native VLAN for control
    # traffic and drops its data frames); any other native VLAN must be allowed.
    if allowed is not None and native != DEFAULT_VLAN and native not in allowed:
        error(
            (*where, "native"),
            f"native VLAN {native} is not in the allowed list "
            f"[{', '.join(map(str, allowed))}]: its untagged frames could not cross; "
            "allow it, or leave native at 1",
        )
        return None
    if allowed is not None and len(set(allowed)) != len(allowed):
        error((*where, "allowed"), "a VLAN is listed twice")
        return None
    return PortVlan.trunk(allowed, native)


def vlan_summary(topology: Topology) -> list[str]:
    """What each VLAN-configured switch's ports are, like ``show vlan brief`` and
    ``show interfaces trunk``, one line per VLAN or trunk (empty if nothing is configured).
    """
    lines: list[str] = []
    for name, node in topology.nodes.items():
        if node.kind == "host" and node.vlan is not None:
            lines.append(f"{name}: eth0 is the sub-interface eth0.{node.vlan} (tagged)")
        if not node.interfaces:
            continue
        vlans: dict[int, list[str]] = {}
        trunks: list[str] = []
        for port in node.ports:
            cfg = node.interface(port).vlan
            if cfg.is_trunk:
                trunks.append(f"{port}: {cfg.describe()}")
            else:
                vlans.setdefault(cfg.access_vlan, []).append(port)
        for vid in sorted(vlans):
            lines.append(f"{name}: VLAN {vid}: {describe_ports(vlans[vid])}")
        for trunk in trunks:
            lines.append(f"{name}: {trunk}")
    return lines
