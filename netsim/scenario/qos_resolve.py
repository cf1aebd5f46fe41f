"""Resolving a switch's QoS and SPAN keys against its ports (see :mod:`netsim.scenario.qos`).

Each problem goes to the error sink with the YAML path of the key at fault: a queue value
mapped twice, a SPAN destination that is also a source, a port in two sessions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

from netsim.l2.qos import PortQos, QueueMaps, Trust
from netsim.l2.span import Direction, MonitorSpec
from netsim.l2.vlan import ACCESS_VLAN_1
from netsim.scenario import model as m
from netsim.scenario.interfaces import expand_range
from netsim.scenario.qos import InterfaceQos, MonitorSession, QosSettings
from netsim.scenario.source import YamlPath
from netsim.topology.topology import InterfaceSpec

ErrorSink = Callable[[YamlPath, str], None]
"""Where problems go: ``(yaml path, message)``."""
Expand = Callable[[str], tuple[list[str], str | None]]
"""An interface key -> the port names it stands for, or the problem with it."""


def resolve_switch_qos(
    node: m.SwitchNode,
    ports: Sequence[str],
    interfaces: tuple[tuple[str, InterfaceSpec], ...],
    defaults: PortQos,
    path: YamlPath,
    error: ErrorSink,
) -> tuple[QueueMaps | None, tuple[tuple[str, InterfaceSpec], ...], tuple[MonitorSpec, ...]]:
    """A switch's ``qos``, its interfaces' QoS keys and its ``monitor`` sessions, checked.

    Returns the maps (None without ``mls qos``), the interfaces with their QoS settings
    filled in, and the SPAN sessions.
    """
    keys: dict[str, InterfaceQos] = {}
    for key, settings in node.interfaces.items():
        names, problem = expand_range(key, ports)
        if problem is None:  # a bad key was reported with the VLAN settings
            keys.update(dict.fromkeys(names, settings))
    maps, port_qos = resolve_qos(node.qos, keys, defaults, path, error)
    configured = dict(port_qos)
    interfaces = tuple(
        (name, dataclasses.replace(spec, qos=configured.get(name))) for name, spec in interfaces
    )
    vlan_of_port = {name: spec.vlan for name, spec in interfaces}

    def vlan_ports(vid: int) -> list[str]:
        return [p for p in ports if vlan_of_port.get(p, ACCESS_VLAN_1).carries(vid)]

    monitor = resolve_monitor(
        node.monitor, lambda key: expand_range(key, ports), vlan_ports, path, error
    )
    return maps, interfaces, monitor


def resolve_qos(
    node_qos: QosSettings | None,
    interfaces: Mapping[str, InterfaceQos],
    defaults: PortQos,
    path: YamlPath,
    error: ErrorSink,
) -> tuple[QueueMaps | None, tuple[tuple[str, PortQos], ...]]:
    """The switch's maps (None: no ``mls qos``) and each configured port's settings.

    ``interfaces`` maps port names (ranges already expanded) to their keys. QoS is on
    when the node says ``qos: true`` or gives maps, or any interface has a QoS key.
    """
    said_off = node_qos is not None and not node_qos.enabled
    enabled = (node_qos is not None and node_qos.enabled) or any(
        i.has_qos() for i in interfaces.values()
    )
    if said_off and any(i.has_qos() for i in interfaces.values()):
        error((*path, "qos"), "qos is false, yet interfaces set trust or queues; drop one")
        return None, ()
    if not enabled:
        return None, ()
    settings = node_qos if node_qos is not None else QosSettings()
    for field_name, overrides in (
        ("cos_map", settings.cos_map),
        ("dscp_map", settings.dscp_map),
    ):
        seen: dict[int, int] = {}
        for queue, values in overrides.items():
            for value in values:
                if value in seen and seen[value] != queue:
                    error(
                        (*path, "qos", field_name, queue),
                        f"{value} is mapped to queue {seen[value]} already",
                    )
                seen[value] = queue
    maps = QueueMaps.catalyst(settings.cos_overrides(), settings.dscp_overrides())
    ports: list[tuple[str, PortQos]] = []
    for name, keys in interfaces.items():
        if not keys.has_qos():
            continue
        ports.append(
            (
                name,
                PortQos(
                    trust=Trust(keys.trust) if keys.trust is not None else defaults.trust,
                    expedite=keys.priority_queue
                    if keys.priority_queue is not None
                    else defaults.expedite,
                    weights=tuple(keys.srr_share) if keys.srr_share else defaults.weights,
                    limits=tuple(keys.queue_limits) if keys.queue_limits else defaults.limits,
                ),
            )
        )
    return maps, tuple(ports)


def resolve_monitor(
    sessions: Sequence[MonitorSession],
    expand: Expand,
    vlan_ports: Callable[[int], list[str]],
    path: YamlPath,
    error: ErrorSink,
) -> tuple[MonitorSpec, ...]:
    """Check every SPAN session against the switch's ports and against each other.

    ``vlan_ports`` gives the ports that carry a VLAN (the taps of a source VLAN).
    """
    out: list[MonitorSpec] = []
    numbers: set[int] = set()
    sourced: dict[str, int] = {}
    destined: dict[str, int] = {}
    for i, session in enumerate(sessions):
        here: YamlPath = (*path, "monitor", i)
        number = session.session if session.session is not None else i + 1
        if number in numbers:
            error((*here, "session"), f"monitor session {number} is defined twice")
        numbers.add(number)
        sources: list[str] = []
        for j, vid in enumerate(session.vlans):
            where_vlan: YamlPath = (
                (*here, "source_vlan", j)
                if isinstance(session.source_vlan, list)
                else (*here, "source_vlan")
            )
            carriers = vlan_ports(vid)
            if not carriers:
                error(where_vlan, f"no port is in VLAN {vid}: there is nothing to mirror")
            sources.extend(p for p in carriers if p not in sources)
        for j, key in enumerate(session.sources):
            where: YamlPath = (
                (*here, "source", j)
                if isinstance(session.source, list)
                else (
                    *here,
                    "source",
                )
            )
            names, problem = expand(key)
            if problem is not None:
                error(where, problem)
                continue
            for name in names:
                if name in sourced:
                    error(where, f"{name} is already a source of monitor session {sourced[name]}")
                sourced[name] = number
            sources.extend(names)
        dest, problem = expand(session.destination)
        if problem is None and len(dest) != 1:
            problem = "a session has one destination port"
        if problem is not None:
            error((*here, "destination"), problem)
            continue
        destination = dest[0]
        if destination in sources:
            why = f" (it is in VLAN {', '.join(map(str, session.vlans))})" if session.vlans else ""
            error(
                (*here, "destination"),
                f"{destination} is a source of this session too{why}; a SPAN destination "
                "cannot be a source (its copies would be copied again)",
            )
            continue
        if destination in destined:
            error(
                (*here, "destination"),
                f"{destination} is already the destination of monitor session "
                f"{destined[destination]}",
            )
            continue
        destined[destination] = number
        out.append(
            MonitorSpec(
                number,
                tuple(sources),
                Direction(session.direction),
                destination,
                tuple(session.vlans),
            )
        )
    for name, number in sourced.items():
        if name in destined:
            error(
                (*path, "monitor"),
                f"{name} is the destination of session {destined[name]} and a source of "
                f"session {number}; a SPAN destination cannot be a source",
            )
    return tuple(out)
