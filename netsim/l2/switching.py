"""The three switching modes and how many bytes each reads before it acts.

Counting from the first bit of the preamble (RFC 1242 latency counts the preamble):

- store-and-forward reads the whole frame and checks the FCS;
- cut-through reads preamble+SFD and the 14-byte header (22 bytes): enough to know the
  destination; it starts egress at once if the egress port is idle and not faster than the
  ingress port (no underrun), and otherwise handles the frame store-and-forward;
  a frame with an 802.1Q tag is decided 4 bytes later (26), since a VLAN-aware switch
  needs the VLAN ID to look the destination up (learning is per VLAN);
- fragment-free reads the first 64 bytes of the frame (72 with the preamble): a collision
  fragment is always shorter, so it never leaves the switch; later corruption passes.
"""

from __future__ import annotations

from enum import StrEnum

from netsim.l2.frame import HEADER_BYTES, MIN_FRAME_BYTES, PREAMBLE_SFD_BYTES


class SwitchingMode(StrEnum):
    """How much of a frame a switch reads before it starts sending it on."""

    STORE_AND_FORWARD = "store-and-forward"
    CUT_THROUGH = "cut-through"
    FRAGMENT_FREE = "fragment-free"

    @property
    def decisive_bytes(self) -> int | None:
        """Wire bytes read before forwarding may begin; None means the whole frame."""
        if self is SwitchingMode.CUT_THROUGH:
            return PREAMBLE_SFD_BYTES + HEADER_BYTES
        if self is SwitchingMode.FRAGMENT_FREE:
            return PREAMBLE_SFD_BYTES + MIN_FRAME_BYTES
        return None
