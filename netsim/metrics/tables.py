"""Turning a run's trace and counters into tables (:class:`~netsim.metrics.table.Table`).

All the work happens once, at the end of a run, over plain lists: the hot path never
touches pandas, and neither does writing the tables (a DataFrame is made on request).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from operator import itemgetter
from typing import Any

from netsim.engine.trace import Trace
from netsim.l2.etherchannel import LACP_COLUMNS
from netsim.l2.frame import mac_to_str
from netsim.l2.stp.agent import STP_COLUMNS
from netsim.l2.switch import Switch
from netsim.metrics.table import Table
from netsim.topology.build import Network

FRAME_COLUMNS = [
    "frame_id",
    "traffic",
    "src",
    "dst",
    "size",
    "t_queued",
    "t_first_bit_out",
    "t_last_bit_in",
    "latency",
    "hops",
    "receivers",
    "outcome",
    "drop_device",
    "drop_reason",
]
MAC_COLUMNS = ["time", "device", "event", "mac", "port", "vlan"]


def frames_table(trace: Trace, in_flight: Collection[int] = ()) -> Table:
    """One row per frame a host sent: when, how long, how far, and what became of it.

    A unicast frame is delivered when its destination accepted an intact copy; a
    broadcast, when every other host that it could reach did (``receivers`` counts them;
    latency runs to the last). An undelivered frame takes the reason of a drop recorded at
    its destination if there is one, else of the first copy dropped, else ``unreachable``:
    no copy was dropped, none arrived (flooded away from a host that had moved, say).
    A frame not delivered whose id is in ``in_flight`` (a run cut short by ``stop:``)
    is ``in-flight``: it may yet arrive, so it is neither delivered nor dropped.
    """
    deliveries: dict[int, list[tuple[str, float, int]]] = defaultdict(list)
    for frame_id, host, t_last, hops in trace.delivered:
        deliveries[frame_id].append((host, t_last, hops))
    drops: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for frame_id, device, reason, _time, _hops in trace.dropped:
        drops[frame_id].append((device, reason))
    first_out = trace.first_bit_out
    expected = trace.expected_receivers
    rows: list[tuple[Any, ...]] = []
    nan = float("nan")
    for frame_id, src, dst, size, t_queued, traffic in trace.sent:
        got = deliveries.get(frame_id, [])
        t_out = first_out.get(frame_id, nan)
        if len(got) == 1 and got[0][0] == dst != "broadcast" and frame_id not in expected:
            # The common case, in short: a unicast frame delivered once, to its destination.
            t_in, hops = got[0][1], got[0][2]
            rows.append(
                (frame_id, traffic, src, dst, size, t_queued, t_out,
                 t_in, t_in - t_out, hops, 1, "delivered", "", "")
            )  # fmt: skip
            continue
        if dst == "broadcast" or frame_id in expected:
            need = expected.get(frame_id, 0)
            ok = len(got) >= need and need > 0
            last = max(got, key=lambda d: d[1]) if got else None
        else:
            mine = [d for d in got if d[0] == dst]
            ok = bool(mine)
            last = mine[0] if mine else None
        if ok and last is not None:
            t_in, hops = last[1], last[2]
            fate: tuple[Any, ...] = (t_in, t_in - t_out, hops, len(got), "delivered", "", "")
        elif frame_id in in_flight:
            fate = (nan, nan, -1, len(got), "in-flight", "", "")
        else:
            dropped = drops.get(frame_id, [])
            at_dst = [d for d in dropped if d[0] == dst]
            device, reason = (at_dst or dropped or [("", "unreachable")])[0]
            fate = (nan, nan, -1, len(got), "dropped", device, reason)
        rows.append((frame_id, traffic, src, dst, size, t_queued, t_out, *fate))
    return Table.from_rows(rows, FRAME_COLUMNS, dtypes={"hops": "int64", "receivers": "int64"})


def ports_table(net: Network) -> Table:
    """One row per device port: speed, duplex, peer and every interface counter."""
    rows: list[dict[str, Any]] = []
    for name, device in net.devices.items():
        for port in device.ports:
            link = port.link
            peer = link.peer(port).label if link is not None else ""
            row: dict[str, Any] = {
                "device": name,
                "kind": device.kind,
                "port": port.name,
                "peer": peer,
                "speed_bps": port.rate if link is not None else 0.0,
                "duplex": str(port.duplex) if link is not None else "",
            }
            row.update(port.counters.as_dict())
            rows.append(row)
    return Table.from_dicts(rows)


def mac_events_table(trace: Trace) -> Table:
    """One row per MAC-table event, in time order (ties keep the order they happened)."""
    events = sorted(trace.mac_events, key=itemgetter(0))
    if not events:
        return Table.from_rows([], MAC_COLUMNS)
    # Columns one at a time (``zip(*events)`` would take 400,000 arguments).
    columns: list[list[Any]] = [[e[i] for e in events] for i in range(len(MAC_COLUMNS))]
    # A run floods or learns the same few addresses again and again: format each once.
    text = {mac: mac_to_str(mac) for mac in set(columns[3])}
    columns[3] = [text[mac] for mac in columns[3]]
    return Table(dict(zip(MAC_COLUMNS, columns, strict=True)))


def app_tables(trace: Trace) -> dict[str, Table]:
    """The applications' tables (ping, tcp, imap ...), one each, rows in order."""
    return {name: Table.from_dicts(rows) for name, rows in sorted(trace.tables.items())}


HOP_COLUMNS = [
    "frame_id",
    "from_port",
    "to_port",
    "t_first_bit_out",
    "t_last_bit_out",
    "t_first_bit_in",
    "t_last_bit_in",
    "bytes",
]


def hops_table(trace: Trace) -> Table:
    """One row per link crossed by a followed frame: when its first and last bits left
    one port and reached the next (the rows of a ladder diagram), in time order."""
    rows = sorted(trace.hops, key=lambda h: (h[0], h[3], h[1]))
    return Table.from_rows(rows, HOP_COLUMNS)


NetworkTable = Callable[[Network], Table]
"""Builds one results table from the devices' state at the end of a run."""
NETWORK_TABLES: dict[str, NetworkTable] = {}
"""Tables read from the network at the end of a run, by file name (``queues`` ->
queues.csv). A feature adds its table with :func:`register_table`."""


def register_table(name: str) -> Callable[[NetworkTable], NetworkTable]:
    """Register a function that builds the table ``name`` from the network."""

    def add(build: NetworkTable) -> NetworkTable:
        NETWORK_TABLES[name] = build
        return build

    return add


def network_tables(net: Network) -> dict[str, Table]:
    """Every registered network table that has rows (a run without QoS has no queues.csv)."""
    tables = {name: build(net) for name, build in sorted(NETWORK_TABLES.items())}
    return {name: table for name, table in tables.items() if not table.empty}


NetworkSummary = Callable[[Network], dict[str, Any]]
"""Builds sections of summary.json from the devices' state at the end of a run."""
NETWORK_SUMMARIES: list[NetworkSummary] = []


def register_summary(build: NetworkSummary) -> NetworkSummary:
    """Register a function that adds sections to summary.json (``{"spanning_tree": ...}``);
    it returns no section when its feature did not run."""
    NETWORK_SUMMARIES.append(build)
    return build


def network_summaries(net: Network) -> dict[str, Any]:
    """Every registered summary section."""
    out: dict[str, Any] = {}
    for build in NETWORK_SUMMARIES:
        out.update(build(net))
    return out


QUEUE_COLUMNS = [
    "device",
    "port",
    "queue",
    "expedite",
    "weight",
    "limit_bytes",
    "enqueued",
    "dropped",
    "tx_frames",
    "tx_octets",
    "max_depth_bytes",
    "max_depth_frames",
]


@register_table("queues")
def queues_table(net: Network) -> Table:
    """One row per egress queue of every port with QoS: its settings and counters."""
    rows: list[dict[str, Any]] = []
    for name, device in net.devices.items():
        for port in device.ports:
            if port.queues is not None:
                for row in port.queues.rows():
                    rows.append({"device": name, "port": port.name, **row})
    return Table.from_dicts(rows, QUEUE_COLUMNS)


SPAN_COLUMNS = [
    "device",
    "session",
    "sources",
    "direction",
    "destination",
    "rx_copies",
    "tx_copies",
    "dropped",
]


@register_table("span")
def span_table(net: Network) -> Table:
    """One row per SPAN monitor session: copies made and copies the destination dropped."""
    rows = [
        session.row(name)
        for name, device in net.devices.items()
        if isinstance(device, Switch)
        for session in device.monitor_sessions
    ]
    return Table.from_dicts(rows, SPAN_COLUMNS)


@register_table("lacp")
def lacp_table(net: Network) -> Table:
    """One row per EtherChannel member state change: LACP (or link, for mode on) events,
    with the actor's and partner's state octets (see :mod:`netsim.l2.etherchannel`)."""
    rows = [
        row
        for device in net.devices.values()
        if isinstance(device, Switch) and device.channels is not None
        for row in device.channels.rows
    ]
    rows.sort(key=lambda r: r["time"])
    return Table.from_dicts(rows, LACP_COLUMNS)


ETHERCHANNEL_COLUMNS = [
    "device",
    "channel",
    "protocol",
    "load_balance",
    "port",
    "flags",
    "distributing",
    "tx_frames",
    "tx_octets",
    "rx_frames",
    "rx_octets",
]


@register_table("etherchannel")
def etherchannel_table(net: Network) -> Table:
    """One row per member of every port-channel at the end of the run: its flags as
    ``show etherchannel summary`` prints them and its own counters."""
    rows: list[dict[str, Any]] = []
    for name, device in net.devices.items():
        if not isinstance(device, Switch) or device.channels is None:
            continue
        for channel in device.channels.channels:
            for member in channel.members:
                c = member.counters
                rows.append(
                    {
                        "device": name,
                        "channel": channel.name,
                        "protocol": "LACP" if channel.mode.lacp else "-",
                        "load_balance": str(channel.load_balance),
                        "port": member.name,
                        "flags": device.channels.flags(member),
                        "distributing": member in channel.distributing,
                        "tx_frames": c.tx_frames,
                        "tx_octets": c.tx_octets,
                        "rx_frames": c.rx_frames,
                        "rx_octets": c.rx_octets,
                    }
                )
    return Table.from_dicts(rows, ETHERCHANNEL_COLUMNS)


@register_summary
def etherchannel_summary(net: Network) -> dict[str, Any]:
    """summary.json's ``port_channels``: each port-channel at the end of the run, up or
    down, its protocol and hash, and which members were bundled."""
    out: dict[str, Any] = {}
    for name, device in net.devices.items():
        if not isinstance(device, Switch) or device.channels is None:
            continue
        out[name] = {
            channel.name: {
                "state": "up" if channel.distributing else "down",
                "protocol": "lacp" if channel.mode.lacp else "none",
                "mode": str(channel.mode),
                "load_balance": str(channel.load_balance),
                "members": {m.name: device.channels.flags(m) for m in channel.members},
                "bundled": [m.name for m in channel.distributing],
            }
            for channel in device.channels.channels
        }
    return {"port_channels": out} if out else {}


@register_table("stp")
def stp_table(net: Network) -> Table:
    """stp.csv: every spanning-tree role and state change, link change, flush and short
    aging of every switch, in time order (see :data:`netsim.l2.stp.agent.STP_COLUMNS`)."""
    rows = [
        row
        for device in net.devices.values()
        if isinstance(device, Switch) and device.stp is not None
        for row in device.stp.rows
    ]
    rows.sort(key=lambda r: r[0])  # stable: same-time rows keep their order per switch
    return Table.from_rows(rows, STP_COLUMNS)


@register_summary
def spanning_tree_summary(net: Network) -> dict[str, Any]:
    """summary.json's ``spanning_tree``: per instance, the root bridge, and every port's
    role and state at the end of the run."""
    trees = {n: d.stp for n, d in net.devices.items() if isinstance(d, Switch) and d.stp}
    if not trees:
        return {}
    names = {
        str(inst.engine.bridge_id): name for name, stp in trees.items() for inst in stp.instances
    }
    out: dict[str, Any] = {}
    for name, stp in trees.items():
        for inst in stp.instances:
            section = out.setdefault(
                str(inst.vlan), {"root": None, "root_bridge": None, "ports": {}}
            )
            root = str(inst.engine.root_id)
            if inst.engine.root_id == inst.engine.bridge_id:
                section["root"], section["root_bridge"] = root, name
            for port, (role, state) in stp.state_of(inst).items():
                section["ports"][f"{name}:{port}"] = {"role": role.value, "state": state.value}
            if section["root"] is None:
                section["root"] = root
                section["root_bridge"] = names.get(root)
    modes = sorted({str(stp.mode) for stp in trees.values()})
    return {"spanning_tree": {"modes": modes, "instances": out}}


FHRP_COLUMNS = ["time", "device", "interface", "protocol", "group", "old", "new", "reason"]


@register_table("fhrp")
def fhrp_table(net: Network) -> Table:
    """One row per HSRP/VRRP state change: who became active (master) when, and why.

    The failover time is the gap between a router's failure and the row where the
    standby (backup) moves to active (master).
    """
    rows = [
        (c.time, device, iface, c.protocol, c.group, c.old, c.new, c.reason)
        for device, iface, c in net.fhrp_log
    ]
    return Table.from_rows(rows, FHRP_COLUMNS)


DHCP_COLUMNS = ["host", "state", "address", "gateway", "server", "bound_at", "discovers"]
DHCP_POOL_COLUMNS = ["router", "pool", "network", "size", "leased", "refused", "warning"]


@register_table("dhcp")
def dhcp_table(net: Network) -> Table:
    """One row per ``ip: dhcp`` host: the address it got (empty: none), when, from whom."""
    rows = []
    for name, dhcp in sorted(net.dhcp_hosts.items()):
        lease = dhcp.lease
        rows.append(
            (
                name,
                dhcp.client.state.value,
                str(lease.interface) if lease else None,
                str(lease.gateway) if lease and lease.gateway else None,
                str(lease.server) if lease else None,
                dhcp.bound_at,
                dhcp.client.discovers_sent,
            )
        )
    return Table.from_rows(rows, DHCP_COLUMNS)


@register_table("dhcp_pools")
def dhcp_pools_table(net: Network) -> Table:
    """One row per DHCP pool: its size, its leases, and a warning if it ran dry."""
    rows = []
    for router, server in sorted(net.dhcp_servers.items()):
        for pool in server.pools:
            name = pool.config.name
            refused = sorted({w.client_mac for w in server.warnings if w.pool == name})
            warning = (
                f"pool {name} exhausted: {len(refused)} client(s) got no address" if refused else ""
            )
            rows.append(
                (router, name, str(pool.config.network), pool.size(), len(pool.leases()),
                 len(refused), warning)
            )  # fmt: skip
    return Table.from_rows(rows, DHCP_POOL_COLUMNS)


# Modules whose tables register themselves on import (they import this one's registry).
from netsim.metrics import routing as _routing  # noqa: E402, F401
