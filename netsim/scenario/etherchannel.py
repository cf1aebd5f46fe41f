"""EtherChannel in a scenario: the interface keys of a channel group, and their checks.

Written as on a Catalyst, per interface (``channel-group 1 mode active``, ``lacp rate
fast``)::

    sw1:
      kind: switch
      port_channel_load_balance: src-dst-mac     # default src-mac, as a 2960/3750
      interfaces:
        Gi0/1-2: {channel_group: 1, channel_mode: active, lacp_rate: fast}

The members of a group must make one bundle: every one cabled to the same peer switch,
whose ends are in one channel group there too, at one speed, full duplex, with one VLAN
configuration; ``on`` on one side needs ``on`` on the other (``on`` against LACP never
bundles on a real switch either). At most 8 links carry frames: a static group has at most
8 members, an LACP group at most 16 (the rest wait as hot standby).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

from netsim.l2.etherchannel import ChannelMember, ChannelMode
from netsim.l2.lacp.engine import Rate
from netsim.l2.lacp.hashing import MAX_MEMBERS
from netsim.scenario.source import YamlPath
from netsim.topology.topology import LinkSpec, Topology

MAX_CHANNEL_GROUP = 48
"""Channel groups are numbered 1..48 (a Catalyst 3750 stack)."""
MAX_LACP_MEMBERS = 16
"""LACP: 8 active links and up to 8 more in hot standby."""

ErrorSink = Callable[[YamlPath, str], None]
"""Where problems go: ``(yaml path, message)``."""


class InterfaceChannel(BaseModel):
    """An interface's EtherChannel keys (``channel-group N mode M``, ``lacp rate R``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, strict=True)

    channel_group: int | None = None
    """The port-channel this port belongs to: 1 puts it in ``Port-channel1`` (1..48)."""
    channel_mode: Literal["on", "active", "passive"] | None = None
    """``on``: bundle at once, no protocol; ``active``/``passive``: negotiate with LACP."""
    lacp_rate: Literal["slow", "fast"] | None = None
    """How often the partner is asked to send LACPDUs: slow every 30 s (default), fast 1 s."""

    @field_validator("channel_mode", mode="before")
    @classmethod
    def _on_is_not_a_boolean(cls, value: object) -> object:
        # YAML 1.1 reads a bare ``on`` as true: ``channel_mode: on`` means mode on.
        return "on" if value is True else value


def channel_member(
    settings: InterfaceChannel, where: YamlPath, error: ErrorSink
) -> ChannelMember | None:
    """The channel group one interface's settings put it in (None: none, or a mistake)."""
    group, mode, rate = settings.channel_group, settings.channel_mode, settings.lacp_rate
    if group is None:
        for key in ("channel_mode", "lacp_rate"):
            if getattr(settings, key) is not None:
                error((*where, key), f"{key!r} needs channel_group: the port-channel to join")
        return None
    if not 1 <= group <= MAX_CHANNEL_GROUP:
        error((*where, "channel_group"), f"channel groups are 1..{MAX_CHANNEL_GROUP}, not {group}")
        return None
    if mode is None:
        error(
            (*where, "channel_group"),
            "a channel group needs channel_mode: on (static), active or passive (LACP)",
        )
        return None
    if mode == "on" and rate is not None:
        error((*where, "lacp_rate"), "lacp_rate is an LACP setting; mode on runs no protocol")
        return None
    return ChannelMember(group, ChannelMode(mode), Rate(rate or "slow"))


def bundle_of(topo: Topology, link: LinkSpec) -> tuple[tuple[str, int], tuple[str, int]] | None:
    """The two channel groups a link joins, if both its ends are in one: parallel links
    with the same pair are one logical link (no loop)."""
    ends = []
    for node, port in (link.a, link.b):
        spec = topo.nodes.get(node)
        channel = spec.interface(port).channel if spec is not None else None
        if channel is None:
            return None
        ends.append((node, channel.group))
    a, b = sorted(ends)
    return a, b


def half_bundled(topo: Topology, link: LinkSpec) -> bool:
    """Is exactly one end of ``link`` in a channel group (a bundle configured on one side)?"""
    ends = [topo.nodes[n].interface(p).channel is not None for n, p in (link.a, link.b)]
    return ends[0] != ends[1]


def check_channel_groups(topo: Topology, written_at: dict[LinkSpec, int], error: ErrorSink) -> None:
    """Every channel group must make one bundle (see the module's docstring)."""
    link_of: dict[tuple[str, str], LinkSpec] = {}
    for link in topo.links:
        link_of[link.a] = link
        link_of[link.b] = link
    for name, node in topo.nodes.items():
        groups: dict[int, list[str]] = defaultdict(list)
        for port, iface in node.interfaces:
            if iface.channel is not None:
                groups[iface.channel.group].append(port)
        for group, ports in sorted(groups.items()):
            _check_group(topo, name, group, ports, link_of, written_at, error)


def _check_group(
    topo: Topology,
    name: str,
    group: int,
    ports: list[str],
    link_of: dict[tuple[str, str], LinkSpec],
    written_at: dict[LinkSpec, int],
    error: ErrorSink,
) -> None:
    node = topo.nodes[name]
    where: YamlPath = ("topology", "nodes", name, "interfaces")
    label = f"{name} Port-channel{group}"
    if node.kind != "switch":
        error(where, f"{label}: EtherChannel is a switch feature, not a {node.kind}'s")
        return
    modes = {c.mode for p in ports if (c := node.interface(p).channel) is not None}
    if ChannelMode.ON in modes and len(modes) > 1:
        error(where, f"{label}: mode on cannot be mixed with LACP (active/passive) in one group")
        return
    limit = MAX_MEMBERS if ChannelMode.ON in modes else MAX_LACP_MEMBERS
    if len(ports) > limit:
        error(where, f"{label} has {len(ports)} members; at most {limit} ({MAX_MEMBERS} active)")
        return
    vlans = {node.interface(p).vlan for p in ports}
    if len(vlans) > 1:
        error(where, f"{label}: its members must have one VLAN configuration (access or trunk)")
        return
    peers: set[str] = set()
    rates: set[float] = set()
    for port in ports:
        link = link_of.get((name, port))
        if link is None:
            error(where, f"{label}: member {port} is not cabled")
            return
        lpath: YamlPath = ("topology", "links", written_at[link], "endpoints")
        far = link.b if link.a == (name, port) else link.a
        far_node = topo.nodes[far[0]]
        far_channel = far_node.interface(far[1]).channel
        if far_node.kind != "switch" or far_channel is None:
            error(
                lpath,
                f"{label}: member {port} goes to {far[0]}:{far[1]}, which is not in a channel "
                "group of a switch; both ends of a bundled link must be",
            )
            return
        if (far_channel.mode is ChannelMode.ON) != (ChannelMode.ON in modes):
            error(
                lpath,
                f"{label}: {name}:{port} and {far[0]}:{far[1]} disagree: mode on at one end "
                "and LACP at the other never bundle",
            )
            return
        if link.shared or link.duplex_b is not None:
            error(lpath, f"{label}: member {port} must run full duplex (802.1AX)")
            return
        peers.add(f"{far[0]} Port-channel{far_channel.group}")
        rates.add(link.rate_bps)
    if len(peers) > 1:
        error(
            where,
            f"{label}: members go to {' and '.join(sorted(peers))}; one bundle joins two "
            "switches, through one channel group at each end",
        )
    elif len(rates) > 1:
        speeds = ", ".join(f"{r / 1e6:g}M" for r in sorted(rates))
        error(where, f"{label}: members must have one speed, not {speeds}")
