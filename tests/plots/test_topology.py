"""Drawing a topology in tiers, worked out from the graph alone.

Among switches, bridges and hubs, a device's row is its distance in hops from the centre
of that fabric (networkx ``center``); a host is in the row under its switch. Within a row, devices
follow their parents (barycentre ordering), and each switch is centred over its children,
so a tree is drawn without crossing links: core on top, then distribution, access, hosts.
"""

from __future__ import annotations

import time
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.transforms import Affine2D

import netsim
from netsim.cli import main
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
    """mail-office: access (six PCs) and core (the mail server) are both the centre. The
    mail server hangs right under the core, beside access, not down with the PCs: its
    cable would otherwise run down past the access switch's row."""
    kinds = {"access": "switch", "core": "switch", "mail": "host"}
    edges = [("access", "core", GIG), ("core", "mail", GIG)]
    for i in range(1, 7):
        kinds[f"pc{i}"] = "host"
        edges.append((f"pc{i}", "access"))
    tiers = node_tiers(topology_of(kinds, edges))
    assert tiers["core"] == 0 and tiers["access"] == tiers["mail"] == 1
    assert {tiers[f"pc{i}"] for i in range(1, 7)} == {2}


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
    started = time.perf_counter()
    fig = topology_figure(topo)
    ax = fig.axes[0]
    texts = {t.get_text() for t in ax.texts}
    assert not texts & {h for group in hosts.values() for h in group}
    assert {"core", "dist1", "acc4"} <= texts
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "host links: 100M" in legend
    path = draw_topology(topo, tmp_path / "big.png")
    assert time.perf_counter() - started < 10
    width, height = png_size(path)
    assert 600 <= width <= 18 * 120 and 400 <= height <= 12 * 120


# The campus as a class sees it -----------------------------------------------------------

CAMPUS = Path(__file__).resolve().parents[2] / "scenarios" / "campus.yaml"


def rendered(fig):
    """Draw ``fig`` (Agg) so that every artist has its final place in pixels."""
    FigureCanvasAgg(fig).draw()
    return fig


def device_boxes(ax) -> list[tuple[float, float, float, float, float, float]]:
    """(x0, y0, x1, y1, cx, cy) in pixels of every marker drawn, stack members included,
    from the marker paths as matplotlib transforms them."""
    boxes = []
    for collection in ax.collections:
        if not isinstance(collection, PathCollection):
            continue
        centres = collection.get_offset_transform().transform(collection.get_offsets())
        path = collection.get_paths()[0]
        for (cx, cy), matrix in zip(centres, collection.get_transforms(), strict=False):
            vertices = Affine2D(matrix).transform(path.vertices)
            (x0, y0), (x1, y1) = vertices.min(axis=0), vertices.max(axis=0)
            boxes.append((cx + x0, cy + y0, cx + x1, cy + y1, cx, cy))
    return boxes


def crosses(p, q, box, inset: float = 1.0) -> bool:
    """Does the segment p-q pass through the rectangle ``box`` (shrunk by ``inset`` px)?
    Liang-Barsky clipping: the segment enters the box before it leaves it."""
    x0, y0, x1, y1 = box[0] + inset, box[1] + inset, box[2] - inset, box[3] - inset
    if x0 >= x1 or y0 >= y1:
        return False
    dx, dy = q[0] - p[0], q[1] - p[1]
    t0, t1 = 0.0, 1.0
    for edge_p, edge_q in ((-dx, p[0] - x0), (dx, x1 - p[0]), (-dy, p[1] - y0), (dy, y1 - p[1])):
        if edge_p == 0:
            if edge_q < 0:
                return False
            continue
        t = edge_q / edge_p
        if edge_p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
    return t0 < t1


def test_on_the_campus_no_cable_runs_through_a_device():
    """Every link segment, in pixels, against every device's marker box but its own two
    ends': none passes through. The mail server hangs under the server room switch, so its
    cable no longer runs down through a room switch."""
    topo = netsim.load(CAMPUS).topology
    fig = rendered(topology_figure(topo, "campus"))
    ax = fig.axes[0]
    boxes = device_boxes(ax)
    assert len(boxes) == len(topo.nodes) + 1  # and one more box: the stack's second member
    segments = [
        ax.transData.transform(segment)
        for c in ax.collections
        if isinstance(c, LineCollection)
        for segment in c.get_segments()
    ]
    assert len(segments) == len(topo.links)
    for p, q in segments:
        for box in boxes:
            # A cable starts inside its own device's boxes (a stack's members too).
            own_end = any(box[0] <= e[0] <= box[2] and box[1] <= e[1] <= box[3] for e in (p, q))
            assert own_end or not crosses(p, q, box), (p, q, box)
    pos = tier_positions(topo)
    assert pos["mail"][1] == pos["serverroom"][1] - 1
    assert pos["mail"][1] > pos["f1r1h01"][1]


def test_a_cable_through_a_box_is_caught():
    """The check above can fail: a segment straight through a box crosses it."""
    box = (3, 0, 7, 10, 5, 5)
    assert crosses((0, 5), (10, 5), box) and crosses((5, -5), (4, 20), box)
    assert not crosses((0, 20), (10, 20), box) and not crosses((0, 0), (2, 9), box)


def test_models_are_written_small_under_the_names_and_stacks_are_stacks():
    topo = netsim.load(CAMPUS).topology
    ax = topology_figure(topo, "campus").axes[0]
    texts = {t.get_text(): t for t in ax.texts}
    assert "WS-C3750G-12S stack of 2" in texts and "WS-C2960-24TT-L" in texts
    assert texts["WS-C3750G-12S stack of 2"].get_fontsize() < texts["building"].get_fontsize()
    name_y = texts["building"].xyann[1]  # type: ignore[attr-defined]
    assert texts["WS-C3750G-12S stack of 2"].xyann[1] < name_y  # type: ignore[attr-defined]
    # Two boxes at the building's place: the stack's two members, one behind the other.
    at_building = [
        c
        for c in ax.collections
        if isinstance(c, PathCollection) and list(c.get_offsets()[0]) == list(texts["building"].xy)
    ]
    assert len(at_building) == 2


def test_long_labels_are_never_clipped(topology_of):
    """A long name at the very edge of a row still fits inside the picture, whole."""
    kinds = {"core": "switch", "a-rather-long-switch-name-at-the-edge": "switch", "h": "host"}
    topo = topology_of(kinds, [("core", "a-rather-long-switch-name-at-the-edge"), ("core", "h")])
    for figure in (topology_figure(topo), topology_figure(netsim.load(CAMPUS).topology)):
        fig = rendered(figure)
        frame = fig.bbox
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        for text in fig.axes[0].texts:
            extent = text.get_window_extent(renderer)
            assert frame.x0 <= extent.x0 and extent.x1 <= frame.x1, text.get_text()
            assert frame.y0 <= extent.y0 and extent.y1 <= frame.y1, text.get_text()


def test_interface_names_on_the_link_ends(tmp_path, capsys):
    """``ports=True`` (``netsim draw --ports``) writes each cable's port names near its ends."""
    topo = netsim.load(CAMPUS).topology
    plain = {t.get_text() for t in topology_figure(topo).axes[0].texts}
    with_ports = {t.get_text() for t in topology_figure(topo, ports=True).axes[0].texts}
    assert "Gi1/0/1" not in plain
    assert {"Gi1/0/1", "Gi2/0/1", "Gi0/1"} <= with_ports
    out = tmp_path / "campus.png"
    assert main(["draw", str(CAMPUS), "-o", str(out), "--ports"]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
