"""``link-down`` and ``link-up``: a cable pulled out and plugged back in."""

from __future__ import annotations

from netsim.events.registry import EventContext, handles
from netsim.scenario import model as m
from netsim.scenario.resolve import find_link


@handles(m.LinkEvent)
def set_link(context: EventContext, event: m.LinkEvent) -> None:
    """Take the link down (or up); a switch port that goes down forgets its addresses."""
    spec = find_link(context.net.topology, event.link)
    assert spec is not None  # validation found it
    # Through the network's faults: a cable mended while a device at its end is down
    # stays dark, and watchers (availability) hear of the change.
    context.net.faults.set_cable(spec, event.action == "link-up")
