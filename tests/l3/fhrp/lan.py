"""A tiny shared LAN for FHRP state machines: every message reaches every other router.

Messages cross as real bytes (encoded by the sender's codec, decoded by the receiver's)
after ``delay`` seconds. A router that :meth:`Lan.kill` removes neither sends nor hears
anything from then on: a power failure, not a graceful shutdown.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from netsim.l3.fhrp.common import FhrpEvent, Forward, Send
from netsim.l3.fhrp.hsrp import HsrpGroup, HsrpMessage
from netsim.l3.fhrp.vrrp import VrrpAdvertisement, VrrpRouter
from netsim.net.udp import UdpDatagram


@dataclass
class Lan:
    """Routers by name on one segment; :attr:`log` keeps every event with its time."""

    routers: dict[str, HsrpGroup | VrrpRouter]
    delay: float = 0.0
    now: float = 0.0
    dead: set[str] = field(default_factory=set)
    log: list[tuple[float, str, FhrpEvent]] = field(default_factory=list)
    _queue: list[tuple[float, int, str, Send]] = field(default_factory=list)
    _seq: int = 0

    def start(self, name: str) -> None:
        self.routers[name].start(self.now)
        self._collect(name)

    def kill(self, name: str) -> None:
        self.dead.add(name)

    def run_until(self, end: float) -> None:
        while True:
            times = [self._queue[0][0]] if self._queue else []
            for name, router in self.routers.items():
                at = router.next_timer()
                if at is not None and name not in self.dead:
                    times.append(at)
            if not times or min(times) > end:
                self.now = end
                return
            self.now = min(times)
            while self._queue and self._queue[0][0] <= self.now:
                _t, _s, sender, send = heapq.heappop(self._queue)
                self._deliver(sender, send)
            for name, router in self.routers.items():
                if name not in self.dead:
                    router.tick(self.now)
                    self._collect(name)

    def takeovers(self, name: str) -> list[float]:
        """When ``name`` started forwarding for the virtual IP."""
        return [t for t, who, e in self.log if who == name and isinstance(e, Forward)]

    def _collect(self, name: str) -> None:
        for event in self.routers[name].events():
            self.log.append((self.now, name, event))
            if isinstance(event, Send) and name not in self.dead:
                self._seq += 1
                heapq.heappush(self._queue, (self.now + self.delay, self._seq, name, event))

    def _deliver(self, sender: str, send: Send) -> None:
        src = self.routers[sender].interface.ip
        for name, router in self.routers.items():
            if name == sender or name in self.dead:
                continue
            if isinstance(router, HsrpGroup):
                datagram = UdpDatagram.from_bytes(send.payload, src, send.dst)
                router.receive(HsrpMessage.from_bytes(datagram.payload), src, self.now)
            else:
                advert = VrrpAdvertisement.from_bytes(send.payload, src, send.dst)
                router.receive(advert, src, send.ttl, self.now)
            self._collect(name)
