"""The state of the network at chosen instants: interface counters and MAC tables.

Counters only ever grow, and the run's tables give them at its end (ports.csv). To say
what ``show interfaces counters`` printed at 2.5 s, a run must look at that moment: it
schedules a :class:`Snapshots` call at each instant asked for, which copies every port's
counters and every switch's MAC table. That costs one event per instant and nothing on
the path of a frame.
"""

from __future__ import annotations

from typing import Any

from netsim.l2.frame import mac_to_str
from netsim.l2.switch import Switch
from netsim.metrics.table import Table
from netsim.phy.port import Port, PortCounters
from netsim.topology.build import Network

COUNTER_NAMES = list(PortCounters().as_dict())
"""Every interface counter, in ports.csv's order."""

COUNTER_SNAPSHOT_KEYS = ["time", "device", "port", "status"]
"""Leading columns of :attr:`Snapshots.counters`; the port counters follow."""
MAC_SNAPSHOT_COLUMNS = ["time", "device", "vlan", "mac", "port", "type"]


class Snapshots:
    """Collects counter and MAC-table snapshots of one network while it runs."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self._counters: list[dict[str, Any]] = []
        self._macs: list[tuple[float, str, int, str, str, str]] = []
        self._changes: list[tuple[Any, ...]] = []
        self._last: dict[str, tuple[int, ...]] = {}

    def hop_arrives(self, time: float, sender: object, receiver: object) -> None:
        """A followed frame's last bit reaches ``receiver`` at ``time``: once everything
        due at that instant is done, note the counters it changed (see :meth:`changes`)."""
        assert isinstance(sender, Port) and isinstance(receiver, Port)
        # The ports at both ends and the devices they plug into: a switch that forwards the
        # frame on, a hub that repeated it to everyone.
        ports = [sender, receiver]
        for end in (sender, receiver):
            link = end.link
            if link is not None:
                ports.extend(getattr(link.peer(end).owner, "ports", ()))
        ports.extend(getattr(receiver.owner, "ports", ()))
        self.net.sim.call_at(time, self._note_changes, time, list(dict.fromkeys(ports)))

    def _note_changes(self, time: float, ports: list[Port]) -> None:
        self.net.sim.catch_up(time)
        for port in ports:
            values = tuple(port.counters.as_dict().values())
            label = port.label
            if self._last.get(label) != values:
                self._last[label] = values
                self._changes.append((time, port.owner.name, port.name, *values))

    @property
    def changes(self) -> Table:
        """Counters of the ports around followed frames, a row each time they changed:
        time, device, port, then every counter (a replay shows them as it plays)."""
        return Table.from_rows(self._changes, ["time", "device", "port", *COUNTER_NAMES])

    def take(self, now: float) -> None:
        """Copy every port's counters and status, and every switch's MAC table, at ``now``."""
        self.net.sim.catch_up(now)  # background load due by now is counted first
        for name, device in self.net.devices.items():
            for port in device.ports:
                link = port.link
                status = "connected" if link is not None and link.up else "notconnect"
                row: dict[str, Any] = {"time": now, "device": name, "port": port.name}
                row["status"] = status
                row.update(port.counters.as_dict())
                self._counters.append(row)
            if isinstance(device, Switch):
                spec = self.net.topology.nodes[name]
                static = {mac for mac, _ in spec.static_macs}
                device.table.age(now)
                for (vlan, mac), port in sorted(device.table.vlan_entries().items()):
                    kind = "STATIC" if mac in static else "DYNAMIC"
                    self._macs.append((now, name, vlan, mac_to_str(mac), port.name, kind))

    @property
    def counters(self) -> Table:
        """One row per port per snapshot: time, device, port, status, then every counter."""
        return Table.from_dicts(self._counters)

    @property
    def mac_tables(self) -> Table:
        """One row per MAC-table entry per snapshot: time, device, vlan, mac, port, type."""
        return Table.from_rows(self._macs, MAC_SNAPSHOT_COLUMNS)
