"""Drawing a topology in tiers, worked out from the graph alone.

Among switches, bridges and hubs, a device's row is its distance in hops from the centre
of that fabric (networkx ``center``); hosts are the bottom row. Within a row, devices
follow their parents (barycentre ordering), and each switch is centred over its children,
so a tree is drawn without crossing links: core on top, then distribution, access, hosts.
"""

from __future__ import annotations

from matplotlib.collections import LineCollection

from netsim.plots.topology import draw_topology, node_tiers, tier_positions, topology_figure

GIG = 1e9


def campus(topology_of, hosts_per_access=2):
    """core - dist1, dist2 - acc1..acc4 (two per dist) - hosts, names shuffled a little."""
    kinds = {"core": "switch", "dist1": "switch", "dist2": "switch"}
    edges = [("dist2", "core", GIG), ("core", "dist1", GIG)]
    hosts: dict[str, list[str]] = {}
    for i in range(1, 5):
        acc = f"acc{i}"
        kinds[acc] = "switch" if i != 3 else "hub"
        edges.append((f"dist{1 if i <= 2 else 2}", acc, GIG))
        hosts[acc] = []
        for j in range(hosts_per_access):
            host = f"pc{i}{j}"
            kinds[host] = "host"
            edges.append((acc, host, 100e6, "half" if i == 3 else "full"))
            hosts[acc].append(host)
    return topology_of(kinds, edges), hosts


def test_a_three_level_tree_has_the_core_on_top_and_hosts_under_their_switches(topology_of):
    topo, hosts = campus(topology_of)
    pos = tier_positions(topo)
    y = {name: p[1] for name, p in pos.items()}
    assert y["core"] == 3.0
    assert y["dist1"] == y["dist2"] == 2.0
    assert {y[f"acc{i}"] for i in range(1, 5)} == {1.0}
    assert {y[h] for group in hosts.values() for h in group} == {0.0}
    for acc, group in hosts.items():
        xs = [pos[h][0] for h in group]
        # A switch sits centred over its own hosts, and no other host sits between them.
        assert min(xs) <= pos[acc][0] <= max(xs)
        others = [pos[h][0] for a, g in hosts.items() if a != acc for h in g]
        assert not any(min(xs) < x < max(xs) for x in others)
    # Children follow their parents: dist1's access switches left of dist2's.
    assert max(pos["acc1"][0], pos["acc2"][0]) < min(pos["acc3"][0], pos["acc4"][0])
    assert pos["dist1"][0] < pos["core"][0] < pos["dist2"][0]
    assert all(0.0 < x < 1.0 for x, _ in pos.values())


def test_a_chain_hangs_from_its_middle_switch(topology_of):
    kinds = {"h1": "host", "sw1": "switch", "sw2": "switch", "sw3": "switch", "h2": "host"}
    topo = topology_of(kinds, [("h1", "sw1"), ("sw1", "sw2"), ("sw2", "sw3"), ("sw3", "h2")])
    assert node_tiers(topo) == {"sw2": 0, "sw1": 1, "sw3": 1, "h1": 2, "h2": 2}
    pos = tier_positions(topo)
    assert pos["sw1"][0] < pos["sw2"][0] < pos["sw3"][0]
    assert pos["h1"][0] < pos["h2"][0]


def test_of_two_central_switches_the_one_with_fewer_hosts_is_the_core(topology_of):
    """mail-office: access (six PCs) and core (the mail server) are both the centre."""
    kinds = {"access": "switch", "core": "switch", "mail": "host"}
    edges = [("access", "core", GIG), ("core", "mail", GIG)]
    for i in range(1, 7):
        kinds[f"pc{i}"] = "host"
        edges.append((f"pc{i}", "access"))
    tiers = node_tiers(topology_of(kinds, edges))
    assert tiers["core"] == 0 and tiers["access"] == 1
    assert {tiers[f"pc{i}"] for i in range(1, 7)} == {tiers["mail"]} == {2}


def test_hosts_are_ordered_naturally_and_odd_topologies_still_place_every_node(topology_of):
    kinds = {"sw": "switch", **{f"h{i}": "host" for i in (10, 2, 1)}}
    pos = tier_positions(topology_of(kinds, [("sw", "h10"), ("sw", "h2"), ("sw", "h1")]))
    assert pos["h1"][0] < pos["h2"][0] < pos["h10"][0]
    # Two separate LANs, a lone switch, and two hosts cabled back to back.
    kinds = {
        "a": "switch",
        "b": "switch",
        "lone": "bridge",
        "x1": "host",
        "x2": "host",
        "p": "host",
        "q": "host",
    }
    topo = topology_of(kinds, [("a", "x1"), ("b", "x2"), ("p", "q")])
    pos = tier_positions(topo)
    assert set(pos) == set(kinds)
    assert {pos[n][1] for n in ("x1", "x2", "p", "q")} == {0.0}
    assert {pos[n][1] for n in ("a", "b", "lone")} == {1.0}


def test_the_drawing_labels_speeds_and_dashes_half_duplex_links(topology_of, tmp_path, png_size):
    """acc3 is a hub: its links are half duplex, so drawn dashed; speeds label the links."""
    topo, _ = campus(topology_of)
    fig = topology_figure(topo, "campus")
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("1G") == 6 and texts.count("100M") == 8
    assert {"core", "acc3", "pc30"} <= set(texts)
    collections = [c for c in ax.collections if isinstance(c, LineCollection)]
    dashed = [c for c in collections if c.get_linestyle()[0][1] is not None]
    assert len(dashed) == 1 and len(dashed[0].get_segments()) == 2  # the hub's two cables
    assert "campus" in ax.get_title()
    path = draw_topology(topo, tmp_path / "topo.png", title="campus")
    width, height = png_size(path)
    assert width >= 600 and height >= 400


def test_hundreds_of_hosts_become_dots_and_the_picture_stays_bounded(
    topology_of, tmp_path, png_size
):
    """300 hosts on 10 access switches: no host names, one legend note for host links."""
    topo, hosts = campus(topology_of, hosts_per_access=75)
    fig = topology_figure(topo)
    ax = fig.axes[0]
    texts = {t.get_text() for t in ax.texts}
    assert not texts & {h for group in hosts.values() for h in group}
    assert {"core", "dist1", "acc4"} <= texts
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "host links: 100M" in legend
    path = draw_topology(topo, tmp_path / "big.png")
    width, height = png_size(path)
    assert 600 <= width <= 18 * 120 and 400 <= height <= 12 * 120
