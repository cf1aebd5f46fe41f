"""QoS on a switch: trust at ingress, CoS/DSCP maps, a strict-priority queue and SRR.

Two oracles from queueing theory and the Catalyst configuration guide:

- a **non-preemptive strict-priority** queue: behind saturating best-effort traffic, a
  priority frame waits at most for the best-effort frame already on the wire, plus its
  inter-frame gap: (1518 + 8 + 12) bytes at the link rate, per hop;
- **shared round robin**: queues that never run empty get the link in the ratio of
  their weights, whatever their offered loads.
"""

from __future__ import annotations

import struct

import dpkt
import pytest

import netsim
from netsim.l2.qos import CATALYST_COS_TO_QUEUE, CATALYST_DSCP_TO_QUEUE
from netsim.net.checksum import internet_checksum

BE_FRAME_TIME_100M = (1518 + 8 + 12) * 8 / 100e6
"""A best-effort frame's time on a 100 Mb/s transmitter: preamble, frame, gap."""

PRIORITY_CHAIN = """
name: strict-priority
duration: 30ms
topology:
  defaults: {{link: {{delay: 0s}}}}
  nodes:
    be: {{kind: host}}
    pri: {{kind: host}}
    dst: {{kind: host}}
    sw1: {{kind: switch, ports: 4{qos}}}
    sw2: {{kind: switch, ports: 4{qos}}}
  links:
    - {{endpoints: ["be", "sw1:1"], speed: 1G}}
    - {{endpoints: ["pri", "sw1:2"], speed: 1G}}
    - {{endpoints: ["sw1:3", "sw2:1"], speed: 100M}}
    - {{endpoints: ["sw2:2", "dst"], speed: 100M}}
traffic:
  - {{kind: frames, name: learn-be, from: dst, to: be, count: 1}}
  - {{kind: frames, name: learn-pri, from: dst, to: pri, count: 1}}
  - {{kind: frames, name: best-effort, from: be, to: dst, size: 1518, rate: 100%,
     pattern: poisson, start: 10us}}
  - {{kind: frames, name: priority, from: pri, to: dst, size: 64, dscp: EF, interval: 137us,
     pattern: poisson, start: 1ms}}
"""


def _priority_waits(qos: bool) -> tuple[list[float], netsim.Results]:
    config = ", interfaces: {1-3: {trust: dscp, priority_queue: true}}" if qos else ""
    res = netsim.run(netsim.loads(PRIORITY_CHAIN.format(qos=config)))
    frames = res.frames
    prio = frames[frames["traffic"] == "priority"]
    if qos:
        assert (prio["outcome"] == "delivered").all()
    prio = prio[prio["outcome"] == "delivered"]  # a FIFO also tail-drops some
    # Unloaded: 64 + 8 bytes stored and forwarded across 1G, 100M, 100M. (Marked EF, which
    # the default DSCP map puts in queue 1: the DSCP survives both hops.)
    ideal = 72 * 8 / 1e9 + 2 * 72 * 8 / 100e6
    return list(prio["latency"] - ideal), res


def test_strict_priority_waits_at_most_one_best_effort_frame_per_hop():
    """Two congested 100 Mb/s hops: at most two best-effort frame times of waiting, and
    the bound is nearly reached (a priority frame often lands just behind a big one)."""
    waits, res = _priority_waits(qos=True)
    assert len(waits) > 150
    assert max(waits) <= 2 * BE_FRAME_TIME_100M + 1e-12
    assert max(waits) > 1.2 * BE_FRAME_TIME_100M
    queues = res.extra["queues"]
    uplink = queues[(queues["device"] == "sw1") & (queues["port"] == "3")]
    assert uplink.set_index("queue").loc[2, "dropped"] > 0  # best effort really saturates
    assert uplink.set_index("queue").loc[1, "dropped"] == 0


def test_without_qos_marked_frames_wait_behind_the_whole_queue():
    """The same marks on switches without QoS: one FIFO per port, so a priority frame
    waits for everything queued before it, dozens of best-effort frames."""
    waits, _ = _priority_waits(qos=False)
    assert min(waits[len(waits) // 2 :]) > 20 * BE_FRAME_TIME_100M


SRR = """
name: srr-shares
duration: 200ms
topology:
  defaults: {link: {delay: 0s, speed: 200M}}
  nodes:
    dst: {kind: host}
    h0: {kind: host}
    h2: {kind: host}
    h4: {kind: host}
    h5: {kind: host}
    sw:
      kind: switch
      ports: 8
      buffer: 400KB
      interfaces:
        1-4: {trust: cos}
        "8": {srr_share: [1, 2, 3, 4]}
  links:
    - {endpoints: ["h5", "sw:1"]}
    - {endpoints: ["h0", "sw:2"]}
    - {endpoints: ["h2", "sw:3"]}
    - {endpoints: ["h4", "sw:4"]}
    - {endpoints: ["sw:8", "dst"], speed: 100M}
traffic:
  - {kind: frames, name: learn, from: dst, to: h0, count: 1}
  # Default CoS map: CoS 5 -> queue 1, 0 -> 2, 2 -> 3, 4 -> 4.
  - {kind: frames, name: q1, from: h5, to: dst, size: 1518, cos: 5, rate: 100%, start: 10us}
  - {kind: frames, name: q2, from: h0, to: dst, size: 1518, cos: 0, rate: 100%, start: 10us}
  - {kind: frames, name: q3, from: h2, to: dst, size: 1518, cos: 2, rate: 100%, start: 10us}
  - {kind: frames, name: q4, from: h4, to: dst, size: 1518, cos: 4, rate: 100%, start: 10us}
"""


def test_srr_weights_1_2_3_4_share_a_saturated_link_in_that_ratio():
    """Four queues on one 100 Mb/s port, each offered twice the link, weights 1:2:3:4:
    while all are backlogged, delivered bytes split 10/20/30/40 % (within 2 % of each
    share; 1,600 frames make a partial round at either end of the window negligible)."""
    res = netsim.run(netsim.loads(SRR))
    frames = res.frames
    window = frames[(frames["outcome"] == "delivered") & (frames["t_last_bit_in"] < 0.200)]
    window = window[window["t_last_bit_in"] > 0.005]  # after every queue has filled
    octets = window.groupby("traffic")["size"].sum()
    total = sum(octets[f"q{i}"] for i in range(1, 5))
    for i, weight in enumerate((1, 2, 3, 4), start=1):
        share = octets[f"q{i}"] / total
        assert share == pytest.approx(weight / 10, rel=0.02), (i, share)
    queues = res.extra["queues"].set_index(["device", "port", "queue"])
    for q in range(1, 5):
        assert queues.loc[("sw", "8", q), "dropped"] > 0  # every queue saturated
        assert queues.loc[("sw", "8", q), "max_depth_bytes"] <= 100_000  # 25 % of 400 KB


TRUST = """
name: trust
duration: 1ms
topology:
  nodes:
    a: {{kind: host}}
    b: {{kind: host}}
    sw:
      kind: switch
      ports: 2
      interfaces: {{1: {{trust: {trust}}}}}
  links:
    - endpoints: ["a", "sw:1"]
    - endpoints: ["sw:2", "b"]
traffic:
  - {{kind: frames, from: a, to: b, size: 200, cos: 3, dscp: AF41, count: 1}}
measure:
  capture: ["sw:1", "sw:2"]
"""


def _forwarded(trust: str, tmp_path) -> tuple[bytes, bytes, int]:
    """The frame as ``a`` sent it and as the switch forwarded it, and the queue it took."""
    res = netsim.run(netsim.loads(TRUST.format(trust=trust)))
    res.save(tmp_path)
    raws = []
    for port in ("sw_1", "sw_2"):
        with open(tmp_path / "captures" / f"{port}.pcap", "rb") as f:
            [(_, raw)] = list(dpkt.pcap.Reader(f))
        raws.append(raw)
    queues = res.extra["queues"]
    used = queues[(queues["port"] == "2") & (queues["tx_frames"] > 0)]["queue"]
    [queue] = used.tolist()
    return raws[0], raws[1], int(queue)


@pytest.mark.parametrize(
    ("trust", "dscp_out", "queue"),
    [
        ("none", 0, 2),  # untrusted: both marks reset (mls qos rewrites DSCP to 0)
        ("cos", 24, 3),  # CoS 3 believed; DSCP from the CoS-to-DSCP map (3 -> 24)
        ("dscp", 34, 4),  # AF41 = 34 believed; DSCP 32-39 -> queue 4
    ],
)
def test_trust_decides_which_mark_survives_the_switch(trust, dscp_out, queue, tmp_path):
    """The sender marks CoS 3 (a priority tag, VID 0) and DSCP AF41 (34). What the switch
    forwards, and to which queue, follows ``mls qos trust``; the IPv4 checksum stays
    valid after the rewrite (RFC 1624). The access port sends the frame untagged: the
    CoS stays behind, the DSCP travels on."""
    sent, forwarded, used = _forwarded(trust, tmp_path)
    tpid, tci = struct.unpack("!HH", sent[12:16])
    assert tpid == 0x8100 and tci >> 13 == 3 and tci & 0x0FFF == 0
    assert sent[18 + 1] >> 2 == 34
    assert forwarded[12:14] == b"\x08\x00"  # untagged IPv4
    ip = forwarded[14:34]
    assert internet_checksum(ip) == 0, "the IPv4 header checksum must stay valid"
    assert ip[1] >> 2 == dscp_out
    assert used == queue


def test_a_trunk_carries_the_cos_the_switch_gave():
    """Non-IP frames keep their CoS label only in a tag: across a trunk (VLAN 10, not
    native) the second switch reads the first one's CoS and queues by it."""
    res = netsim.run(
        netsim.loads(
            """
name: cos-trunk
duration: 1ms
topology:
  nodes:
    a: {kind: host}
    b: {kind: host}
    sw1: {kind: switch, ports: 2, interfaces: {1: {vlan: 10, trust: cos}, 2: {mode: trunk}}}
    sw2: {kind: switch, ports: 2, interfaces: {1: {mode: trunk, trust: cos}, 2: {vlan: 10}}}
  links:
    - endpoints: ["a", "sw1:1"]
    - endpoints: ["sw1:2", "sw2:1"]
    - endpoints: ["sw2:2", "b"]
traffic:
  - {kind: frames, from: a, to: b, size: 100, cos: 5, count: 3, interval: 10us}
"""
        )
    )
    assert (res.frames["outcome"] == "delivered").all()
    q = res.extra["queues"].set_index(["device", "port", "queue"])["tx_frames"]
    assert q[("sw1", "2", 1)] == 3  # CoS 5 -> queue 1 on the trunk
    assert q[("sw2", "2", 1)] == 3  # and again at the far switch, which read the tag


def test_the_default_maps_are_the_catalyst_ones():
    """Catalyst 2960 configuration guide: CoS 0,1 -> queue 2; 2,3 -> 3; 4,6,7 -> 4; 5 -> 1;
    DSCP 0-15 -> 2; 16-31 -> 3; 32-39 and 48-63 -> 4; 40-47 -> 1."""
    assert CATALYST_COS_TO_QUEUE == (2, 2, 3, 3, 4, 1, 4, 4)
    expected = [2] * 16 + [3] * 16 + [4] * 8 + [1] * 8 + [4] * 16
    assert list(CATALYST_DSCP_TO_QUEUE) == expected


def test_imap_marked_af21_reaches_queue_3_both_ways():
    """``dscp: AF21`` on IMAP marks client and server segments (by port 143), so with
    trust dscp every IMAP frame lands in queue 3 (DSCP 18) on either side."""
    scenario = netsim.loads(
        """
name: imap-marked
duration: 2s
topology:
  nodes:
    pc: {kind: host}
    mail: {kind: host}
    sw: {kind: switch, ports: 2, interfaces: {1-2: {trust: dscp}}}
  links:
    - endpoints: ["pc", "sw:1"]
    - endpoints: ["sw:2", "mail"]
traffic:
  - {kind: imap, server: mail, clients: [pc], dscp: AF21}
"""
    )
    res = netsim.run(scenario)
    assert (res.imap["status"] == "OK").all()
    queues = res.extra["queues"].set_index(["port", "queue"])
    for port in ("1", "2"):
        assert queues.loc[(port, 3), "tx_frames"] > 5
        # ARP is not IP: CoS 0 -> queue 2. Nothing else goes anywhere but queue 3.
        assert queues.loc[(port, 2), "tx_frames"] <= 2
        assert queues.loc[(port, 1), "tx_frames"] == queues.loc[(port, 4), "tx_frames"] == 0


def test_a_switch_without_qos_has_no_queues_table():
    """Without ``qos`` or a QoS key on an interface, ports keep their single FIFO."""
    text = TRUST.format(trust="none").replace("      interfaces: {1: {trust: none}}\n", "")
    assert "interfaces" not in text
    res = netsim.run(netsim.loads(text))
    assert "queues" not in res.extra


def test_a_host_sub_interface_marks_cos_and_a_trusting_switch_queues_by_it():
    """A server on a trunk (``vlan: 10``, ``cos: 5``, as Linux's egress-qos-map) writes
    priority 5 in its tags. The switch trusts CoS on that port: the replies get DSCP 40
    from the CoS-to-DSCP map and leave for the client in queue 1."""
    res = netsim.run(
        netsim.loads(
            """
name: host-cos
duration: 100ms
topology:
  nodes:
    pc: {kind: host}
    server: {kind: host, vlan: 10, cos: 5}
    sw:
      kind: switch
      ports: 2
      interfaces: {1: {vlan: 10}, 2: {mode: trunk, trust: cos}}
  links:
    - endpoints: [pc, "sw:1"]
    - endpoints: ["sw:2", server]
traffic:
  - {kind: ping, from: pc, to: server, count: 3, interval: 10ms}
"""
        )
    )
    assert (res.ping["outcome"] == "reply").all()
    q = res.extra["queues"].set_index(["port", "queue"])["tx_frames"]
    assert q[("1", 1)] == 4  # three echo replies and the ARP reply, all CoS 5
    assert q[("1", 2)] == 0
