"""The scenario file format as pydantic models: what a scenario may say, and in which units.

These models check each value on its own (types, units, ranges, known keys). Checks that
need the whole scenario (does the link's node exist? is this port free?) live in
:mod:`netsim.scenario.resolve`, which turns a valid scenario into a topology.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic import Strict as StrictTypes

from netsim.l2.mac_table import MacEvent
from netsim.l2.switching import SwitchingMode
from netsim.l2.vlan import MAX_VLAN, MIN_VLAN
from netsim.phy.media import MEDIA
from netsim.scenario.etherchannel import InterfaceChannel
from netsim.scenario.qos import Cos, Dscp, InterfaceQos, MonitorSession, SwitchQos
from netsim.scenario.units import (
    parse_bytes,
    parse_frame_rate,
    parse_length,
    parse_lifetime,
    parse_percent,
    parse_rate,
    parse_time,
)
from netsim.topology.catalog import MODELS


def _quantity(pattern: str, example: str) -> WithJsonSchema:
    """How editors should see a quantity: a string with a unit (or 0)."""
    return WithJsonSchema(
        {
            "anyOf": [{"type": "string", "pattern": pattern}, {"const": 0}],
            "examples": [example],
        }
    )


_NUM = r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*"
Rate = Annotated[
    float, BeforeValidator(parse_rate), _quantity(_NUM + r"[kKMGT]?(bps|bit/s|b/s)?$", "100M")
]
"""Bits per second, written ``100M`` or ``1G``."""
Time = Annotated[
    float, BeforeValidator(parse_time), _quantity(_NUM + r"(s|ms|us|µs|ns|ps|min|h)$", "1ms")
]
"""Seconds, written ``50ns``, ``1ms`` or ``300s``."""
Lifetime = Annotated[
    float, BeforeValidator(parse_lifetime), _quantity(_NUM + r"(s|ms|us|min|h|d)$", "4h")
]
"""A mean time between failures or to repair, written ``200000h``, ``4h`` or ``30d``."""
Size = Annotated[
    int, BeforeValidator(parse_bytes), _quantity(_NUM + r"(B|kB|KB|MB|GB|TB|KiB|MiB|GiB)$", "512KB")
]
"""Bytes, written ``512KB`` or ``1MiB``."""
Length = Annotated[float, BeforeValidator(parse_length), _quantity(_NUM + r"(m|km|cm)$", "100m")]
"""Metres, written ``100m`` or ``2km``."""
Percent = Annotated[float, BeforeValidator(parse_percent), _quantity(_NUM + r"%$", "50%")]
"""A fraction, written ``90%``."""
FrameRate = Annotated[
    float, BeforeValidator(parse_frame_rate), _quantity(_NUM + r"[kKMG]?(pps|fps)$", "6.5Mpps")
]
"""Frames per second, written ``6.5Mpps``."""

Mode = Literal["store-and-forward", "cut-through", "fragment-free"]


def _vlan_id(vid: int) -> int:
    if not MIN_VLAN <= vid <= MAX_VLAN:
        raise ValueError(
            f"VLAN {vid} is outside {MIN_VLAN}..{MAX_VLAN} (802.1Q: VID 0 means no VLAN, "
            "4095 is reserved)"
        )
    return vid


VlanId = Annotated[
    int,
    AfterValidator(_vlan_id),
    WithJsonSchema({"type": "integer", "minimum": MIN_VLAN, "maximum": MAX_VLAN}),
]
"""An 802.1Q VLAN ID, 1..4094."""


def _known_media(name: str) -> str:
    if name not in MEDIA:
        raise ValueError(f"unknown media {name!r} (expected one of {', '.join(MEDIA)})")
    return name


MediaName = Annotated[str, AfterValidator(_known_media)]
"""An IEEE 802.3 medium from :data:`netsim.phy.media.MEDIA`, like ``100BASE-TX``."""


def _known_model(name: str) -> str:
    switches = [n for n, d in MODELS.items() if d.kind == "switch"]
    if name not in switches:
        raise ValueError(f"unknown switch model {name!r} (expected one of {', '.join(switches)})")
    return name


ModelName = Annotated[str, AfterValidator(_known_model)]
"""A switch model from the catalog (``netsim models``)."""
Duplex = Literal["full", "half"]
NodeName = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]*$")]

assert set(Mode.__args__) == {m.value for m in SwitchingMode}  # type: ignore[attr-defined]


Pair = Annotated[tuple[str, str], StrictTypes(False)]
"""Two names, written as a YAML list: ``[sw1, sw2]``."""


class Strict(BaseModel):
    """Unknown keys are errors: a typo must not be silently ignored.

    Types are strict, so nothing surprising is coerced: ``ports: true`` is not 1 and
    ``nagle: 1`` is not true (only lists written for tuples are converted, see
    :data:`Pair`), and no number is infinite or NaN.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, strict=True, allow_inf_nan=False
    )


class LinkSettings(Strict):
    """Properties of a cable; every one optional, defaults fill the gaps."""

    speed: Rate | None = None
    duplex: Duplex | None = None
    delay: Time | None = None
    media: MediaName | None = None
    length: Length | None = None
    ber: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    """Bit-error rate: the probability that any one bit is flipped."""


class SpanningTree(Strict):
    """A switch's ``spanning_tree:`` settings (``spanning-tree mode``, ``priority``, ...).

    ``mode`` is ``pvst`` or ``rapid-pvst`` (Cisco's per-VLAN trees), ``stp`` (802.1D),
    ``rstp`` (802.1w) or ``none``. Left out, a switch runs its model's protocol (PVST+ on
    a Catalyst, 802.1D on a generic switch or bridge) on every switch that a loop passes
    through, and none on the others: see :mod:`netsim.scenario.stp_resolve`.
    """

    mode: Literal["pvst", "rapid-pvst", "stp", "rstp", "none"] | None = None
    priority: Annotated[int, Field(ge=0, le=61440, multiple_of=4096)] | None = None
    """Bridge priority, a multiple of 4096 (default 32768); the lowest bridge ID is root."""
    hello: Time | None = None
    """Hello time (default 2 s)."""
    max_age: Time | None = None
    """Max age (default 20 s)."""
    forward_delay: Time | None = None
    """Forward delay (default 15 s)."""
    cost_method: Literal["short", "long"] | None = None
    """Default port costs: ``short`` (802.1D-1998: 1G is 4) or ``long`` (802.1t: 20000)."""
    portfast_default: bool | None = None
    """Every access port is an edge port (``spanning-tree portfast default``)."""


class InterfaceSpanningTree(Strict):
    """An interface's ``spanning_tree:`` settings."""

    portfast: bool | None = None
    """An edge port: forwards at once (a port to a host; ``spanning-tree portfast``)."""
    cost: Annotated[int, Field(ge=1, le=200_000_000)] | None = None
    """Port path cost (default: by the link's speed and the cost method)."""
    port_priority: Annotated[int, Field(ge=0, le=240, multiple_of=16)] | None = None
    """Port priority, a multiple of 16 (default 128); lower wins a tie."""


class SwitchSettings(Strict):
    """Properties shared by switches and bridges."""

    mode: Mode | None = None
    aging: Time | None = None
    """MAC aging time; 0 means entries never age."""
    processing_delay: Time | None = None
    mac_table_size: Annotated[int, Field(ge=1)] | None = None
    buffer: Size | None = None
    """Egress buffer per port."""
    forwarding_rate: FrameRate | None = None
    """Frames per second the forwarding engine handles (per stack member), like 6.5Mpps."""
    spanning_tree: SpanningTree | None = None
    """Spanning tree: ``{mode: rapid-pvst, priority: 4096}``; see :class:`SpanningTree`."""


class StandbyGroup(Strict):
    """HSRP on an interface (IOS ``standby GROUP ip ADDRESS``, ``priority``, ``preempt``,
    ``timers``, ``version``): one router of the group forwards for the virtual ``ip``."""

    group: Annotated[int, Field(ge=0, le=4095)] = 0
    """0..255 with version 1, 0..4095 with version 2."""
    ip: str
    """The virtual IP address, the hosts' gateway: inside the interface's subnet."""
    priority: Annotated[int, Field(ge=0, le=255)] = 100
    preempt: bool = False
    """Take over from a lower-priority active router (off by default, as in IOS)."""
    version: Literal[1, 2] = 2
    hello: Time = 3.0
    hold: Time = 10.0


class VrrpGroup(Strict):
    """VRRP v3 on an interface (IOS ``vrrp GROUP ip ADDRESS``, ``priority``, ``preempt``,
    ``timers advertise``): a master forwards for the virtual ``ip``, backups wait."""

    group: Annotated[int, Field(ge=1, le=255)]
    """The virtual router id (VRID)."""
    ip: str
    """The virtual IP address: inside the interface's subnet (or the interface's own
    address, which makes this router the owner, priority 255)."""
    priority: Annotated[int, Field(ge=1, le=254)] = 100
    preempt: bool = True
    """Take over from a lower-priority master (on by default, RFC 5798)."""
    interval: Time = 1.0
    """The advertisement interval, 10ms..40.95s."""


def _one_or_many(value: Any) -> Any:
    # ``standby: {group: 1, ...}`` is one group; a list configures several.
    return [value] if isinstance(value, dict) else value


class DhcpPool(Strict):
    """``ip dhcp pool NAME``: the addresses a router hands out on one subnet."""

    name: str
    network: str
    """The subnet, ``10.1.10.0/24``: requests from it (directly, or relayed with a
    ``giaddr`` in it) take addresses from this pool."""
    range: Pair | None = None
    """The first and last address handed out, ``[10.1.10.100, 10.1.10.199]``; default the
    whole subnet."""
    exclude: list[str] = []
    """Addresses never handed out (``ip dhcp excluded-address``): routers, servers."""
    gateway: str | None = None
    """``default-router``: the hosts' gateway (option 3)."""
    dns: list[str] = []
    """``dns-server`` (option 6)."""
    lease: Time = 86400.0
    """``lease``: how long an address is the client's (default one day)."""


class Interface(InterfaceQos, InterfaceChannel):
    """One interface's configuration, as under ``interface Gi0/1`` in IOS.

    An access port (the default) is in one ``vlan`` (1 unless given) and sends untagged;
    a trunk carries the ``allowed`` VLANs tagged (all by default) and its ``native`` VLAN
    (1 unless given) untagged. Whether the settings fit together (no access VLAN on a
    trunk, the native VLAN among the allowed) is checked with the node's ports, in
    :mod:`netsim.scenario.interfaces`, so each mistake points at its own key.
    The QoS keys (``trust``, ``priority_queue``, ``srr_share``, ``queue_limits``) come
    from :class:`~netsim.scenario.qos.InterfaceQos`, the EtherChannel keys
    (``channel_group``, ``channel_mode``, ``lacp_rate``) from
    :class:`~netsim.scenario.etherchannel.InterfaceChannel`.
    """

    mode: Literal["access", "trunk"] | None = None
    """``access`` (the default) or ``trunk``."""
    vlan: VlanId | None = None
    """An access port's VLAN (``switchport access vlan``)."""
    allowed: list[VlanId] | Literal["all"] | None = None
    """A trunk's allowed VLANs (``switchport trunk allowed vlan``); default all."""
    native: VlanId | None = None
    """A trunk's native VLAN, sent untagged (``switchport trunk native vlan``); default 1."""
    switchport: bool | None = None
    """``false`` makes a layer-3 switch's port a routed port (``no switchport``): in no
    VLAN, with its own ``ip``."""
    ip: str | None = None
    """The interface's IPv4 address with prefix (``10.0.10.1/24``): on an SVI
    (``Vlan10``), a routed port (``switchport: false``) or a router's port."""
    spanning_tree: InterfaceSpanningTree | None = None
    """``{portfast: true, cost: 4, port_priority: 64}``."""
    standby: Annotated[
        list[StandbyGroup],
        BeforeValidator(_one_or_many, json_schema_input_type=StandbyGroup | list[StandbyGroup]),
    ] = Field(default_factory=list)
    """An SVI's HSRP groups (as on a router's port)."""
    vrrp: Annotated[
        list[VrrpGroup],
        BeforeValidator(_one_or_many, json_schema_input_type=VrrpGroup | list[VrrpGroup]),
    ] = Field(default_factory=list)
    """An SVI's VRRP groups (as on a router's port)."""
    helper: str | None = None
    """An SVI's ``ip helper-address``: relay the VLAN's DHCP requests to this server."""


InterfaceKey = Annotated[str, Field(pattern=r"^\S.*$")]
"""An interface name (``Gi0/1``, ``5``) or a range (``Fa0/1-12``, ``Fa0/1-4, Fa0/9``)."""


def _names_as_text(value: Any) -> Any:
    # A generic switch's port 5 is written as a bare YAML number: it names the port "5".
    if isinstance(value, dict):
        return {str(k) if isinstance(k, int) else k: v for k, v in value.items()}
    return value


Interfaces = Annotated[dict[InterfaceKey, Interface], BeforeValidator(_names_as_text)]
"""Per-interface configuration by name or range: ``{Gi0/1: {mode: trunk}, Fa0/1-12:
{vlan: 10}}``. Unnamed interfaces are access ports in VLAN 1."""


class StaticRoute(Strict):
    """``ip route``: packets for ``to`` go to the next hop ``via`` (on a connected subnet)."""

    to: str
    """A prefix, ``10.0.3.0/24``; ``0.0.0.0/0`` (or ``default``) is the default route."""
    via: str
    """The next hop's address, on one of the router's own subnets."""


class RouterInterface(Strict):
    """One port of a router: its IPv4 address with prefix, its first-hop redundancy
    groups, and the DHCP server it relays to."""

    ip: str
    helper: str | None = None
    """``ip helper-address``: relay DHCP requests heard on this port to this server."""
    standby: Annotated[
        list[StandbyGroup],
        BeforeValidator(_one_or_many, json_schema_input_type=StandbyGroup | list[StandbyGroup]),
    ] = []
    """HSRP groups on this interface: ``{group: 10, ip: 10.1.10.1, priority: 110}``."""
    vrrp: Annotated[
        list[VrrpGroup],
        BeforeValidator(_one_or_many, json_schema_input_type=VrrpGroup | list[VrrpGroup]),
    ] = []
    """VRRP groups on this interface: ``{group: 10, ip: 10.1.10.1}``."""


class HostSettings(Strict):
    """Properties of hosts."""

    buffer: Size | None = None
    """The NIC's transmit queue."""
    nagle: bool | None = None
    """Nagle's algorithm on this host's TCP connections (default on; off is TCP_NODELAY)."""
    delayed_ack: bool | None = None
    """Delayed ACKs on this host's TCP connections (default on, 40 ms as Linux)."""
    tcp_window: Annotated[Size, Field(ge=1, le=65535)] | None = None
    """TCP receive buffer, hence the largest window this host advertises (default and
    most 65535 bytes: window scaling, RFC 7323, is not modelled)."""


class Defaults(Strict):
    """Values every link, switch and host takes unless it says otherwise."""

    link: LinkSettings = LinkSettings()
    switch: SwitchSettings = SwitchSettings()
    host: HostSettings = HostSettings()


class HostNode(HostSettings):
    """An end station with one port, ``eth0``."""

    kind: Literal["host"]
    mac: str | None = None
    ip: str | None = None
    """IPv4 address with prefix, like ``10.0.0.25/24``; ``dhcp`` to ask a DHCP server for
    one (and the gateway) when the run starts; default: the next free address of
    10.0.0.0/24 (10.0.0.0/16 when there are more than 254 hosts)."""
    gateway: str | None = None
    vlan: VlanId | None = None
    """Make ``eth0`` the VLAN sub-interface ``eth0.<vlan>``: the host tags every frame it
    sends with this VLAN and accepts only frames tagged with it, so it can sit on a
    trunk port (a server on a trunk, as ``ip link add link eth0 name eth0.10 type vlan
    id 10`` makes one)."""
    cos: Cos | None = None
    """The 802.1p priority the sub-interface writes in every tag it sends (Linux's
    ``egress-qos-map``); needs ``vlan``, since only a tag carries a CoS."""

    @model_validator(mode="after")
    def _cos_needs_a_tag(self) -> HostNode:
        if self.cos is not None and self.vlan is None:
            raise ValueError(
                "a CoS travels only in an 802.1Q tag: give the host a vlan (a sub-interface), "
                "or mark IP traffic with dscp"
            )
        return self


class SwitchNode(SwitchSettings):
    """A learning switch: a catalog ``model`` (real interface names and figures), or a
    generic switch with ``ports`` ports named ``1`` .. ``ports`` (24 by default)."""

    kind: Literal["switch"]
    model: ModelName | None = None
    members: Annotated[int, Field(ge=1, le=9)] | None = None
    """StackWise: how many switches of this model act as this one logical switch."""
    ports: Annotated[int, Field(ge=1, le=1024)] | None = None
    static_macs: dict[str, str] = {}
    """MAC address -> port name: entries that never age or move."""
    interfaces: Interfaces = {}
    """Per-interface configuration by name or range: ``{Gi0/1: {mode: trunk},
    Fa0/1-12: {vlan: 10}}``. Unnamed interfaces are access ports in VLAN 1."""
    qos: SwitchQos | None = None
    """``mls qos``: four egress queues per port, trust, CoS/DSCP-to-queue maps (``true``
    for the Catalyst defaults). Off by default: one FIFO per port."""
    monitor: list[MonitorSession] = []
    """SPAN sessions: ``[{source: [Gi0/1], direction: both, destination: Gi0/24}]``."""
    dhcp: list[DhcpPool] = []
    """DHCP pools a layer-3 switch serves (``ip dhcp pool``), one per subnet."""
    routes: list[StaticRoute] = []
    """Static routes of a layer-3 switch (``ip route``); a layer-2 one takes only a
    default route (``0.0.0.0/0``: its ``ip default-gateway``)."""
    port_channel_load_balance: (
        Literal["src-mac", "dst-mac", "src-dst-mac", "src-ip", "dst-ip", "src-dst-ip"] | None
    ) = None
    """What the EtherChannel hash reads to pick a member link (default src-mac)."""

    @model_validator(mode="after")
    def _model_or_ports(self) -> SwitchNode:
        if self.model is not None and self.ports is not None:
            raise ValueError(f"a {self.model} has the ports of its model; drop 'ports'")
        if self.members is not None and self.members > 1:
            model = MODELS.get(self.model or "")
            if model is None or model.max_stack_members < self.members:
                stackable = [m.name for m in MODELS.values() if m.max_stack_members > 1]
                raise ValueError(
                    f"only {', '.join(stackable)} stack (StackWise); "
                    f"{self.model or 'a generic switch'} cannot have {self.members} members"
                )
        return self


class BridgeNode(SwitchSettings):
    """A two-port learning bridge (store-and-forward only)."""

    kind: Literal["bridge"]
    static_macs: dict[str, str] = {}
    interfaces: Interfaces = {}
    """Per-port configuration of ports ``1`` and ``2``, as on a switch."""

    @model_validator(mode="after")
    def _store_and_forward_only(self) -> BridgeNode:
        if self.mode not in (None, "store-and-forward"):
            raise ValueError("a bridge is store-and-forward only; use a switch for other modes")
        return self


class RouterNode(Strict):
    """A router: ``ports`` routed ports ``Gi0/0`` .. (4 by default), each with an address
    under ``interfaces``, static ``routes``, and its per-packet costs."""

    kind: Literal["router"]
    ports: Annotated[int, Field(ge=1, le=64)] = 4
    interfaces: Annotated[dict[InterfaceKey, RouterInterface], BeforeValidator(_names_as_text)] = {}
    """``{Gi0/0: {ip: 10.0.1.1/24}}``: a port without an address stays shut."""
    routes: list[StaticRoute] = []
    dhcp: list[DhcpPool] = []
    """DHCP pools this router serves (``ip dhcp pool``), one per subnet."""
    processing_delay: Time | None = None
    """Store-and-forward delay per packet, from its last bit in to its lookup (default 0)."""
    forwarding_rate: FrameRate | None = None
    """Packets per second the router forwards (default: unlimited)."""
    buffer: Size | None = None
    """Egress buffer per port."""


class HubNode(Strict):
    """A repeater hub: its ports and everything on them are one collision domain."""

    kind: Literal["hub"]
    ports: Annotated[int, Field(ge=2, le=1024)] = 12
    delay: Time | None = None
    """One-way repeater delay, port to port; default from IEEE 802.3 for the hub's media
    (21 bit times between 10BASE-T ports, 0.46 us for a 100 Mb/s Class II hub)."""


def _coax_media(name: str) -> str:
    coax = [n for n, medium in MEDIA.items() if medium.coax]
    if name not in coax:
        raise ValueError(f"a coax segment is one of {', '.join(coax)}, not {name!r}")
    return name


class CoaxNode(Strict):
    """A coax bus (10BASE5, 10BASE2): stations tap it along its length.

    Each link to it is a tap; the link's ``at`` says where along the cable, and signals
    between two taps take the cable's propagation delay over the distance between them.
    """

    kind: Literal["coax"]
    media: Annotated[str, AfterValidator(_coax_media)]
    length: Length
    ber: Annotated[float, Field(ge=0.0, le=1.0)] | None = None


Node = Annotated[
    HostNode | SwitchNode | BridgeNode | RouterNode | HubNode | CoaxNode,
    Field(discriminator="kind"),
]


class Link(LinkSettings):
    """A cable between two ports: ``node`` (next free port) or ``node:port``."""

    endpoints: Pair
    duplex: Duplex | Annotated[tuple[Duplex, Duplex], StrictTypes(False)] | None = None  # type: ignore[assignment]
    """``full``, ``half``, or one per end, ``[full, half]``: a duplex mismatch."""
    at: Length | None = None
    """For a tap on a coax node: where along the cable, from its first end (``0m``); the
    link's own ``length`` is then the AUI drop cable (10BASE5 only, at most 50 m)."""


class Topology(Strict):
    """The devices and the cables between them."""

    defaults: Defaults = Defaults()
    nodes: dict[NodeName, Node] = {}
    links: list[Link] = []


FrameSize = Annotated[int, Field(ge=64, le=1522)]


class FramesTraffic(Strict):
    """Raw Ethernet frames from one host to another host or to broadcast."""

    kind: Literal["frames"]
    name: str | None = None
    from_: str = Field(alias="from")
    to: str
    size: FrameSize | list[FrameSize] = 64
    """Frame bytes including header and FCS; a list is drawn from at random."""
    count: Annotated[int, Field(ge=1)] | None = None
    """How many frames; without it, frames keep coming until the scenario's duration."""
    start: Time = 0.0
    interval: Time | None = None
    rate: Percent | None = None
    """Offered load as a share of the sender's link rate, preamble and gap included."""
    pattern: Literal["constant", "poisson"] = "constant"
    vlan: VlanId | None = None
    """Tag every frame with this VLAN, whatever the sending host's own interface (a raw
    socket writing its own 802.1Q header); the port it enters must carry the VLAN."""
    cos: Cos | None = None
    """802.1p priority in the frames' tag; without ``vlan`` they are priority-tagged (VID 0)."""
    dscp: Dscp | None = None
    """Make the frames IPv4 packets (protocol 253, RFC 3692) with this DSCP."""

    @model_validator(mode="after")
    def _pacing(self) -> FramesTraffic:
        if self.interval is not None and self.rate is not None:
            raise ValueError("give either interval or rate, not both")
        if self.interval is None and self.rate is None and self.count != 1:
            raise ValueError(
                "say how often frames are sent: interval (like 1ms) or rate (like 50%)"
            )
        if self.interval == 0.0:
            raise ValueError("interval must be positive")
        sizes = self.size if isinstance(self.size, list) else [self.size]
        tagged = self.vlan is not None or self.cos is not None
        limit = 1522 if tagged else 1518
        for s in sizes:
            if s > limit:
                raise ValueError(
                    f"frame size {s} is over {limit} bytes, the largest "
                    + ("tagged" if tagged else "untagged")
                    + " Ethernet frame"
                )
        if not sizes:
            raise ValueError("size list is empty")
        return self


class PingTraffic(Strict):
    """ICMP echo requests from one host to another, like the ``ping`` command."""

    kind: Literal["ping"]
    name: str | None = None
    from_: str = Field(alias="from")
    to: str
    count: Annotated[int, Field(ge=1)] = 4
    interval: Time = 1.0
    size: Annotated[int, Field(ge=0, le=1472)] = 56
    """ICMP data bytes, as ``ping -s``: 56 makes an 84-byte IP packet."""
    start: Time = 0.0
    timeout: Time = 1.0
    dscp: Dscp | None = None
    """Mark the echo requests' IPv4 headers with this DSCP (``ping -Q``)."""
    ttl: Annotated[int, Field(ge=1, le=255)] = 64
    """The requests' time to live (``ping -t``): a small one dies at a router on the
    way, which answers with ICMP time exceeded (traceroute's trick)."""


class TcpTraffic(Strict):
    """A TCP bulk transfer (``bytes``) or request/response exchanges (``request``)."""

    kind: Literal["tcp"]
    name: str | None = None
    from_: str = Field(alias="from")
    to: str
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    start: Time = 0.0
    bytes: Size | None = None
    request: Size | list[Size] | None = None
    """Bytes the client writes per exchange; a list is several writes in a row."""
    response: Size | None = None
    count: Annotated[int, Field(ge=1)] = 1
    interval: Time = 0.0
    dscp: Dscp | None = None
    """Both hosts mark this connection's packets with this DSCP (by its server port)."""

    @model_validator(mode="after")
    def _one_shape(self) -> TcpTraffic:
        if (self.bytes is None) == (self.request is None):
            raise ValueError(
                "give either bytes (a bulk transfer) or request and response (exchanges)"
            )
        if self.request is not None and self.response is None:
            raise ValueError("an exchange needs a response size (response: 0 for none)")
        if self.bytes is not None and self.bytes < 1:
            raise ValueError("a bulk transfer needs at least one byte")
        return self


class LoadTraffic(Strict):
    """Background load on one link, one direction: ``link: [from, to]`` at ``rate``."""

    kind: Literal["load"]
    name: str | None = None
    link: Pair
    """The sending end first: ``[f1, building]`` loads the floor's uplink towards the building."""
    rate: Percent
    size: FrameSize | list[FrameSize] = Field(default_factory=lambda: [64, 594, 1518])
    """Frame bytes; the default mixes small, medium and full frames (an IMIX)."""
    pattern: Literal["constant", "poisson"] = "poisson"
    start: Time = 0.0


_LITERAL = re.compile(r"\{\d*\+?\}")
"""An IMAP literal's announcement, ``{5}`` or ``{5+}`` (RFC 3501, RFC 7888)."""

WORKLOAD_NAMES = (
    "check-new-mail",
    "read-a-message",
    "search",
    "file-to-folder",
    "idle",
    "wait-for-mail",
    "disconnected",
)


def _tls_version_text(value: Any) -> Any:
    # YAML reads ``tls_version: 1.3`` as a float; the version is a name, not a number.
    return f"{value:.1f}" if isinstance(value, float) and value in (1.2, 1.3) else value


TlsVersion = Annotated[Literal["1.3", "1.2"], BeforeValidator(_tls_version_text)]
"""A TLS version whose handshake the simulation replays (:mod:`netsim.net.tls`)."""
TlsMode = Literal["none", "implicit", "starttls"]
"""No TLS, TLS from the first byte (IMAPS 993, POP3S 995, SMTPS 465), or STARTTLS."""


class ImapMailbox(Strict):
    """The INBOX generated for each user from the seed."""

    messages: Annotated[int, Field(ge=0, le=100_000)] = 50
    mean_size: Size = 4000
    """Mean body size (log-normal)."""
    multipart: Annotated[float, Field(ge=0.0, le=1.0)] = 0.2
    """Share of messages with an attachment."""
    attachment_size: Size = 50_000


class ImapTraffic(Strict):
    """IMAP sessions from client hosts to a server host, every command timed."""

    kind: Literal["imap"]
    name: str | None = None
    server: str
    clients: Annotated[list[str], Field(min_length=1)]
    port: Annotated[int, Field(ge=1, le=65535)] = 143
    start: Time = 0.0
    spread: Time = 0.0
    """Clients start evenly spread over this time after ``start`` (users do not all
    open their mail at the same instant)."""
    session: str | list[str] = "check-new-mail"
    """A named workload, or a list of workloads and raw command lines."""
    repeat: Annotated[int, Field(ge=1)] = 1
    think: Time = 1.0
    """Pause between repetitions of the session's steps."""
    idle: Time = 1.0
    """How long the ``idle`` workload stays in IDLE."""
    mailbox: ImapMailbox = ImapMailbox()
    tls: TlsMode | None = None
    """``implicit`` (the default on port 993), ``starttls`` or ``none`` (elsewhere)."""
    tls_version: TlsVersion = "1.3"
    pipelining: bool = False
    """Send a workload's independent commands back to back (RFC 3501 5.5), not one
    round trip each."""
    fetch: Literal["full", "headers"] = "full"
    """``headers``: read-a-message downloads the header only (a client on a slow link)."""
    dscp: Dscp | None = None
    """Clients and server mark IMAP packets (to and from the server's port) with this
    DSCP, as a host QoS policy by port does; ``AF21`` is RFC 4594's low-latency data."""
    resync: Literal["auto", "qresync", "condstore", "plain"] = "auto"
    """How a ``disconnected`` client resynchronises back online: ``auto`` takes the best
    the server offers (QRESYNC, then CONDSTORE, RFC 7162), ``plain`` refetches every
    known message's flags (RFC 4549); forcing one lets a lab compare them."""

    @model_validator(mode="after")
    def _known_workloads(self) -> ImapTraffic:
        steps = [self.session] if isinstance(self.session, str) else self.session
        for step in steps:
            name = step.strip().replace(" ", "-").lower()
            if name in WORKLOAD_NAMES:
                continue
            verb = step.strip().split(" ")[0]
            if "-" in verb or not verb:
                raise ValueError(
                    f"unknown workload {step!r} (expected one of {', '.join(WORKLOAD_NAMES)}, "
                    'or an IMAP command line like "UID FETCH 1:* (FLAGS)")'
                )
            if _LITERAL.search(step) or any(c in step for c in "\r\n\0"):
                raise ValueError(
                    f"{step!r}: a raw command is one line, without literals like {{5}}: the "
                    "simulated client sends it as written and has no literal data to follow"
                )
        return self

    def mail_readers(self, server: str) -> dict[str, ImapMailbox]:
        """The users who read mail on ``server`` in this entry, with their INBOX."""
        return {c: self.mailbox for c in self.clients} if server == self.server else {}

    @property
    def tls_mode(self) -> TlsMode:
        """The TLS the session uses: as written, else implicit on 993 and none elsewhere."""
        if self.tls is not None:
            return self.tls
        return "implicit" if self.port == 993 else "none"

    @model_validator(mode="after")
    def _disconnected_alone(self) -> ImapTraffic:
        if "disconnected" in self.steps and len(self.steps) > 1:
            raise ValueError(
                "the disconnected workload is a whole session (a cache, IDLE while online, "
                "a queue while offline): list it alone"
            )
        if self.resync != "auto" and self.steps != ["disconnected"]:
            raise ValueError(
                "resync says how a disconnected client comes back online: it needs "
                "session: [disconnected]"
            )
        return self

    @property
    def steps(self) -> list[str]:
        """The session's steps, workload names normalized (``check new mail`` too)."""
        steps = [self.session] if isinstance(self.session, str) else self.session
        out = []
        for step in steps:
            name = step.strip().replace(" ", "-").lower()
            out.append(name if name in WORKLOAD_NAMES else step.strip())
        return out


class SmtpTraffic(Strict):
    """Mail submitted during the run: client hosts send messages to users of a server.

    Each message is one SMTP session (connect, EHLO, AUTH on a submission port, MAIL,
    RCPT, DATA, the message, QUIT), every command timed (smtp.csv). The recipients are
    users of the server: hosts that read mail there with ``imap`` or ``pop3`` traffic.
    """

    kind: Literal["smtp"]
    name: str | None = None
    server: str
    clients: Annotated[list[str], Field(min_length=1)]
    """The hosts that submit mail (each sends ``count`` messages, or one per ``schedule`` time)."""
    to: Annotated[list[str], Field(min_length=1)]
    """Recipients, users of the server; each message goes to one, drawn in turn."""
    port: Annotated[int, Field(ge=1, le=65535)] = 587
    """587 submission (AUTH first, RFC 6409), 465 submission over TLS, 25 delivery."""
    tls: TlsMode | None = None
    """``implicit`` (the default on 465), ``starttls`` or ``none`` (elsewhere)."""
    tls_version: TlsVersion = "1.3"
    start: Time = 0.0
    count: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    interval: Time = 1.0
    """Time between one client's submissions (their mean, with ``pattern: poisson``)."""
    pattern: Literal["constant", "poisson"] = "constant"
    schedule: Annotated[list[Time], Field(min_length=1)] | None = None
    """Submission times instead of ``start``, ``count`` and ``interval``."""
    size: Size = 4000
    """Message size in octets (the mean, with ``sizes: lognormal``)."""
    sizes: Literal["constant", "lognormal"] = "constant"
    pipelining: bool = True
    """Send MAIL, RCPT and DATA in one go when the server offers PIPELINING (RFC 2920)."""

    @property
    def tls_mode(self) -> TlsMode:
        """The TLS the sessions use: as written, else implicit on 465 and none elsewhere."""
        if self.tls is not None:
            return self.tls
        return "implicit" if self.port == 465 else "none"

    @property
    def submission(self) -> bool:
        """A submission port (587, 465): AUTH before MAIL; port 25 takes mail for local users."""
        return self.port != 25

    def mail_senders(self, server: str) -> list[str]:
        """The hosts that log in (AUTH) to submit mail on ``server`` in this entry."""
        return list(self.clients) if server == self.server and self.submission else []

    def submits_to(self, server: str) -> bool:
        """True: this traffic brings new mail to ``server`` during the run."""
        return server == self.server


class Pop3Traffic(Strict):
    """POP3 clients polling a server: log in, list, download, delete or keep, quit."""

    kind: Literal["pop3"]
    name: str | None = None
    server: str
    clients: Annotated[list[str], Field(min_length=1)]
    port: Annotated[int, Field(ge=1, le=65535)] = 110
    tls: TlsMode | None = None
    """``implicit`` (the default on 995), ``starttls`` (STLS) or ``none`` (elsewhere)."""
    tls_version: TlsVersion = "1.3"
    start: Time = 0.0
    spread: Time = 0.0
    """Clients start evenly spread over this time after ``start``."""
    poll: Annotated[Time, Field(gt=0.0)] = 300.0
    """Time between one client's polls (mail programs default to a few minutes)."""
    polls: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    """How many polls; by default, as many as fit in the scenario's duration."""
    keep: bool = False
    """Leave messages on the server (then UIDL tells the client which it already has);
    by default each downloaded message is deleted (DELE, effective at QUIT)."""
    fetch: Literal["full", "headers"] = "full"
    """``headers``: TOP n 0 instead of RETR n (a client on a slow link)."""
    pipelining: bool = False
    """Send a poll's RETR and DELE commands back to back (RFC 2449 PIPELINING)."""
    mailbox: ImapMailbox = ImapMailbox()

    @property
    def tls_mode(self) -> TlsMode:
        """The TLS the sessions use: as written, else implicit on 995 and none elsewhere."""
        if self.tls is not None:
            return self.tls
        return "implicit" if self.port == 995 else "none"

    def mail_readers(self, server: str) -> dict[str, ImapMailbox]:
        """The users who read mail on ``server`` in this entry, with their maildrop."""
        return {c: self.mailbox for c in self.clients} if server == self.server else {}


Traffic = Annotated[
    FramesTraffic
    | PingTraffic
    | TcpTraffic
    | ImapTraffic
    | LoadTraffic
    | SmtpTraffic
    | Pop3Traffic,
    Field(discriminator="kind"),
]


class LinkEvent(Strict):
    """Take a link down or bring it back up at a given time."""

    at: Time
    action: Literal["link-down", "link-up"]
    link: Pair


class DeviceEvent(Strict):
    """Clear a switch's dynamic MAC entries (``clear mac address-table dynamic``)."""

    at: Time
    action: Literal["clear-mac-table"]
    device: str


class HostMoveEvent(Strict):
    """Unplug a host and plug it into another (free) switch port, as a laptop moves desks."""

    at: Time
    action: Literal["host-move"]
    host: str
    to: str
    """The new port, ``switch:port``."""


class SetAgingEvent(Strict):
    """Change a switch's MAC aging time (``mac address-table aging-time``)."""

    at: Time
    action: Literal["set-aging"]
    device: str
    aging: Time


class MailOfflineEvent(Strict):
    """A disconnected-use IMAP client (``session: [disconnected]``) goes offline or comes
    back online: it logs out and queues its changes, or reconnects and resynchronises."""

    at: Time
    action: Literal["mail-offline", "mail-online"]
    host: str


class DeviceFailureEvent(Strict):
    """A device fails (``device-down``: it drops everything, its cables go dark) or comes
    back (``device-up``); with ``member``, only that member of a StackWise stack."""

    at: Time
    action: Literal["device-down", "device-up"]
    device: str
    member: Annotated[int, Field(ge=1, le=9)] | None = None


Event = Annotated[
    LinkEvent | DeviceEvent | HostMoveEvent | SetAgingEvent | MailOfflineEvent | DeviceFailureEvent,
    Field(discriminator="action"),
]


class Failures(Strict):
    """Random failures of some parts, each on its own: it works for a random time of mean
    ``mtbf``, is repaired in a random time of mean ``mttr`` (both exponential), and so on.

    Which parts: exactly one of ``kind`` (every device of a kind, every ``link``, or every
    ``uplink``: a cable between two switches), ``model`` (every device of a catalog
    model), ``device`` (one device; with ``member``, one stack member) or ``link`` (the
    cables between two nodes). A StackWise stack fails member by member.
    A part that several entries name takes the most specific: a named device or link,
    then a model, then a kind.
    """

    kind: Literal["host", "switch", "bridge", "hub", "link", "uplink"] | None = None
    model: ModelName | None = None
    device: str | None = None
    member: Annotated[int, Field(ge=1, le=9)] | None = None
    link: Pair | None = None
    mtbf: Lifetime
    """Mean time between failures (``200000h``)."""
    mttr: Lifetime
    """Mean time to repair (``4h``)."""

    @model_validator(mode="after")
    def _one_selector(self) -> Failures:
        chosen = [k for k in ("kind", "model", "device", "link") if getattr(self, k) is not None]
        if len(chosen) != 1:
            raise ValueError(
                "say which parts fail with exactly one of kind, model, device or link"
                + (f" (got {', '.join(chosen)})" if chosen else "")
            )
        if self.member is not None and self.device is None:
            raise ValueError("member names a member of the stack given as device")
        return self


RecordableMacEvent = Literal["learn", "refresh", "move", "age-out", "flood", "full"]
assert set(RecordableMacEvent.__args__) == {e.value for e in MacEvent}  # type: ignore[attr-defined]


class Measure(Strict):
    """What to record beyond the defaults."""

    mac_events: Literal["all"] | list[RecordableMacEvent] | None = None
    """Which MAC-table events go to mac_events.csv; default all but ``refresh``."""
    capture: list[str] = []
    """Ports (``node:port``) whose frames are written to ``captures/<node>_<port>.pcap``."""
    availability: Literal["traffic"] | list[Pair] | None = None
    """Host-to-server paths whose outages go to availability.csv: ``[[h1, mail1], ...]``,
    or ``traffic`` for every (host, server) pair of the traffic (the default when the
    scenario has ``failures``)."""
    frames: Annotated[str, Field(pattern=r"^(all|none|sample [1-9][0-9]{0,8})$")] = "all"
    """Which frames frames.csv lists: ``all``, ``none``, or ``sample N`` (one in N, the
    same frames in every run). A long run need not keep a record of every frame."""

    @property
    def frame_sample(self) -> int:
        """:attr:`frames` as :attr:`netsim.engine.trace.Trace.sample`: 1 all, 0 none, N."""
        if self.frames == "all":
            return 1
        return 0 if self.frames == "none" else int(self.frames.split()[1])


class Limits(Strict):
    """How much work a scenario may ask for before validation refuses it.

    The defaults let every bundled scenario run and stop mistakes by orders of magnitude
    (a rate in ps, a count of 10**9); a scenario that really means more raises them.
    See :mod:`netsim.scenario.limits` for how the work is estimated.
    """

    events: Annotated[int, Field(ge=1)] = 25_000_000
    """Simulator events (frames times links crossed); about two minutes of work."""
    bytes: Annotated[Size, Field(ge=1)] = 1_000_000_000
    """Data generated and held: IMAP mailboxes and TCP payloads (1 GB)."""
    nodes: Annotated[int, Field(ge=1)] = 10_000
    """Devices in the expanded topology."""
    runs: Annotated[int, Field(ge=1)] = 1_000
    """Points of a sweep grid."""
    floods: Annotated[int, Field(ge=1)] = 10_000
    """Times one frame may be flooded (by all switches together): a frame flooded more
    often is going round a loop without spanning tree, and the run stops there
    (:mod:`netsim.l2.storm`)."""


def _scheduler_address(address: str) -> str:
    scheme, sep, rest = address.partition("://")
    if not sep or not scheme.isalpha() or not rest or any(c.isspace() for c in address):
        raise ValueError(
            f"expected a Dask scheduler address like tcp://10.0.0.5:8786; got {address!r}"
        )
    return address


class SweepCluster(Strict):
    """``sweep: {dask: {scheduler: tcp://host:8786}}``: run the sweep's points on a Dask
    distributed cluster instead of local worker processes (``--scheduler`` overrides)."""

    scheduler: Annotated[str, AfterValidator(_scheduler_address)]
    """The scheduler's address, as ``dask scheduler`` prints it: ``tcp://10.0.0.5:8786``."""


SWEEP_CLUSTER_KEY = "dask"
"""The key of a sweep block that says where to run it rather than what to vary."""


def _sweep_entry_kind(value: Any) -> str:
    # The tags are pydantic's own type names, so that error paths leave them out.
    return "dict" if isinstance(value, dict | SweepCluster) else "list"


SweepEntry = Annotated[
    Annotated[list[Any], Field(min_length=1), Tag("list")] | Annotated[SweepCluster, Tag("dict")],
    Discriminator(_sweep_entry_kind),
]
"""A sweep block's entry: the values of one YAML path, or (under ``dask``) a cluster."""


def _positive_finite_time(seconds: float) -> float:
    if not 0.0 < seconds < math.inf:
        raise ValueError(f"expected a positive, finite time like 2s or 500ms; got {seconds!r} s")
    return seconds


class MailServer(Strict):
    """What a mail server host's hardware costs each command (``mail_servers: {mail1: ...}``).

    A host listed here charges every IMAP, SMTP and POP3 command its measured CPU time
    (``netsim/apps/data/mail_costs.json``) and its fsyncs; a host not listed answers in
    zero time.
    """

    cores: Annotated[int, Field(ge=1, le=1024)] = 1
    """Commands run in parallel on this many cores and queue when all are busy."""
    cpu_speed: Annotated[float, Field(gt=0.0, le=1e6)] = 1.0
    """How many times faster than the machine the costs were measured on."""
    fsync: Time = 0.0
    """How long the disk takes to make one write durable (one disk: syncs queue)."""


class Scenario(Strict):
    """A whole scenario file."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    description: str = ""
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 1
    strict: bool = False
    """Make breaking the classic Ethernet rules (5-4-3, the collision-domain round trip,
    coax station limits and tap spacing) an error instead of a warning."""
    duration: Time
    """How long traffic sources keep sending; the run then drains what is in flight."""
    stop: Annotated[Time, AfterValidator(_positive_finite_time)] | None = None
    """A hard stop: the simulation ends at this time whatever is still in flight (frames
    on their way are reported ``in-flight``); without it, the run drains every queue."""
    topology: Topology
    traffic: list[Traffic] = []
    events: list[Event] = []
    failures: list[Failures] = []
    """Random failures from MTBF and MTTR (:class:`Failures`), drawn over ``duration``."""
    measure: Measure = Measure()
    mail_servers: dict[str, MailServer] = {}
    """Server hosts whose mail commands cost CPU and disk time (:class:`MailServer`)."""
    sweep: dict[str, SweepEntry] = {}
    """A grid of values per YAML path, for ``netsim sweep``; ``dask:`` may say where to run
    it (:class:`SweepCluster`). Read it through :attr:`sweep_grid` and
    :attr:`sweep_cluster`."""

    limits: Limits = Limits()
    """Bounds on the work the scenario may ask for (:class:`Limits`)."""

    @field_validator("sweep")
    @classmethod
    def _cluster_only_under_dask(cls, sweep: dict[str, Any]) -> dict[str, Any]:
        for path, entry in sweep.items():
            if path == SWEEP_CLUSTER_KEY and not isinstance(entry, SweepCluster):
                raise ValueError(
                    "sweep.dask says where to run the sweep: a mapping like "
                    "{scheduler: tcp://host:8786}, not a list of values"
                )
            if path != SWEEP_CLUSTER_KEY and isinstance(entry, SweepCluster):
                raise ValueError(f"sweep.{path}: expected a list of values to sweep")
        return sweep

    @property
    def sweep_grid(self) -> dict[str, list[Any]]:
        """The swept YAML paths and their values, in the order written."""
        return {k: v for k, v in self.sweep.items() if isinstance(v, list)}

    @property
    def sweep_cluster(self) -> SweepCluster | None:
        """Where the sweep runs, if the scenario names a Dask cluster."""
        cluster = self.sweep.get(SWEEP_CLUSTER_KEY)
        return cluster if isinstance(cluster, SweepCluster) else None
