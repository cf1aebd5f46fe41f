"""The numbers behind the figures, checked exactly on tables small enough to work by hand.

A MAC table grows by one entry per ``learn`` and shrinks by one per ``age-out``; nothing
else changes its size. A port's transmit utilization is the share of the run its
transmitter was busy, counting each frame's 8 bytes of preamble and 12 of inter-frame
gap, as a traffic ``rate`` does: a host sending at ``rate: 50%`` shows 50 %.
"""

from __future__ import annotations

import pandas as pd
import pytest

import netsim
from netsim.plots.data import ecdf, mac_table_size, port_utilization

EVENTS = pd.DataFrame(
    [
        (0.0010, "sw1", "learn", "02:00:00:00:00:01", "1", 1),
        (0.0010, "sw1", "flood", "ff:ff:ff:ff:ff:ff", "1", 1),
        (0.0020, "sw2", "learn", "02:00:00:00:00:01", "3", 1),
        (0.0020, "sw1", "learn", "02:00:00:00:00:02", "2", 1),
        (0.0030, "sw1", "refresh", "02:00:00:00:00:01", "1", 1),
        (0.0040, "sw1", "move", "02:00:00:00:00:02", "4", 1),
        (0.0050, "sw1", "full", "02:00:00:00:00:09", "3", 1),
        (0.0060, "sw1", "learn", "02:00:00:00:00:03", "3", 1),
        (0.0070, "sw1", "age-out", "02:00:00:00:00:01", "1", 1),
        # One instant, two changes: one row, the size after both.
        (0.0080, "sw1", "age-out", "02:00:00:00:00:02", "4", 1),
        (0.0080, "sw1", "learn", "02:00:00:00:00:01", "1", 1),
        (0.0090, "sw2", "age-out", "02:00:00:00:00:01", "3", 1),
    ],
    columns=["time", "device", "event", "mac", "port", "vlan"],
)


def test_mac_table_size_counts_learns_and_age_outs_only():
    sizes = mac_table_size(EVENTS)
    expected = pd.DataFrame(
        {
            "device": ["sw1", "sw1", "sw1", "sw1", "sw1", "sw2", "sw2"],
            "time": [0.001, 0.002, 0.006, 0.007, 0.008, 0.002, 0.009],
            "size": [1, 2, 3, 2, 2, 1, 0],
        }
    )
    pd.testing.assert_frame_equal(sizes, expected)


def test_mac_table_size_of_no_events_is_an_empty_table():
    empty = pd.DataFrame(columns=["time", "device", "event", "mac", "port", "vlan"])
    sizes = mac_table_size(empty)
    assert sizes.empty
    assert list(sizes.columns) == ["device", "time", "size"]
    floods_only = EVENTS[EVENTS["event"] == "flood"]
    assert mac_table_size(floods_only).empty


def test_mac_table_size_follows_the_learning_aging_story():
    """sw1 learns h1 then h2, forgets h2 at 4 ms and h1 at 5 ms, relearns both later."""
    res = netsim.run(netsim.load("scenarios/learning-aging.yaml"))
    sizes = mac_table_size(res.mac_events)
    assert sizes["size"].tolist() == [1, 2, 1, 0, 1, 2]
    assert sizes["time"].round(6).tolist() == [
        0.000006,
        0.001006,
        0.004006,
        0.005006,
        0.006006,
        0.008006,
    ]


def test_port_utilization_counts_preamble_and_gap_and_skips_unconnected_ports():
    ports = pd.DataFrame(
        {
            "device": ["sw1", "sw1", "sw1", "h1"],
            "kind": ["switch", "switch", "switch", "host"],
            "port": ["1", "2", "3", "eth0"],
            "speed_bps": [100e6, 1e9, 0.0, 10e6],
            # 1000 frames of 1230 bytes: (1230 + 20) * 8 = 10,000 bits each.
            "tx_frames": [1000, 1000, 0, 100],
            "tx_octets": [1_230_000, 1_230_000, 0, 6400],
        }
    )
    table = port_utilization(ports, simulated_time=1.0)
    # 100 frames of 64 bytes on 10 Mb/s: 100 * 84 * 8 bits = 0.672 % of a second.
    assert table["label"].tolist() == ["sw1:1", "sw1:2", "h1:eth0"]  # busiest first
    assert table["utilization"].tolist() == pytest.approx([0.1, 0.01, 0.00672], rel=1e-12)
    assert table["speed_bps"].tolist() == [100e6, 1e9, 10e6]


def test_port_utilization_needs_a_positive_run_time():
    with pytest.raises(ValueError, match="simulated_time"):
        port_utilization(pd.DataFrame(), 0.0)


CONSTANT_RATE = """
name: constant-rate
duration: 10ms
topology:
  defaults:
    link: {speed: 100M, delay: 100ns}
  nodes:
    h1: {kind: host}
    sw1: {kind: switch, ports: 4}
    h2: {kind: host}
  links:
    - endpoints: [h1, sw1]
    - endpoints: [sw1, h2]
traffic:
  - {kind: frames, from: h1, to: h2, size: 1230, rate: 50%, pattern: constant}
"""


def test_port_utilization_of_a_constant_rate_source_equals_its_rate():
    """1230-byte frames at 50 % of 100 Mb/s: one every 200 µs, 50 in the 10 ms run.

    The sender's port and the switch port towards h2 each carry exactly those frames, so
    both were busy half the time; the ports towards h1 carry nothing.
    """
    res = netsim.run(netsim.loads(CONSTANT_RATE))
    assert res.summary["simulated_time"] == 0.01
    assert (res.frames["outcome"] == "delivered").sum() == 50
    table = port_utilization(res.ports, res.summary["simulated_time"]).set_index("label")
    assert table.loc["h1:eth0", "utilization"] == pytest.approx(0.5, rel=1e-12)
    assert table.loc["sw1:2", "utilization"] == pytest.approx(0.5, rel=1e-12)
    assert table.loc["sw1:1", "utilization"] == 0.0
    assert "sw1:3" not in table.index  # no cable, no utilization


def test_ecdf_is_sorted_values_against_fractions():
    x, y = ecdf(pd.Series([3.0, 1.0, float("nan"), 2.0, 2.0]))
    assert x.tolist() == [1.0, 2.0, 2.0, 3.0]
    assert y.tolist() == [0.25, 0.5, 0.75, 1.0]
