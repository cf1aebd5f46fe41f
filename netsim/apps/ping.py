"""``traffic: kind: ping``: ICMP echo requests and their round-trip times (ping.csv).

Like the ``ping`` command: ``count`` requests, one every ``interval``, each carrying
``size`` bytes of data (56 by default: with the 8-byte ICMP header and the 20-byte IPv4
header an 84-byte packet, in a 102-byte Ethernet frame). A reply that does not come back
within ``timeout`` is a loss. The first request usually waits for ARP, as a real first
ping does.

The ICMP identifier and sequence number are 16-bit fields (RFC 792): past 65,535 the
sequence wraps to 0, as it does in ``ping``; the ``seq`` column shows what was on the
wire. A reply is matched to the latest request sent with its sequence number.

The ``ttl`` column is the TTL the reply arrived with (64 minus one per router on the way
back, as ``ping`` prints it). Requests leave with ``ttl`` (64 by default, ``ping -t``):
a small one dies on the way, and the router where it did answers with ICMP time
exceeded: the row's outcome is ``ttl-exceeded`` and ``icmp_from`` is that router's
address, the evidence traceroute collects hop by hop. A router with no route answers
``unreachable``.
"""

from __future__ import annotations

from netsim.engine.sim import Simulation
from netsim.net.addressing import IPv4Address
from netsim.net.icmp import IcmpEcho, IcmpMessage, IcmpType
from netsim.net.ipv4 import DEFAULT_TTL, IpProtocol, Ipv4Packet
from netsim.net.stack import IpStack

SEQUENCE_SPACE = 1 << 16
"""ICMP echo identifiers and sequence numbers are 16 bits wide."""


class Pinger:
    """Sends echo requests from ``stack`` to ``dst`` and records each round trip."""

    def __init__(
        self,
        sim: Simulation,
        name: str,
        stack: IpStack,
        dst: IPv4Address,
        dst_name: str,
        *,
        count: int,
        interval: float,
        size: int,
        start: float,
        timeout: float,
        identifier: int,
        dscp: int = 0,
        ttl: int = DEFAULT_TTL,
    ) -> None:
        self.sim = sim
        self.name = name
        self.stack = stack
        self.dst = dst
        self.dst_name = dst_name
        self.count = count
        self.interval = interval
        self.size = size
        self.timeout = timeout
        self.identifier = identifier % SEQUENCE_SPACE
        self.dscp = dscp
        self.ttl = ttl
        self.start = start
        self._sent: dict[int, tuple[int, float]] = {}
        """Wire sequence number -> (request number, time sent) of the latest request."""
        self._answered: set[int] = set()
        """Request numbers already recorded (reply or timeout)."""
        stack.on_echo_reply(self.identifier, self._on_reply, self._on_error)
        sim.call_at(start, self._send, 0)

    def _send(self, number: int) -> None:
        # Each request schedules the next: a count of millions costs no memory up front.
        if number + 1 < self.count:
            self.sim.call_at(self.start + (number + 1) * self.interval, self._send, number + 1)
        now = self.sim.now
        seq = number % SEQUENCE_SPACE
        data = bytes((seq + i) & 0xFF for i in range(self.size))
        echo = IcmpEcho.request(self.identifier, seq, data)
        packet = Ipv4Packet(
            self.stack.address,
            self.dst,
            IpProtocol.ICMP,
            echo.to_bytes(),
            ttl=self.ttl,
            identification=self.stack.next_identification(),
            tos=self.dscp << 2,
        )
        self._sent[seq] = (number, now)
        self.stack.send_packet(packet, "icmp")
        self.sim.call_at(now + self.timeout, self._expire, number, now)

    def _on_reply(self, echo: IcmpEcho, now: float, ttl: int) -> None:
        self._answer(echo.sequence, now, "reply", ttl, None)

    def _on_error(
        self, echo: IcmpEcho, message: IcmpMessage, source: IPv4Address, now: float
    ) -> None:
        outcome = "ttl-exceeded" if message.type == IcmpType.TIME_EXCEEDED else "unreachable"
        self._answer(echo.sequence, now, outcome, None, source)

    def _answer(
        self, seq: int, now: float, outcome: str, ttl: int | None, source: IPv4Address | None
    ) -> None:
        latest = self._sent.get(seq)
        if latest is None:
            return
        number, sent = latest
        if number in self._answered or now > sent + self.timeout:
            return
        self._answered.add(number)
        self._record(seq, sent, now, outcome, ttl, source)

    def _expire(self, number: int, sent: float) -> None:
        if number in self._answered:
            self._answered.discard(number)  # recorded already; keep the set small
            return
        self._record(number % SEQUENCE_SPACE, sent, None, "timeout")

    def _record(
        self,
        seq: int,
        sent: float,
        received: float | None,
        outcome: str,
        ttl: int | None = None,
        source: IPv4Address | None = None,
    ) -> None:
        self.sim.trace.row(
            "ping",
            traffic=self.name,
            src=self.stack.host.name,
            dst=self.dst_name,
            seq=seq,
            size=self.size,
            t_sent=sent,
            t_received=received,
            rtt=None if received is None else received - sent,
            outcome=outcome,
            ttl=ttl,
            icmp_from=None if source is None else str(source),
        )
