"""The hub: a multiport repeater. Every bit in on one port goes out on all the others.

A hub makes no decisions, so it has no receive logic of its own: its ports and the links
on them form one :class:`~netsim.phy.csma.CollisionDomain` with every hub cascaded to it.
The hub object exists to give those ports names and counters, and its repeater delay:
the time a bit takes from one port to the others, which the collision domain adds to
every signal path through the hub (:func:`netsim.phy.media.repeater_delay`).

A coax bus is the other passive piece of a collision domain: a cable with taps.
"""

from __future__ import annotations

from collections.abc import Sequence

from netsim.phy.port import Port, WireFrame


class Hub:
    """A repeater hub with named ports; all of them share one collision domain."""

    kind = "hub"

    def __init__(
        self, name: str, port_names: Sequence[str], repeater_delay: float | None = None
    ) -> None:
        self.name = name
        self.ports = [Port(self, p, 0) for p in port_names]
        self.repeater_delay = repeater_delay
        """One-way port-to-port delay set by the scenario; None: IEEE 802.3's figure."""

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


class CoaxBus:
    """A coax segment (10BASE5, 10BASE2): a cable that stations tap along its length.

    Like a hub it makes no decisions: its taps and the stations on them are part of one
    :class:`~netsim.phy.csma.CollisionDomain`, in which a signal between two taps takes
    the cable's propagation delay over the distance between them. Its ports are the taps.
    """

    kind = "coax"

    def __init__(self, name: str, port_names: Sequence[str]) -> None:
        self.name = name
        self.ports = [Port(self, p, 0) for p in port_names]

    def __repr__(self) -> str:
        return f"<CoaxBus {self.name}>"

    def bytes_needed(self, port: Port, frame: WireFrame) -> int:
        """Never asked: a cable carries bits; its collision domain carries frames."""
        raise RuntimeError(f"{self.name} is a coax cable; its collision domain carries frames")

    def receive(
        self, port: Port, frame: WireFrame, hops: int, t_first: float, t_last: float
    ) -> None:
        """Never called: see :meth:`bytes_needed`."""
        raise RuntimeError(f"{self.name} is a coax cable; its collision domain carries frames")
