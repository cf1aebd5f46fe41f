"""``host-move``: a host unplugged from its port and plugged into another, as a laptop moves."""

from __future__ import annotations

from netsim.events.registry import EventContext, handles
from netsim.l2.host import Host
from netsim.l2.switch import Switch
from netsim.phy.link import Link
from netsim.scenario import model as m


@handles(m.HostMoveEvent)
def move_host(context: EventContext, event: m.HostMoveEvent) -> None:
    """Pull the cable (the old switch port forgets the host) and plug in a new one.

    The new cable has the old one's rate, delay, duplex and bit error rate.
    """
    net, now = context.net, context.sim.now
    host = net.devices[event.host]
    assert isinstance(host, Host)
    node, _, port_name = event.to.partition(":")
    target = net.port(node, port_name)
    old = host.port.link
    assert old is not None
    old.up = False
    old_peer = old.peer(host.port)
    if isinstance(old_peer.owner, Switch):
        old_peer.owner.table.flush_port(old_peer, now)
    old.unplug()
    Link(context.sim, host.port, target, old.rate_bps, old.delay_s, old.duplex, old.ber)
