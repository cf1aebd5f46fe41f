"""A campus with a VLAN per floor is a subnet per floor, routed at the building's SVIs.

The campus builder numbers floor 1's hosts in 10.0.10.0/24, floor 2's in 10.0.20.0/24,
gives the building node (a layer-3 WS-C3750G-12S) ``interface Vlan10`` 10.0.10.1 and
``Vlan20`` 10.0.20.1, and makes those the hosts' gateways. The mail server keeps the
address it was given, in VLAN 1: its subnet is 10.0.0.0/24, with ``Vlan1`` 10.0.0.1.
A PC on either floor reaches it through one routed hop: its packets arrive with TTL 63.
"""

from __future__ import annotations

import dpkt
import pytest

import netsim

CAMPUS = """
name: routed-campus
duration: 1s
campus:
  building: {model: WS-C3750G-12S}
  floors: {count: 2, rooms: 1, room: {kind: switch, hosts: 2}}
  server_room: {servers: {mail: {ip: 10.0.0.25/24}}}
  vlans: per-floor
traffic:
  - {kind: ping, name: from-f1, from: f1r1h01, to: mail, count: 2, interval: 10ms}
  - {kind: ping, name: from-f2, from: f2r1h02, to: mail, count: 2, interval: 10ms, start: 5ms}
  - kind: imap
    server: mail
    clients: ["f*h*"]
    session: [check-new-mail]
    start: 100ms
measure:
  capture: ["mail:eth0"]
"""


@pytest.fixture(scope="module")
def results() -> netsim.Results:
    return netsim.run(netsim.loads(CAMPUS))


def test_each_floor_is_its_own_subnet_with_the_building_as_gateway(results):
    nodes = results.topology.nodes  # type: ignore[union-attr]
    assert (nodes["f1r1h01"].ip, nodes["f1r1h01"].gateway) == ("10.0.10.2/24", "10.0.10.1")
    assert (nodes["f2r1h02"].ip, nodes["f2r1h02"].gateway) == ("10.0.20.3/24", "10.0.20.1")
    assert (nodes["mail"].ip, nodes["mail"].gateway) == ("10.0.0.25/24", "10.0.0.1")
    assert dict(nodes["building"].svis) == {
        1: "10.0.0.1/24",
        10: "10.0.10.1/24",
        20: "10.0.20.1/24",
    }


def test_hosts_on_both_floors_reach_the_mail_server_through_one_routed_hop(results):
    pings = results.ping
    assert list(pings["outcome"]) == ["reply"] * 4
    ttls = {}
    for _t, frame in results.captures["mail:eth0"]:
        ip = dpkt.ethernet.Ethernet(frame.to_bytes()[:-4]).data
        if isinstance(ip, dpkt.ip.IP) and ip.dst == bytes([10, 0, 0, 25]):
            ttls.setdefault(bytes(ip.src[:3]), set()).add(ip.ttl)
    assert ttls == {bytes([10, 0, 10]): {63}, bytes([10, 0, 20]): {63}}


def test_imap_sessions_from_every_floor_complete_across_the_router(results):
    imap = results.imap
    assert set(imap["client"]) == {"f1r1h01", "f1r1h02", "f2r1h01", "f2r1h02"}
    assert (imap["status"] == "OK").all()
    routed = results.extra["l3_interfaces"].set_index("interface")
    assert routed.loc["Vlan1", "forwarded"] > 0  # the server's answers, routed to the floors
