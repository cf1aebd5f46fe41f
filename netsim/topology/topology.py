"""A network as data: devices, their ports, and the cables between them.

In mininet's spirit, a :class:`Topology` is a plain description that can be validated,
drawn and saved before anything is simulated; :func:`netsim.topology.build.build` then
instantiates the live devices from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from netsim.l2.etherchannel import ChannelMember
from netsim.l2.lacp.hashing import DEFAULT_LOAD_BALANCE, LoadBalance
from netsim.l2.qos import PortQos, QueueMaps
from netsim.l2.span import MonitorSpec
from netsim.l2.stp.config import NO_SPANNING_TREE, BridgeSettings, PortSettings
from netsim.l2.switching import SwitchingMode
from netsim.l2.vlan import ACCESS_VLAN_1, PortVlan
from netsim.l3.dhcp_server.pool import PoolConfig
from netsim.l3.fhrp.hsrp import HsrpConfig
from netsim.l3.fhrp.vrrp import VrrpConfig

if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True)
class InterfaceSpec:
    """One port's configuration beyond its cable: its VLANs (more settings can join)."""

    vlan: PortVlan = ACCESS_VLAN_1
    qos: PortQos | None = None
    """Trust and egress queues, when the interface sets any (else the model's defaults)."""
    ip: str | None = None
    """A routed port's IPv4 interface (``10.0.12.1/30``): a router's port, or a layer-3
    switch's ``no switchport`` port."""
    channel: ChannelMember | None = None
    """The port-channel this port is a member of (``channel-group``), if any."""
    stp: PortSettings | None = None
    """Spanning-tree settings of the port (portfast, cost, port priority), if any."""
    fhrp: tuple[HsrpConfig | VrrpConfig, ...] = ()
    """First-hop redundancy groups (HSRP, VRRP) the interface takes part in."""
    helper: str | None = None
    """``ip helper-address``: the DHCP server requests heard here are relayed to."""


DEFAULT_INTERFACE = InterfaceSpec()
"""An interface nobody configured: access port in VLAN 1."""


@dataclass(frozen=True)
class NodeSpec:
    """One device: what kind, which ports, and its settings."""

    name: str
    kind: str
    """``host``, ``switch``, ``bridge``, ``router``, ``hub`` or ``coax``."""
    ports: tuple[str, ...]
    mode: SwitchingMode = SwitchingMode.STORE_AND_FORWARD
    aging: float = 300.0
    processing_delay: float = 0.0
    mac_table_size: int | None = None
    buffer_bytes: int = 512_000
    mac: int | None = None
    static_macs: tuple[tuple[int, str], ...] = ()
    ip: str | None = None
    """A host's IPv4 interface, ``10.0.0.5/24``."""
    gateway: str | None = None
    dhcp: bool = False
    """A host that asks a DHCP server for its address (``ip: dhcp``)."""
    dhcp_pools: tuple[PoolConfig, ...] = ()
    """The DHCP pools a router (or layer-3 switch) serves."""
    svi_services: tuple[tuple[str, InterfaceSpec], ...] = ()
    """A layer-3 switch's SVIs (``Vlan10``) with FHRP groups or a DHCP helper."""
    nagle: bool = True
    delayed_ack: bool = True
    tcp_window: int = 65535
    model: str | None = None
    """Catalog model (``netsim models``), if the node is one."""
    forwarding_rate: float | None = None
    """Frames per second the forwarding engine handles, per stack member."""
    stack_members: int = 1
    port_speeds: tuple[tuple[str, float], ...] = ()
    """The fastest speed of each port that has a limit (catalog models)."""
    repeater_delay: float | None = None
    """A hub's one-way port-to-port delay, when the scenario sets it (else IEEE 802.3's)."""
    media: str | None = None
    """A coax node's medium (``10BASE5``, ``10BASE2``)."""
    length_m: float | None = None
    """A coax node's cable length."""
    interfaces: tuple[tuple[str, InterfaceSpec], ...] = ()
    """The configured ports of a switch or bridge, by name; the others are defaults."""
    vlan: int | None = None
    """A host whose ``eth0`` is a VLAN sub-interface: the VLAN it tags its frames with."""
    cos: int = 0
    """The priority such a host writes in its tags (802.1p)."""
    qos: QueueMaps | None = None
    """``mls qos``: the switch's CoS/DSCP-to-queue maps; None: one FIFO per port."""
    monitor: tuple[MonitorSpec, ...] = ()
    """SPAN sessions on this switch."""
    svis: tuple[tuple[int, str], ...] = ()
    """A switch's SVIs: (VLAN, IPv4 interface), ``interface Vlan10`` / ``ip address``."""
    routes: tuple[tuple[str, str], ...] = ()
    """Static routes: (prefix, next hop), ``ip route``."""
    routing: bool = False
    """Does the device route between its interfaces (a router, a layer-3 switch)?"""

    @property
    def routed_ports(self) -> dict[str, str]:
        """Port name -> IPv4 interface of every routed port."""
        return {name: spec.ip for name, spec in self.interfaces if spec.ip is not None}

    load_balance: LoadBalance = DEFAULT_LOAD_BALANCE
    """``port-channel load-balance``: what the EtherChannel hash reads."""
    spanning_tree: BridgeSettings = NO_SPANNING_TREE
    """The spanning-tree protocol this switch runs, and its settings."""

    def interface(self, port: str) -> InterfaceSpec:
        """The configuration of ``port`` (the default one if nobody configured it)."""
        for name, spec in self.interfaces:
            if name == port:
                return spec
        return DEFAULT_INTERFACE

    def member_of(self, port: str) -> int:
        """The stack member a port belongs to: 2 for ``Gi2/0/5``; 1 when not stacked."""
        if self.stack_members <= 1:
            return 1
        return int(port[2:].split("/")[0])


@dataclass(frozen=True)
class LinkSpec:
    """One cable between ``a`` and ``b``, each a (node, port) pair."""

    a: tuple[str, str]
    b: tuple[str, str]
    rate_bps: float
    delay_s: float
    duplex: str
    """``full`` or ``half``, at end ``a`` (and at ``b`` too, unless ``duplex_b`` says)."""
    ber: float = 0.0
    media: str | None = None
    length_m: float | None = None
    duplex_b: str | None = None
    """End ``b``'s duplex when it differs from end ``a``'s: a duplex mismatch."""
    tap_m: float | None = None
    """When end ``b`` is a coax node: where this tap sits along its cable, in metres."""

    @property
    def duplex_at_b(self) -> str:
        """The duplex end ``b`` runs."""
        return self.duplex if self.duplex_b is None else self.duplex_b

    @property
    def shared(self) -> bool:
        """Does any end run half duplex (CSMA/CD), making the cable a collision domain?"""
        return "half" in (self.duplex, self.duplex_at_b)

    @property
    def label(self) -> str:
        """``sw1:2 - sw2:1``."""
        return f"{self.a[0]}:{self.a[1]} - {self.b[0]}:{self.b[1]}"


@dataclass
class Topology:
    """Devices by name and the links between them."""

    nodes: dict[str, NodeSpec] = field(default_factory=dict)
    links: list[LinkSpec] = field(default_factory=list)

    def graph(self) -> nx.MultiGraph:
        """The topology as a networkx multigraph: nodes carry ``kind``, edges their link."""
        import networkx as nx

        g = nx.MultiGraph()
        for name, node in self.nodes.items():
            g.add_node(name, kind=node.kind)
        for link in self.links:
            g.add_edge(link.a[0], link.b[0], link=link)
        return g

    def hosts(self) -> list[str]:
        """Names of the hosts, in declaration order."""
        return [n for n, spec in self.nodes.items() if spec.kind == "host"]
