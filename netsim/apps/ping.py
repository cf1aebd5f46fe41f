"""``traffic: kind: ping``: ICMP echo requests and their round-trip times (ping.csv).

Like the ``ping`` command: ``count`` requests, one every ``interval``, each carrying
``size`` bytes of data (56 by default: with the 8-byte ICMP header and the 20-byte IPv4
header an 84-byte packet, in a 102-byte Ethernet frame). A reply that does not come back
within ``timeout`` is a loss. The first request usually waits for ARP, as a real first
ping does.
"""

from __future__ import annotations

from netsim.engine.sim import Simulation
from netsim.net.addressing import IPv4Address
from netsim.net.icmp import IcmpEcho
from netsim.net.ipv4 import IpProtocol, Ipv4Packet
from netsim.net.stack import IpStack


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
        self.identifier = identifier
        self.dscp = dscp
        self._sent: dict[int, float] = {}
        self._answered: set[int] = set()
        stack.on_echo_reply(identifier, self._on_reply)
        for seq in range(count):
            sim.call_at(start + seq * interval, self._send, seq)

    def _send(self, seq: int) -> None:
        now = self.sim.now
        data = bytes((seq + i) & 0xFF for i in range(self.size))
        echo = IcmpEcho.request(self.identifier, seq, data)
        packet = Ipv4Packet(
            self.stack.address,
            self.dst,
            IpProtocol.ICMP,
            echo.to_bytes(),
            identification=self.stack.next_identification(),
            tos=self.dscp << 2,
        )
        self._sent[seq] = now
        self.stack.send_packet(packet, "icmp")
        self.sim.call_at(now + self.timeout, self._expire, seq)

    def _on_reply(self, echo: IcmpEcho, now: float) -> None:
        sent = self._sent.get(echo.sequence)
        if sent is None or echo.sequence in self._answered or now > sent + self.timeout:
            return
        self._answered.add(echo.sequence)
        self._record(echo.sequence, sent, now, "reply")

    def _expire(self, seq: int) -> None:
        if seq not in self._answered:
            self._answered.add(seq)
            self._record(seq, self._sent[seq], None, "timeout")

    def _record(self, seq: int, sent: float, received: float | None, outcome: str) -> None:
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
        )
