"""IEEE 802.1Q VLANs on a switch's ports: access ports, trunks, and the tag on the wire.

A VLAN splits one switch (or a campus of them) into separate broadcast domains. Each
port is either

- an **access port**, a member of one VLAN, whose frames travel untagged; or
- a **trunk**, which carries several VLANs (its *allowed* list) between switches, each
  frame with a 4-byte tag naming its VLAN, except the frames of the *native* VLAN
  (1 unless configured), which travel untagged.

On ingress a switch *classifies* each frame into a VLAN: an untagged (or priority-tagged,
VID 0) frame belongs to the port's access or native VLAN, a tagged one to the VLAN its tag
names, if the port may carry it. Learning, lookup and flooding then happen within that
VLAN only (independent VLAN learning). On egress the switch adds the tag on a trunk and
removes it on an access port.

This module is pure logic: :class:`PortVlan` is one port's configuration and
:class:`VlanMap` a switch's ports and the VLANs they carry, used by
:class:`netsim.l2.switch.Switch` on the frames of a VLAN-aware switch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from netsim.l2.frame import Frame

DEFAULT_VLAN = 1
"""The VLAN every port is in until configured otherwise, and trunks' default native VLAN."""
MIN_VLAN = 1
MAX_VLAN = 4094
"""Usable VLAN IDs: VID 0 means priority-tagged only, 4095 is reserved (802.1Q)."""
PRIORITY_TAGGED = 0
"""A tag with VID 0 carries only a priority (PCP): the frame belongs to the port's VLAN."""


class PortMode(StrEnum):
    """``switchport mode access`` or ``switchport mode trunk``."""

    ACCESS = "access"
    TRUNK = "trunk"


@dataclass(frozen=True)
class PortVlan:
    """One port's VLAN configuration.

    ``allowed`` is the trunk's allowed list; ``None`` means every VLAN (Cisco's default,
    ``switchport trunk allowed vlan all``). An access port ignores ``allowed`` and
    ``native``.
    """

    mode: PortMode = PortMode.ACCESS
    access_vlan: int = DEFAULT_VLAN
    allowed: frozenset[int] | None = None
    native: int = DEFAULT_VLAN

    @classmethod
    def access(cls, vlan: int) -> PortVlan:
        """An access port in ``vlan`` (``switchport access vlan N``)."""
        return cls(PortMode.ACCESS, access_vlan=vlan)

    @classmethod
    def trunk(cls, allowed: Iterable[int] | None = None, native: int = DEFAULT_VLAN) -> PortVlan:
        """A trunk carrying ``allowed`` (every VLAN if None), ``native`` untagged."""
        return cls(
            PortMode.TRUNK,
            allowed=None if allowed is None else frozenset(allowed),
            native=native,
        )

    @property
    def is_trunk(self) -> bool:
        """Does this port carry several VLANs, tagged?"""
        return self.mode is PortMode.TRUNK

    def carries(self, vlan: int) -> bool:
        """Is this port a member of ``vlan`` (may frames of that VLAN enter and leave it)?"""
        if self.mode is PortMode.ACCESS:
            return vlan == self.access_vlan
        return self.allowed is None or vlan in self.allowed

    def classify(self, tag: int | None) -> int | None:
        """The VLAN of a frame received with VLAN tag ``tag`` (None: untagged), or None
        if this port may not carry it.

        An untagged or priority-tagged frame belongs to the access VLAN or to the trunk's
        native VLAN. An access port also accepts a frame tagged with its own VLAN (as
        Catalysts do); any other tag on an access port is refused.
        """
        if tag is None or tag == PRIORITY_TAGGED:
            vlan = self.access_vlan if self.mode is PortMode.ACCESS else self.native
        else:
            vlan = tag
        return vlan if self.carries(vlan) else None

    def tags(self, vlan: int) -> bool:
        """Does a frame of ``vlan`` leave this port tagged? (A trunk tags all but its native.)"""
        return self.mode is PortMode.TRUNK and vlan != self.native

    def describe(self) -> str:
        """``access VLAN 10`` or ``trunk, native 1, allowed 10,20``."""
        if self.mode is PortMode.ACCESS:
            return f"access VLAN {self.access_vlan}"
        allowed = "all" if self.allowed is None else ",".join(map(str, sorted(self.allowed)))
        return f"trunk, native {self.native}, allowed {allowed}"


ACCESS_VLAN_1 = PortVlan()
"""An unconfigured port: access port in VLAN 1, as a switch comes out of the box."""


def frame_for_egress(frame: Frame, vlan: int, tagged: bool) -> Frame:
    """``frame`` as it leaves a port: tagged with ``vlan``, or untagged.

    Tagging makes the frame 4 bytes longer (a 1518-byte frame becomes 1522); it was padded
    to the 64-byte minimum before, so a tagged frame is at least 68 bytes. Removing a tag
    makes it 4 bytes shorter, padded back to 64 if needed. The priority (PCP) is kept.
    """
    if tagged:
        if frame.vlan == vlan:
            return frame
        return frame.tagged(vlan)
    if frame.vlan is None:
        return frame
    return frame.untagged()


P = TypeVar("P")
"""Whatever the switch uses for a port."""


class VlanMap(Generic[P]):
    """A switch's ports and their VLANs: who may send and receive what.

    The switch knows a VLAN when some port is in it: an access port's VLAN, a trunk's
    native VLAN or a VLAN a trunk's allowed list names (a trunk that allows all VLANs
    does not make every VLAN known, as a Catalyst's VLAN database would not). A frame
    tagged with a VLAN the switch does not know is dropped as ``unknown-vlan``.
    """

    def __init__(self, ports: Iterable[P], config: Mapping[P, PortVlan]) -> None:
        self.ports = list(ports)
        self.config: dict[P, PortVlan] = {p: config.get(p, ACCESS_VLAN_1) for p in self.ports}
        known: set[int] = set()
        for cfg in self.config.values():
            if cfg.is_trunk:
                known.add(cfg.native)
                known.update(cfg.allowed or ())
            else:
                known.add(cfg.access_vlan)
        self.known = frozenset(known)
        """The VLANs this switch has a port in."""
        self._members: dict[int, list[P]] = {}

    @property
    def plain(self) -> bool:
        """Is every port an access port in VLAN 1 (a switch out of the box)?"""
        return all(cfg == ACCESS_VLAN_1 for cfg in self.config.values())

    def members(self, vlan: int) -> list[P]:
        """The ports of ``vlan``, in port order (where its broadcasts flood)."""
        found = self._members.get(vlan)
        if found is None:
            found = [p for p in self.ports if self.config[p].carries(vlan)]
            self._members[vlan] = found
        return found
