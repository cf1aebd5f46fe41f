"""Per-hop timing of the three switching modes, checked against RFC 1242 arithmetic.

With R the link rate, d the propagation delay, L the frame length and W = L + 8 the bytes on
the wire (preamble and SFD included), one frame crossing n links (n - 1 switches) takes:

- store-and-forward: n * (W*8/R + d): every switch waits for the last bit;
- cut-through: W*8/R + (n-1) * 22*8/R + n*d: every switch waits for preamble + header;
- fragment-free: W*8/R + (n-1) * 72*8/R + n*d: every switch waits for 64 bytes of frame.

The formulas are the oracle (../shared/reference/validation.md); the simulator must agree
within a nanosecond.
"""

from __future__ import annotations

import pytest

import netsim

NS = 1e-9
RATES = {"10M": 10e6, "100M": 100e6, "1G": 1e9}


def probe_latency(scenario: netsim.LoadedScenario) -> float:
    frames = netsim.run(scenario).frames
    probe = frames[frames["traffic"] == "probe"]
    assert list(probe["outcome"]) == ["delivered"]
    return float(probe["latency"].iloc[0])


@pytest.mark.parametrize("rate", ["10M", "100M", "1G"])
@pytest.mark.parametrize("size", [64, 100, 512, 1518])
@pytest.mark.parametrize("switches", [1, 2, 3, 4])
@pytest.mark.parametrize("mode", ["store-and-forward", "cut-through", "fragment-free"])
def test_equal_rates_match_the_formula(chain, mode: str, switches: int, size: int, rate: str):
    """One frame across n links of equal rate takes exactly what the mode's formula says."""
    n = switches + 1
    r, d, w = RATES[rate], 50e-9, size + 8
    if mode == "store-and-forward":
        expected = n * (w * 8 / r + d)
    elif mode == "cut-through":
        expected = w * 8 / r + (n - 1) * 22 * 8 / r + n * d
    else:
        expected = w * 8 / r + (n - 1) * min(72, w) * 8 / r + n * d
    latency = probe_latency(chain([mode] * switches, [rate] * n, size=size))
    assert latency == pytest.approx(expected, abs=1 * NS)


def test_store_and_forward_with_mixed_rates_sums_each_hop(chain):
    """Store-and-forward serializes the whole frame once per link, at that link's rate."""
    w, d = 1000 + 8, 50e-9
    latency = probe_latency(chain(["store-and-forward"] * 2, ["100M", "1G", "10M"], size=1000))
    assert latency == pytest.approx(w * 8 / 100e6 + w * 8 / 1e9 + w * 8 / 10e6 + 3 * d, abs=NS)


def test_cut_through_into_a_faster_port_falls_back_to_store_and_forward(chain):
    """A cut-through switch cannot start a 1G egress from a 100M ingress (it would run out
    of bytes), so sw1 stores the frame; sw2 (1G in, 1G out) cuts through."""
    w, d = 1518 + 8, 50e-9
    latency = probe_latency(chain(["cut-through"] * 2, ["100M", "1G", "1G"], size=1518))
    expected = (w * 8 / 100e6 + d) + (d + 22 * 8 / 1e9) + (w * 8 / 1e9 + d)
    assert latency == pytest.approx(expected, abs=NS)


def test_cut_through_into_a_slower_port_starts_after_the_header(chain):
    """From 1G into 100M nothing can run dry: egress starts once the header is in."""
    w, d = 1518 + 8, 50e-9
    latency = probe_latency(chain(["cut-through"], ["1G", "100M"], size=1518))
    assert latency == pytest.approx(d + 22 * 8 / 1e9 + w * 8 / 100e6 + d, abs=NS)


def test_fragment_free_into_a_faster_port_falls_back_too(chain):
    """Fragment-free follows the same underrun rule as cut-through."""
    w, d = 512 + 8, 50e-9
    latency = probe_latency(chain(["fragment-free"], ["100M", "1G"], size=512))
    assert latency == pytest.approx(w * 8 / 100e6 + d + w * 8 / 1e9 + d, abs=NS)


def test_processing_delay_adds_once_per_switch(chain):
    """A lookup delay is paid at every switch, after the decisive bytes are in."""
    text = chain(["store-and-forward"] * 3, ["1G"] * 4, size=64).data
    text["topology"]["defaults"] = {"switch": {"processing_delay": "2us"}}
    scenario = netsim.loads(__import__("yaml").safe_dump(text))
    w = 72
    assert probe_latency(scenario) == pytest.approx(4 * (w * 8 / 1e9 + 50e-9) + 3 * 2e-6, abs=NS)


def test_cut_through_behind_a_busy_egress_waits_for_the_whole_frame():
    """Two frames arrive together for one egress port: the first cuts through, the second
    finds the port busy, is stored whole, and leaves after the first and its gap."""
    scenario = netsim.loads(
        """
name: busy
duration: 1s
topology:
  defaults: {link: {speed: 1G, delay: 0s}}
  nodes:
    h1: {kind: host}
    h3: {kind: host}
    h2: {kind: host}
    sw1: {kind: switch, ports: 4, mode: cut-through}
  links:
    - endpoints: [h1, sw1]
    - endpoints: [h3, sw1]
    - endpoints: [sw1, h2]
traffic:
  - {kind: frames, name: warmup, from: h2, to: h1, count: 1}
  - {kind: frames, name: a, from: h1, to: h2, size: 1518, count: 1, start: 1ms}
  - {kind: frames, name: b, from: h3, to: h2, size: 1518, count: 1, start: 1ms}
"""
    )
    frames = netsim.run(scenario).frames.set_index("traffic")
    byte = 8 / 1e9
    assert frames.loc["a", "latency"] == pytest.approx((22 + 1526) * byte, abs=NS)
    # b: stored until its last bit (1526 bytes), then waits for a's end plus the 12-byte gap.
    assert frames.loc["b", "latency"] == pytest.approx((22 + 1526 + 12 + 1526) * byte, abs=NS)
