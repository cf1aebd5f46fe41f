"""SPAN: a monitor session copies its source ports' frames to a destination port.

The copies are real frames on the destination's wire. So, while the destination keeps
up, it sends exactly what the sources received and sent (frames and octets); when the
sources together carry more than its link, the copies that do not fit are dropped and
counted, and the originals are untouched.
"""

from __future__ import annotations

import dpkt

import netsim

SPAN = """
name: span
duration: 20ms
topology:
  defaults: {{link: {{speed: 100M, delay: 0s}}}}
  nodes:
    a: {{kind: host}}
    b: {{kind: host}}
    c: {{kind: host}}
    sniffer: {{kind: host}}
    sw:
      kind: switch
      model: WS-C2960-24TT-L
      monitor:
        - {{source: [Fa0/1, Fa0/2], direction: {direction}, destination: Fa0/24}}
  links:
    - endpoints: ["a", "sw:Fa0/1"]
    - endpoints: ["b", "sw:Fa0/2"]
    - endpoints: ["c", "sw:Fa0/3"]
    - endpoints: ["sniffer", "sw:Fa0/24"]
traffic:
  - {{kind: frames, name: a-b, from: a, to: b, size: [64, 512, 1518], rate: {rate},
     pattern: poisson}}
  - {{kind: frames, name: b-c, from: b, to: c, size: [64, 512, 1518], rate: {rate},
     pattern: poisson}}
  - {{kind: frames, name: c-a, from: c, to: a, size: 700, rate: {rate}, pattern: poisson}}
  - {{kind: frames, name: hello, from: c, to: broadcast, count: 3, interval: 1ms}}
measure:
  capture: ["sw:Fa0/24"]
"""


def _run(direction: str = "both", rate: str = "10%") -> netsim.Results:
    return netsim.run(netsim.loads(SPAN.format(direction=direction, rate=rate)))


def _port(res: netsim.Results, name: str) -> dict[str, int]:
    ports = res.ports.set_index(["device", "port"])
    return ports.loc[("sw", name)].to_dict()


def test_destination_sends_what_the_sources_received_and_sent():
    """Mirroring rx and tx of Fa0/1 and Fa0/2 at 10 % load each way (60 % at most on the
    destination): its tx counters are the sum of the sources' rx and tx counters."""
    res = _run()
    fa1, fa2, dest = _port(res, "Fa0/1"), _port(res, "Fa0/2"), _port(res, "Fa0/24")
    for counter in ("frames", "octets"):
        mirrored = sum(p[f"{d}_{counter}"] for p in (fa1, fa2) for d in ("rx", "tx"))
        assert mirrored > 0
        assert dest[f"tx_{counter}"] == mirrored
    session = res.extra["span"].iloc[0]
    assert session["dropped"] == 0
    assert session["rx_copies"] == fa1["rx_frames"] + fa2["rx_frames"]
    assert session["tx_copies"] == fa1["tx_frames"] + fa2["tx_frames"]
    sniffer = res.ports.set_index(["device", "port"]).loc[("sniffer", "eth0")]
    assert sniffer["rx_frames"] == dest["tx_frames"]


def test_rx_only_copies_what_the_sources_receive():
    res = _run(direction="rx")
    fa1, fa2, dest = _port(res, "Fa0/1"), _port(res, "Fa0/2"), _port(res, "Fa0/24")
    assert dest["tx_frames"] == fa1["rx_frames"] + fa2["rx_frames"]
    assert res.extra["span"].iloc[0]["tx_copies"] == 0


def test_an_oversubscribed_destination_drops_copies_and_counts_them():
    """At 80 % each way, the sources carry 320 % of the destination's 100 Mb/s: once its
    384 KB buffer is full, copies are tail-dropped there; every copy is sent or counted
    dropped, and the originals still all arrive."""
    res = _run(rate="80%")
    fa1, fa2, dest = _port(res, "Fa0/1"), _port(res, "Fa0/2"), _port(res, "Fa0/24")
    mirrored = sum(p[f"{d}_frames"] for p in (fa1, fa2) for d in ("rx", "tx"))
    session = res.extra["span"].iloc[0]
    assert session["dropped"] > 0
    assert dest["discards"] == session["dropped"]
    assert dest["tx_frames"] + session["dropped"] == mirrored
    assert (res.frames["outcome"] == "delivered").all()


def test_a_capture_of_the_destination_shows_the_copies(tmp_path):
    """The pcap of Fa0/24 holds one frame per copy sent, with the originals' bytes."""
    res = _run()
    res.save(tmp_path)
    with open(tmp_path / "captures" / "sw_Fa0-24.pcap", "rb") as f:
        records = list(dpkt.pcap.Reader(f))
    dest = _port(res, "Fa0/24")
    assert len(records) == dest["tx_frames"]
    ids = {int.from_bytes(raw[14:22], "big") for _, raw in records}
    sent = set(res.frames.loc[res.frames["src"].isin(["a", "b"]), "frame_id"])
    assert sent <= ids  # every frame a and b sent was received on a source port


def test_the_destination_port_does_not_forward_normal_traffic():
    """A SPAN destination belongs to its session: broadcasts are not flooded to it (the
    sniffer sees them only as copies) and it is not an audience a broadcast waits for."""
    res = _run(direction="tx")
    hello = res.frames[res.frames["traffic"] == "hello"]
    assert (hello["outcome"] == "delivered").all()
    # c's broadcasts reach a and b through Fa0/1 and Fa0/2: tx copies, one each.
    dest = _port(res, "Fa0/24")
    assert dest["tx_broadcast"] == 2 * len(hello)


def test_a_half_duplex_source_is_mirrored_too():
    """A source port on a hub segment (CSMA/CD): what it sends after winning the medium,
    and what it receives, is copied like on a full-duplex port."""
    res = netsim.run(
        netsim.loads(
            """
name: span-hub
duration: 10ms
topology:
  defaults: {link: {speed: 10M, delay: 0s}}
  nodes:
    a: {kind: host}
    b: {kind: host}
    hub: {kind: hub, ports: 4}
    sniffer: {kind: host}
    sw: {kind: switch, ports: 4, monitor: [{source: "1", destination: "4"}]}
  links:
    - endpoints: ["sw:1", hub]
    - endpoints: [a, hub]
    - endpoints: ["b", "sw:2"]
    - endpoints: ["sniffer", "sw:4"]
traffic:
  - {kind: frames, name: b-a, from: b, to: a, size: 512, interval: 1ms}
  - {kind: frames, name: a-b, from: a, to: b, size: 512, interval: 1ms, start: 500us}
"""
        )
    )
    ports = res.ports.set_index(["device", "port"])
    source, dest = ports.loc[("sw", "1")], ports.loc[("sw", "4")]
    assert source["tx_frames"] > 5 and source["rx_frames"] > 5
    assert dest["tx_frames"] == source["tx_frames"] + source["rx_frames"]


def test_a_source_vlan_copies_that_vlans_frames_from_access_ports_and_trunks():
    """VSPAN (``source vlan 10 rx``): frames of VLAN 10 received on its access port and
    on the trunk are copied; VLAN 20's frames, on the same trunk, are not."""
    res = netsim.run(
        netsim.loads(
            """
name: vspan
duration: 5ms
topology:
  nodes:
    a: {kind: host}
    b: {kind: host}
    c: {kind: host}
    d: {kind: host}
    sniffer: {kind: host}
    sw1:
      kind: switch
      ports: 24
      interfaces: {1: {vlan: 10}, 2: {vlan: 20}, 3: {mode: trunk}}
      monitor: [{source_vlan: 10, direction: rx, destination: "24"}]
    sw2:
      kind: switch
      ports: 4
      interfaces: {1: {mode: trunk}, 2: {vlan: 10}, 3: {vlan: 20}}
  links:
    - endpoints: [a, "sw1:1"]
    - endpoints: [c, "sw1:2"]
    - endpoints: ["sw1:3", "sw2:1"]
    - endpoints: ["sw2:2", b]
    - endpoints: ["sw2:3", d]
    - endpoints: [sniffer, "sw1:24"]
traffic:
  - {kind: frames, name: a-b, from: a, to: b, size: 300, count: 7, interval: 100us}
  - {kind: frames, name: b-a, from: b, to: a, size: 300, count: 5, interval: 100us}
  - {kind: frames, name: c-d, from: c, to: d, size: 300, count: 11, interval: 100us}
  - {kind: frames, name: d-c, from: d, to: c, size: 300, count: 13, interval: 100us}
"""
        )
    )
    assert (res.frames["outcome"] == "delivered").all()
    session = res.extra["span"].iloc[0]
    assert session["sources"] == "vlan 10"
    assert session["rx_copies"] == 7 + 5 and session["tx_copies"] == 0
    dest = res.ports.set_index(["device", "port"]).loc[("sw1", "24")]
    assert dest["tx_frames"] == 12
