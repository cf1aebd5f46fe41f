"""Links: a cable between two ports, with a rate, a propagation delay and a bit-error rate.

A full-duplex link is two independent directions; :meth:`Link.carry` turns one
transmission into one scheduled call at the receiving device, at the moment the bytes that
device needs have arrived (the whole frame for store-and-forward, the header for
cut-through). A half-duplex link is instead part of a
:class:`~netsim.phy.csma.CollisionDomain`, which carries its frames.
"""

from __future__ import annotations

import random

from netsim.engine.sim import Simulation
from netsim.phy.port import Duplex, Port, WireFrame


class Link:
    """A cable joining ports ``a`` and ``b``."""

    def __init__(
        self,
        sim: Simulation,
        a: Port,
        b: Port,
        rate_bps: float,
        delay_s: float,
        duplex: Duplex = Duplex.FULL,
        ber: float = 0.0,
    ) -> None:
        if a.link is not None or b.link is not None:
            raise ValueError(f"port already connected: {a.label if a.link else b.label}")
        self.sim = sim
        self.a = a
        self.b = b
        self.rate_bps = rate_bps
        self.delay_s = delay_s
        self.duplex = duplex
        self.ber = ber
        self.up = True
        self._rng: random.Random = sim.rng(f"ber:{a.label}-{b.label}")
        for port in (a, b):
            port.link = self
            port.rate = rate_bps
            port.duplex = duplex

    def __repr__(self) -> str:
        return f"<Link {self.a.label} - {self.b.label}>"

    def __setattr__(self, name: str, value: object) -> None:
        # Background load generated lazily must see the link as it was when each of its
        # frames was due: catch it up before the link goes down or comes back. (The first
        # assignment, in __init__, has nothing to catch up. hasattr, not __dict__: a class
        # compiled by mypyc has no __dict__.)
        if name == "up" and hasattr(self, "up"):
            now = self.sim.now
            for port in (self.a, self.b):
                if port.background is not None:
                    port.background.catch_up(now)
        object.__setattr__(self, name, value)

    def unplug(self) -> None:
        """Take the cable out: both ports become free (frames on the wire still arrive)."""
        self.up = False
        for port in (self.a, self.b):
            if port.link is self:
                port.link = None

    def peer(self, port: Port) -> Port:
        """The port at the other end."""
        return self.b if port is self.a else self.a

    def damage(self, frame: WireFrame) -> WireFrame:
        """Apply the bit-error rate: each bit flips independently with probability ``ber``."""
        if self.ber > 0.0:
            p_clean = (1.0 - self.ber) ** (frame.length * 8)
            if self._rng.random() >= p_clean:
                return frame.with_corruption()
        return frame

    def carry(self, sender: Port, frame: WireFrame, hops: int, start: float) -> None:
        """Carry ``frame`` whose first bit leaves ``sender`` at ``start`` (full duplex)."""
        receiver = self.b if sender is self.a else self.a
        if self.ber > 0.0:
            frame = self.damage(frame)
        sim = self.sim
        trace = sim.trace
        frame_id = frame.frame_id
        if sender.records_first_bit:
            trace.first_bit(frame_id, start)
        byte_time = 8.0 / self.rate_bps
        wire = frame.wire_bytes
        t_first = start + self.delay_s
        t_last = t_first + wire * byte_time
        needed = receiver.owner.bytes_needed(receiver, frame)
        t_decide = t_last if needed >= wire else t_first + needed * byte_time
        sim.call_at(t_decide, receiver.deliver, frame, hops + 1, t_first, t_last)
        if frame_id in trace.followed:
            trace.carried.setdefault(frame_id, frame)
            trace.hops.append(
                (
                    frame_id,
                    sender.label,
                    receiver.label,
                    start,
                    t_last - self.delay_s,
                    t_first,
                    t_last,
                    frame.length,
                )
            )
            if trace.on_hop is not None:
                # Called after the delivery is scheduled, so that whatever it schedules
                # at t_last comes after the delivery and sees the counters it changed.
                trace.on_hop(t_last, sender, receiver)
