"""First-hop redundancy in a scenario: ``standby:`` (HSRP) and ``vrrp:`` on router ports.

Each check reports one problem per mistake, with the YAML path of the key at fault:

- the virtual IP must be an address of the interface's subnet (hosts reach their gateway
  directly, with ARP); HSRP's may not be the interface's own address;
- an HSRP version 1 group is 0..255 (version 2: 0..4095); the hold time must be longer
  than the hello time (IOS refuses ``standby timers 3 3``);
- every router of one group on one subnet must announce the same virtual IP (IOS logs
  ``%HSRP-4-BADVIP`` and the group never agrees on who forwards for what).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from netsim.l3.fhrp.hsrp import HsrpConfig
from netsim.l3.fhrp.vrrp import VrrpConfig
from netsim.net.addressing import IPv4Interface, IPv4Network
from netsim.scenario import model as m
from netsim.scenario.source import YamlPath

ErrorSink = Callable[[YamlPath, str], None]


def resolve_groups(
    device: str,
    port: str,
    address: IPv4Interface,
    settings: m.RouterInterface | m.Interface,
    where: YamlPath,
    error: ErrorSink,
) -> tuple[HsrpConfig | VrrpConfig, ...]:
    """The interface's HSRP and VRRP groups as protocol configurations, checked."""
    out: list[HsrpConfig | VrrpConfig] = []
    for i, standby in enumerate(settings.standby):
        at = (*where, "standby", i)
        vip = _virtual_ip(device, port, address, standby.ip, "HSRP", (*at, "ip"), error)
        if vip is None:
            continue
        if standby.version == 1 and standby.group > 255:
            error((*at, "group"), f"HSRP version 1 groups are 0..255, not {standby.group}")
            continue
        if standby.hold <= standby.hello:
            error(
                (*at, "hold"),
                f"the hold time ({standby.hold:g} s) must be longer than the hello time "
                f"({standby.hello:g} s), or the standby takes over between two hellos",
            )
            continue
        out.append(
            HsrpConfig(
                standby.group,
                vip,
                standby.priority,
                standby.preempt,
                standby.version,
                standby.hello,
                standby.hold,
            )
        )
    for i, vrrp in enumerate(settings.vrrp):
        at = (*where, "vrrp", i)
        vip = _virtual_ip(device, port, address, vrrp.ip, "VRRP", (*at, "ip"), error)
        if vip is None:
            continue
        if not 0.01 <= vrrp.interval <= 40.95:
            error((*at, "interval"), "the VRRP advertisement interval is 10ms..40.95s")
            continue
        out.append(VrrpConfig(vrrp.group, vip, vrrp.priority, vrrp.preempt, vrrp.interval))
    return tuple(out)


def _virtual_ip(
    device: str,
    port: str,
    address: IPv4Interface,
    text: str,
    protocol: str,
    where: YamlPath,
    error: ErrorSink,
) -> ipaddress.IPv4Address | None:
    try:
        vip = ipaddress.IPv4Address(text)
    except ValueError:
        error(where, f"not an IPv4 address: {text!r}")
        return None
    net = address.network
    if vip not in net or vip in (net.network_address, net.broadcast_address):
        error(
            where,
            f"{device} {port}: {protocol} virtual IP {vip} is outside the interface's subnet "
            f"{net}: hosts reach their gateway directly, so it must be on their subnet",
        )
        return None
    if protocol == "HSRP" and vip == address.ip:
        error(where, f"{device} {port}: the HSRP virtual IP {vip} is the interface's own address")
        return None
    return vip


def check_groups(scenario: m.Scenario, error: ErrorSink) -> None:
    """Every router of one group on one subnet must agree on the virtual IP."""
    seen: dict[tuple[str, int, IPv4Network], tuple[str, str, str]] = {}
    for name, node in scenario.topology.nodes.items():
        if not isinstance(node, m.RouterNode | m.SwitchNode):
            continue
        for key, settings in node.interfaces.items():
            if settings.ip is None:
                continue
            try:
                net = IPv4Interface(settings.ip).network
            except ValueError:
                continue  # reported where the address is resolved
            groups = [("HSRP", "standby", i, g.group, g.ip) for i, g in enumerate(settings.standby)]
            groups += [("VRRP", "vrrp", i, g.group, g.ip) for i, g in enumerate(settings.vrrp)]
            for protocol, yaml_key, i, group, vip in groups:
                where: YamlPath = ("topology", "nodes", name, "interfaces", key, yaml_key, i, "ip")
                first = seen.setdefault((protocol, group, net), (vip, name, key))
                if first[0] != vip:
                    error(
                        where,
                        f"{protocol} group {group} on {net}: virtual IP {vip} here, but "
                        f"{first[0]} on {first[1]} {first[2]}; every router of a group must "
                        "announce the same virtual IP",
                    )
