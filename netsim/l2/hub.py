"""The hub: a multiport repeater. Every bit in on one port goes out on all the others.

A hub makes no decisions, so it has no receive logic of its own: its ports and the links
on them form one :class:`~netsim.phy.csma.CollisionDomain` with every hub cascaded to it.
The hub object exists to give those ports names and counters.
"""

from __future__ import annotations

from collections.abc import Sequence

from netsim.phy.port import Port, WireFrame


class Hub:
    """A repeater hub with named ports; all of them share one collision domain."""

    kind = "hub"

    def __init__(self, name: str, port_names: Sequence[str]) -> None:
        self.name = name
        self.ports = [Port(self, p, 0) for p in port_names]

    def __repr__(self) -> str:
        return f"<Hub {self.name}>"

    def bytes_needed(self, port: Port, frame: WireFrame) -> int:
        """Never asked: a hub's ports are repeated by the collision domain, bit by bit."""
        raise RuntimeError(f"hub {self.name} is a repeater; its collision domain carries frames")

    def receive(
        self, port: Port, frame: WireFrame, hops: int, t_first: float, t_last: float
    ) -> None:
        """Never called: see :meth:`bytes_needed`."""
        raise RuntimeError(f"hub {self.name} is a repeater; its collision domain carries frames")
