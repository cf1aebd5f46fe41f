"""The plain graph walks every run needs, checked against networkx as the oracle.

Breadth-first search gives the fewest links between two nodes; a walk that follows edge
directions gives everything a broadcast can reach; a union-find says whether a new edge
joins two vertices that are already connected, that is, whether it closes a cycle.
"""

from __future__ import annotations

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.topology.graph_walk import DisjointSets, hop_distances, reachable, undirected

VERTICES = 9
edges = st.lists(st.tuples(st.integers(0, VERTICES - 1), st.integers(0, VERTICES - 1)), max_size=20)


@settings(derandomize=True, max_examples=150, deadline=None)
@given(edges, st.integers(0, VERTICES - 1))
def test_hop_distances_are_networkx_shortest_path_lengths(
    links: list[tuple[int, int]], source: int
) -> None:
    oracle = nx.MultiGraph()
    oracle.add_nodes_from(range(VERTICES))
    oracle.add_edges_from(links)
    ours = hop_distances(undirected(range(VERTICES), links), source)
    assert ours == nx.single_source_shortest_path_length(oracle, source)


@settings(derandomize=True, max_examples=150, deadline=None)
@given(edges, st.integers(0, VERTICES - 1))
def test_reachable_is_the_start_and_its_networkx_descendants(
    arcs: list[tuple[int, int]], start: int
) -> None:
    oracle = nx.DiGraph()
    oracle.add_nodes_from(range(VERTICES))
    oracle.add_edges_from(arcs)
    adjacency: dict[int, list[int]] = {}
    for u, v in arcs:
        adjacency.setdefault(u, []).append(v)
    assert reachable(adjacency, start) == nx.descendants(oracle, start) | {start}


@settings(derandomize=True, max_examples=150, deadline=None)
@given(edges)
def test_an_edge_closes_a_cycle_exactly_when_its_ends_share_a_set(
    links: list[tuple[int, int]],
) -> None:
    sets: DisjointSets[int] = DisjointSets()
    oracle = nx.MultiGraph()
    oracle.add_nodes_from(range(VERTICES))
    for u, v in links:
        closes = sets[u] == sets[v]
        assert closes == nx.has_path(oracle, u, v)
        sets.union(u, v)
        oracle.add_edge(u, v)
    for component in nx.connected_components(oracle):
        assert len({sets[v] for v in component}) == 1


def test_a_vertex_never_seen_is_a_set_of_its_own_and_reaches_only_itself() -> None:
    sets: DisjointSets[str] = DisjointSets()
    assert sets["sw9"] == "sw9"
    assert reachable({}, "h1") == {"h1"}
    assert hop_distances({}, "h1") == {"h1": 0}
