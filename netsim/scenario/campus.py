"""The campus builder: a ``campus:`` block that expands into topology nodes and links.

A campus is the classic three-tier building network, with Catalyst models from the
catalog:

- the building node: a WS-C3750G-12S (or a StackWise stack of them);
- one floor switch per floor, uplinked to the building node (floors are spread over the
  stack members, so a member failing takes out only its floors);
- rooms on each floor: a 2960 or a hub each, with its hosts, uplinked to the floor switch;
- a server room switch, uplinked to the building node, with the servers (the mail server).

Names are systematic: ``building``, floors ``f1`` ..., rooms ``f1r1`` ..., hosts
``f1r1h01`` ..., ``serverroom`` and the servers by their own names. ``netsim expand``
prints the result as plain scenario YAML.

With ``vlans: per-floor`` every floor is a VLAN (10, 20, 30 ...), with ``vlans: per-room``
every room (101, 102, ... 201 ...): the access ports of the hosts are in their VLAN, every
uplink between switches is a trunk that allows the VLANs below it (so a VLAN's
broadcasts go only where it has hosts, as manual pruning does), and each server is an
access port in its ``vlan`` (1 unless given). Every VLAN is also its own IPv4 subnet,
routed at the building node (a layer-3 WS-C3750G-12S): VLAN ``v`` is ``10.<v div
256>.<v mod 256>.0/24`` (VLAN 10: 10.0.10.0/24, VLAN 101: 10.0.101.0/24), the building
node's SVI ``Vlan<v>`` is its ``.1`` and every host's gateway, and the hosts are numbered
from ``.2``. A server that gives its own ``ip`` sets its VLAN's subnet instead. With a
layer-2 building node there is no router, and a host reaches only its own VLAN.

With ``redundant_uplinks: true`` the floor switches and the server room switch each have
two uplinks, to two different members of the building stack (so ``building.members`` is
at least 2): a member failing, or a cable, leaves every floor connected. The second
uplink closes a loop, which only spanning tree (or an EtherChannel) makes safe.
"""

from __future__ import annotations

import copy
import ipaddress
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from netsim.l2.vlan import DEFAULT_VLAN, MAX_VLAN
from netsim.scenario.interfaces import describe_ports
from netsim.scenario.model import LinkSettings, ModelName, NodeName, Strict, VlanId
from netsim.topology.catalog import MODELS, DeviceModel


class CampusBuilding(Strict):
    """The building (core/distribution) node."""

    name: NodeName = "building"
    model: ModelName = "WS-C3750G-12S"
    members: Annotated[int, Field(ge=1, le=9)] = 1

    @model_validator(mode="after")
    def _stackable(self) -> CampusBuilding:
        if self.members > MODELS[self.model].max_stack_members:
            raise ValueError(
                f"a {self.model} cannot have {self.members} members: it does not stack"
                if MODELS[self.model].max_stack_members == 1
                else f"a {self.model} stack has at most {MODELS[self.model].max_stack_members}"
            )
        return self


class CampusRoom(Strict):
    """One room's access device and its hosts."""

    kind: Literal["switch", "hub"] = "switch"
    model: ModelName | None = None
    """For a switch room; default WS-C2960-24TT-L."""
    ports: Annotated[int, Field(ge=2, le=64)] | None = None
    """For a hub room; default hosts + 1."""
    hosts: Annotated[int, Field(ge=0, le=512)] = 12

    @model_validator(mode="after")
    def _kind_fits(self) -> CampusRoom:
        if self.kind == "hub" and self.model is not None:
            raise ValueError("a hub room has no switch model; give ports instead")
        if self.kind == "switch" and self.ports is not None:
            raise ValueError("a switch room takes its ports from its model; drop ports")
        return self


class CampusFloors(Strict):
    """How many floors, their switch, and their rooms."""

    count: Annotated[int, Field(ge=1, le=100)] = 1
    model: ModelName = "WS-C2960G-24TC-L"
    rooms: Annotated[int, Field(ge=0, le=48)] = 1
    room: CampusRoom = CampusRoom()


class CampusServer(Strict):
    """A server host in the server room."""

    ip: str | None = None
    vlan: VlanId | None = None
    """The VLAN of the server's access port when the campus has VLANs (default 1)."""


class CampusServerRoom(Strict):
    """The server room switch and its servers."""

    name: NodeName = "serverroom"
    model: ModelName = "WS-C2960G-24TC-L"
    servers: dict[NodeName, CampusServer] = Field(default_factory=lambda: {"mail": CampusServer()})


class CampusLinks(Strict):
    """Cable properties per tier (speeds default to what the ports can do)."""

    floor_uplink: LinkSettings = LinkSettings()
    room_uplink: LinkSettings = LinkSettings()
    access: LinkSettings = LinkSettings()
    server: LinkSettings = LinkSettings()


class Campus(Strict):
    """A ``campus:`` block."""

    building: CampusBuilding = CampusBuilding()
    floors: CampusFloors = CampusFloors()
    server_room: CampusServerRoom | None = CampusServerRoom()
    links: CampusLinks = CampusLinks()
    redundant_uplinks: bool = False
    vlans: Literal["none", "per-floor", "per-room"] = "none"
    """A VLAN per floor (10 x floor) or per room (100 x floor + room), trunks on uplinks."""

    @model_validator(mode="after")
    def _two_members_for_two_uplinks(self) -> Campus:
        if self.redundant_uplinks and self.building.members < 2:
            raise ValueError(
                "redundant uplinks go to two different members of the building stack: "
                "give building.members: 2 or more"
            )
        return self


class CampusError(ValueError):
    """A campus that cannot be built, with the YAML path of the culprit."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path


def _uplink_port(model: DeviceModel) -> str:
    """The port a switch uses to reach the tier above: its first uplink, else its last."""
    return _uplink_ports(model, 1)[0]


def _uplink_ports(model: DeviceModel, count: int) -> list[str]:
    """The ``count`` ports a switch uses to reach the tier above: its uplink ports first,
    then its last ports, from the end (Gi0/24, then Gi0/23)."""
    uplinks = [name for group in model.interfaces if group.uplink for name in group.names()]
    for name in reversed(model.port_names()):
        if name not in uplinks:
            uplinks.append(name)
    return uplinks[:count]


def _link(a: str, b: str, settings: dict[str, Any]) -> dict[str, Any]:
    # The settings as the user wrote them (``25m``), validated with the links later.
    return {"endpoints": [a, b], **settings}


def expand(data: dict[str, Any]) -> dict[str, Any]:
    """Return scenario data with its ``campus:`` block replaced by nodes and links.

    ``data`` has already passed :class:`Campus` validation for its ``campus`` key.
    Raises :class:`CampusError` when the campus does not fit its devices' ports.
    """
    if "campus" not in data:
        return data
    campus = Campus.model_validate(data["campus"])
    raw_links = dict(data["campus"].get("links") or {})
    links_as_written = {key: dict(raw_links.get(key) or {}) for key in CampusLinks.model_fields}
    out = copy.deepcopy(data)
    del out["campus"]
    topology = out.setdefault("topology", {})
    if not isinstance(topology, dict):
        raise CampusError(("topology",), "topology must be a mapping")
    nodes: dict[str, Any] = topology.setdefault("nodes", {}) or {}
    links: list[Any] = topology.setdefault("links", []) or []
    topology["nodes"], topology["links"] = nodes, links
    new_nodes: dict[str, Any] = {}
    new_links: list[dict[str, Any]] = []

    b = campus.building
    building = MODELS[b.model]
    new_nodes[b.name] = {"kind": "switch", "model": b.model}
    if b.members > 1:
        new_nodes[b.name]["members"] = b.members
    per_member = building.port_names(1)
    free = {
        m: [name for group in building.interfaces for name in group.names(m)]
        for m in range(1, b.members + 1)
    }
    uplinks = 2 if campus.redundant_uplinks else 1
    needed = (campus.floors.count + (1 if campus.server_room else 0)) * uplinks
    if needed > len(per_member) * b.members:
        raise CampusError(
            ("campus", "floors", "count"),
            f"{campus.floors.count} floors"
            + (" and the server room" if campus.server_room else "")
            + f" need {needed} ports on the building node; {b.model} x {b.members} has "
            f"{len(per_member) * b.members} (add stack members)",
        )

    def building_port(index: int, second: bool = False) -> str:
        # Uplinks spread over the members; a second uplink goes to the next member.
        member = (index + (1 if second else 0)) % b.members + 1
        return f"{b.name}:{free[member].pop(0)}"

    def uplink(node: str, model: DeviceModel, index: int) -> None:
        """Cable ``node`` to the building: once, or twice to two different members."""
        ports = _uplink_ports(model, uplinks)
        for k, port in enumerate(ports):
            new_links.append(
                _link(
                    f"{node}:{port}", building_port(index, k == 1), links_as_written["floor_uplink"]
                )
            )

    floors = campus.floors
    floor_model = MODELS[floors.model]
    room = floors.room
    room_model = MODELS[room.model or "WS-C2960-24TT-L"] if room.kind == "switch" else None
    room_ports = len(room_model.port_names()) if room_model else (room.ports or room.hosts + 1)
    if room.hosts + 1 > room_ports:
        raise CampusError(
            ("campus", "floors", "room", "hosts"),
            f"{room.hosts} hosts and an uplink need {room.hosts + 1} ports; a room "
            f"{room_model.name if room_model else 'hub'} has {room_ports}",
        )
    if floors.rooms + uplinks > len(floor_model.port_names()):
        them = "an uplink" if uplinks == 1 else "two uplinks"
        raise CampusError(
            ("campus", "floors", "rooms"),
            f"{floors.rooms} rooms and {them} need {floors.rooms + uplinks} ports; a "
            f"{floors.model} has {len(floor_model.port_names())}",
        )
    for f in range(1, floors.count + 1):
        floor = f"f{f}"
        new_nodes[floor] = {"kind": "switch", "model": floors.model}
        uplink(floor, floor_model, f - 1)
        for r in range(1, floors.rooms + 1):
            name = f"{floor}r{r}"
            if room_model is not None:
                new_nodes[name] = {"kind": "switch", "model": room_model.name}
                room_end = f"{name}:{_uplink_port(room_model)}"
            else:
                new_nodes[name] = {"kind": "hub", "ports": room_ports}
                room_end = name
            new_links.append(_link(room_end, floor, links_as_written["room_uplink"]))
            for h in range(1, room.hosts + 1):
                host = f"{name}h{h:02d}"
                new_nodes[host] = {"kind": "host"}
                new_links.append(_link(host, name, links_as_written["access"]))

    if campus.server_room is not None:
        sr = campus.server_room
        sr_model = MODELS[sr.model]
        if len(sr.servers) + uplinks > len(sr_model.port_names()):
            raise CampusError(
                ("campus", "server_room", "servers"),
                f"{len(sr.servers)} servers do not fit a {sr.model}",
            )
        new_nodes[sr.name] = {"kind": "switch", "model": sr.model}
        uplink(sr.name, sr_model, floors.count)
        for server, spec in sr.servers.items():
            new_nodes[server] = {"kind": "host"}
            if spec.ip is not None:
                new_nodes[server]["ip"] = spec.ip
            new_links.append(_link(server, sr.name, links_as_written["server"]))

    _configure_interfaces(campus, new_nodes, new_links)
    if campus.vlans != "none" and building.layer3:
        _configure_subnets(campus, new_nodes)
    for name in new_nodes:
        if name in nodes:
            raise CampusError(
                ("topology", "nodes", name), f"{name} is also a campus device: rename it"
            )
    nodes.update(new_nodes)
    links.extend(new_links)
    return out


def vlan_subnet(vlan: int) -> ipaddress.IPv4Network:
    """The campus subnet of ``vlan``: 10.<vlan div 256>.<vlan mod 256>.0/24."""
    return ipaddress.IPv4Network(f"10.{vlan >> 8}.{vlan & 0xFF}.0/24")


def _configure_subnets(campus: Campus, nodes: dict[str, Any]) -> None:
    """One subnet per VLAN, routed at the building node's SVIs: give the building its
    ``interface Vlan<v>`` addresses and every host its address and gateway."""
    host_vlans: dict[str, int] = {}
    floors = campus.floors
    for f in range(1, floors.count + 1):
        for r in range(1, floors.rooms + 1):
            for h in range(1, floors.room.hosts + 1):
                host_vlans[f"f{f}r{r}h{h:02d}"] = _room_vlan(campus, f, r)
    subnets: dict[int, ipaddress.IPv4Network] = {}
    taken: set[ipaddress.IPv4Address] = set()
    servers = campus.server_room.servers if campus.server_room is not None else {}
    for name, server in servers.items():
        vlan = server.vlan if server.vlan is not None else DEFAULT_VLAN
        host_vlans[name] = vlan
        if server.ip is not None:
            iface = ipaddress.IPv4Interface(server.ip if "/" in server.ip else f"{server.ip}/24")
            subnets.setdefault(vlan, iface.network)
            taken.add(iface.ip)
    for vlan in sorted(set(host_vlans.values())):
        subnets.setdefault(vlan, vlan_subnet(vlan))
    building = nodes[campus.building.name]
    svis = {f"Vlan{v}": {"ip": f"{net[1]}/{net.prefixlen}"} for v, net in sorted(subnets.items())}
    building.setdefault("interfaces", {}).update(svis)
    taken.update(net[1] for net in subnets.values())
    numbered: dict[int, Any] = {
        v: (a for a in net.hosts() if a not in taken) for v, net in subnets.items()
    }
    for host, vlan in host_vlans.items():
        net = subnets[vlan]
        nodes[host]["gateway"] = str(net[1])
        if "ip" in nodes[host]:
            continue
        address = next(numbered[vlan], None)
        if address is None:
            raise CampusError(
                ("campus", "vlans"),
                f"VLAN {vlan}'s subnet {net} has no address left for {host}: use per-room VLANs",
            )
        nodes[host]["ip"] = f"{address}/{net.prefixlen}"


def _room_vlan(campus: Campus, floor: int, room: int) -> int:
    """The VLAN of a room: its floor's (10 x floor), or its own (100 x floor + room)."""
    return 10 * floor if campus.vlans == "per-floor" else 100 * floor + room


PortSettings = dict[str, dict[str, Any]]
"""Switch -> port -> that port's ``interfaces`` settings (``vlan``, ``spanning_tree``...)."""

CableEnd = tuple[str, str]
"""(node, port): the port is empty for a host or a hub, which take any."""


def _configure_interfaces(
    campus: Campus, nodes: dict[str, Any], links: list[dict[str, Any]]
) -> None:
    """Give every campus switch its ``interfaces``: VLANs (:func:`_vlan_settings`) and, with
    redundant uplinks, PortFast (:func:`_portfast_settings`), ports with equal settings
    grouped into one range as a configuration would write them."""
    if campus.vlans == "none" and not campus.redundant_uplinks:
        return
    ends = _cable_ends(nodes, links)
    settings: dict[str, PortSettings] = {}
    if campus.vlans != "none":
        _vlan_settings(campus, nodes, ends, settings)
    if campus.redundant_uplinks:
        _portfast_settings(campus, nodes, ends, settings)
    for node, config in settings.items():
        groups: dict[str, tuple[dict[str, Any], list[str]]] = {}
        for port, setting in config.items():
            groups.setdefault(repr(setting), (setting, []))[1].append(port)
        order = MODELS[nodes[node]["model"]].port_names(nodes[node].get("members", 1))
        interfaces: list[tuple[int, str, dict[str, Any]]] = []
        for setting, members in groups.values():
            in_order = [p for p in order if p in members]
            interfaces.append((order.index(in_order[0]), describe_ports(in_order), setting))
        nodes[node]["interfaces"] = {key: setting for _, key, setting in sorted(interfaces)}


def _cable_ends(
    nodes: dict[str, Any], links: list[dict[str, Any]]
) -> list[tuple[CableEnd, CableEnd]]:
    """Both ends of every campus cable, a switch's bare end given the next free port, as
    the resolver will assign it."""
    taken: dict[str, set[str]] = {}
    for link in links:
        for end in link["endpoints"]:
            node, sep, port = end.partition(":")
            if sep:
                taken.setdefault(node, set()).add(port)

    def port_of(end: str) -> CableEnd:
        node, sep, port = end.partition(":")
        if not sep and nodes[node]["kind"] == "switch":
            model = MODELS[nodes[node]["model"]]
            members = nodes[node].get("members", 1)
            port = next(p for p in model.port_names(members) if p not in taken.get(node, set()))
            taken.setdefault(node, set()).add(port)
        return node, port

    out: list[tuple[CableEnd, CableEnd]] = []
    for link in links:
        a, b = (port_of(end) for end in link["endpoints"])
        out.append((a, b))
    return out


def _portfast_settings(
    campus: Campus,
    nodes: dict[str, Any],
    ends: list[tuple[CableEnd, CableEnd]],
    settings: dict[str, PortSettings],
) -> None:
    """``spanning-tree portfast`` on every switch port at the edge of the tree, as Cisco
    designs do: ports to hosts (PCs and servers) and hubs, and a floor's ports to its room
    switches, which hang from one uplink each and so close no loop (netsim runs no
    spanning tree on them). An edge port forwards as soon as its link is up, instead of
    listening and learning for 30 s; if a BPDU ever arrives on it, spanning tree treats
    it as a bridge port after all (RSTP drops its edge status)."""
    rooms = {
        f"f{f}r{r}"
        for f in range(1, campus.floors.count + 1)
        for r in range(1, campus.floors.rooms + 1)
    }
    for (a, pa), (b, pb) in ends:
        for (here, port), there in (((a, pa), b), ((b, pb), a)):
            if nodes[here]["kind"] != "switch":
                continue
            leaf = nodes[there]["kind"] in ("host", "hub") or (there in rooms and here not in rooms)
            if leaf:
                setting = settings.setdefault(here, {}).setdefault(port, {})
                setting["spanning_tree"] = {"portfast": True}


def _vlan_settings(
    campus: Campus,
    nodes: dict[str, Any],
    ends: list[tuple[CableEnd, CableEnd]],
    settings: dict[str, PortSettings],
) -> None:
    """Hosts' access ports in their room's VLAN, trunks on the uplinks allowing the VLANs
    below them."""
    floors = campus.floors
    highest = _room_vlan(campus, floors.count, floors.rooms)
    if highest > MAX_VLAN:
        raise CampusError(
            ("campus", "vlans"),
            f"VLAN {highest} for f{floors.count}r{floors.rooms} is over {MAX_VLAN}: "
            "use per-floor VLANs for this many floors",
        )
    below: dict[str, set[int]] = {}
    """The VLANs of every host behind each device (its own hosts included)."""
    servers = campus.server_room
    for f in range(1, floors.count + 1):
        for r in range(1, floors.rooms + 1):
            below[f"f{f}r{r}"] = {_room_vlan(campus, f, r)} if floors.room.hosts else set()
        below[f"f{f}"] = set().union(*(below[f"f{f}r{r}"] for r in range(1, floors.rooms + 1)))
    if servers is not None:
        below[servers.name] = {
            s.vlan if s.vlan is not None else DEFAULT_VLAN for s in servers.servers.values()
        }
    host_vlan: dict[str, int] = {}
    for f in range(1, floors.count + 1):
        for r in range(1, floors.rooms + 1):
            for h in range(1, floors.room.hosts + 1):
                host_vlan[f"f{f}r{r}h{h:02d}"] = _room_vlan(campus, f, r)
    if servers is not None:
        for name, server in servers.servers.items():
            host_vlan[name] = server.vlan if server.vlan is not None else DEFAULT_VLAN

    def depth(node: str) -> int:
        """0 for the building node, 1 for floors and the server room, 2 for rooms."""
        if node == campus.building.name:
            return 0
        return 2 if node in below and "r" in node[1:] and node.startswith("f") else 1

    for (a, pa), (b, pb) in ends:
        for (here, port), (there, _) in (((a, pa), (b, pb)), ((b, pb), (a, pa))):
            if nodes[here]["kind"] != "switch":
                continue
            if there in host_vlan:
                settings.setdefault(here, {})[port] = {"vlan": host_vlan[there]}
            elif nodes[there]["kind"] == "hub":
                (vlan,) = below[there] or {DEFAULT_VLAN}
                settings.setdefault(here, {})[port] = {"vlan": vlan}
            else:
                # An uplink: a trunk for the VLANs of the hosts below it, on both ends.
                lower = here if depth(here) > depth(there) else there
                trunk = {"mode": "trunk", "allowed": sorted(below[lower])}
                settings.setdefault(here, {})[port] = trunk
