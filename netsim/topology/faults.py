"""Failures in a live network: devices, stack members and cables that go down and come back.

A cable carries frames only while it is intact *and* both devices it joins (and the
stack members its ends sit on) are working. :class:`Faults` keeps the three causes apart
so that one repair never undoes another failure: a switch that comes back does not
revive a cable that was cut while it was down.

What a failure does:

- a **device** that fails drops everything: every frame reaching it is dropped with the
  reason ``device-down``, a host's own frames too; its cables go dark, so its neighbours
  see their ports go down (and forget the addresses learned there, as 802.1D says). A
  switch that comes back starts with an empty MAC table, as after a reboot. A hub has no
  logic to stop: its cables going dark silences its collision domain.
- a **stack member** that fails takes its own ports down; the other members keep
  switching, and frames between them go the other way round the stacking ring (a ring
  survives one member; two failed members can split it, and frames that cannot cross are
  dropped as ``stack-split``).

Observers (the availability monitor, a spanning tree) register with :meth:`Faults.watch`
and are told after every change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from netsim.l2.frame import Frame
from netsim.l2.host import Host
from netsim.l2.hub import CoaxBus, Hub
from netsim.l2.switch import Switch
from netsim.phy.link import Link
from netsim.phy.port import Port
from netsim.topology.topology import LinkSpec

if TYPE_CHECKING:
    from netsim.topology.build import Device, Network

DEVICE_DOWN = "device-down"
"""The drop reason of every frame that reaches (or leaves) a failed device."""

Watcher = Callable[[float], None]
"""Called with the time of a change, after the network reflects it."""


class Faults:
    """Which devices, stack members and cables of ``net`` are down now."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self.devices_down: set[str] = set()
        self.members_down: set[tuple[str, int]] = set()
        self.cables_cut: set[LinkSpec] = set()
        self._watchers: list[Watcher] = []
        self._links_of: dict[str, list[LinkSpec]] = {}
        for spec in net.topology.links:
            for node in {spec.a[0], spec.b[0]}:
                self._links_of.setdefault(node, []).append(spec)

    def watch(self, watcher: Watcher) -> None:
        """Call ``watcher(now)`` after every failure and every repair."""
        self._watchers.append(watcher)

    # Failures and repairs ----------------------------------------------------------------

    def set_device(self, name: str, up: bool) -> None:
        """Power device ``name`` off (``up`` False) or back on."""
        if (name not in self.devices_down) == up:
            return  # already so
        device = self.net.devices[name]
        now = self.net.sim.now
        if up:
            self.devices_down.discard(name)
            _revive(device)
        else:
            self.devices_down.add(name)
            _kill(device, now)
        self._update_links(self._links_of.get(name, []))
        self._changed(now)

    def set_member(self, name: str, member: int, up: bool) -> None:
        """Stack member ``member`` of switch ``name`` fails (``up`` False) or comes back."""
        key = (name, member)
        if (key not in self.members_down) == up:
            return
        switch = self.net.devices[name]
        assert isinstance(switch, Switch) and switch.stack is not None
        if up:
            self.members_down.discard(key)
        else:
            self.members_down.add(key)
        switch.members_down = frozenset(m for n, m in self.members_down if n == name)
        spec = self.net.topology.nodes[name]
        self._update_links(
            [
                link
                for link in self._links_of.get(name, [])
                if any(n == name and spec.member_of(p) == member for n, p in (link.a, link.b))
            ]
        )
        self._changed(self.net.sim.now)

    def set_cable(self, spec: LinkSpec, up: bool) -> None:
        """Cut the cable ``spec`` (``up`` False) or mend it."""
        if (spec not in self.cables_cut) == up:
            return
        if up:
            self.cables_cut.discard(spec)
        else:
            self.cables_cut.add(spec)
        self._update_links([spec])
        self._changed(self.net.sim.now)

    # What is down ------------------------------------------------------------------------

    def carries(self, spec: LinkSpec) -> bool:
        """Is the cable intact, with working devices (and stack members) at both ends?"""
        if spec in self.cables_cut:
            return False
        topo = self.net.topology
        for node, port in (spec.a, spec.b):
            if node in self.devices_down:
                return False
            if self.members_down and (node, topo.nodes[node].member_of(port)) in self.members_down:
                return False
        return True

    def _update_links(self, specs: list[LinkSpec]) -> None:
        now = self.net.sim.now
        for spec in specs:
            link = self.net.links[spec]
            up = self.carries(spec)
            if link.up != up:
                link.up = up
                if not up:
                    _ports_lost_link(link, now)
                for port in (link.a, link.b):
                    if isinstance(port.owner, Switch):
                        port.owner.link_changed(port)  # its control protocols hear at once

    def _changed(self, now: float) -> None:
        for watcher in self._watchers:
            watcher(now)


def _ports_lost_link(link: Link, now: float) -> None:
    """802.1D: a switch port whose link goes down forgets the addresses learned on it."""
    for port in (link.a, link.b):
        if isinstance(port.owner, Switch):
            port.owner.table.flush_port(port, now)


def _kill(device: Device, now: float) -> None:
    """Make ``device`` drop everything that reaches it (and, a host, what it sends).

    The device's own ``receive`` (and a host's ``send``) is shadowed by a dropping one for
    as long as it is down: a working device pays nothing for the possibility of failing.
    """
    if isinstance(device, Hub | CoaxBus):
        return  # no logic of its own: its dark cables silence its collision domain
    if isinstance(device, Switch):
        device.table.clear(now)  # the table lives in RAM: a reboot starts empty
    sim = device.sim
    name = device.name

    def receive(port: Port, frame: Frame, hops: int, t_first: float, t_last: float) -> None:
        sim.trace.frame_dropped(frame.frame_id, name, DEVICE_DOWN, sim.now, hops)

    device.receive = receive  # type: ignore[method-assign]
    if isinstance(device, Host):

        def send(frame: Frame, dst_name: str, traffic: str) -> bool:
            now = sim.now
            sim.trace.frame_sent(frame.frame_id, name, dst_name, frame.size, now, traffic)
            sim.trace.frame_dropped(frame.frame_id, name, DEVICE_DOWN, now, 0)
            return False

        device.send = send  # type: ignore[method-assign]


def _revive(device: Device) -> None:
    """Undo :func:`_kill`: the class's own methods take over again."""
    for name in ("receive", "send"):
        if name in vars(device):
            delattr(device, name)
