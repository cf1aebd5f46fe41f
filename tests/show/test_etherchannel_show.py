"""``show etherchannel summary``, ``show etherchannel load-balance`` and
``show interfaces port-channel N``, laid out as a Catalyst prints them.

The summary reads each member's flag at the time asked from lacp.csv: ``P`` bundled,
``w`` waiting for LACP to agree, ``s`` suspended, ``D`` down. The port-channel's
counters are its members' added up.
"""

from __future__ import annotations

import pytest

import netsim
from netsim.show import ShowError

SCENARIO = """
name: bundle
duration: 12s
topology:
  defaults: {link: {speed: 100M, delay: 0s}}
  nodes:
    sw1:
      kind: switch
      ports: 4
      port_channel_load_balance: src-dst-ip
      interfaces: {1-2: {channel_group: 1, channel_mode: active, lacp_rate: fast}}
    sw2:
      kind: switch
      ports: 4
      interfaces: {1-2: {channel_group: 1, channel_mode: passive}}
    a1: {kind: host}
    a2: {kind: host}
    b1: {kind: host}
    b2: {kind: host}
  links:
    - endpoints: ["sw1:1", "sw2:1"]
    - endpoints: ["sw1:2", "sw2:2"]
    - endpoints: [a1, sw1]
    - endpoints: [a2, sw1]
    - endpoints: [b1, sw2]
    - endpoints: [b2, sw2]
traffic:
  - {kind: frames, from: a1, to: b1, count: 5, start: 3s, interval: 1ms, dscp: 0}
  - {kind: frames, from: a2, to: b2, count: 5, start: 3s, interval: 1ms, dscp: 0}
events:
  - {at: 5s, action: link-down, link: ["sw1:1", "sw2:1"]}
  - {at: 8s, action: link-up, link: ["sw1:1", "sw2:1"]}
"""


@pytest.fixture(scope="module")
def run() -> netsim.Results:
    """Active (fast) against passive; member 1 fails at 5 s and returns at 8 s."""
    return netsim.run(netsim.loads(SCENARIO), snapshots=[4.0])


def _group_line(text: str) -> str:
    return text.splitlines()[-1]


def test_the_summary_follows_lacp_through_a_failure(run):
    """Suspended before LACP agrees, bundled after, down while the link is, waiting
    during the 2 s after it returns, bundled again at the end."""
    assert _group_line(run.show("sw1", "etherchannel summary", at=1.0)) == (
        "1      Po1(SD)         LACP      1(w)         2(w)"
    )
    assert _group_line(run.show("sw1", "etherchannel summary", at=4.0)) == (
        "1      Po1(SU)         LACP      1(P)         2(P)"
    )
    assert _group_line(run.show("sw1", "sh eth sum", at=6.0)) == (
        "1      Po1(SU)         LACP      1(D)         2(P)"
    )
    assert _group_line(run.show("sw1", "etherchannel summary", at=9.0)) == (
        "1      Po1(SU)         LACP      1(w)         2(P)"
    )
    text = run.show("sw2", "etherchannel summary")
    assert "Number of channel-groups in use: 1" in text
    assert _group_line(text) == "1      Po1(SU)         LACP      1(P)         2(P)"


def test_load_balance_names_what_the_hash_reads(run):
    text = run.show("sw1", "etherchannel load-balance")
    assert "        src-dst-ip\n" in text
    assert "Non-IP: Source XOR Destination MAC address" in text
    assert "  IPv4: Source XOR Destination IP address" in text


def test_port_channel_counters_add_up_the_members(run):
    text = run.show("sw1", "interfaces port-channel 1")
    lines = text.splitlines()
    assert lines[0] == "Port-channel1 is up, line protocol is up"
    assert "Bandwidth 200000 Kbit, 2 of 2 members bundled" in lines[1]
    ports = run.ports[run.ports["device"] == "sw1"].set_index("port")
    members = [lines[4].split(), lines[5].split()]
    total = lines[6].split()
    for column, title in ((2, "rx_frames"), (4, "tx_frames")):
        values = [int(m[column]) for m in members]
        assert values == [int(ports.loc[p, title]) for p in ("1", "2")]
        assert int(total[column - 1]) == sum(values)
    with pytest.raises(ShowError, match="sw1 has no Port-channel2"):
        run.show("sw1", "interfaces port-channel 2")
