"""How much of an IMAP round trip is the server's work?  Bare servers, serve-mail, Dovecot.

A script, not a test::

    .venv/bin/python benchmarks/imap_io_paths.py [--seconds 6] [--rounds 12]

imaplib's NOOP is one round trip, so its rate is the round-trip latency: client, kernel
and server.  A *bare* server greets (announcing IMAP4rev1, so that imaplib asks nothing
more) and answers every line with ``<tag> OK`` and does nothing else: its rate is the
ceiling of its I/O path, the rate a session that cost nothing would reach.  serve-mail
(``--store --fsync optimized``) and Dovecot answer a real NOOP on a selected mailbox.  All
run in the same alternating rounds, so the ratios hold on a shared machine; the distance
between serve-mail and the bare server on its own event loop is what its IMAP session
costs a round trip (see also ``imap_session_cost.py --evict``).

Printed: median ops/s, the server's CPU microseconds per operation (all its threads, from
/proc schedstat) and the ratio of the median rate to Dovecot's.
"""

from __future__ import annotations

import argparse
import imaplib
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.imap_vs_dovecot import (  # noqa: E402
    DEFAULT_ANCHORS,
    dovecot_missing,
    start_dovecot,
    start_serve_mail,
)
from benchmarks.pop3_smtp_bench import alternate, print_against, start_bare  # noqa: E402
from benchmarks.server_cpu import Meter, load_average, tree_cpu  # noqa: E402

#: The bare servers (``pop3_smtp_bench.BARE_SERVER``, speaking IMAP), in the order
#: printed: an asyncio Protocol on uvloop (serve-mail's IMAP path) and a blocking socket
#: per connection in its own thread (serve-mail's POP3 path).
KINDS = ("uvloop", "thread")


def connect(port: int) -> imaplib.IMAP4:
    """One imaplib connection with TCP_NODELAY, as the Dovecot anchor's benchmark uses."""
    client = imaplib.IMAP4("127.0.0.1", port)
    client.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return client


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="seconds per server")
    parser.add_argument("--rounds", type=int, default=12, help="alternating rounds")
    args = parser.parse_args()
    missing = dovecot_missing(DEFAULT_ANCHORS)
    if missing is not None:
        print(f"cannot compare: {missing}", file=sys.stderr)
        return 2
    slice_ = args.seconds / args.rounds
    procs: list[subprocess.Popen[bytes]] = []
    clients: dict[str, Callable[[], object]] = {}
    meters: dict[str, Meter] = {}
    with tempfile.TemporaryDirectory() as directory:
        lab = Path(directory)
        try:
            for kind in KINDS:
                proc, port = start_bare(kind, "imap")
                procs.append(proc)
                clients[f"bare {kind}"] = connect(port).noop
                meters[f"bare {kind}"] = tree_cpu(proc.pid)
            for name, (proc, port) in (
                ("serve-mail", start_serve_mail(lab, False, "optimized", "auto")),
                ("dovecot", start_dovecot(DEFAULT_ANCHORS, lab)),
            ):
                procs.append(proc)
                client = connect(port)
                client.login("test", "pass")
                client.select("INBOX")
                clients[name], meters[name] = client.noop, tree_cpu(proc.pid)
            load_before = load_average()
            rates, cpu = alternate(clients, meters, args.rounds, slice_)
        finally:
            for proc in procs:
                proc.kill()
                proc.wait()
    print_against(
        f"imaplib NOOP, {args.rounds} alternating rounds of {slice_:.2f} s;"
        f" {load_before} before, {load_average()} after",
        rates,
        cpu,
        "dovecot",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
