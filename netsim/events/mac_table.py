"""Events on a switch's MAC table: ``clear-mac-table`` and ``set-aging``."""

from __future__ import annotations

from netsim.events.registry import EventContext, handles
from netsim.l2.switch import Switch
from netsim.scenario import model as m


def _switch(context: EventContext, name: str) -> Switch:
    device = context.net.devices[name]
    assert isinstance(device, Switch)  # validation checked the kind
    return device


@handles(m.DeviceEvent)
def clear_mac_table(context: EventContext, event: m.DeviceEvent) -> None:
    """``clear mac address-table dynamic``: entries already stale age out first."""
    switch = _switch(context, event.device)
    switch.table.age(context.sim.now)
    switch.table.clear(context.sim.now)


@handles(m.SetAgingEvent)
def set_aging(context: EventContext, event: m.SetAgingEvent) -> None:
    """``mac address-table aging-time``: the new time applies to entries already learned."""
    _switch(context, event.device).table.set_aging(event.aging, context.sim.now)
