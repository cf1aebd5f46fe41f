"""The classic Ethernet rules, checked before a run: 5-4-3, the round-trip budget, coax.

A shared Ethernet works only if every sender still hears a collision while it sends its
first 64 bytes. IEEE 802.3 gives a rule of thumb (Model 1: at most 5 segments and 4
repeaters between two stations, at most 3 of the segments coax) and a calculation (Model
2: the path delay value, a sum of Table 13-3 segment values, at most 575 bit times).
netsim warns when a scenario breaks either, and refuses it under ``strict: true``.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import netsim
from netsim.cli import main


def chain(hubs: int, media: str = "10BASE-T", length: str = "100m", extra: str = "") -> str:
    """Station a, ``hubs`` repeaters in a row, station b: ``hubs + 1`` segments."""
    nodes = "\n".join(f"    hub{i}: {{kind: hub, ports: 2}}" for i in range(1, hubs + 1))
    names = ["a"] + [f"hub{i}" for i in range(1, hubs + 1)] + ["b"]
    links = "\n".join(f"    - {{endpoints: [{x}, {y}]}}" for x, y in itertools.pairwise(names))
    return f"""
name: chain
duration: 1ms
{extra}
topology:
  defaults: {{link: {{media: {media}, length: {length}}}}}
  nodes:
    a: {{kind: host}}
    b: {{kind: host}}
{nodes}
  links:
{links}
traffic:
  - {{kind: frames, from: a, to: b, count: 1}}
"""


def test_six_chained_hubs_over_700_m_break_the_5_4_3_rule():
    """The issue's example: 7 segments and 6 repeaters between a and b."""
    scenario = netsim.loads(chain(6))
    assert len(scenario.warnings) == 1
    warning = str(scenario.warnings[0])
    assert "5-4-3 rule broken" in warning
    assert "a:eth0 to b:eth0 crosses 7 segments (0 of them coax) and 6 repeaters" in warning
    assert "topology.links[5]" in warning  # the sixth segment, the first one too many


def test_a_legal_four_repeater_path_is_quiet():
    """5 segments of 10BASE-T and 4 repeaters: within Model 1, and Model 2 gives
    26.55 + 3 x 53.3 + 176.3 + 5 = 367.75 bit times, well within 575."""
    assert netsim.loads(chain(4)).warnings == []


def test_strict_makes_a_broken_rule_an_error(tmp_path, capsys):
    """Under ``strict: true`` validate refuses the scenario: exit status 2, one line."""
    path = tmp_path / "chain.yaml"
    path.write_text(chain(6, extra="strict: true"))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1
    assert "5-4-3 rule broken" in err and "(strict: true makes this an error)" in err
    # Without strict, validate passes and warns.
    path.write_text(chain(6))
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr()
    assert "ok" in out.out and out.err.startswith("warning: ") and "5-4-3" in out.err


def test_the_path_delay_value_adds_up_table_13_3():
    """Spurgeon's Model 2 example: two 2 km 10BASE-FL links through one repeater, 212.25 +
    356.5 + 5 = 573.75 bit times: legal. Put a 10 m 10BASE-T segment and a second
    repeater in the middle (42 + 0.113 x 10 = 43.13 more): 616.88, over 575. Model 1
    still holds (3 segments, 2 repeaters): only the calculation catches it."""
    assert netsim.loads(chain(1, media="10BASE-FL", length="2km")).warnings == []
    text = chain(2, media="10BASE-FL", length="2km").replace(
        "- {endpoints: [hub1, hub2]}", "- {endpoints: [hub1, hub2], media: 10BASE-T, length: 10m}"
    )
    (warning,) = netsim.loads(text).warnings
    assert "round-trip delay value of 616.9 bit times" in str(warning)


def test_100_mbps_allows_two_class_ii_repeaters():
    """Fast Ethernet's budget is tighter: two hubs at most, and 512 bit times."""
    assert netsim.loads(chain(2, media="100BASE-TX", length="5m")).warnings == []
    (warning,) = netsim.loads(chain(3, media="100BASE-TX", length="5m")).warnings
    assert "crosses 3 100 Mb/s repeaters" in str(warning)


def coax(media: str, stations: list[str], length: str = "185m") -> str:
    """Hosts on one coax bus at the given positions."""
    nodes = "\n".join(f"    h{i}: {{kind: host}}" for i in range(len(stations)))
    links = "\n".join(
        f"    - {{endpoints: [h{i}, bus], at: {at}}}" for i, at in enumerate(stations)
    )
    return f"""
name: coax
duration: 1ms
topology:
  nodes:
    bus: {{kind: coax, media: {media}, length: {length}}}
{nodes}
  links:
{links}
"""


def test_a_thin_coax_segment_takes_30_stations_half_a_metre_apart():
    thirty = [f"{i * 0.5}m" for i in range(30)]
    assert netsim.loads(coax("10BASE2", thirty)).warnings == []
    (warning,) = netsim.loads(coax("10BASE2", [*thirty, "100m"])).warnings
    assert "bus has 31 taps; a 10BASE2 segment takes at most 30 stations" in str(warning)
    (warning,) = netsim.loads(coax("10BASE2", ["0m", "10m", "10.3m"])).warnings
    assert "h1:eth0 at 10 m and h2:eth0 at 10.3 m" in str(warning)
    assert "at least 0.5 m apart" in str(warning)


def test_thick_coax_taps_are_2_5_m_apart():
    (warning,) = netsim.loads(coax("10BASE5", ["0m", "2m"], "500m")).warnings
    assert "at least 2.5 m apart" in str(warning)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("at: 1m}", "a tap at 200 m is off its end"),
        ("at: 1m, length: 5m}", "clamps on with a T-connector: no drop cable length"),
        ("at: 1m, duplex: full}", "shared coax bus: half duplex only"),
        ("}", "a tap on bus needs 'at'"),
    ],
)
def test_bad_taps_are_refused(change: str, message: str):
    text = coax("10BASE2", ["0m", "1m"]).replace("at: 1m}", change)
    if "200 m" in message:
        text = text.replace("at: 1m}", "at: 200m}")
    with pytest.raises(netsim.ScenarioError) as caught:
        netsim.loads(text)
    assert message in str(caught.value)
    assert "topology.links[1]" in str(caught.value)


def test_at_belongs_to_a_coax_tap():
    text = chain(1).replace("- {endpoints: [a, hub1]}", "- {endpoints: [a, hub1], at: 3m}")
    with pytest.raises(netsim.ScenarioError) as caught:
        netsim.loads(text)
    assert "'at' places a tap on a coax node; neither end is one" in str(caught.value)


@settings(derandomize=True, max_examples=25, deadline=None)
@given(hubs=st.integers(0, 8), metres=st.integers(1, 100))
def test_a_chain_warns_exactly_when_a_rule_is_broken(hubs: int, metres: int):
    """Any chain of 10BASE-T segments: the 5-4-3 warning comes iff there are more than 4
    repeaters, the path-delay warning iff Table 13-3's sum (left end 15.25, middle 42,
    right end 165, 0.113 per metre, 5 margin) is over 575."""
    warnings = [str(w) for w in netsim.loads(chain(hubs, length=f"{metres}m")).warnings]
    segments = hubs + 1
    pdv = 15.25 + 165 + 42 * max(segments - 2, 0) + 0.113 * metres * segments + 5
    assert any("5-4-3" in w for w in warnings) == (hubs > 4)
    assert any("round-trip delay value" in w for w in warnings) == (pdv > 575)
