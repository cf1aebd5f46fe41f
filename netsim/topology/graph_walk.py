"""Breadth-first walks and a union-find over small graphs, without networkx.

Every run asks three plain graph questions: how many links separate two nodes (to
estimate a scenario's work), which hosts a broadcast reaches (to know when it is
delivered), and whether a new cable joins two parts that are already connected (it
closes a loop). Each is a textbook walk of a few lines. networkx, whose import costs a
quarter of a second, stays for what it does well (bridges, weighted shortest paths,
articulation points), which only scenarios with loops, hubs or failures need.

A graph here is an adjacency mapping, ``{vertex: [neighbour, ...]}``; tests compare
every function with networkx on random graphs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable, Mapping
from typing import Generic, TypeVar

V = TypeVar("V", bound=Hashable)

Adjacency = Mapping[V, Iterable[V]]
"""Each vertex's neighbours (for a directed graph, the heads of its out-edges)."""


def undirected(vertices: Iterable[V], edges: Iterable[tuple[V, V]]) -> dict[V, list[V]]:
    """The adjacency of an undirected graph: every vertex, each edge seen from both ends."""
    adjacency: dict[V, list[V]] = {v: [] for v in vertices}
    for u, v in edges:
        adjacency.setdefault(u, []).append(v)
        adjacency.setdefault(v, []).append(u)
    return adjacency


def hop_distances(adjacency: Adjacency[V], source: V) -> dict[V, int]:
    """Edges on a shortest path from ``source`` to each vertex it reaches (itself: 0)."""
    distance = {source: 0}
    frontier = deque([source])
    while frontier:
        here = frontier.popleft()
        for there in adjacency.get(here, ()):
            if there not in distance:
                distance[there] = distance[here] + 1
                frontier.append(there)
    return distance


def reachable(adjacency: Adjacency[V], start: V) -> set[V]:
    """``start`` and every vertex a path (following edge directions) leads to from it."""
    seen = {start}
    stack = [start]
    while stack:
        for there in adjacency.get(stack.pop(), ()):
            if there not in seen:
                seen.add(there)
                stack.append(there)
    return seen


class DisjointSets(Generic[V]):
    """Vertices grouped into disjoint sets, each named by one of its members.

    ``sets[v]`` is the name of ``v``'s set (a vertex not seen yet is a set of its own);
    ``sets.union(u, v)`` merges two sets. Two vertices are connected by the edges
    unioned so far exactly when their names are equal, so an edge whose ends already
    share a name closes a cycle.
    """

    def __init__(self) -> None:
        self._parent: dict[V, V] = {}
        self._size: dict[V, int] = {}

    def __getitem__(self, vertex: V) -> V:
        parent = self._parent
        if vertex not in parent:
            parent[vertex] = vertex
            self._size[vertex] = 1
            return vertex
        while parent[vertex] != vertex:
            parent[vertex] = parent[parent[vertex]]  # path halving keeps the trees flat
            vertex = parent[vertex]
        return vertex

    def union(self, a: V, b: V) -> None:
        """Merge the sets of ``a`` and ``b`` (the smaller tree goes under the larger)."""
        ra, rb = self[a], self[b]
        if ra == rb:
            return
        if self._size[ra] < self._size[rb]:
            ra, rb = rb, ra
        self._parent[rb] = ra
        self._size[ra] += self._size[rb]
