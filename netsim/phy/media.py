"""The Ethernet media catalog (IEEE 802.3): rates, segment lengths, duplex, delays.

A link may name its medium (``media: 100BASE-TX``) and a cable ``length``; the medium then
gives the link its rate, checks the length against the segment limit, says whether full
duplex is possible, and turns length into propagation delay at that cable's own speed.

The 10 Mb/s media also carry the figures of IEEE 802.3 clause 13 ("System considerations
for multisegment 10 Mb/s baseband networks"): how many stations a coax segment takes and
how far apart, and the *segment delay values* of Transmission System Model 2 (Table 13-3),
in bit times, round trip. Those values are what the collision-domain checks add up, and
half a middle-segment value is what a repeater hop costs in the simulation
(:func:`repeater_delay`). Every figure is listed with where it comes from in
:data:`SOURCES`; ``netsim models --sources`` prints them.
"""

from __future__ import annotations

from dataclasses import dataclass

SIGNAL_SPEED_M_PER_S = 2.0e8
"""About two thirds of c, for a cable that names no medium (velocity factor 0.66..0.77)."""

BIT_TIME_10M = 1e-7
"""One bit time at 10 Mb/s: the unit of every clause 13 figure."""


@dataclass(frozen=True)
class SegmentDelay:
    """One row of IEEE 802.3 Table 13-3: a segment's round-trip delay, in bit times.

    A path between the two farthest stations is a *left end* segment, any number of
    *middle* segments and a *right end* segment, joined by repeaters. Each base value
    covers the segment's MAUs (and, for middle segments, the repeater it feeds); the
    cable adds ``per_metre`` bit times for every metre.
    """

    left: float
    middle: float
    right: float
    per_metre: float

    def value(self, position: str, length_m: float) -> float:
        """Round-trip bit times of this segment at ``position`` (left, middle or right)."""
        base = {"left": self.left, "middle": self.middle, "right": self.right}[position]
        return base + self.per_metre * length_m


@dataclass(frozen=True)
class Medium:
    """One Ethernet physical medium."""

    name: str
    rate_bps: float
    max_segment_m: float
    full_duplex: bool
    """False for shared coax, where every station is on one bus and must run CSMA/CD."""
    description: str
    ns_per_m: float = 1e9 / SIGNAL_SPEED_M_PER_S
    """One-way propagation delay of the cable, nanoseconds per metre."""
    delay_bt: SegmentDelay | None = None
    """The clause 13 segment delay values (10 Mb/s media only)."""
    max_stations: int | None = None
    """Most MAUs (stations and repeater ports) one coax segment may carry."""
    min_tap_spacing_m: float | None = None
    """Closest two taps on one coax segment may be."""

    @property
    def coax(self) -> bool:
        """A *mixing segment*: a bus that more than two stations can tap."""
        return self.max_stations is not None

    def propagation_delay(self, length_m: float) -> float:
        """One-way delay of a signal over ``length_m`` metres of this medium, in seconds."""
        return length_m * self.ns_per_m * 1e-9


MEDIA: dict[str, Medium] = {
    m.name: m
    for m in (
        Medium(
            "10BASE5", 10e6, 500, False, "thick coax bus, external transceiver on an AUI cable",
            ns_per_m=4.33, delay_bt=SegmentDelay(11.75, 46.5, 169.5, 0.0866),
            max_stations=100, min_tap_spacing_m=2.5,
        ),
        Medium(
            "10BASE2", 10e6, 185, False, "thin coax bus, BNC T-connectors",
            ns_per_m=5.13, delay_bt=SegmentDelay(11.75, 46.5, 169.5, 0.1026),
            max_stations=30, min_tap_spacing_m=0.5,
        ),
        Medium(
            "10BASE-T", 10e6, 100, True, "twisted pair, category 3 or better",
            ns_per_m=5.65, delay_bt=SegmentDelay(15.25, 42.0, 165.0, 0.113),
        ),
        Medium(
            "FOIRL", 10e6, 1000, True, "fibre-optic inter-repeater link",
            ns_per_m=5.0, delay_bt=SegmentDelay(7.75, 29.0, 152.0, 0.1),
        ),
        Medium(
            "10BASE-FL", 10e6, 2000, True, "multimode fibre",
            ns_per_m=5.0, delay_bt=SegmentDelay(12.25, 33.5, 156.5, 0.1),
        ),
        Medium("100BASE-TX", 100e6, 100, True, "twisted pair, category 5", ns_per_m=5.56),
        Medium("1000BASE-T", 1e9, 100, True, "twisted pair, category 5e", ns_per_m=5.56),
        Medium(
            "1000BASE-SX", 1e9, 550, True, "multimode fibre, 850 nm (~550 m on 50 um OM2)",
            ns_per_m=5.0,
        ),
        Medium("1000BASE-LX", 1e9, 5000, True, "single-mode fibre, 1310 nm", ns_per_m=5.0),
    )
}  # fmt: skip
"""Every medium a scenario can name, by its IEEE 802.3 name."""

AUI = SegmentDelay(0.0, 0.0, 0.0, 0.1026)
"""An AUI (drop) cable beyond the 2 m each segment value already includes."""
AUI_MAX_M = 50.0
"""Longest AUI cable between a station and its 10BASE5 transceiver."""
AUI_NS_PER_M = 5.13

PDV_LIMIT_BT = 575.0
"""Model 2: a path's round-trip delay value must not exceed 575 bit times: the 512-bit
slot plus the 64-bit preamble, less one, so a collision is always heard while the
sender is still within its first 64 bytes."""
PDV_MARGIN_BT = 5.0
"""Model 2 adds up to 5 bit times of margin to every path delay value."""

PDV_LIMIT_100M_BT = 512.0
"""100 Mb/s (clause 29): the round trip must not exceed the 512-bit slot."""
DTE_PAIR_100M_BT = 100.0
"""Clause 29: round-trip delay of two 100BASE-TX/FX stations."""
CLASS_II_REPEATER_BT = 92.0
"""Clause 29: round-trip delay of a Class II 100 Mb/s repeater (a hub)."""
MARGIN_100M_BT = 4.0
"""Clause 29: the recommended margin."""
MAX_REPEATERS_100M = 2
"""Clause 29: at most two Class II repeaters in a 100 Mb/s collision domain."""

MAX_SEGMENTS = 5
MAX_REPEATERS = 4
MAX_MIXING_SEGMENTS = 3
"""The 5-4-3 rule (Model 1): between any two stations at most 5 segments and 4
repeaters, and of 5 segments at most 3 mixing (coax) ones; the others are links."""

DEFAULT_10M = "10BASE-T"
"""What a 10 Mb/s cable that names no medium is taken to be."""


def repeater_delay(rate_bps: float, into: Medium | None, out: Medium | None) -> float:
    """One-way seconds a hub (repeater) adds to a signal going from ``into`` to ``out``.

    At 10 Mb/s a repeater hop costs half the Model 2 middle-segment base value of the
    segments on either side (averaged when they differ, so the delay is the same both
    ways): 21 bit times (2.1 us) between 10BASE-T ports, 23.25 between coax ports. At
    100 Mb/s a Class II repeater costs half its 92-bit round trip. There is no catalog
    figure for gigabit repeaters (they were specified but never sold): zero.
    """
    if rate_bps == 10e6:
        halves = [
            (m if m is not None and m.delay_bt is not None else MEDIA[DEFAULT_10M]).delay_bt
            for m in (into, out)
        ]
        return sum(h.middle for h in halves if h is not None) / 4 * BIT_TIME_10M
    if rate_bps == 100e6:
        return CLASS_II_REPEATER_BT / 2 / rate_bps
    return 0.0


SOURCES: dict[str, str] = {
    "segment delay values (left/middle/right base, per metre)": (
        "IEEE 802.3 clause 13.4, Table 13-3 (Transmission System Model 2), as reproduced in "
        "C. Spurgeon, Quick Reference Guide to 10-Mbps Multi-Segment Configuration, "
        "Table 7.1: http://www.ethermanage.com/ethernet/10quickref/ch7qr_11.html "
        "(2 km 10BASE-FL: left end 212.25, right end 356.5 bit times)"
    ),
    "575 bit-time path delay limit, 5 bit-time margin": (
        "IEEE 802.3 13.4.1; Spurgeon, op. cit.: 212.25 + 356.5 + 5 = 573.75 <= 575"
    ),
    "AUI cable 0.1026 bit times/m, 50 m, 5.13 ns/m": (
        "IEEE 802.3 Table 13-3; Allied Telesis CentreCOM 3600 installation manual, p. 54: "
        "50 m of AUI cable, 257 ns"
    ),
    "propagation ns/m (10 Mb/s media)": (
        "half the Table 13-3 round-trip bit times per metre: 10BASE5 4.33 ns/m and "
        "10BASE2 5.13 ns/m also in the Allied Telesis manual, p. 56"
    ),
    "propagation ns/m (100 Mb/s and gigabit media)": (
        "IEEE 802.3 clause 29: category 5 cable 1.112 bit times/m, fibre 1.0 (round trip "
        "at 100 Mb/s), as listed in the Net Optics fiber mode converter manual, p. 6"
    ),
    "stations per coax segment, tap spacing": (
        "IEEE 802.3 8.6.2 (10BASE5: 100 MAUs, 2.5 m) and 10.7.2 (10BASE2: 30 MAUs, 0.5 m); "
        "Allied Telesis CentreCOM 3600 installation manual, p. 56"
    ),
    "5-4-3 rule": (
        "IEEE 802.3 13.3.1 (Transmission System Model 1); G. Fairhurst, "
        "https://erg.abdn.ac.uk/users/gorry/course/lan-pages/repeater-5-4-3.html"
    ),
    "100 Mb/s: DTE pair 100, Class II repeater 92 bit times, 512 limit, 4 margin": (
        "IEEE 802.3 clause 29 (Model 2 for 100 Mb/s), as listed in the Net Optics fiber "
        "mode converter manual, p. 6; Class II repeaters: at most two (Model 1)"
    ),
    "repeater hop in the simulation": (
        "derived: half the Table 13-3 middle-segment base value (a repeater and the MAUs "
        "of the segment it feeds); the stations' own MAU delays (the end-segment bases) "
        "are not simulated, so a path's simulated round trip stays below its Model 2 "
        "value; Class II: half of 92 bit times"
    ),
}
"""Where each figure of this catalog comes from."""
