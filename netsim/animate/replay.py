"""From a run's results to the data a browser replay plays: plain JSON-ready values.

The replay shows the frames a run followed (``netsim.run(..., window=(start, end))``):
every hop with its four instants (first and last bit out, first and last bit in), the
frame's decoded layers and bytes; the MAC tables at the window's start and every
MAC-table event in it; and the counters of the ports around each frame, as the frame
changed them. Positions come from the same tier layout as ``netsim draw``.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import networkx as nx
import pandas as pd

from netsim.animate.decode import PROTOCOLS, decode_frame
from netsim.metrics.results import Results
from netsim.plots.topology import FABRIC_KINDS, model_label, tier_positions

ROW_HEIGHT = 130.0
"""Pixels between two tiers of the drawing."""
NODE_SPACING = 16.0
"""Pixels per device in the widest row (a campus row of 72 PCs fits a laptop screen)."""
PROTOCOL_COLORS = {
    "ARP": "#E69F00",
    "IMAP": "#009E73",
    "TCP": "#0072B2",
    "ICMP": "#CC79A7",
    "IPv4": "#56B4E9",
    "Ethernet": "#7F7F7F",
}
"""One colour per protocol (Okabe-Ito, readable by colour-blind students)."""
TRAFFIC_PALETTE = [
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#F0E442",
    "#000000",
]
BYTES_SHOWN = 192
"""Octets of each frame the page keeps for its hex view: every header fits, and a run's
bulk payloads do not swell the file."""
MAC_EVENTS_SHOWN = ("learn", "move", "refresh", "age-out")
"""MAC events that change what a table holds (flood and full do not)."""


def _number(x: Any) -> float | None:
    value = float(x)
    return None if math.isnan(value) else value


def replay_data(results: Results, start: float, end: float, title: str = "") -> dict[str, Any]:
    """Everything the page needs, for the frames ``results`` followed in [start, end]."""
    topology = results.topology
    if topology is None:
        raise ValueError("these results carry no topology to draw")
    nodes, width, height = _layout(results)
    graph = nx.Graph(topology.graph())
    links = [
        {
            "a": link.a[0],
            "pa": link.a[1],
            "b": link.b[0],
            "pb": link.b[1],
            "speed": link.rate_bps,
            "duplex": link.duplex,
        }
        for link in topology.links
    ]
    known = (
        results.frames.set_index("frame_id").to_dict("index") if not results.frames.empty else {}
    )
    frames: dict[str, Any] = {}
    traffic_names: list[str] = []
    for frame_id, octets in sorted(results.frame_bytes.items()):
        decoded = decode_frame(octets)
        row: dict[Any, Any] = known.get(frame_id, {})
        traffic = str(row.get("traffic", ""))
        if traffic and traffic not in traffic_names:
            traffic_names.append(traffic)
        frames[str(frame_id)] = {
            "protocol": decoded.protocol,
            "summary": decoded.summary,
            "conversation": decoded.conversation,
            "layers": [[name, [list(f) for f in fields]] for name, fields in decoded.layers],
            "bytes": base64.b64encode(octets[:BYTES_SHOWN]).decode("ascii"),
            "length": len(octets),
            "traffic": traffic,
            "src": str(row.get("src", "")),
            "dst": str(row.get("dst", "")),
            "size": int(row.get("size", len(octets) + 4)),
            "outcome": str(row.get("outcome", "")),
            "t_first_bit_out": _number(row.get("t_first_bit_out", math.nan)),
            "t_last_bit_in": _number(row.get("t_last_bit_in", math.nan)),
        }
    events: list[list[Any]] = []
    hops = results.hops.sort_values(["t_last_bit_in", "t_first_bit_out", "frame_id"], kind="stable")
    for h in hops.to_dict("records"):
        a, b = str(h["from_port"]).split(":", 1)[0], str(h["to_port"]).split(":", 1)[0]
        path = nx.shortest_path(graph, a, b) if a != b and a in graph and b in graph else [a, b]
        events.append(
            [
                int(h["frame_id"]),
                str(h["from_port"]),
                str(h["to_port"]),
                float(h["t_first_bit_out"]),
                float(h["t_last_bit_out"]),
                float(h["t_first_bit_in"]),
                float(h["t_last_bit_in"]),
                int(h["bytes"]),
                path,
            ]
        )
    last_event = max((e[6] for e in events), default=start)
    stop = min(end, results.window_cut) if results.window_cut is not None else end
    if math.isinf(stop):
        stop = last_event
    return {
        "title": title,
        "scenario": results.summary.get("scenario", ""),
        "seed": results.summary.get("seed"),
        "window": {"start": start, "end": max(stop, last_event), "cut": results.window_cut},
        "size": {"width": width, "height": height},
        "nodes": nodes,
        "links": links,
        "frames": frames,
        "events": events,
        "protocols": list(PROTOCOLS),
        "protocol_colors": PROTOCOL_COLORS,
        "traffic_colors": {
            name: TRAFFIC_PALETTE[i % len(TRAFFIC_PALETTE)] for i, name in enumerate(traffic_names)
        },
        "mac": _mac_data(results, start, stop),
        "counters": _counter_data(results, start),
    }


def _layout(results: Results) -> tuple[list[dict[str, Any]], float, float]:
    topology = results.topology
    assert topology is not None
    pos = tier_positions(topology)
    rows: dict[float, int] = {}
    for _x, y in pos.values():
        rows[y] = rows.get(y, 0) + 1
    widest = max(rows.values(), default=1)
    width = max(900.0, NODE_SPACING * widest * 1.1)
    top = max(rows, default=0.0)
    margin = 60.0
    height = margin * 2 + top * ROW_HEIGHT + 40.0
    nodes = []
    for name, spec in topology.nodes.items():
        x, y = pos[name]
        nodes.append(
            {
                "name": name,
                "kind": spec.kind,
                "model": model_label(spec),
                "fabric": spec.kind in FABRIC_KINDS,
                "x": round(margin + x * (width - 2 * margin), 1),
                "y": round(margin + (top - y) * ROW_HEIGHT, 1),
                "ports": list(spec.ports),
            }
        )
    return nodes, width, height


def _mac_data(results: Results, start: float, stop: float) -> dict[str, Any]:
    """The tables at ``start`` (the run's snapshot) and the events that change them."""
    initial: dict[str, list[list[Any]]] = {}
    snaps = results.mac_tables
    if not snaps.empty:
        at_start = snaps[snaps["time"].astype(float) == start]
        for r in at_start.to_dict("records"):
            entry = [int(r["vlan"]), str(r["mac"]), str(r["port"]), str(r["type"])]
            initial.setdefault(str(r["device"]), []).append(entry)
    ev = results.mac_events
    events: list[list[Any]] = []
    if not ev.empty:
        t = ev["time"].astype(float)
        mine = ev[(t >= start) & (t <= stop) & ev["event"].isin(MAC_EVENTS_SHOWN)]
        events = [
            [
                float(r["time"]),
                str(r["device"]),
                str(r["event"]),
                str(r["mac"]),
                str(r["port"]),
                int(r["vlan"]),
            ]
            for r in mine.to_dict("records")
        ]
    return {"initial": initial, "events": events}


def _counter_data(results: Results, start: float) -> dict[str, Any]:
    """Counters at ``start`` for every port, then each change the followed frames made."""
    names = [
        c
        for c in results.ports.columns
        if c not in ("device", "kind", "port", "peer", "speed_bps", "duplex")
    ]
    initial: dict[str, list[int]] = {}
    snaps = results.counters
    if not snaps.empty:
        at_start = snaps[snaps["time"].astype(float) == start]
        for r in at_start.to_dict("records"):
            initial[f"{r['device']}:{r['port']}"] = [int(r[n]) for n in names]
    # Each change lists only the counters that moved: [time, port, [[index, value] ...]].
    changes: list[list[Any]] = []
    last = {label: list(values) for label, values in initial.items()}
    ch: pd.DataFrame = results.counter_changes
    if not ch.empty:
        for r in ch.to_dict("records"):
            label = f"{r['device']}:{r['port']}"
            values = [int(r[n]) for n in names]
            before = last.get(label, [0] * len(names))
            moved = [
                [k, v] for k, (v, old) in enumerate(zip(values, before, strict=True)) if v != old
            ]
            last[label] = values
            if moved:
                changes.append([float(r["time"]), label, moved])
    return {"names": names, "initial": initial, "changes": changes}
