"""The media catalog: IEEE 802.3 figures, and the delays the simulation draws from them.

Two columns of the catalog describe the same cable twice: Table 13-3's round-trip bit
times per metre, and the one-way nanoseconds per metre the simulation propagates
signals at. They must agree, and a repeater hop must cost what the catalog says.
"""

from __future__ import annotations

import pytest

from netsim.phy.media import MEDIA, SOURCES, repeater_delay

BT = 1e-7  # one bit time at 10 Mb/s


@pytest.mark.parametrize("name", [n for n, m in MEDIA.items() if m.delay_bt is not None])
def test_propagation_is_half_the_table_13_3_round_trip(name: str):
    """At 10 Mb/s a bit time is 100 ns: x bit times per metre round trip is 50x ns/m
    one way (10BASE5: 0.0866 -> 4.33 ns/m, the figure vendors quote)."""
    medium = MEDIA[name]
    assert medium.delay_bt is not None
    assert medium.ns_per_m == pytest.approx(medium.delay_bt.per_metre * 50, abs=0.01)
    assert medium.propagation_delay(100.0) == pytest.approx(100 * medium.ns_per_m * 1e-9)


def test_coax_limits():
    thick, thin = MEDIA["10BASE5"], MEDIA["10BASE2"]
    assert (thick.max_stations, thick.min_tap_spacing_m) == (100, 2.5)
    assert (thin.max_stations, thin.min_tap_spacing_m) == (30, 0.5)
    assert thick.coax and thin.coax and not MEDIA["10BASE-T"].coax


def test_a_repeater_hop_costs_half_a_middle_segment():
    """10BASE-T to 10BASE-T: 42 / 2 = 21 bit times; coax 46.5 / 2; coax to FOIRL the
    mean of the two halves; a cable that names no medium counts as 10BASE-T."""
    t, coax, foirl = MEDIA["10BASE-T"], MEDIA["10BASE5"], MEDIA["FOIRL"]
    assert repeater_delay(10e6, t, t) == pytest.approx(21 * BT)
    assert repeater_delay(10e6, coax, coax) == pytest.approx(23.25 * BT)
    assert repeater_delay(10e6, coax, foirl) == pytest.approx((46.5 + 29) / 4 * BT)
    assert repeater_delay(10e6, foirl, coax) == repeater_delay(10e6, coax, foirl)
    assert repeater_delay(10e6, None, None) == repeater_delay(10e6, t, t)
    assert repeater_delay(100e6, None, MEDIA["100BASE-TX"]) == pytest.approx(0.46e-6)
    assert repeater_delay(1e9, None, None) == 0.0


def test_every_figure_has_a_source():
    assert len(SOURCES) >= 8
    assert all(text.strip() for text in SOURCES.values())


def test_netsim_models_lists_the_media_with_their_sources(capsys):
    from netsim.cli import main

    assert main(["models", "--sources"]) == 0
    out = capsys.readouterr().out
    assert "10BASE5        10 Mb/s    500 m  half only  4.33  100 / 2.5 m" in out
    assert "11.75 / 46.5 / 169.5 + 0.0866/m" in out
    assert "Table 13-3" in out and "5-4-3 rule: IEEE 802.3 13.3.1" in out
