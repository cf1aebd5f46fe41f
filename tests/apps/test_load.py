"""Background load: a share of a link's capacity, kept on that link.

The load frames go to 01:80:C2:00:00:0E, an address IEEE 802.1D reserves for a single
link: the switch at the far end consumes them and never forwards them. They occupy the
link (and its queue) all the same, which is what makes real traffic wait.
"""

from __future__ import annotations

import pytest

import netsim

SCENARIO = """
name: load
duration: 200ms
topology:
  defaults: {{link: {{speed: 100M, delay: 0s}}}}
  nodes:
    h1: {{kind: host}}
    sw1: {{kind: switch, ports: 4}}
    sw2: {{kind: switch, ports: 4}}
    h2: {{kind: host}}
    h3: {{kind: host}}
  links:
    - endpoints: [h1, sw1]
    - endpoints: [sw1, sw2]
    - endpoints: [sw2, h2]
    - endpoints: [sw2, h3]
traffic:
  - {{kind: load, name: bg, link: [sw1, sw2], rate: {rate}, size: 1000, pattern: constant}}
  - {{kind: frames, name: warm, from: h2, to: h1, count: 1}}
  - {{kind: frames, name: probe, from: h1, to: h2, size: 1000, interval: 1ms, pattern: poisson,
     start: 1ms}}
"""


def run(rate: str) -> netsim.Results:
    return netsim.run(netsim.loads(SCENARIO.format(rate=rate)))


def test_the_link_carries_the_share_asked_for_and_the_load_goes_no_further():
    res = run("60%")
    ports = res.ports.set_index(["device", "port"])
    uplink = ports.loc[("sw1", "2")]
    probes = (res.frames["traffic"] == "probe").sum()
    bg_frames = uplink["tx_frames"] - probes
    utilization = bg_frames * (1000 + 20) * 8 / (100e6 * 0.2)
    assert utilization == pytest.approx(0.60, abs=0.005)
    assert ports.loc[("sw2", "1"), "rx_frames"] == uplink["tx_frames"]
    # sw2 consumed the load: h3 saw only the warm-up frame, flooded before learning.
    assert ports.loc[("h3", "eth0"), "rx_frames"] == 1
    assert ports.loc[("h2", "eth0"), "rx_frames"] == probes


def test_load_makes_real_frames_wait_their_turn():
    idle = run("1%").frames
    busy = run("90%").frames
    idle_latency = idle[idle["traffic"] == "probe"]["latency"].mean()
    busy_latency = busy[busy["traffic"] == "probe"]["latency"].mean()
    assert busy_latency > idle_latency * 1.2
    # Load frames are not host traffic: frames.csv lists only what hosts sent.
    assert set(busy["traffic"]) == {"warm", "probe"}
