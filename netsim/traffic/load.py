"""``kind: load``: background frames that load one direction of one link."""

from __future__ import annotations

from netsim.apps.load import LoadSource
from netsim.scenario import model as m
from netsim.scenario.resolve import find_link, is_endpoint
from netsim.traffic.registry import RunContext, starts


@starts(m.LoadTraffic)
def start_load(context: RunContext, entry: m.LoadTraffic, index: int, name: str) -> None:
    """A :class:`LoadSource` on the port at the sending end of the link."""
    link = find_link(context.net.topology, entry.link)
    assert link is not None  # validation found it
    sender = link.a if is_endpoint(link.a, entry.link[0]) else link.b
    LoadSource(
        context.sim,
        name,
        context.net.port(*sender),
        entry.size if isinstance(entry.size, list) else [entry.size],
        rate=entry.rate,
        poisson=entry.pattern == "poisson",
        start=entry.start,
        stop_at=context.scenario.duration,
    )
