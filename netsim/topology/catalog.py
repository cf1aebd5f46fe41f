"""The device catalog: real Cisco Catalyst switches, and the generic devices.

A scenario node with ``model: WS-C2960-24TT-L`` takes its interfaces (names, speeds),
MAC table size, egress buffer, forwarding rate and switching mode from here; any of them
can still be overridden in the scenario. Figures come from ../shared/reference/catalyst.md
(public Cisco configuration guides and data sheets); each model's ``sources`` says where
every figure comes from, and which are derived or uncertain.

Forwarding rates marked "derived" are wire-speed arithmetic: a 64-byte frame with its
preamble and gap is 84 bytes, so a 1 Gb/s port carries at most 1,488,095 frames/s and a
100 Mb/s port 148,810.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from netsim.l2.qos import PortQos
from netsim.l2.switching import SwitchingMode

WIRE_SPEED_PPS_1G = 1e9 / (84 * 8)
WIRE_SPEED_PPS_100M = 100e6 / (84 * 8)


@dataclass(frozen=True)
class InterfaceGroup:
    """A run of interfaces of one type: ``Fa0/1`` .. ``Fa0/24``."""

    prefix: str
    """Name before the number, with ``{member}`` standing for the stack member number."""
    count: int
    speed_bps: float
    """The fastest speed the interface runs at."""
    kind: str
    """What the port is, as a data sheet says it (``10/100``, ``SFP`` ...)."""
    uplink: bool = False

    def names(self, member: int = 1) -> list[str]:
        """The interface names, ``Gi1/0/1`` ... for stack member ``member``."""
        prefix = self.prefix.format(member=member)
        return [f"{prefix}{i}" for i in range(1, self.count + 1)]


@dataclass(frozen=True)
class DeviceModel:
    """One switch (or hub, bridge) model and the figures netsim uses for it."""

    name: str
    kind: str
    """``switch``, ``hub`` or ``bridge``: the node kind this model is."""
    description: str
    interfaces: tuple[InterfaceGroup, ...]
    mac_table_size: int | None
    buffer_bytes: int
    """Egress buffer per port."""
    forwarding_rate_pps: float | None
    """Frames per second the forwarding engine handles (per stack member); None: unlimited."""
    mode: SwitchingMode = SwitchingMode.STORE_AND_FORWARD
    max_stack_members: int = 1
    """More than 1 for StackWise switches."""
    sources: dict[str, str] = field(default_factory=dict)
    """Where each figure comes from."""
    layer3: bool = False
    """Routes between VLANs (SVIs, routed ports, static routes) in hardware at its
    forwarding rate; a layer-2 model has one management SVI only."""
    port_qos: PortQos = field(default_factory=PortQos)
    """With ``mls qos``: every port's trust, expedite queue, SRR weights and queue limits
    until the scenario configures them."""

    def port_names(self, members: int = 1) -> list[str]:
        """Every interface of the device (of every stack member)."""
        return [
            name
            for member in range(1, members + 1)
            for group in self.interfaces
            for name in group.names(member)
        ]

    def port_speeds(self, members: int = 1) -> dict[str, float]:
        """Interface name -> fastest speed."""
        return {
            name: group.speed_bps
            for member in range(1, members + 1)
            for group in self.interfaces
            for name in group.names(member)
        }


STACKWISE_RING_BPS = 16e9
"""Each of StackWise's two counter-rotating rings runs at 16 Gb/s (32 Gb/s together)."""

_CATALYST_MODE = "store-and-forward only (Catalyst 3750 and 2960 configuration guides)"
_CATALYST_QOS = (
    "off until mls qos. Then 4 egress queues per port; CoS 0,1 -> queue 2, 2,3 -> 3, "
    "4,6,7 -> 4, 5 -> 1; DSCP 0-15 -> 2, 16-31 -> 3, 32-39 and 48-63 -> 4, 40-47 -> 1 "
    "(Catalyst 2960 Software Configuration Guide, Configuring QoS, 'Mapping DSCP or CoS "
    "Values to an Egress Queue', http://www.manualowl.com/m/Cisco/WS-C2960-24TC-S/Manual/"
    "290395?page=565); SRR shared weights 25 25 25 25, buffers 25 % per queue, ports "
    "untrusted, expedite queue off (same guide, 'Configuring SRR Shared Weights on Egress "
    "Queues', 'Configuring the Egress Expedite Queue', https://manualsdump.com/en/manuals/"
    "cisco_systems-2960model/120963/548). Not modelled: SRR shaped mode (default shaped "
    "weights 25 0 0 0 rate-limit queue 1 to 1/25 of the link when the expedite queue is "
    "off), WTD thresholds 1 and 2 and the common buffer pool: each queue tail-drops at "
    "its own limit"
)

MODELS: dict[str, DeviceModel] = {
    m.name: m
    for m in (
        DeviceModel(
            name="WS-C3750G-12S",
            kind="switch",
            description="Catalyst 3750G, 12 SFP gigabit ports, StackWise: building/distribution",
            interfaces=(InterfaceGroup("Gi{member}/0/", 12, 1e9, "1000BASE-X SFP", True),),
            mac_table_size=6000,
            buffer_bytes=1_200_000,
            forwarding_rate_pps=12 * WIRE_SPEED_PPS_1G,
            max_stack_members=9,
            layer3=True,
            sources={
                "routing": "IP Services/IP Base: SVIs and routed ports (no switchport), "
                "static routes; CEF in hardware, so a routed packet costs one lookup at the "
                "forwarding rate, like a switched frame (3750 configuration guide, "
                "'Configuring IP Unicast Routing')",
                "ports": "12 x 1000BASE-X SFP (data sheet)",
                "forwarding rate": "~17.9 Mpps per member, derived: 12 x 1.488 Mpps",
                "MAC table": "6,000: SDM desktop default template; the 12S ships with "
                "aggregator templates whose (larger) figure was not found: uncertain",
                "buffer": "uncertain: shared per port ASIC; a 3560-E measured ~1.9 MB per "
                "ASIC and up to ~1.2 MB for one port; netsim gives each port 1.2 MB",
                "stack": "StackWise: two counter-rotating 16 Gb/s rings, up to 9 members",
                "mode": _CATALYST_MODE,
                "qos": _CATALYST_QOS + " (the 3750 guide gives the same defaults)",
            },
        ),
        DeviceModel(
            name="WS-C2960-24TT-L",
            kind="switch",
            description="Catalyst 2960, 24 x 10/100 + 2 x 10/100/1000: floor or room access",
            interfaces=(
                InterfaceGroup("Fa0/", 24, 100e6, "10/100"),
                InterfaceGroup("Gi0/", 2, 1e9, "10/100/1000", True),
            ),
            mac_table_size=8000,
            buffer_bytes=384_000,
            forwarding_rate_pps=6.5e6,
            sources={
                "ports": "24 x 10/100 + 2 x 10/100/1000 uplinks (data sheet)",
                "forwarding rate": "6.5 Mpps (data sheet); fabric 16 Gb/s",
                "MAC table": "8,000 addresses (data sheet)",
                "buffer": "uncertain: 4 egress queues per port over reserved and common "
                "pools, no public size; netsim assumes 384 KB per port",
                "mode": _CATALYST_MODE,
                "qos": _CATALYST_QOS,
            },
        ),
        DeviceModel(
            name="WS-C2960-48TT-L",
            kind="switch",
            description="Catalyst 2960, 48 x 10/100 + 2 x 10/100/1000: floor or room access",
            interfaces=(
                InterfaceGroup("Fa0/", 48, 100e6, "10/100"),
                InterfaceGroup("Gi0/", 2, 1e9, "10/100/1000", True),
            ),
            mac_table_size=8000,
            buffer_bytes=384_000,
            forwarding_rate_pps=48 * WIRE_SPEED_PPS_100M + 2 * WIRE_SPEED_PPS_1G,
            sources={
                "ports": "48 x 10/100 + 2 x 10/100/1000 (data sheet)",
                "forwarding rate": "~10.1 Mpps, derived: 48 x 148.8 kpps + 2 x 1.488 Mpps",
                "MAC table": "8,000 addresses (data sheet)",
                "buffer": "uncertain, as for the 24-port model: 384 KB per port",
                "mode": _CATALYST_MODE,
                "qos": _CATALYST_QOS,
            },
        ),
        DeviceModel(
            name="WS-C2960G-24TC-L",
            kind="switch",
            description="Catalyst 2960G, 24 x 10/100/1000 (4 dual-purpose SFP): gigabit access",
            interfaces=(InterfaceGroup("Gi0/", 24, 1e9, "10/100/1000, Gi0/21-24 also SFP"),),
            mac_table_size=8000,
            buffer_bytes=384_000,
            forwarding_rate_pps=24 * WIRE_SPEED_PPS_1G,
            sources={
                "ports": "24 x 10/100/1000, 4 of them dual-purpose SFP (data sheet)",
                "forwarding rate": "~35.7 Mpps, derived: 24 x 1.488 Mpps",
                "MAC table": "8,000 addresses (data sheet)",
                "buffer": "uncertain: 384 KB per port assumed",
                "mode": _CATALYST_MODE,
                "qos": _CATALYST_QOS,
            },
        ),
        DeviceModel(
            name="generic-switch",
            kind="switch",
            description="A learning switch with no limits but its port count (24 by default)",
            interfaces=(InterfaceGroup("", 24, 100e9, "any"),),
            mac_table_size=None,
            buffer_bytes=512_000,
            forwarding_rate_pps=None,
            sources={
                "all": "netsim defaults: any speed, unlimited table and forwarding",
                "qos": "with qos on, the Catalyst defaults (see a WS-C2960 model)",
            },
        ),
        DeviceModel(
            name="generic-hub",
            kind="hub",
            description="A repeater hub: one collision domain, half duplex",
            interfaces=(InterfaceGroup("", 12, 100e6, "10/100 half duplex"),),
            mac_table_size=None,
            buffer_bytes=0,
            forwarding_rate_pps=None,
            sources={"all": "IEEE 802.3 clause 9 repeater"},
        ),
        DeviceModel(
            name="generic-bridge",
            kind="bridge",
            description="A two-port IEEE 802.1D learning bridge, store-and-forward",
            interfaces=(InterfaceGroup("", 2, 100e9, "any"),),
            mac_table_size=None,
            buffer_bytes=512_000,
            forwarding_rate_pps=None,
            sources={"all": "IEEE 802.1D transparent bridge"},
        ),
    )
}
"""Every model a scenario can name."""
