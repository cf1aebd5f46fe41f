"""How a switch is told to run spanning tree: the protocol, its bridge settings, and each
port's (what the scenario's ``spanning_tree:`` keys become once validated).

The five modes are the ones a Catalyst's ``spanning-tree mode`` knows, plus the two
standard single-tree protocols:

=============  ===========================================  =======================
mode           protocol                                     instances
=============  ===========================================  =======================
``pvst``       802.1D, Cisco PVST+ (the Catalyst default)   one per VLAN
``rapid-pvst`` 802.1w, Cisco rapid PVST+                    one per VLAN
``stp``        802.1D (the 1998 standard)                   one for all VLANs
``rstp``       802.1w (802.1D-2004)                         one for all VLANs
``none``       no spanning tree: every port forwards        none
=============  ===========================================  =======================
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from netsim.l2.stp.engine import DEFAULT_TIMERS, Timers


class StpMode(StrEnum):
    """Which spanning-tree protocol a switch runs (``spanning-tree mode``)."""

    PVST = "pvst"
    RAPID_PVST = "rapid-pvst"
    STP = "stp"
    RSTP = "rstp"
    NONE = "none"

    @property
    def rapid(self) -> bool:
        """802.1w (RSTP) rather than 802.1D."""
        return self in (StpMode.RAPID_PVST, StpMode.RSTP)

    @property
    def per_vlan(self) -> bool:
        """One spanning-tree instance per VLAN (Cisco's PVST+), not one for them all."""
        return self in (StpMode.PVST, StpMode.RAPID_PVST)


@dataclass(frozen=True)
class BridgeSettings:
    """A switch's spanning-tree configuration.

    ``priority`` is the bridge priority (a multiple of 4096; PVST+ adds the VLAN id to
    it in the bridge ID). ``cost_method`` chooses the default port costs by link speed:
    ``short`` (802.1D-1998, 1G costs 4) or ``long`` (802.1t, 1G costs 20,000).
    ``portfast_default`` makes every access port an edge port, like Cisco's
    ``spanning-tree portfast default``.
    """

    mode: StpMode = StpMode.NONE
    priority: int = 32768
    timers: Timers = DEFAULT_TIMERS
    cost_method: str = "short"
    portfast_default: bool = False


NO_SPANNING_TREE = BridgeSettings()
"""A switch that runs no spanning tree."""


@dataclass(frozen=True)
class PortSettings:
    """One port's spanning-tree configuration; ``None`` takes the default.

    ``portfast`` makes an edge port (it forwards at once: a port to a host),
    ``cost`` overrides the path cost of the link's speed, ``port_priority`` (a multiple
    of 16, default 128) breaks ties between two ports of a bridge hearing the same LAN.
    """

    portfast: bool | None = None
    cost: int | None = None
    port_priority: int | None = None


DEFAULT_PORT_SETTINGS = PortSettings()
