"""Sockets for simulated processes: TCP over the simulated fabric, the SimPy way.

Every call that would block on a real socket returns a SimPy event that a process
yields; the event's value is what the real call would return::

    def client(env, stack):
        sock = yield stack_connect(stack, server_ip, 143)
        yield sock.send(b"a1 NOOP\\r\\n")
        reply = yield sock.recv()        # b"" once the peer has closed
        sock.close()

This is the small adapter a sans-IO protocol object (IMAP, SMTP, ...) needs to run in the
simulation: feed what ``recv`` returns to ``receive_data``, ``send`` what it produces.
"""

from __future__ import annotations

from collections import deque

import simpy

from netsim.net.addressing import IPv4Address
from netsim.net.stack import IpStack
from netsim.net.tcp.config import TcpConfig
from netsim.net.tcp.connection import TcpConnection
from netsim.net.tcp.demux import Listener
from netsim.net.tcp.endpoint import Endpoint
from netsim.net.tcp.events import Closed, Connected, Reset, TimedOut


class TcpSocket:
    """One end of a TCP connection, for a simulated process."""

    def __init__(self, stack: IpStack, conn: TcpConnection) -> None:
        self.stack = stack
        self.conn = conn
        env = stack.sim.env
        self.connected: simpy.Event = env.event()
        """Succeeds with this socket when the handshake completes."""
        self.finished: simpy.Event = env.event()
        """Succeeds when the connection reaches CLOSED in order (both FINs acknowledged);
        fails with the error if it is reset or times out first."""
        self.error: OSError | None = None
        self._recv_waiters: deque[tuple[simpy.Event, int]] = deque()
        self._send_queue: deque[tuple[memoryview, simpy.Event]] = deque()
        stack.sockets[conn] = self

    def __repr__(self) -> str:
        return f"<TcpSocket {self.conn.local} -> {self.conn.remote} {self.conn.state.name}>"

    def send(self, data: bytes) -> simpy.Event:
        """Queue ``data``; the event succeeds once TCP has taken all of it into its buffer."""
        event = self.stack.sim.env.event()
        if self.error is not None:
            return _failed(event, self.error)
        self._send_queue.append((memoryview(bytes(data)), event))
        self._push()
        self.stack.pump(self.conn)
        return event

    def recv(self, max_bytes: int = 65536) -> simpy.Event:
        """The event succeeds with up to ``max_bytes`` bytes, or ``b""`` at end of stream."""
        event = self.stack.sim.env.event()
        self._recv_waiters.append((event, max_bytes))
        self._satisfy()
        self.stack.pump(self.conn)  # reading may open the receive window
        return event

    def close(self) -> None:
        """Send FIN after the queued data; the peer reads ``b""`` when it arrives."""
        if self.error is None:
            self.conn.close()
            self.stack.pump(self.conn)

    def set_nodelay(self, on: bool) -> None:
        """TCP_NODELAY: switch Nagle's algorithm off (or back on)."""
        self.conn.nagle = not on
        self.stack.pump(self.conn)

    # Driven by the stack after every change ----------------------------------------------

    def _wake(self) -> None:
        for event in self.conn.events():
            if isinstance(event, Connected):
                if not self.connected.triggered:
                    self.connected.succeed(self)
            elif isinstance(event, Reset):
                refused = ConnectionRefusedError if event.refused else ConnectionResetError
                self._fail(refused(f"connection {self.conn.remote} reset"))
            elif isinstance(event, TimedOut):
                self._fail(TimeoutError(f"connection to {self.conn.remote} timed out"))
            elif isinstance(event, Closed):
                self.stack.sockets.pop(self.conn, None)
                if not self.finished.triggered:
                    if self.error is None:
                        self.finished.succeed(self)
                    else:
                        _failed(self.finished, self.error)
        self._push()
        self._satisfy()

    def _push(self) -> None:
        while self._send_queue and self.error is None:
            data, event = self._send_queue[0]
            taken = self.conn.send(bytes(data))
            if taken < len(data):
                self._send_queue[0] = (data[taken:], event)
                return
            self._send_queue.popleft()
            event.succeed(len(data.obj))  # type: ignore[arg-type]

    def _satisfy(self) -> None:
        while self._recv_waiters:
            event, max_bytes = self._recv_waiters[0]
            if self.conn.readable:
                self._recv_waiters.popleft()
                event.succeed(self.conn.read(max_bytes))
            elif self.conn.at_eof:
                self._recv_waiters.popleft()
                event.succeed(b"")
            elif self.error is not None:
                self._recv_waiters.popleft()
                _failed(event, self.error)
            else:
                return

    def _fail(self, error: OSError) -> None:
        self.error = error
        if not self.connected.triggered:
            _failed(self.connected, error)
        if not self.finished.triggered:
            _failed(self.finished, error)
        while self._send_queue:
            _failed(self._send_queue.popleft()[1], error)


class TcpListener:
    """A listening socket: ``accept()`` events succeed with connected sockets."""

    def __init__(self, stack: IpStack, port: int, backlog: int, config: TcpConfig | None):
        self.stack = stack
        self.port = port
        self.listener: Listener = stack.tcp.listen(port, backlog, config)
        self._waiters: deque[simpy.Event] = deque()
        self._ready: deque[TcpSocket] = deque()
        stack.listeners[port] = self

    def accept(self) -> simpy.Event:
        """The event succeeds with the next connected :class:`TcpSocket`."""
        event = self.stack.sim.env.event()
        self._waiters.append(event)
        self._wake()
        return event

    def _wake(self) -> None:
        while True:
            conn = self.listener.accept()
            if conn is None:
                break
            sock = TcpSocket(self.stack, conn)
            sock.connected.succeed(sock)
            self._ready.append(sock)
        while self._waiters and self._ready:
            self._waiters.popleft().succeed(self._ready.popleft())


def listen(
    stack: IpStack, port: int, backlog: int = 128, config: TcpConfig | None = None
) -> TcpListener:
    """Listen on ``port`` of ``stack``'s host."""
    return TcpListener(stack, port, backlog, config)


def connect(
    stack: IpStack, ip: IPv4Address, port: int, config: TcpConfig | None = None
) -> simpy.Event:
    """Open a connection; the event succeeds with a :class:`TcpSocket` once established."""
    conn = stack.tcp.connect(Endpoint(ip, port), stack.sim.now, config=config)
    sock = TcpSocket(stack, conn)
    stack.pump(conn)
    return sock.connected


def _failed(event: simpy.Event, error: Exception) -> simpy.Event:
    event.defused = True  # a failure nobody waits for must not stop the simulation
    event.fail(error)
    return event
