"""``kind: ping``: ICMP echo requests from one host to another."""

from __future__ import annotations

from netsim.apps.ping import Pinger
from netsim.scenario import model as m
from netsim.traffic.registry import RunContext, starts


@starts(m.PingTraffic)
def start_ping(context: RunContext, entry: m.PingTraffic, index: int, name: str) -> None:
    """One :class:`Pinger`; its ICMP identifier is the entry's position (from 1)."""
    stacks = context.net.stacks
    Pinger(
        context.sim,
        name,
        stacks[entry.from_],
        stacks[entry.to].address,
        entry.to,
        count=entry.count,
        interval=entry.interval,
        size=entry.size,
        start=entry.start,
        timeout=entry.timeout,
        identifier=index + 1,
        dscp=entry.dscp or 0,
        ttl=entry.ttl,
    )
