"""``netsim serve-mail``: the sans-IO IMAP server on real sockets, with asyncio.

Stock clients (imaplib, mbsync, Thunderbird) can then test the same server code that
runs inside simulations.  The adapter is thin: bytes from the socket go to
:meth:`~netsim.mail.imap.server.ServerSession.receive_data`, and whatever it returns
goes back in a single write (TCP_NODELAY is set, so one response is one segment
rather than waiting for Nagle).  STARTTLS and IMAPS use the :mod:`ssl` module.

Usage::

    netsim serve-mail --imap 1143 --users users.txt [--store DIR] [--host 127.0.0.1]
                      [--imaps 1993 --cert cert.pem --key key.pem]
    netsim serve-mail --check --store DIR      # verify a store, change nothing
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import socket
import ssl
import sys
import threading
from collections.abc import Callable

from netsim.mail import store_check
from netsim.mail.imap.server import ImapServer, ServerConfig, ServerSession
from netsim.mail.store import Mailbox, MailStore, StoreError
from netsim.mail.users import UserFileError, Users


def _port(text: str) -> int:
    """A TCP port number for argparse, 0 meaning any free port."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port {value} is outside 0..65535")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``serve-mail`` options to ``parser``."""
    parser.add_argument("--imap", type=_port, metavar="PORT", help="IMAP port (0: any)")
    parser.add_argument("--users", metavar="FILE", help="user file, one name:password per line")
    parser.add_argument(
        "--store", metavar="DIR", help="keep mail durably in DIR (default: in memory)"
    )
    parser.add_argument("--host", default="127.0.0.1", metavar="ADDR", help="address to bind")
    parser.add_argument("--imaps", type=_port, metavar="PORT", help="IMAP over TLS port")
    parser.add_argument("--cert", metavar="F", help="TLS certificate (PEM), enables STARTTLS")
    parser.add_argument("--key", metavar="F", help="TLS private key (PEM)")
    parser.add_argument(
        "--login-requires-tls",
        action="store_true",
        help="refuse LOGIN and AUTHENTICATE before STARTTLS (LOGINDISABLED)",
    )
    parser.add_argument(
        "--autologout",
        type=float,
        default=1800.0,
        metavar="SECONDS",
        help="log out sessions silent this long (RFC 3501: at least 30 minutes; 0: never)",
    )
    parser.add_argument(
        "--max-literal",
        type=int,
        default=ServerConfig.max_literal,
        metavar="OCTETS",
        help="largest literal (message) accepted",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="verify the --store DIR and print a report instead of serving"
        " (exit 0: clean, 1: damaged, 2: no store)",
    )


class _Connection(asyncio.Protocol):
    """One client socket driving one :class:`ServerSession`."""

    def __init__(self, hub: _Hub, tls: bool) -> None:
        self.hub = hub
        self.session: ServerSession = hub.imap.open_session(tls=tls)
        self.transport: asyncio.Transport | None = None
        self._tls_task: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Set TCP_NODELAY and send the greeting."""
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.hub.connections.add(self)
        transport.write(self.session.greeting())
        self._arm_timer()

    def data_received(self, data: bytes) -> None:
        """Feed the session; write its answer in one go."""
        self._arm_timer()
        out = self.session.receive_data(data)
        if not out:
            self._ack_now()
        self._write(out)
        if self.session.starttls_requested:
            self._tls_task = asyncio.ensure_future(self._start_tls())

    def eof_received(self) -> bool | None:
        """The client half-closed: let the session know."""
        self._write(self.session.receive_data(b""))
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget this connection."""
        if self._timer is not None:
            self._timer.cancel()
        self.hub.connections.discard(self)
        if not self.session.closed:
            self.session.receive_data(b"")

    def say_bye(self, reason: str) -> None:
        """End the session with ``* BYE`` and close the socket."""
        self._write(self.session.shutdown(reason))

    def _arm_timer(self) -> None:
        # RFC 3501 5.4: an inactivity autologout timer of at least 30 minutes; an IDLE
        # session is not inactive for this purpose only in spirit, so it is reset too.
        if self._timer is not None:
            self._timer.cancel()
        if self.hub.autologout > 0:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self.hub.autologout, self.say_bye, "Autologout")

    def pause_writing(self) -> None:
        """The client is not reading: stop reading its commands until it catches up."""
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        """The send buffer drained: read commands again."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def _ack_now(self) -> None:
        # Half a command arrived and we have nothing to say yet.  A client that wrote
        # the rest as a small separate segment (imaplib sends a literal and its CRLF in
        # two writes) holds it back under Nagle until our ACK comes, and delayed ACK
        # would make that 40 ms.  TCP_QUICKACK sends the ACK at once (Linux only).
        quickack = getattr(socket, "TCP_QUICKACK", None)
        sock = self.transport.get_extra_info("socket") if self.transport else None
        if quickack is not None and sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)

    def wake(self) -> None:
        """Deliver IDLE news, if the session is idling."""
        if self.session.idling:
            self._write(self.session.idle_updates())

    def _write(self, out: bytes) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if out:
            transport.write(out)  # all responses to one read, in one write
        if self.session.closed:
            transport.close()

    async def _start_tls(self) -> None:
        context = self.hub.tls_context
        transport = self.transport
        assert context is not None and transport is not None
        loop = asyncio.get_running_loop()
        try:
            upgraded = await loop.start_tls(transport, self, context, server_side=True)
        except (OSError, ssl.SSLError, ConnectionError):
            transport.close()
            return
        if upgraded is None:  # pragma: no cover - the transport went away meanwhile
            return
        self.transport = upgraded
        self.session.tls_started()


class _Hub:
    """What all connections of one listening server share."""

    def __init__(
        self, imap: ImapServer, tls_context: ssl.SSLContext | None, autologout: float
    ) -> None:
        self.imap = imap
        self.tls_context = tls_context
        #: Seconds of silence after which a session is logged out (0: never).
        self.autologout = autologout
        self.connections: set[_Connection] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start waking idling sessions when a mailbox changes."""
        self._loop = loop
        self.imap.store.add_listener(self._changed)

    def detach(self) -> None:
        """Stop listening to the store."""
        self.imap.store.remove_listener(self._changed)

    def _changed(self, box: Mailbox) -> None:
        # Deliver after the current command finishes, never from inside the store.
        if self._loop is not None:
            self._loop.call_soon(self._wake_all)

    def _wake_all(self) -> None:
        for conn in list(self.connections):
            conn.wake()


async def serve(
    imap: ImapServer,
    host: str,
    port: int,
    tls_context: ssl.SSLContext | None = None,
    imaps_port: int | None = None,
    ready: Callable[[list[tuple[str, int]]], None] | None = None,
    stop: asyncio.Event | None = None,
    autologout: float = 1800.0,
) -> None:
    """Listen for IMAP (and IMAPS) until ``stop`` is set; ``ready`` gets the bound ports."""
    loop = asyncio.get_running_loop()
    hub = _Hub(imap, tls_context, autologout)
    hub.attach(loop)
    servers = [await loop.create_server(lambda: _Connection(hub, False), host, port)]
    if imaps_port is not None and tls_context is not None:
        servers.append(
            await loop.create_server(
                lambda: _Connection(hub, True), host, imaps_port, ssl=tls_context
            )
        )
    bound = [
        ("imap" if i == 0 else "imaps", s.sockets[0].getsockname()[1])
        for i, s in enumerate(servers)
    ]
    if ready is not None:
        ready(bound)
    try:
        await (stop or asyncio.Event()).wait()
    finally:
        hub.detach()
        for server in servers:
            server.close()
        for conn in list(hub.connections):
            conn.say_bye("Server shutting down")
        for server in servers:
            await server.wait_closed()


class BackgroundServer:
    """A server on its own event loop in a daemon thread (for tests and benchmarks)."""

    def __init__(
        self,
        imap: ImapServer,
        host: str = "127.0.0.1",
        tls_context: ssl.SSLContext | None = None,
        imaps: bool = False,
        autologout: float = 1800.0,
    ) -> None:
        self.imap = imap
        self.autologout = autologout
        self.host = host
        self.tls_context = tls_context
        self.imaps = imaps
        #: The bound IMAP port, once started.
        self.port = 0
        #: The bound IMAPS port, if IMAPS was asked for.
        self.imaps_port = 0
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> BackgroundServer:
        """Start listening; returns once the ports are bound."""
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("server did not start")
        return self

    def stop(self) -> None:
        """Stop listening and close every connection."""
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        def ready(bound: list[tuple[str, int]]) -> None:
            for kind, port in bound:
                if kind == "imap":
                    self.port = port
                else:
                    self.imaps_port = port
            self._started.set()

        async def main() -> None:
            self._stop = asyncio.Event()
            await serve(
                self.imap,
                self.host,
                0,
                self.tls_context,
                0 if self.imaps else None,
                ready,
                self._stop,
                self.autologout,
            )

        self._loop.run_until_complete(main())
        self._loop.close()


def _fail(message: str) -> int:
    print(f"netsim serve-mail: error: {message}", file=sys.stderr)
    return 2


def _check(directory: str | None) -> int:
    """``--check``: print the store's report; exit 0 when clean, 1 when damaged."""
    if directory is None:
        return _fail("--check needs --store DIR")
    try:
        report = store_check.check_store(directory)
    except (store_check.NotAStore, OSError) as exc:
        return _fail(f"cannot check store: {exc}")
    print(report.format())
    return 1 if report.damaged else 0


def run(args: argparse.Namespace) -> int:
    """Run the server until interrupted; returns the process exit status."""
    if args.check:
        return _check(args.store)
    if args.imap is None or args.users is None:
        return _fail("--imap PORT and --users FILE are required (unless --check)")
    try:
        users = Users.load(args.users)
    except UserFileError as exc:
        return _fail(str(exc))
    if (args.cert is None) != (args.key is None):
        return _fail("--cert and --key go together")
    if args.imaps is not None and args.cert is None:
        return _fail("--imaps needs --cert and --key")
    context = None
    if args.cert is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(args.cert, args.key)
        except (OSError, ssl.SSLError) as exc:
            return _fail(f"cannot load certificate {args.cert} / key {args.key}: {exc}")
    try:
        store = MailStore(args.store)
    except (OSError, StoreError, ValueError) as exc:
        return _fail(f"cannot open store {args.store}: {exc}")
    config = ServerConfig(
        max_literal=args.max_literal,
        starttls=context is not None,
        login_requires_tls=args.login_requires_tls,
    )
    imap = ImapServer(store, users, config)

    def ready(bound: list[tuple[str, int]]) -> None:
        for kind, port in bound:
            print(f"netsim serve-mail: {kind} listening on {args.host}:{port}", flush=True)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
        await serve(imap, args.host, args.imap, context, args.imaps, ready, stop, args.autologout)

    try:
        asyncio.run(main())
    except OSError as exc:
        return _fail(f"cannot listen on {args.host}: {exc.strerror or exc}")
    except KeyboardInterrupt:
        pass
    finally:
        store.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``python -m netsim.apps.serve_mail``."""
    parser = argparse.ArgumentParser(prog="netsim serve-mail", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
