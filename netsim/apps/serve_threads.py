"""A thread per connection with a blocking socket: serve-mail's I/O path for POP3.

Every POP3 command of a stock client is one round trip (poplib sends a line and waits
for the answer), so the rate a client gets is the round-trip latency: client, kernel
and server.  On the event loop a round trip costs the server an ``epoll_wait``, a
``read``, a ``write`` and the loop's own bookkeeping; a thread that owns its socket
and sits in ``recv`` needs only the ``recv`` and one ``sendall``.  While blocked, the
thread holds no GIL, so it costs the loop nothing.  ``benchmarks/pop3_io_paths.py``
measures the bare paths against each other and against Dovecot.

The sans-IO session is the same object the event loop drives (``greeting``,
``receive_data``, ``resume``, ``shutdown``, ``close``).  What this module adds:

* **Accepting** stays on the event loop (:class:`ThreadedListener`): it counts the
  connection against the limits like any other, and hands the socket to a new thread.
  A client over a limit is refused by the loop, in the protocol's words (over TLS on
  an implicit-TLS port).
* **The store is shared** with the loop thread, where IMAP and SMTP sessions run: every
  call into any session, on either side, holds the hub's one lock (``hub.lock``).  A
  POP3 QUIT's expunge therefore happens between two IMAP commands, never inside one,
  and IMAP sessions hear of it at once (the store tells the hub, which wakes the loop).
* **Silence** is a receive timeout: before login the login timeout, after it the
  autologout; then the session says its last words and the socket closes.
* **A failed login's delay** is the thread sleeping before it answers.
* **Shutdown**: :meth:`ThreadedConnection.say_bye` wakes the thread out of ``recv``
  (``shutdown(SHUT_RD)``); the thread says the session's last words and ends.
  :func:`join_all` waits for the threads, and cuts off the sockets of any still
  writing to a client that does not read.  The threads are daemons besides, so none
  can keep the process from exiting.

The session must not idle (IMAP IDLE would need news delivered from the loop); POP3's
never does.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import ssl
import struct
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from netsim.apps.serve_mail import MailSession, Service, _Hub

_log = logging.getLogger("netsim.serve_mail")

#: Octets asked of one ``recv``: a burst of pipelined commands arrives in one piece.
RECV_SIZE = 65536
#: Octets of answers to a pipelined burst gathered before they go out in one write:
#: a burst of RETRs never piles up in memory.
SEND_CHUNK = 65536
#: Seconds a TLS handshake may take when the connection has no timer (login timeout 0).
HANDSHAKE_TIMEOUT = 60.0
#: Seconds the threads get at shutdown to say their last words before their sockets
#: are cut off (a client that does not read could keep ``sendall`` waiting forever).
SHUTDOWN_GRACE = 2.0
#: Seconds before the listener tries accept() again after running out of resources
#: (asyncio's ``ACCEPT_RETRY_DELAY``).
ACCEPT_BACKOFF = 1.0
#: Connections accepted per readiness of the listening socket (asyncio takes as many
#: as its backlog), so one burst of clients does not hold the loop.
ACCEPTS_PER_WAKE = 100
#: errno values of accept() that mean "out of resources", not "this client failed".
RESOURCE_ERRORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


class ThreadedConnection:
    """One client: its socket, its session, and the thread that serves them."""

    def __init__(self, hub: _Hub, service: Service, sock: socket.socket, peer_ip: str) -> None:
        self.hub = hub
        self.service = service
        #: The client's IP address, as counted against the per-address limit.
        self.peer_ip = peer_ip
        self.session: MailSession = service.open_session(service.implicit_tls)
        self._sock: socket.socket = sock
        #: The receive timeout set on the socket now (None: none yet).
        self._timeout: float | None = None
        #: Why the server ends the session, once it does (set by :meth:`say_bye`).
        self._bye: str | None = None
        self._bye_said = threading.Event()
        self.thread = threading.Thread(
            target=self._run, name=f"{service.name} {peer_ip}", daemon=True
        )

    # -- what the hub and the loop call (from the loop thread) ------------------------------

    def start(self) -> None:
        """Serve the client in a thread of its own."""
        self.thread.start()

    def say_bye(self, reason: str) -> None:
        """End the session from the server's side: the thread says the last words.

        ``shutdown(SHUT_RD)`` makes a ``recv`` that waits in the thread return at once.
        """
        self._bye = reason
        self._bye_said.set()
        _shutdown(self._sock, socket.SHUT_RD)

    def wake(self) -> None:
        """Nothing to deliver: the session never idles (see the module's notes)."""

    def abort(self) -> None:
        """Cut the socket off both ways (shutdown, when the client does not read)."""
        _shutdown(self._sock, socket.SHUT_RDWR)

    # -- the thread ------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._serve()
        except (OSError, ValueError):
            # The client went away (reset, broken pipe, a failed TLS handshake), or
            # the socket was cut off at shutdown: the session ends, deleting nothing.
            pass
        finally:
            with self.hub.lock:
                if not self.session.closed:
                    self.session.close()
            self._sock.close()
            self.hub.release_threadsafe(self)

    def _serve(self) -> None:
        session = self.session
        lock = self.hub.lock
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.service.implicit_tls:
            self._start_tls()
        with lock:
            greeting = session.greeting()
        self._sock.sendall(greeting)
        while not session.closed:
            data = self._receive()
            if self._bye is not None:
                self._last_words(self._bye)
                return
            if data is None:
                silent = "Autologout: no login in time" if session.user is None else "Autologout"
                self._last_words(silent)
                return
            # One command at a time: the session then says whether more are waiting
            # (``backlog``) without looking for them.
            with lock:
                out = session.receive_data(data, max_commands=1)
            if not out and data:
                self._ack_now()
            self._answer(out)

    def _answer(self, out: bytes) -> None:
        """Send ``out``, with the answers to commands pipelined after it."""
        session = self.session
        lock = self.hub.lock
        while True:
            chunks = [out]
            size = len(out)
            while session.backlog and not session.hold and size < SEND_CHUNK:
                with lock:
                    more = session.resume(max_commands=1)
                chunks.append(more)
                size += len(more)
            if session.hold and self._bye_said.wait(session.hold):
                return  # shutting down during a failed login's delay
            if size:
                self._sock.sendall(out if len(chunks) == 1 else b"".join(chunks))
            if session.starttls_requested:
                self._start_tls()
                with lock:
                    session.tls_started()
            if session.closed or not session.backlog:
                return
            with lock:
                out = session.resume(max_commands=1)

    def _receive(self) -> bytes | None:
        """The next bytes from the client (``b""``: it closed), or None after silence."""
        limits = self.hub.limits
        allowed = limits.login_timeout if self.session.user is None else limits.autologout
        if allowed != self._timeout:
            self._set_timeout(allowed)
        try:
            return self._sock.recv(RECV_SIZE)
        except (TimeoutError, BlockingIOError):
            return None

    def _set_timeout(self, seconds: float) -> None:
        """Let ``recv`` wait ``seconds`` at most (0: forever); set when it changes.

        On a plain socket the kernel keeps the time (SO_RCVTIMEO: ``recv`` fails with
        EAGAIN), so each round trip is one ``recv`` and one ``send``.  Python's own
        timeout would add a ``poll`` before each of them.  A TLS socket needs Python's,
        as the :mod:`ssl` module would retry a read the kernel timed out.
        """
        self._timeout = seconds
        if isinstance(self._sock, ssl.SSLSocket):
            self._sock.settimeout(seconds or None)
            return
        whole = int(seconds)
        timeval = struct.pack("ll", whole, int((seconds - whole) * 1e6))
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)

    def _last_words(self, reason: str) -> None:
        with self.hub.lock:
            words = self.session.shutdown(reason)
        if words:
            self._sock.sendall(words)

    def _start_tls(self) -> None:
        """The TLS handshake, on this thread (the loop never waits for it)."""
        context = self.hub.tls_context
        assert context is not None
        self._sock.settimeout(self.hub.limits.login_timeout or HANDSHAKE_TIMEOUT)
        self._sock = context.wrap_socket(self._sock, server_side=True)
        self._timeout = None  # the next receive sets the silence allowed

    def _ack_now(self) -> None:
        # Half a command came and there is nothing to say yet: ACK it at once, so a
        # client that sends the rest as a small separate segment (held by Nagle until
        # our ACK) is not kept waiting for delayed ACK (see serve_mail._ack_now).
        quickack = getattr(socket, "TCP_QUICKACK", None)
        if quickack is not None and not isinstance(self._sock, ssl.SSLSocket):
            with contextlib.suppress(OSError):
                self._sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)


def _shutdown(sock: socket.socket, how: int) -> None:
    """``shutdown(2)`` on the socket's descriptor, from another thread.

    For a TLS socket this goes around :meth:`ssl.SSLSocket.shutdown`, which would also
    drop the TLS layer, so the thread's last words would go out in clear text.
    """
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, how)


class _Refusal(asyncio.Protocol):
    """A client over a limit: the protocol's words, then the socket closes."""

    def __init__(self, words: bytes) -> None:
        self.words = words

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        writer = cast(asyncio.Transport, transport)
        writer.write(self.words)
        writer.close()


class ThreadedListener:
    """A listening socket watched by the event loop; each client gets a thread."""

    def __init__(self, hub: _Hub, service: Service, sock: socket.socket) -> None:
        self.hub = hub
        self.service = service
        self.sock = sock
        self._loop = asyncio.get_running_loop()
        self._watching = False
        self._retry: asyncio.TimerHandle | None = None
        self._refusals: set[asyncio.Task[object]] = set()

    @classmethod
    def open(cls, hub: _Hub, service: Service, host: str, port: int) -> ThreadedListener:
        """Bind ``host:port`` (the first address ``host`` names) and start accepting."""
        family, _, _, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.create_server(address[:2], family=family, backlog=100)
        sock.setblocking(False)
        listener = cls(hub, service, sock)
        listener._watch()
        return listener

    @property
    def port(self) -> int:
        """The bound port."""
        port: int = self.sock.getsockname()[1]
        return port

    def close(self) -> None:
        """Stop accepting (and telling refused clients so)."""
        if self._retry is not None:
            self._retry.cancel()
        for refusal in list(self._refusals):
            refusal.cancel()
        if self._watching:
            self._loop.remove_reader(self.sock)
            self._watching = False
        self.sock.close()

    def _watch(self) -> None:
        self._retry = None
        self._loop.add_reader(self.sock, self._accept)
        self._watching = True

    def _accept(self) -> None:
        for _ in range(ACCEPTS_PER_WAKE):
            try:
                sock, peer = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno not in RESOURCE_ERRORS:
                    continue  # this client failed (ECONNABORTED ...), not the server
                # Out of file descriptors: back off a second, as asyncio does.
                self.hub.note_accept_failure(exc)
                self._loop.remove_reader(self.sock)
                self._watching = False
                self._retry = self._loop.call_later(ACCEPT_BACKOFF, self._watch)
                return
            sock.setblocking(True)
            peer_ip = str(peer[0]) if isinstance(peer, tuple) and peer else ""
            client = ThreadedConnection(self.hub, self.service, sock, peer_ip)
            refusal = self.hub.admit(client)
            if refusal is None:
                client.start()
            else:
                self._refuse(sock, self.service.refusal(refusal))

    def _refuse(self, sock: socket.socket, words: bytes) -> None:
        """Tell a client over a limit so, through the loop (TLS first if the port has it)."""
        sock.setblocking(False)
        context = self.hub.tls_context if self.service.implicit_tls else None
        task = asyncio.ensure_future(
            self._loop.connect_accepted_socket(lambda: _Refusal(words), sock, ssl=context)
        )
        self._refusals.add(task)
        task.add_done_callback(self._refused)

    def _refused(self, task: asyncio.Task[object]) -> None:
        self._refusals.discard(task)
        if not task.cancelled():
            task.exception()  # a client that left before its refusal: nothing to do


def join_all(connections: Iterable[ThreadedConnection]) -> None:
    """Wait for the threads of ``connections`` to end (after :meth:`say_bye`).

    A thread still writing to a client that does not read gets its socket cut off
    after :data:`SHUTDOWN_GRACE` seconds.
    """
    waiting = list(connections)
    deadline = time.monotonic() + SHUTDOWN_GRACE
    for conn in waiting:
        conn.thread.join(max(0.0, deadline - time.monotonic()))
    for conn in waiting:
        if conn.thread.is_alive():
            conn.abort()
            conn.thread.join(SHUTDOWN_GRACE)
            if conn.thread.is_alive():  # pragma: no cover - the kernel never let go
                _log.warning("a %s connection did not end at shutdown", conn.service.name)
