"""The campus builder: a ``campus:`` block becomes the devices and cables of a building.

Three tiers, as a campus network is drawn in every textbook: the building node (a
Catalyst 3750 stack), a floor switch per floor uplinked to it, rooms uplinked to their
floor, hosts in the rooms, and a server room next to the floors.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import netsim
from netsim.cli import main
from netsim.scenario.load import from_data

ROOT = Path(__file__).resolve().parents[2]
CAMPUS = ROOT / "scenarios" / "campus.yaml"


@pytest.fixture(scope="module")
def campus() -> netsim.LoadedScenario:
    return netsim.load(CAMPUS)


def test_the_campus_expands_to_the_expected_devices(campus):
    nodes = campus.topology.nodes
    kinds = {}
    for spec in nodes.values():
        kinds[spec.kind] = kinds.get(spec.kind, 0) + 1
    # 1 building + 3 floors + 6 rooms + 1 server room; 72 PCs + the mail server.
    assert kinds == {"switch": 11, "host": 73}
    assert len(campus.topology.links) == 83  # a tree: one cable fewer than devices
    assert nodes["building"].model == "WS-C3750G-12S" and nodes["building"].stack_members == 2
    assert nodes["f2"].model == "WS-C2960G-24TC-L"
    assert nodes["f3r2"].model == "WS-C2960-24TT-L"
    assert nodes["mail"].ip == "10.0.0.25/24"
    assert [n for n in nodes if n.startswith("f1r1h")] == [f"f1r1h{i:02d}" for i in range(1, 13)]


def test_cables_use_real_interface_names_and_speeds(campus):
    links = {(lk.a, lk.b): lk for lk in campus.topology.links}
    # Floors are spread over the stack members; the server room takes the next port.
    assert (("f1", "Gi0/24"), ("building", "Gi1/0/1")) in links
    assert (("f2", "Gi0/24"), ("building", "Gi2/0/1")) in links
    assert (("f3", "Gi0/24"), ("building", "Gi1/0/2")) in links
    assert (("serverroom", "Gi0/24"), ("building", "Gi2/0/2")) in links
    room_up = links[("f1r2", "Gi0/1"), ("f1", "Gi0/2")]
    assert room_up.rate_bps == 1e9
    desk = links[("f1r1h03", "eth0"), ("f1r1", "Fa0/3")]
    assert desk.rate_bps == 100e6  # a Fast Ethernet port: 100 Mb/s to the desk
    uplink = links[("f1", "Gi0/24"), ("building", "Gi1/0/1")]
    assert uplink.media == "1000BASE-SX" and uplink.delay_s == pytest.approx(120 / 2e8)


def test_netsim_expand_prints_a_plain_scenario_that_loads_the_same(tmp_path, capsys, campus):
    assert main(["expand", str(CAMPUS)]) == 0
    text = capsys.readouterr().out
    data = yaml.safe_load(text)
    assert "campus" not in data and len(data["topology"]["nodes"]) == 84
    plain = tmp_path / "plain.yaml"
    plain.write_text(text)
    again = netsim.load(plain)
    assert again.topology.nodes == campus.topology.nodes
    assert again.topology.links == campus.topology.links


BASE = """
name: c
duration: 1s
campus:
{campus}
"""


@pytest.mark.parametrize(
    ("campus", "path", "words"),
    [
        ("  redundant_uplinks: true", "campus", "give building.members: 2 or more"),
        (
            "  floors: {count: 12}",
            "campus.floors.count",
            "12 floors and the server room need 13 ports on the building node",
        ),
        (
            "  floors: {room: {hosts: 30}}",
            "campus.floors.room.hosts",
            "30 hosts and an uplink need 31 ports; a room WS-C2960-24TT-L has 26",
        ),
        (
            "  floors: {room: {kind: hub, model: WS-C2960-24TT-L}}",
            "campus.floors.room",
            "a hub room has no switch model",
        ),
        (
            "  building: {model: WS-C2960-24TT-L, members: 2}",
            "campus.building",
            "cannot have 2 members",
        ),
        (
            "  building: {members: 4}\n  floors: {count: 41, rooms: 1, room: {hosts: 1}}\n"
            "  vlans: per-room",
            "campus.vlans",
            "VLAN 4101 for f41r1 is over 4094: use per-floor VLANs",
        ),
        (
            "  vlans: per-desk",
            "campus.vlans",
            "'none', 'per-floor' or 'per-room'",
        ),
        (
            "  building: {modle: WS-C3750G-12S}",
            "campus.building.modle",
            "unknown key 'modle' (did you mean 'model'?)",
        ),
    ],
)
def test_a_campus_that_cannot_be_built_says_why(campus, path, words):
    with pytest.raises(netsim.ScenarioError) as caught:
        netsim.loads(BASE.format(campus=campus))
    messages = [f"{p.path}: {p.message}" for p in caught.value.problems]
    assert any(m.startswith(path) and words in m for m in messages), messages


def test_hub_rooms_make_shared_segments():
    sc = netsim.loads(BASE.format(campus="  floors: {rooms: 1, room: {kind: hub, hosts: 5}}"))
    hub_links = [lk for lk in sc.topology.links if lk.b[0] == "f1r1" or lk.a[0] == "f1r1"]
    assert len(hub_links) == 6 and all(lk.duplex == "half" for lk in hub_links)


VLAN_CAMPUS = """
name: vlan-campus
duration: 2ms
campus:
  building: {members: 2}
  floors: {count: 2, rooms: 2, room: {hosts: 3}}
  server_room: {servers: {mail: {vlan: 101}}}
  vlans: per-room
traffic:
  - {kind: frames, name: bcast, from: f1r1h01, to: broadcast, count: 1}
  - {kind: frames, name: unknown, from: f1r1h02, to: mail, count: 1, start: 100us}
  - {kind: ping, from: f1r1h03, to: mail, count: 2, interval: 100us, start: 200us}
"""
"""Rooms are VLANs 101, 102, 201, 202; the mail server sits in 101 (room f1r1's)."""


def _vlan_campus(prune: bool = True) -> netsim.LoadedScenario:
    loaded = netsim.loads(VLAN_CAMPUS)
    if prune:
        return loaded
    # The same campus with every trunk allowing every VLAN: isolation must then come
    # from per-VLAN flooding alone, not from the trunks' allowed lists.
    data = loaded.data
    for node in data["topology"]["nodes"].values():
        for setting in node.get("interfaces", {}).values():
            if setting.get("mode") == "trunk":
                setting["allowed"] = "all"
    return from_data(data, loaded.source)


def test_a_campus_with_vlans_per_room_has_access_ports_and_trunks():
    topo = netsim.loads(VLAN_CAMPUS).topology
    room = topo.nodes["f2r1"]
    assert room.interface("Fa0/3").vlan.access_vlan == 201
    assert room.interface("Gi0/1").vlan.is_trunk
    assert room.interface("Gi0/1").vlan.allowed == {201}
    floor = topo.nodes["f1"]
    assert floor.interface("Gi0/24").vlan.allowed == {101, 102}  # its uplink
    assert topo.nodes["serverroom"].interface("Gi0/1").vlan.access_vlan == 101


@pytest.mark.parametrize("prune", [True, False], ids=["pruned-trunks", "trunks-allow-all"])
def test_broadcast_and_unknown_unicast_in_one_vlan_never_reach_another(prune):
    """A broadcast and an unknown unicast from VLAN 101 leave through no port of any other
    VLAN anywhere in the campus: every access port of 102, 201, 202 sends nothing, and
    no host outside 101 receives anything."""
    loaded = _vlan_campus(prune)
    res = netsim.run(loaded)
    assert res.frames["outcome"].eq("delivered").all()
    assert list(res.extra["ping"]["outcome"]) == ["reply", "reply"]
    tx = res.ports.set_index(["device", "port"])["tx_frames"]
    rx = res.ports.set_index(["device", "port"])["rx_frames"]
    checked = 0
    for name, node in loaded.topology.nodes.items():
        if node.kind == "host":
            in_101 = name.startswith("f1r1") or name == "mail"
            assert (rx[name, "eth0"] > 0) == in_101, name
            continue
        for port in node.ports:
            cfg = node.interface(port).vlan
            if not cfg.is_trunk and cfg.access_vlan != 101:
                assert tx[name, port] == 0, (name, port)
                checked += 1
            if cfg.is_trunk and not cfg.carries(101):
                assert tx[name, port] == 0, (name, port)
    assert checked > 60  # every host port of the other rooms, and the unused ones
    flooded = res.mac_events[res.mac_events["event"] == "flood"]
    assert set(flooded["vlan"]) == {101}


def test_redundant_uplinks_go_to_two_different_stack_members():
    """Each floor switch, and the server room's, is cabled twice to the building: its two
    last ports, to two different members, so no single member or cable cuts it off."""
    from netsim.scenario.campus import expand

    data = {
        "name": "c",
        "duration": "1s",
        "campus": {
            "building": {"members": 3},
            "floors": {"count": 3, "rooms": 1, "room": {"hosts": 1}},
            "redundant_uplinks": True,
        },
    }
    links = expand(data)["topology"]["links"]
    for switch in ("f1", "f2", "f3", "serverroom"):
        up = [lk["endpoints"] for lk in links if lk["endpoints"][0].startswith(f"{switch}:")]
        up = [ends for ends in up if ends[1].startswith("building:")]
        assert [a for a, _ in up] == [f"{switch}:Gi0/24", f"{switch}:Gi0/23"]
        members = {b.split(":")[1][2] for _, b in up}
        assert len(members) == 2, up


def test_redundant_uplinks_put_portfast_on_the_edge_of_the_tree_only():
    """``spanning-tree portfast`` goes where no loop can close: the ports to PCs and
    servers, and a floor's ports to its rooms (each hangs from one uplink). The uplinks to
    the building carry the loops spanning tree breaks: they must never be edge ports."""
    sc = netsim.load(CAMPUS, sets=["campus.redundant_uplinks=true"])
    topo = sc.topology

    def edge(node: str, port: str) -> bool:
        stp = topo.nodes[node].interface(port).stp
        return stp is not None and bool(stp.portfast)

    assert all(edge("f1r1", f"Fa0/{n}") for n in range(1, 13))  # the PCs
    assert not edge("f1r1", "Gi0/1")  # the room's uplink
    assert edge("f1", "Gi0/1") and edge("f1", "Gi0/2")  # to the rooms
    assert not edge("f1", "Gi0/23") and not edge("f1", "Gi0/24")  # to the building
    assert edge("serverroom", "Gi0/1")  # the mail server
    assert not any(edge("building", port) for port, _ in topo.nodes["building"].interfaces)
    assert topo.nodes["f1"].interface("Gi0/1").vlan.allowed == {10}  # VLANs kept
    single = netsim.load(CAMPUS).topology  # one uplink: no loop, no spanning tree
    assert single.nodes["f1r1"].interface("Fa0/1").stp is None
