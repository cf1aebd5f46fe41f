"""``kind: frames``: raw Ethernet frames from a host, at a rate or a fixed interval."""

from __future__ import annotations

from netsim.apps.frames import FrameSource
from netsim.l2.frame import BROADCAST
from netsim.l2.host import Host
from netsim.net.addressing import IPv4Address
from netsim.scenario import model as m
from netsim.topology.build import Network
from netsim.traffic.registry import RunContext, starts


@starts(m.FramesTraffic)
def start_frames(context: RunContext, entry: m.FramesTraffic, index: int, name: str) -> None:
    """A :class:`FrameSource` on the sending host, to a host's MAC or to broadcast."""
    net = context.net
    host = net.devices[entry.from_]
    assert isinstance(host, Host)
    if entry.to == "broadcast":
        dst_mac = BROADCAST
    else:
        dst = net.devices[entry.to]
        assert isinstance(dst, Host)
        dst_mac = dst.mac
    FrameSource(
        context.sim,
        name,
        host,
        dst_mac,
        entry.to,
        entry.size if isinstance(entry.size, list) else [entry.size],
        count=entry.count,
        start=entry.start,
        stop_at=context.scenario.duration,
        interval=entry.interval,
        rate=entry.rate,
        poisson=entry.pattern == "poisson",
        vlan=entry.vlan,
        cos=entry.cos,
        dscp=entry.dscp,
        addresses=_addresses(net, entry.from_, entry.to) if entry.dscp is not None else None,
    )


def _addresses(net: Network, src: str, dst: str) -> tuple[IPv4Address, IPv4Address]:
    """The IPv4 source and destination a marked raw frame's header carries."""
    to = net.stacks[dst].address if dst != "broadcast" else IPv4Address("255.255.255.255")
    return net.stacks[src].address, to
