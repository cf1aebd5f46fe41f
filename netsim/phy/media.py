"""The Ethernet media catalog (IEEE 802.3): rates, segment lengths, duplex, propagation.

A link may name its medium (``media: 100BASE-TX``) and a cable ``length``; the medium then
gives the link its rate, checks the length against the segment limit, says whether full
duplex is possible, and turns length into propagation delay.
"""

from __future__ import annotations

from dataclasses import dataclass

SIGNAL_SPEED_M_PER_S = 2.0e8
"""About two thirds of c: the velocity factor of copper and fibre is 0.66..0.77."""


@dataclass(frozen=True)
class Medium:
    """One Ethernet physical medium."""

    name: str
    rate_bps: float
    max_segment_m: float
    full_duplex: bool
    """False for shared coax, where every station is on one bus and must run CSMA/CD."""
    description: str

    def propagation_delay(self, length_m: float) -> float:
        """One-way delay of a signal over ``length_m`` metres of this medium, in seconds."""
        return length_m / SIGNAL_SPEED_M_PER_S


MEDIA: dict[str, Medium] = {
    m.name: m
    for m in (
        Medium("10BASE5", 10e6, 500, False, "thick coax bus, external transceiver on an AUI cable"),
        Medium("10BASE2", 10e6, 185, False, "thin coax bus, BNC T-connectors"),
        Medium("10BASE-T", 10e6, 100, True, "twisted pair, category 3 or better"),
        Medium("FOIRL", 10e6, 1000, True, "fibre-optic inter-repeater link"),
        Medium("10BASE-FL", 10e6, 2000, True, "multimode fibre"),
        Medium("100BASE-TX", 100e6, 100, True, "twisted pair, category 5"),
        Medium("1000BASE-T", 1e9, 100, True, "twisted pair, category 5e"),
        Medium("1000BASE-SX", 1e9, 550, True, "multimode fibre, 850 nm (~550 m on 50 um OM2)"),
        Medium("1000BASE-LX", 1e9, 5000, True, "single-mode fibre, 1310 nm"),
    )
}
"""Every medium a scenario can name, by its IEEE 802.3 name."""
