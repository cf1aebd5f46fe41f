"""The shared medium of half-duplex Ethernet: carrier sense, collisions, backoff.

A *collision domain* is everything one station's signal reaches: the stations on a coax
bus, or on the ports of a hub (a repeater copies every bit to every other port), or the two
ends of a half-duplex cable. Each station runs the IEEE 802.3 clause 4 MAC:

- 1-persistent carrier sense: wait while a signal is heard, then an inter-frame gap of
  96 bit times (restarted if carrier comes back during it), then transmit;
- collision detection: a foreign signal arriving while transmitting is a collision; the
  station sends a 32-bit jam and stops;
- truncated binary exponential backoff: after the n-th collision wait ``r`` slot times,
  ``r`` uniform in ``0 .. 2**min(n, 10) - 1``; after 16 attempts the frame is dropped
  (an *excessive collision*). A collision detected after the first slot time (512 bits
  of frame) is a *late collision*: counted, and the frame is dropped, as NICs do.

Signals travel: station ``i``'s transmission reaches station ``k`` after the delay between
them (the cables' propagation and each repeater's delay, worked out when the domain is
built), which is why two stations can both sense an idle medium and collide, and why a
domain too large for the slot time has late collisions.
A receiver that hears overlapping signals gets one garbled reception: the first signal's
bytes up to the overlap, then noise, i.e. a fragment whose FCS fails, usually a runt.

Devices attached to a shared segment receive each frame (or fragment) when its carrier
ends; a cut-through switch port on a shared segment therefore starts forwarding only after
the reception is complete (its error behaviour, forwarding fragments, is kept).

A *duplex mismatch* puts a full-duplex port on such a medium: it transmits whenever it
has a frame (no carrier sense), never notices collisions, and receives while it sends.
Its partner, running CSMA/CD, sees those frames arrive in the middle of its own: it
counts collisions, often late ones, and drops frames; the full-duplex end receives the
partner's aborted frames as runts and FCS errors. Its own frames that collide are lost
for good, since it never retries them.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import simpy

from netsim.engine.sim import Simulation
from netsim.phy.port import Port, PortCounters, WireFrame

JAM_BITS = 32
IFG_BITS = 96
PREAMBLE_BITS = 64
MAX_ATTEMPTS = 16
BACKOFF_LIMIT = 10


def slot_bits(rate_bps: float) -> int:
    """The slot time in bit times: 512 up to 100 Mb/s, 4096 for gigabit half duplex."""
    return 4096 if rate_bps >= 1e9 else 512


@dataclass(eq=False)
class Transmission:
    """One attempt by one station to send one frame on the shared medium."""

    sender: CsmaCdStation
    frame: WireFrame
    hops: int
    start: float
    end: float
    outcome: simpy.Event
    """Triggered when the attempt ends: sent whole, or stopped by a collision."""
    collided: bool = False
    late: bool = False


@dataclass(eq=False)
class Reception:
    """What one station hears from the moment carrier rises until it falls again."""

    first: Transmission
    start: float
    garbled: bool = False
    own_transmission: bool = False


@dataclass(frozen=True)
class Path:
    """How a signal gets from one station to another."""

    delay: float
    """Signal delay, seconds: cables at their medium's speed, plus every repeater hop."""
    links: int
    """Segments crossed (the ``hops`` a delivered frame reports; a coax bus is one)."""
    ber: float = 0.0
    """Probability that any one bit is flipped somewhere on the way."""


class CsmaCdStation:
    """The half-duplex MAC of one port: its transmit queue and its view of the medium."""

    def __init__(
        self,
        domain: CollisionDomain,
        port: Port,
        rng: random.Random,
        carrier_sense: bool = True,
    ) -> None:
        self.domain = domain
        self.port = port
        self.rng = rng
        self.carrier_sense = carrier_sense
        """False for a full-duplex port on a shared medium (a duplex mismatch)."""
        self.last_own_end = 0.0
        self.queue: deque[tuple[WireFrame, int]] = deque()
        self.queued_bytes = 0
        self.carrier = 0
        self.idle_since = 0.0
        self.transmitting: Transmission | None = None
        self.reception: Reception | None = None
        self._work: simpy.Event | None = None
        self._idle: simpy.Event | None = None
        port.station = self
        domain.sim.env.process(self._run())

    @property
    def is_idle(self) -> bool:
        """No frame queued or being sent."""
        return not self.queue

    def enqueue(self, frame: WireFrame, hops: int) -> bool:
        """Accept a frame for transmission; False if the port's buffer is full."""
        if self.queued_bytes + frame.length > self.port.buffer_bytes:
            self.port.counters.discards += 1
            return False
        self.queue.append((frame, hops))
        self.queued_bytes += frame.length
        c = self.port.counters
        c.max_queue_bytes = max(c.max_queue_bytes, self.queued_bytes)
        if self._work is not None and not self._work.triggered:
            self._work.succeed()
        return True

    # The transmit side -------------------------------------------------------------------

    def _run(self) -> Generator[simpy.Event, Any, None]:
        env = self.domain.sim.env
        bit_time = 1.0 / self.domain.rate_bps
        while True:
            if not self.queue:
                self._work = env.event()
                yield self._work
                self._work = None
            frame, hops = self.queue[0]
            attempts = 0
            while True:
                yield from self._defer(bit_time)
                tx = self.domain.begin(self, frame, hops)
                self.transmitting = tx
                yield tx.outcome
                self.transmitting = None
                if not tx.collided:
                    self.idle_since = max(self.idle_since, env.now)
                    self.last_own_end = env.now
                    self.port.count_tx(frame)
                    if self.port.captured is not None:
                        self.port.captured.append((tx.start, frame))
                    if self.port.span is not None:  # SPAN copies what got through
                        self.port.span.sent(self.port, frame, hops, tx.start)
                    break
                attempts += 1
                counters = self.port.counters
                counters.collisions += 1
                yield env.timeout(tx.end - env.now)  # finish the jam
                self.idle_since = max(self.idle_since, env.now)
                if tx.late:
                    counters.late_collisions += 1
                    self._drop(frame, hops, "late-collision")
                    break
                if attempts >= MAX_ATTEMPTS:
                    counters.excessive_collisions += 1
                    self._drop(frame, hops, "excessive-collisions")
                    break
                slots = self.rng.randrange(1 << min(attempts, BACKOFF_LIMIT))
                if slots:
                    yield env.timeout(slots * slot_bits(self.domain.rate_bps) * bit_time)
            self.queue.popleft()
            self.queued_bytes -= frame.length

    def _defer(self, bit_time: float) -> Generator[simpy.Event, Any, None]:
        """Wait for an idle medium plus one inter-frame gap (1-persistent CSMA)."""
        env = self.domain.sim.env
        if not self.carrier_sense:
            # Full duplex: only its own inter-frame gap, whatever is on the wire.
            ready = self.last_own_end + IFG_BITS * bit_time
            if env.now < ready:
                yield env.timeout(ready - env.now)
            return
        while True:
            if self.carrier > 0:
                self._idle = env.event()
                yield self._idle
                self._idle = None
            ready = self.idle_since + IFG_BITS * bit_time
            if env.now < ready:
                yield env.timeout(ready - env.now)
            if self.carrier == 0 and env.now >= self.idle_since + IFG_BITS * bit_time:
                return

    def _drop(self, frame: WireFrame, hops: int, reason: str) -> None:
        sim = self.domain.sim
        sim.trace.frame_dropped(frame.frame_id, self.port.owner.name, reason, sim.now, hops)

    # The receive side --------------------------------------------------------------------

    def signal_starts(self, tx: Transmission) -> None:
        """The first bit of another station's transmission reaches this station."""
        now = self.domain.sim.now
        self.carrier += 1
        mine = self.transmitting if self.carrier_sense else None
        if mine is not None and not mine.collided:
            self.domain.collision(mine, now)
        if self.reception is None:
            self.reception = Reception(tx, now, own_transmission=mine is not None)
        else:
            self.reception.garbled = True

    def signal_ends(self, tx: Transmission, path: Path) -> None:
        """The last bit (or jam) of another station's transmission reaches this station."""
        now = self.domain.sim.now
        self.carrier -= 1
        if self.carrier > 0:
            return
        self.idle_since = now
        if self._idle is not None and not self._idle.triggered:
            self._idle.succeed()
        rx, self.reception = self.reception, None
        if rx is None:
            return
        first = rx.first
        frame = first.frame
        if not first.sender.carrier_sense and (rx.own_transmission or rx.garbled):
            # A full-duplex sender never retries: its frame, hit here, is gone.
            self.domain.sim.trace.frame_dropped(
                frame.frame_id, self.port.owner.name, "collision", now, first.hops + path.links
            )
        if rx.own_transmission:
            return
        link = self.port.link
        if link is not None and not link.up:
            return  # this station's cable is dark (its hub, or its own device, failed)
        if rx.garbled or first.collided:
            heard = round((now - rx.start) * self.domain.rate_bps / 8) - PREAMBLE_BITS // 8
            frame = frame.truncated(max(0, heard))
            hub_port = self.domain.hub_port_of[self]
            if hub_port is not None:
                hub_port.counters.runts += 1
        else:
            frame = self.domain.damage(frame, path)
        trace = self.domain.sim.trace
        if frame.frame_id in trace.followed:
            trace.carried.setdefault(frame.frame_id, first.frame)
            sender = first.sender.port
            trace.hops.append(
                (
                    frame.frame_id,
                    sender.label,
                    self.port.label,
                    first.start,
                    first.end,
                    rx.start,
                    now,
                    frame.length,
                )
            )
            if trace.on_hop is not None:
                trace.on_hop(now, sender, self.port)
        self.port.deliver(frame, first.hops + path.links, rx.start, now)


class CollisionDomain:
    """One shared medium and the stations on it."""

    def __init__(self, sim: Simulation, rate_bps: float, name: str) -> None:
        self.sim = sim
        self.rate_bps = rate_bps
        self.name = name
        self.stations: list[CsmaCdStation] = []
        self.paths: dict[tuple[CsmaCdStation, CsmaCdStation], Path] = {}
        self.hub_port_of: dict[CsmaCdStation, Port | None] = {}
        self._rng = sim.rng(f"ber:{name}")

    def attach(
        self, port: Port, hub_port: Port | None, carrier_sense: bool = True
    ) -> CsmaCdStation:
        """Make ``port`` a station here; ``hub_port`` is the repeater port it plugs into.

        ``carrier_sense`` False makes a full-duplex port on this medium: a duplex mismatch.
        """
        station = CsmaCdStation(self, port, self.sim.rng(f"backoff:{port.label}"), carrier_sense)
        self.stations.append(station)
        self.hub_port_of[station] = hub_port
        return station

    def connect(self, a: CsmaCdStation, b: CsmaCdStation, path: Path) -> None:
        """Record the signal path between two stations (both directions)."""
        self.paths[a, b] = path
        self.paths[b, a] = path

    def damage(self, frame: WireFrame, path: Path) -> WireFrame:
        """Bit errors on the way: each bit flips with probability ``path.ber``."""
        if path.ber > 0.0 and self._rng.random() >= (1.0 - path.ber) ** (frame.length * 8):
            return frame.with_corruption()
        return frame

    def begin(self, sender: CsmaCdStation, frame: WireFrame, hops: int) -> Transmission:
        """``sender`` puts its first bit on the medium now."""
        sim = self.sim
        now = sim.now
        end = now + frame.wire_bytes * 8 / self.rate_bps
        tx = Transmission(sender, frame, hops, now, end, sim.env.event())
        if sender.port.records_first_bit:
            sim.trace.first_bit(frame.frame_id, now)
        for other in self.stations:
            if other is not sender:
                sim.call_at(now + self.paths[sender, other].delay, other.signal_starts, tx)
        sim.call_at(tx.end, self._complete, tx)
        return tx

    def collision(self, tx: Transmission, now: float) -> None:
        """``tx``'s sender hears another signal while sending: jam, then stop."""
        bit_time = 1.0 / self.rate_bps
        tx.collided = True
        tx.late = (now - tx.start) > (PREAMBLE_BITS + slot_bits(self.rate_bps)) * bit_time
        tx.end = now + JAM_BITS * bit_time
        hub_port = self.hub_port_of[tx.sender]
        if hub_port is not None:
            hub_port.counters.collisions += 1
        self._signal_ends_everywhere(tx)
        tx.outcome.succeed()

    def _complete(self, tx: Transmission) -> None:
        if tx.collided:
            return
        hub_port = self.hub_port_of[tx.sender]
        if hub_port is not None:
            _count_rx(hub_port.counters, tx.frame)
        self._signal_ends_everywhere(tx)
        tx.outcome.succeed()

    def _signal_ends_everywhere(self, tx: Transmission) -> None:
        for other in self.stations:
            if other is not tx.sender:
                path = self.paths[tx.sender, other]
                self.sim.call_at(tx.end + path.delay, other.signal_ends, tx, path)
                if not tx.collided:
                    hub_port = self.hub_port_of[other]
                    if hub_port is not None:
                        hub_port.count_tx(tx.frame)


def _count_rx(c: PortCounters, frame: WireFrame) -> None:
    c.rx_frames += 1
    c.rx_octets += frame.length
