"""``link-down`` and ``link-up``: a cable pulled out and plugged back in."""

from __future__ import annotations

from netsim.events.registry import EventContext, handles
from netsim.l2.switch import Switch
from netsim.scenario import model as m
from netsim.scenario.resolve import find_link


@handles(m.LinkEvent)
def set_link(context: EventContext, event: m.LinkEvent) -> None:
    """Take the link down (or up); a switch port that goes down forgets its addresses."""
    spec = find_link(context.net.topology, event.link)
    assert spec is not None  # validation found it
    link = context.net.links[spec]
    link.up = event.action == "link-up"
    if not link.up:
        # 802.1D: a port that goes down loses the addresses learned on it.
        for port in (link.a, link.b):
            if isinstance(port.owner, Switch):
                port.owner.table.flush_port(port, context.sim.now)
