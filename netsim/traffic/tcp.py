"""``kind: tcp``: a TCP connection that sends bytes or request/response exchanges."""

from __future__ import annotations

from netsim.apps.tcp import TcpTraffic
from netsim.scenario import model as m
from netsim.traffic.registry import RunContext, starts


@starts(m.TcpTraffic)
def start_tcp(context: RunContext, entry: m.TcpTraffic, index: int, name: str) -> None:
    """A :class:`TcpTraffic` client and its listener on the port resolved for ``index``."""
    stacks = context.net.stacks
    port = context.tcp_ports[index][1]
    if entry.dscp is not None:
        for marker in (entry.from_, entry.to):
            stacks[marker].mark(port, entry.dscp)
    request = entry.request if isinstance(entry.request, list) else [entry.request or 0]
    TcpTraffic(
        context.sim,
        name,
        stacks[entry.from_],
        stacks[entry.to],
        port,
        start=entry.start,
        stop_at=context.scenario.duration,
        total_bytes=entry.bytes,
        request=request,
        response=entry.response or 0,
        count=entry.count,
        interval=entry.interval,
    )
