"""Layer-3 settings of a scenario: routers, SVIs, routed ports, static routes, gateways.

Each check reports one problem per mistake with the YAML path of the key at fault:

- a router's (or layer-3 switch's) interfaces may not overlap: two interfaces on one
  subnet would make the connected routes ambiguous (IOS: "% 10.0.1.0 overlaps with
  GigabitEthernet0/0");
- a static route's next hop must be on one of the device's own subnets;
- an SVI needs its VLAN to exist on the switch (some port in it, or a trunk naming it);
- a layer-2 switch (a 2960) has one management SVI and routes nothing;
- a host's gateway must be inside the host's own subnet.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Callable, Iterable

from netsim.l2.vlan import VlanMap
from netsim.net.addressing import IPv4Interface, IPv4Network, parse_interface
from netsim.scenario import model as m
from netsim.scenario.dhcp import resolve_pools
from netsim.scenario.fhrp import resolve_groups
from netsim.scenario.interfaces import SVI_NAME, expand_range
from netsim.scenario.source import YamlPath
from netsim.topology.catalog import MODELS
from netsim.topology.topology import InterfaceSpec, NodeSpec, Topology

ErrorSink = Callable[[YamlPath, str], None]
_SVI_KEYS = ("ip", "standby", "vrrp", "helper")
"""What an SVI may set: its address, its FHRP groups and a DHCP helper."""


def router_ports(count: int) -> tuple[str, ...]:
    """A generic router's ports: ``Gi0/0`` .. ``Gi0/<count-1>`` (an ISR's numbering)."""
    return tuple(f"Gi0/{i}" for i in range(count))


def _parse_address(text: str, where: YamlPath, error: ErrorSink) -> IPv4Interface | None:
    try:
        return parse_interface(text)
    except ValueError as e:
        error(where, str(e))
        return None


def _check_overlaps(
    node_name: str, addresses: Iterable[tuple[str, IPv4Interface, YamlPath]], error: ErrorSink
) -> None:
    seen: list[tuple[str, IPv4Interface]] = []
    for iface_name, address, where in addresses:
        for other_name, other in seen:
            if address.network.overlaps(other.network):
                error(
                    where,
                    f"{node_name}: {iface_name}'s subnet {address.network} overlaps "
                    f"{other_name}'s {other.network}: one router, one interface per subnet",
                )
                break
        else:
            seen.append((iface_name, address))


def resolve_routes(
    node_name: str,
    routes: list[m.StaticRoute],
    connected: list[IPv4Network],
    path: YamlPath,
    error: ErrorSink,
) -> tuple[tuple[str, str], ...]:
    """Each static route as (prefix, next hop), its next hop on a connected subnet."""
    out: list[tuple[str, str]] = []
    for i, route in enumerate(routes):
        where = (*path, i)
        prefix_text = "0.0.0.0/0" if route.to == "default" else route.to
        try:
            prefix = ipaddress.IPv4Network(prefix_text)
        except ValueError as e:
            error((*where, "to"), f"not an IPv4 prefix: {route.to!r} ({e})")
            continue
        try:
            via = ipaddress.IPv4Address(route.via)
        except ValueError:
            error((*where, "via"), f"not an IPv4 address: {route.via!r}")
            continue
        if not any(via in net for net in connected):
            nets = ", ".join(map(str, connected)) or "none"
            error(
                (*where, "via"),
                f"{node_name}: next hop {via} is on none of its subnets ({nets}); "
                "a static route's next hop must be a neighbour on a connected subnet",
            )
            continue
        out.append((str(prefix), str(via)))
    return tuple(out)


def resolve_router(
    name: str, node: m.RouterNode, ports: tuple[str, ...], path: YamlPath, error: ErrorSink
) -> tuple[tuple[tuple[str, InterfaceSpec], ...], tuple[tuple[str, str], ...]]:
    """A router's addressed ports (in port order) and its static routes."""
    found: dict[str, InterfaceSpec] = {}
    addresses: list[tuple[str, IPv4Interface, YamlPath]] = []
    for key, settings in node.interfaces.items():
        where = (*path, "interfaces", key)
        names, problem = expand_range(key, ports)
        if problem is not None:
            error(where, f"{name}: {problem}")
            continue
        if len(names) != 1:
            error(where, f"{key} names {len(names)} ports; each port has its own address")
            continue
        address = _parse_address(settings.ip, (*where, "ip"), error)
        if address is None:
            continue
        fhrp = resolve_groups(name, names[0], address, settings, where, error)
        helper = None
        if settings.helper is not None:
            try:
                helper = str(ipaddress.IPv4Address(settings.helper))
            except ValueError:
                error((*where, "helper"), f"not an IPv4 address: {settings.helper!r}")
        found[names[0]] = InterfaceSpec(ip=str(address), fhrp=fhrp, helper=helper)
        addresses.append((names[0], address, (*where, "ip")))
    _check_overlaps(name, addresses, error)
    routes = resolve_routes(
        name, node.routes, [a.network for _, a, _ in addresses], (*path, "routes"), error
    )
    return tuple((p, found[p]) for p in ports if p in found), routes


def resolve_switch_l3(
    name: str,
    node: m.SwitchNode,
    spec: NodeSpec,
    path: YamlPath,
    error: ErrorSink,
    interfaces_ok: bool = True,
) -> NodeSpec:
    """``spec`` with the switch's SVIs, routes and whether it routes, checked.

    With ``interfaces_ok`` false (a port's settings were refused already), next hops
    are not checked: a missing routed port would make every route through it an error
    of its own, a second message for one mistake.
    """
    model = MODELS.get(node.model or "")
    layer3 = model is not None and model.layer3
    svis: list[tuple[int, str]] = []
    services: list[tuple[str, InterfaceSpec]] = []
    addresses: list[tuple[str, IPv4Interface, YamlPath]] = []
    for key, settings in node.interfaces.items():
        match = SVI_NAME.match(key)
        where = (*path, "interfaces", key)
        if match is None:
            continue
        vid = int(match["vid"])
        others = [
            k
            for k, v in settings.model_dump(exclude_none=True).items()
            if k not in _SVI_KEYS and v != []
        ]
        if others:
            error(
                (*where, others[0]), f"an SVI has an address only; {others[0]!r} is a port setting"
            )
            continue
        if settings.ip is None:
            error(where, f"interface Vlan{vid} needs an ip")
            continue
        address = _parse_address(settings.ip, (*where, "ip"), error)
        if address is None:
            continue
        svis.append((vid, str(address)))
        addresses.append((f"Vlan{vid}", address, (*where, "ip")))
        fhrp = resolve_groups(name, f"Vlan{vid}", address, settings, where, error)
        helper = None
        if settings.helper is not None:
            try:
                helper = str(ipaddress.IPv4Address(settings.helper))
            except ValueError:
                error((*where, "helper"), f"not an IPv4 address: {settings.helper!r}")
        if fhrp or helper:
            services.append(
                (f"Vlan{vid}", InterfaceSpec(ip=str(address), fhrp=fhrp, helper=helper))
            )
    for key, settings in node.interfaces.items():
        if SVI_NAME.match(key) is None:
            for extra in ("standby", "vrrp", "helper"):
                if getattr(settings, extra) not in (None, []):
                    error(
                        (*path, "interfaces", key, extra),
                        f"{extra}: goes on an SVI (interface Vlan10) of a layer-3 switch, "
                        "or on a router's port",
                    )
    for port, ip in spec.routed_ports.items():
        key = next((k for k in node.interfaces if port in expand_range(k, spec.ports)[0]), port)
        addresses.append((port, parse_interface(ip), (*path, "interfaces", key, "ip")))
    what = f"a {node.model}" if node.model else "a generic switch"
    if not layer3:
        if node.dhcp:
            error(
                (*path, "dhcp"),
                f"{what} is a layer-2 switch: it serves no DHCP (a WS-C3750G-12S or a router does)",
            )
        if spec.routed_ports:
            first = next(iter(spec.routed_ports))
            error(
                (*path, "interfaces", first),
                f"{what} is a layer-2 switch: no routed ports (a WS-C3750G-12S routes)",
            )
        if len(svis) > 1:
            error(
                (*path, "interfaces", f"Vlan{svis[1][0]}"),
                f"{what} is a layer-2 switch: one management SVI only (a WS-C3750G-12S routes "
                "between VLANs)",
            )
        for i, route in enumerate(node.routes):
            if route.to not in ("default", "0.0.0.0/0"):
                error(
                    (*path, "routes", i, "to"),
                    f"{what} is a layer-2 switch: only a default route (ip default-gateway)",
                )
    _check_overlaps(name, addresses, error)
    routes = resolve_routes(
        name,
        node.routes,
        [a.network for _, a, _ in addresses],
        (*path, "routes"),
        error if interfaces_ok else (lambda _where, _message: None),
    )
    return dataclasses.replace(
        spec,
        svis=tuple(svis),
        svi_services=tuple(services),
        dhcp_pools=resolve_pools(name, node.dhcp, (*path, "dhcp"), error) if layer3 else (),
        routes=routes,
        routing=layer3 and bool(svis or spec.routed_ports),
    )


def check_svi_vlans(
    topology: Topology, path_of: Callable[[str], YamlPath], error: ErrorSink
) -> None:
    """Every SVI's VLAN must exist: known to some switch of the topology (its VLAN
    database, as VTP would spread it) and carried by a port of the SVI's own switch."""
    known: set[int] = set()
    carried: dict[str, VlanMap[str]] = {}
    for name, node in topology.nodes.items():
        if node.kind not in ("switch", "bridge"):
            continue
        # A routed port's internal VLAN is the port's own: no SVI can join it.
        switched = [p for p in node.ports if p not in node.routed_ports]
        vlans: VlanMap[str] = VlanMap(
            switched, {p: i.vlan for p, i in node.interfaces if i.ip is None}
        )
        carried[name] = vlans
        known |= vlans.known
    for name, node in topology.nodes.items():
        for vid, _ip in node.svis:
            vlans = carried[name]
            if vid in known and any(vlans.config[p].carries(vid) for p in vlans.ports):
                continue
            mine = ", ".join(map(str, sorted(vlans.known)))
            error(
                (*path_of(name), "interfaces", f"Vlan{vid}"),
                f"{name} has no VLAN {vid} (its VLANs are {mine}): put an access port in it, "
                "or allow it on a trunk, before giving it an SVI",
            )


def check_gateway(
    name: str, address: IPv4Interface, gateway: str, where: YamlPath, error: ErrorSink
) -> None:
    """A host's gateway must be a neighbour: inside the host's own subnet."""
    try:
        gw = ipaddress.IPv4Address(gateway)
    except ValueError:
        error(where, f"not an IPv4 address: {gateway!r}")
        return
    if gw not in address.network:
        error(
            where,
            f"{name}'s gateway {gw} is outside its subnet {address.network}: a host reaches "
            "its gateway directly, with ARP, so the gateway must be on its own subnet",
        )
    elif gw == address.ip:
        error(where, f"{name}'s gateway {gw} is its own address")
