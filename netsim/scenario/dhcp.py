"""DHCP in a scenario: ``dhcp:`` pools on a router, ``helper:`` on its ports, ``ip: dhcp``.

Each check reports one problem per mistake with the YAML path of the key at fault:

- a pool's network must be a prefix; its range, exclusions and gateway inside it;
- a helper address must be an IPv4 address;
- a DHCP host takes its gateway from the server: a ``gateway:`` next to ``ip: dhcp`` is
  an error, not silently ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from netsim.l3.dhcp_server.pool import PoolConfig
from netsim.scenario import model as m
from netsim.scenario.source import YamlPath

ErrorSink = Callable[[YamlPath, str], None]
DHCP = "dhcp"
"""The value of a host's ``ip:`` that asks for DHCP."""


def _address(text: str, where: YamlPath, error: ErrorSink) -> ipaddress.IPv4Address | None:
    try:
        return ipaddress.IPv4Address(text)
    except ValueError:
        error(where, f"not an IPv4 address: {text!r}")
        return None


def resolve_pools(
    name: str, pools: list[m.DhcpPool], path: YamlPath, error: ErrorSink
) -> tuple[PoolConfig, ...]:
    """The router's pools as :class:`PoolConfig`, each checked against its network."""
    out: list[PoolConfig] = []
    for i, pool in enumerate(pools):
        at = (*path, i)
        try:
            network = ipaddress.IPv4Network(pool.network)
        except ValueError as e:
            error((*at, "network"), f"not an IPv4 prefix: {pool.network!r} ({e})")
            continue
        first = last = gateway = None
        if pool.range is not None:
            first = _address(pool.range[0], (*at, "range", 0), error)
            last = _address(pool.range[1], (*at, "range", 1), error)
            if first is None or last is None:
                continue
        if pool.gateway is not None:
            gateway = _address(pool.gateway, (*at, "gateway"), error)
            if gateway is None:
                continue
        excluded = [_address(a, (*at, "exclude", j), error) for j, a in enumerate(pool.exclude)]
        dns = [_address(a, (*at, "dns", j), error) for j, a in enumerate(pool.dns)]
        if None in excluded or None in dns:
            continue
        try:
            config = PoolConfig(
                pool.name,
                network,
                gateway,
                tuple(a for a in dns if a is not None),
                pool.lease,
                first,
                last,
                frozenset(a for a in excluded if a is not None),
            )
        except ValueError as e:
            where = (*at, "gateway") if "gateway" in str(e) else (*at, "range")
            error(where, f"{name}: {e}")
            continue
        if next(config.candidates(), None) is None:
            error((*at, "range"), f"{name}: pool {pool.name} has no address left to hand out")
            continue
        out.append(config)
    return tuple(out)


def check_dhcp_host(name: str, node: m.HostNode, error: ErrorSink) -> None:
    """A DHCP host learns its gateway from the server."""
    if node.gateway is not None:
        error(
            ("topology", "nodes", name, "gateway"),
            f"{name} gets its address and gateway by DHCP (ip: dhcp): remove gateway:, "
            "the server's pool sets it (gateway: in the pool)",
        )


def check_traffic_to_dhcp_hosts(scenario: m.Scenario, error: ErrorSink) -> None:
    """Traffic may come from a DHCP host, not go to one: its address is known only once
    the run has started (give a server a fixed ``ip``)."""
    dhcp_hosts = {
        name
        for name, node in scenario.topology.nodes.items()
        if isinstance(node, m.HostNode) and node.ip == DHCP
    }
    if not dhcp_hosts:
        return
    for i, entry in enumerate(scenario.traffic):
        for key in ("to", "server"):
            target = getattr(entry, key, None)
            if isinstance(target, str) and target in dhcp_hosts:
                error(
                    ("traffic", i, key),
                    f"{target} takes its address by DHCP (ip: dhcp), so nothing can be sent "
                    "to it before the run; give it a fixed ip: to make it a destination",
                )
