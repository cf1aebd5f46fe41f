"""A tiny discrete-event network for testing the sans-IO TCP without SimPy.

Two or more hosts, each a :class:`~netsim.net.tcp.demux.TcpDemux`, exchange segments
through a channel with a propagation delay, an optional bit rate (so segments queue
behind each other as on a real link), and pluggable loss, duplication and extra
random delay (which reorders). Every segment really goes through the codecs: TCP
bytes with checksum, wrapped in an IPv4 packet, encoded and decoded again.

The event loop is a heap of (time, tie-breaker, callback), the textbook way; the
applications are callbacks that see each connection's events.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from netsim.net.addressing import IPv4Address
from netsim.net.ipv4 import Ipv4Packet
from netsim.net.tcp.config import TcpConfig
from netsim.net.tcp.connection import TcpConnection
from netsim.net.tcp.demux import OutgoingSegment, TcpDemux
from netsim.net.tcp.events import TcpEvent
from netsim.net.tcp.segment import TcpSegment

A = IPv4Address("10.0.0.1")
B = IPv4Address("10.0.0.2")

Application = Callable[["Network", TcpConnection, TcpEvent], None]


@dataclass
class Impairments:
    """What the channel does to segments, decided by a seeded RNG."""

    loss: float = 0.0
    duplicate: float = 0.0
    jitter: float = 0.0
    """Extra delay drawn uniformly from [0, jitter): segments overtake each other."""
    drop: Callable[[OutgoingSegment], bool] | None = None
    """A deterministic dropper, asked first (e.g. drop the third data segment)."""


@dataclass
class Network:
    """Hosts, a shared clock and the channel between them."""

    delay: float = 0.0005
    rate_bps: float | None = None
    impairments: Impairments = field(default_factory=Impairments)
    seed: int = 0
    now: float = 0.0
    hosts: dict[IPv4Address, TcpDemux] = field(default_factory=dict)
    apps: dict[IPv4Address, Application] = field(default_factory=dict)
    sent: list[tuple[float, OutgoingSegment]] = field(default_factory=list)
    """Every segment put on the channel, with its send time (dropped ones included)."""
    delivered: list[tuple[float, OutgoingSegment]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._tie = itertools.count()
        self._rng = random.Random(self.seed)
        self._link_free: dict[tuple[IPv4Address, IPv4Address], float] = {}
        self._timer_at: dict[IPv4Address, float] = {}
        self._conns: dict[IPv4Address, dict[int, TcpConnection]] = {}

    def add_host(
        self,
        ip: IPv4Address,
        config: TcpConfig | None = None,
        app: Application | None = None,
        *,
        iss: int | None = None,
    ) -> TcpDemux:
        """A host with a TCP layer and an application callback; ``iss`` fixes its ISNs."""
        rng = random.Random(f"{self.seed}-{ip}")  # a str seed hashes the same in every run

        def iss_source() -> int:
            return rng.getrandbits(32) if iss is None else iss

        demux = TcpDemux(ip, config=config, iss_source=iss_source)
        self.hosts[ip] = demux
        if app is not None:
            self.apps[ip] = app
        return demux

    def at(self, time: float, action: Callable[[], None]) -> None:
        """Run ``action`` at simulated ``time``."""
        heapq.heappush(self._heap, (time, next(self._tie), action))

    def pump(self, ip: IPv4Address) -> None:
        """After any input to host ``ip``: transmit its output, notify its app, re-arm its timer."""
        demux = self.hosts[ip]
        for _ in range(100):  # apps may react by sending more; settle
            for out in demux.segments_to_send(self.now):
                self._transmit(out)
            if not self._notify(ip):
                break
        deadline = demux.next_timer()
        if deadline is not None and self._timer_at.get(ip) != deadline:
            self._timer_at[ip] = deadline
            self.at(deadline, lambda: self._fire_timer(ip))

    def _notify(self, ip: IPv4Address) -> bool:
        # Connections leave the demux once CLOSED; remember them to deliver last events.
        known = self._conns.setdefault(ip, {})
        for conn in self.hosts[ip].connections:
            known.setdefault(id(conn), conn)
        app = self.apps.get(ip)
        any_event = False
        for conn in list(known.values()):
            for event in conn.events():
                any_event = True
                if app is not None:
                    app(self, conn, event)
        return any_event

    def _fire_timer(self, ip: IPv4Address) -> None:
        demux = self.hosts[ip]
        deadline = demux.next_timer()
        if deadline is not None and deadline <= self.now:
            demux.on_timer(self.now)
        self.pump(ip)

    def _transmit(self, out: OutgoingSegment) -> None:
        self.sent.append((self.now, out))
        packet_bytes = out.to_packet().to_bytes()
        imp = self.impairments
        if imp.drop is not None and imp.drop(out):
            return
        if self._rng.random() < imp.loss:
            return
        copies = 2 if self._rng.random() < imp.duplicate else 1
        link = (out.src, out.dst)
        start = max(self.now, self._link_free.get(link, 0.0))
        if self.rate_bps is not None:
            start += (len(packet_bytes) + 38) * 8 / self.rate_bps  # + Ethernet overhead
        self._link_free[link] = start
        for _ in range(copies):
            arrival = start + self.delay + self._rng.random() * imp.jitter
            self.at(arrival, lambda b=packet_bytes, o=out: self._deliver(o, b))

    def _deliver(self, out: OutgoingSegment, packet_bytes: bytes) -> None:
        self.delivered.append((self.now, out))
        packet = Ipv4Packet.from_bytes(packet_bytes)
        self.hosts[packet.dst].receive(packet, self.now)
        self.pump(packet.dst)

    def run(self, until: float = 60.0, stop: Callable[[], bool] | None = None) -> None:
        """Process events in time order until ``until`` or until ``stop()`` is true."""
        for ip in self.hosts:
            self.pump(ip)
        while self._heap:
            time, _, action = heapq.heappop(self._heap)
            if time > until:
                heapq.heappush(self._heap, (time, 0, action))
                self.now = until
                return
            self.now = time
            action()
            if stop is not None and stop():
                return
        self.now = max(self.now, until)  # nothing left to do: time still passes

    def data_segments(self, src: IPv4Address) -> list[tuple[float, TcpSegment]]:
        """Segments with payload that ``src`` sent, with send times."""
        return [(t, o.segment) for t, o in self.sent if o.src == src and o.segment.payload]
