"""QoS on a switch (``mls qos``): trust at ingress, CoS/DSCP-to-queue maps at egress.

A frame carries two priority marks:

- **CoS**, the 3-bit Priority Code Point (IEEE 802.1p) of an 802.1Q tag. Only a tagged
  frame has one: a priority-tagged frame (VID 0) or a VLAN-tagged one. Untagged: 0.
- **DSCP**, the top 6 bits of an IPv4 header's TOS byte (RFC 2474). Only IP has one.

With QoS enabled, each ingress port decides which mark to believe, as Catalyst's
``mls qos trust`` does, and the switch rewrites the frame so both marks agree with it:

========  ==========================================================================
trust     what the switch does with a frame arriving on the port
========  ==========================================================================
none      both marks are reset: CoS 0 (the port's default), DSCP 0. The default:
          a Catalyst with ``mls qos`` trusts nothing, and rewrites DSCP to 0.
cos       the CoS is kept (0 when untagged); an IP packet's DSCP becomes the
          CoS-to-DSCP map's value for it (CoS 5 -> DSCP 40).
dscp      an IP packet's DSCP is kept and the CoS becomes DSCP >> 3 (the default
          DSCP-to-CoS map); a non-IP frame keeps its CoS.
========  ==========================================================================

The egress queue follows from the marks: an IP packet's DSCP through the DSCP-to-queue
map, any other frame's CoS through the CoS-to-queue map. Rewriting an IPv4 header
updates its checksum incrementally (RFC 1624), so every frame stays valid on the wire.
The CoS travels only in a tag: an access port sends frames untagged, so the next switch
sees CoS 0, while a trunk tags them (except in its native VLAN) with the CoS the switch
gave them. The DSCP travels end to end.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from netsim.l2.frame import ETHERTYPE_IPV4, Frame
from netsim.phy.port import Port
from netsim.phy.queues import QueueSettings

QUEUES = 4
"""Egress queues per port on a Catalyst 2960/3750."""

# Catalyst 2960 and 3750 defaults, from the Catalyst 2960 Switch Software Configuration
# Guide, chapter "Configuring QoS" (see the model catalog's sources for the pages). Queue
# numbers here are 1-based, as in IOS.
CATALYST_COS_TO_QUEUE = (2, 2, 3, 3, 4, 1, 4, 4)
"""CoS 0,1 -> queue 2; 2,3 -> 3; 4,6,7 -> 4; 5 -> 1 (``mls qos srr-queue output cos-map``)."""
CATALYST_DSCP_TO_QUEUE = tuple(
    2 if d < 16 else 3 if d < 32 else 1 if 40 <= d < 48 else 4 for d in range(64)
)
"""DSCP 0-15 -> queue 2; 16-31 -> 3; 32-39 and 48-63 -> 4; 40-47 -> 1."""
CATALYST_COS_TO_DSCP = (0, 8, 16, 24, 32, 40, 48, 56)
"""The default CoS-to-DSCP map (``mls qos map cos-dscp``)."""
CATALYST_SHARED_WEIGHTS = (25, 25, 25, 25)
"""``srr-queue bandwidth share 25 25 25 25``: the four queues share the link equally."""
CATALYST_QUEUE_LIMITS = (0.25, 0.25, 0.25, 0.25)
"""``mls qos queue-set output 1 buffers 25 25 25 25``: a quarter of the buffer each."""


class Trust(StrEnum):
    """Which priority mark an ingress port believes (``mls qos trust``)."""

    NONE = "none"
    COS = "cos"
    DSCP = "dscp"


@dataclass(frozen=True)
class QueueMaps:
    """A switch's maps from marks to egress queues (0-based indices) and CoS to DSCP."""

    cos_to_queue: tuple[int, ...] = tuple(q - 1 for q in CATALYST_COS_TO_QUEUE)
    dscp_to_queue: tuple[int, ...] = tuple(q - 1 for q in CATALYST_DSCP_TO_QUEUE)
    cos_to_dscp: tuple[int, ...] = CATALYST_COS_TO_DSCP

    def __post_init__(self) -> None:
        if len(self.cos_to_queue) != 8 or len(self.dscp_to_queue) != 64:
            raise ValueError("a CoS map has 8 entries and a DSCP map 64")
        if len(self.cos_to_dscp) != 8 or not all(0 <= d < 64 for d in self.cos_to_dscp):
            raise ValueError("the CoS-to-DSCP map has 8 DSCP values (0..63)")
        for q in (*self.cos_to_queue, *self.dscp_to_queue):
            if not 0 <= q < QUEUES:
                raise ValueError(f"queue {q + 1} out of range 1..{QUEUES}")

    @classmethod
    def catalyst(
        cls,
        cos: Mapping[int, int] | None = None,
        dscp: Mapping[int, int] | None = None,
    ) -> QueueMaps:
        """The Catalyst default maps, with ``cos``/``dscp`` -> 1-based queue overrides."""
        cos_q = list(CATALYST_COS_TO_QUEUE)
        dscp_q = list(CATALYST_DSCP_TO_QUEUE)
        for value, queue in (cos or {}).items():
            cos_q[value] = queue
        for value, queue in (dscp or {}).items():
            dscp_q[value] = queue
        return cls(tuple(q - 1 for q in cos_q), tuple(q - 1 for q in dscp_q))


@dataclass(frozen=True)
class PortQos:
    """One interface's QoS settings: trust at ingress, its egress queues."""

    trust: Trust = Trust.NONE
    expedite: bool = False
    """``priority-queue out``: queue 1 is served before the others, always."""
    weights: tuple[int, ...] = CATALYST_SHARED_WEIGHTS
    limits: tuple[float, ...] = CATALYST_QUEUE_LIMITS

    def queue_settings(self) -> QueueSettings:
        """The egress scheduler's settings for this interface."""
        return QueueSettings(self.weights, self.limits, 0 if self.expedite else None)


# Reading and writing the marks ---------------------------------------------------------


def frame_cos(frame: Frame) -> int:
    """The CoS a frame arrives with: its tag's priority code point, 0 when it has no tag."""
    return frame.pcp if frame.vlan is not None else 0


def frame_dscp(frame: Frame) -> int | None:
    """The DSCP of the IPv4 packet a frame carries, or None for a non-IP frame."""
    payload = frame.payload
    if frame.ethertype != ETHERTYPE_IPV4 or payload is None or len(payload) < 20:
        return None
    return payload[1] >> 2


def with_dscp(frame: Frame, dscp: int) -> Frame:
    """``frame`` with its IPv4 packet's DSCP set to ``dscp`` (ECN bits kept).

    The header checksum is updated as RFC 1624 eqn. 3 says, HC' = ~(~HC + ~m + m'),
    where m is the 16-bit word holding version, IHL and TOS.
    """
    payload = frame.payload
    assert payload is not None
    old_word = (payload[0] << 8) | payload[1]
    tos = (dscp << 2) | (payload[1] & 0x03)
    new_word = (payload[0] << 8) | tos
    checksum = (payload[10] << 8) | payload[11]
    total = (~checksum & 0xFFFF) + (~old_word & 0xFFFF) + new_word
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    checksum = ~total & 0xFFFF
    rewritten = (
        payload[:1] + bytes([tos]) + payload[2:10] + checksum.to_bytes(2, "big") + payload[12:]
    )
    return dataclasses.replace(frame, payload=rewritten)


def with_cos(frame: Frame, cos: int) -> Frame:
    """``frame`` labelled with ``cos``: in its tag's PCP if it has one, and in any case
    as the switch's internal label, which picks the egress queue of a non-IP frame and
    becomes the PCP if a trunk tags the frame on its way out."""
    if frame.pcp == cos:
        return frame
    return dataclasses.replace(frame, pcp=cos)


class SwitchQos:
    """``mls qos`` on one switch: classifies frames at ingress, picks their egress queue."""

    def __init__(self, maps: QueueMaps, trust: Mapping[Port, Trust]) -> None:
        self.maps = maps
        self.trust = dict(trust)

    def classify(self, ingress: Port, frame: Frame) -> Frame:
        """The frame as the switch forwards it: its marks rewritten per the port's trust."""
        trust = self.trust.get(ingress, Trust.NONE)
        dscp = frame_dscp(frame)
        if trust is Trust.NONE:
            cos, new_dscp = 0, 0
        elif trust is Trust.COS:
            cos = frame_cos(frame)
            new_dscp = self.maps.cos_to_dscp[cos]
        else:
            new_dscp = dscp if dscp is not None else 0
            cos = new_dscp >> 3 if dscp is not None else frame_cos(frame)
        if dscp is not None and dscp != new_dscp:
            frame = with_dscp(frame, new_dscp)
        return with_cos(frame, cos)

    def queue_of(self, frame: Frame) -> int:
        """The egress queue (0-based) for a classified frame: by DSCP if IP, else by CoS
        (the label :meth:`classify` gave it, which an access port's untagging keeps)."""
        dscp = frame_dscp(frame)
        if dscp is not None:
            return self.maps.dscp_to_queue[dscp]
        return self.maps.cos_to_queue[frame.pcp]
