"""A host's TCP layer: listeners, connections keyed by 4-tuple, and RSTs for strangers.

:class:`TcpDemux` is what a host's IP layer hands every TCP packet to. It finds the
connection by (local address, local port, remote address, remote port); a SYN to a
listening port creates a new connection (passive open); anything else that matches
nothing is answered with a RST, as RFC 9293 §3.10.7.1 says a CLOSED port must. Like
the connections, it is sans-IO: the owner pumps :meth:`TcpDemux.segments_to_send` and
:meth:`TcpDemux.on_timer`, and wraps what comes out in IPv4 packets.

A listener keeps a backlog (Linux's model): connections still in the handshake count
against it, a SYN beyond it is silently dropped (the client's SYN retransmission tries
again later), and :meth:`Listener.accept` hands out connections once ESTABLISHED.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from netsim.net.addressing import IPv4Address
from netsim.net.errors import DecodeError
from netsim.net.ipv4 import DEFAULT_TTL, IpProtocol, Ipv4Packet
from netsim.net.tcp.config import TcpConfig
from netsim.net.tcp.connection import TcpConnection
from netsim.net.tcp.endpoint import Endpoint, FourTuple
from netsim.net.tcp.segment import TcpFlags, TcpSegment
from netsim.net.tcp.seqnum import wrap
from netsim.net.tcp.states import TcpState

EPHEMERAL_PORTS = range(49152, 65536)
"""The dynamic port range of RFC 6335 §6, from which :meth:`TcpDemux.connect` picks."""


@dataclass(frozen=True, slots=True)
class OutgoingSegment:
    """A segment to transmit, with the addresses its checksum and IPv4 header need."""

    src: IPv4Address
    dst: IPv4Address
    segment: TcpSegment

    def to_bytes(self) -> bytes:
        """The TCP segment's octets, checksummed for these addresses."""
        return self.segment.to_bytes(self.src, self.dst)

    def to_packet(self, ttl: int = DEFAULT_TTL, identification: int = 0) -> Ipv4Packet:
        """The IPv4 packet carrying this segment."""
        return Ipv4Packet(self.src, self.dst, IpProtocol.TCP, self.to_bytes(), ttl, identification)


@dataclass(slots=True)
class DemuxStats:
    """Counters of the TCP layer as a whole."""

    segments_received: int = 0
    bad_segments: int = 0
    """Dropped for a checksum mismatch or malformed header."""
    resets_sent: int = 0
    """RSTs sent for segments that matched no connection or listener."""
    syns_dropped: int = 0
    """SYNs dropped because a listener's backlog was full."""


class Listener:
    """A passive socket on one port: half-open and accept-ready connections."""

    def __init__(self, port: int, backlog: int, config: TcpConfig | None) -> None:
        self.port = port
        """The local port listened on."""
        self.backlog = backlog
        """How many connections (in handshake or waiting for accept) may queue."""
        self.config = config
        self._handshaking: list[TcpConnection] = []
        self._ready: deque[TcpConnection] = deque()
        self.closed = False
        """True after :meth:`TcpDemux.unlisten`."""

    @property
    def queued(self) -> int:
        """Connections counted against the backlog."""
        return len(self._handshaking) + len(self._ready)

    def accept(self) -> TcpConnection | None:
        """The oldest ESTABLISHED connection not yet accepted, or None."""
        return self._ready.popleft() if self._ready else None

    def _update(self) -> None:
        """Move finished handshakes to the accept queue; forget those that failed."""
        still: list[TcpConnection] = []
        for conn in self._handshaking:
            if conn.state is TcpState.SYN_RECEIVED:
                still.append(conn)
            elif conn.state is not TcpState.CLOSED:
                self._ready.append(conn)
        self._handshaking = still


class TcpDemux:
    """All TCP state of one host address."""

    def __init__(
        self,
        address: IPv4Address,
        *,
        config: TcpConfig | None = None,
        iss_source: Callable[[], int] | None = None,
        port_source: Callable[[], int] | None = None,
    ) -> None:
        """``iss_source`` gives initial sequence numbers and ``port_source`` first-choice
        ephemeral ports; pass seeded generators to make runs reproducible (the default
        is a ``random.Random(0)``)."""
        self.address = address
        """This host's IPv4 address."""
        self.config = config
        """Default configuration of new connections (None: :class:`TcpConfig` defaults)."""
        rng = random.Random(0)
        self._iss_source = iss_source or (lambda: rng.getrandbits(32))
        self._port_source = port_source or (
            lambda: rng.randrange(EPHEMERAL_PORTS.start, EPHEMERAL_PORTS.stop)
        )
        self.stats = DemuxStats()
        self._connections: dict[FourTuple, TcpConnection] = {}
        self._listeners: dict[int, Listener] = {}
        self._resets: list[OutgoingSegment] = []

    # -------------------------------------------------------------- user calls

    def listen(self, port: int, backlog: int = 128, config: TcpConfig | None = None) -> Listener:
        """Open ``port`` for incoming connections."""
        if port in self._listeners:
            raise OSError(f"TCP port {port} is already listening")
        listener = Listener(port, backlog, config)
        self._listeners[port] = listener
        return listener

    def unlisten(self, port: int) -> None:
        """Stop listening; connections already made are unaffected, half-open ones reset."""
        listener = self._listeners.pop(port, None)
        if listener is not None:
            listener.closed = True
            for conn in listener._handshaking:
                conn.abort()

    def connect(
        self,
        remote: Endpoint,
        now: float,
        *,
        local_port: int | None = None,
        config: TcpConfig | None = None,
    ) -> TcpConnection:
        """Active open to ``remote`` from ``local_port`` (default: a free ephemeral port)."""
        port = self._free_port(remote) if local_port is None else local_port
        local = Endpoint(self.address, port)
        if FourTuple(local, remote) in self._connections:
            raise OSError(f"TCP connection {local} -> {remote} already exists")
        conn = TcpConnection.connect(
            local, remote, iss=self._iss_source(), now=now, config=config or self.config
        )
        self._connections[conn.four_tuple] = conn
        return conn

    def _free_port(self, remote: Endpoint) -> int:
        start = self._port_source()
        span = len(EPHEMERAL_PORTS)
        for i in range(span):
            port = EPHEMERAL_PORTS.start + (start - EPHEMERAL_PORTS.start + i) % span
            local = Endpoint(self.address, port)
            if FourTuple(local, remote) not in self._connections and port not in self._listeners:
                return port
        raise OSError("no free ephemeral TCP port")

    @property
    def connections(self) -> Iterator[TcpConnection]:
        """The connections this host knows (including TIME-WAIT ones)."""
        return iter(list(self._connections.values()))

    def listener(self, port: int) -> Listener | None:
        """The listener on ``port``, if any."""
        return self._listeners.get(port)

    def connection(self, four_tuple: FourTuple) -> TcpConnection | None:
        """The connection with this 4-tuple, if any."""
        return self._connections.get(four_tuple)

    # -------------------------------------------------------------- input

    def receive(self, packet: Ipv4Packet, now: float) -> TcpConnection | None:
        """Hand over a received IPv4 packet carrying TCP; return the connection it concerns.

        Segments with a bad checksum or header are counted and dropped.
        """
        try:
            segment = TcpSegment.from_bytes(packet.payload, packet.src, packet.dst)
        except DecodeError:
            self.stats.bad_segments += 1
            return None
        return self.receive_segment(packet.src, segment, now)

    def receive_segment(
        self, src: IPv4Address, segment: TcpSegment, now: float
    ) -> TcpConnection | None:
        """Deliver an already decoded segment from ``src``; return the connection it concerns."""
        self.stats.segments_received += 1
        local = Endpoint(self.address, segment.dst_port)
        remote = Endpoint(src, segment.src_port)
        conn = self._connections.get(FourTuple(local, remote))
        if conn is not None and conn.state is not TcpState.CLOSED:
            conn.receive_segment(segment, now)
            self._update_listeners()
            return conn
        listener = self._listeners.get(segment.dst_port)
        is_bare_syn = segment.has(TcpFlags.SYN) and not segment.has(TcpFlags.ACK | TcpFlags.RST)
        if listener is not None and is_bare_syn:
            if listener.queued >= listener.backlog:
                self.stats.syns_dropped += 1
                return None
            conn = TcpConnection.accept(
                segment,
                local,
                remote,
                iss=self._iss_source(),
                now=now,
                config=listener.config or self.config,
            )
            self._connections[conn.four_tuple] = conn
            listener._handshaking.append(conn)
            return conn
        self._reset_stranger(src, segment)
        return None

    def _reset_stranger(self, src: IPv4Address, segment: TcpSegment) -> None:
        """Answer a segment for no connection with a RST (RFC 9293 §3.10.7.1)."""
        if segment.has(TcpFlags.RST):
            return  # never answer a RST with a RST
        if segment.has(TcpFlags.ACK):
            reply = TcpSegment(segment.dst_port, segment.src_port, segment.ack, 0, TcpFlags.RST, 0)
        else:
            reply = TcpSegment(
                segment.dst_port,
                segment.src_port,
                0,
                wrap(segment.seq + segment.seg_len),
                TcpFlags.RST | TcpFlags.ACK,
                0,
            )
        self.stats.resets_sent += 1
        self._resets.append(OutgoingSegment(self.address, src, reply))

    def _update_listeners(self) -> None:
        for listener in self._listeners.values():
            listener._update()

    # -------------------------------------------------------------- output and time

    def segments_to_send(self, now: float) -> list[OutgoingSegment]:
        """Every segment any connection (or the RST logic) wants sent now.

        Connections that reached CLOSED are forgotten afterwards; their owners keep
        the objects and can still drain their events.
        """
        out, self._resets = self._resets, []
        for key, conn in list(self._connections.items()):
            for segment in conn.segments_to_send(now):
                out.append(OutgoingSegment(conn.local.ip, conn.remote.ip, segment))
            if conn.state is TcpState.CLOSED:
                del self._connections[key]
        self._update_listeners()
        return out

    def next_timer(self) -> float | None:
        """The earliest deadline of any connection's timers."""
        deadlines = (c.next_timer() for c in self._connections.values())
        return min((d for d in deadlines if d is not None), default=None)

    def on_timer(self, now: float) -> list[TcpConnection]:
        """Run the due timers of every connection; return the connections that had one."""
        fired = []
        for conn in list(self._connections.values()):
            deadline = conn.next_timer()
            if deadline is not None and deadline <= now:
                conn.on_timer(now)
                fired.append(conn)
        self._update_listeners()
        return fired
