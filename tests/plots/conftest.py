"""Shared helpers for the figure tests: reading a PNG's header, building topologies."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from netsim.topology.topology import LinkSpec, NodeSpec, Topology

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

PngSize = Callable[[Path], tuple[int, int]]
MakeTopology = Callable[..., Topology]


def read_png_size(path: Path) -> tuple[int, int]:
    """(width, height) in pixels from a PNG's IHDR chunk, after checking the signature."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    assert head[12:16] == b"IHDR", f"{path.name} has no IHDR chunk first"
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


@pytest.fixture
def png_size() -> PngSize:
    """A function: the (width, height) of a valid PNG file, failing if it is not one."""
    return read_png_size


def make_topology(
    kinds: dict[str, str],
    edges: Iterable[tuple[str, str] | tuple[str, str, float] | tuple[str, str, float, str]],
) -> Topology:
    """A topology from node kinds and (a, b[, rate_bps[, duplex]]) cables, ports numbered."""
    used: dict[str, int] = {}

    def port(node: str) -> tuple[str, str]:
        used[node] = used.get(node, 0) + 1
        return node, "eth0" if kinds[node] == "host" else str(used[node])

    links = []
    for edge in edges:
        a, b = edge[0], edge[1]
        rate = float(edge[2]) if len(edge) > 2 else 100e6  # type: ignore[misc]
        duplex = str(edge[3]) if len(edge) > 3 else "full"  # type: ignore[misc]
        links.append(LinkSpec(port(a), port(b), rate, 1e-7, duplex))
    nodes = {
        name: NodeSpec(name, kind, tuple(str(i + 1) for i in range(used.get(name, 0))))
        for name, kind in kinds.items()
    }
    return Topology(nodes, links)


@pytest.fixture
def topology_of() -> MakeTopology:
    """A function building a :class:`Topology` (see :func:`make_topology`)."""
    return make_topology
