"""Which I/O path answers one POP3 round trip cheapest?  Bare servers against Dovecot.

A script, not a test::

    .venv/bin/python benchmarks/pop3_io_paths.py [--seconds 3] [--rounds 5]

Every operation of poplib is one round trip, so its rate is the round-trip latency:
client + kernel + server.  To see what the server's I/O alone costs, each candidate
here is a *bare* server that greets and then answers every line with ``+OK`` and does
nothing else; the client is poplib's NOOP loop.  Dovecot's STAT on a logged-in
connection runs in the same rounds, alternating with the candidates, so the ratios
hold even when the machine is shared.

Candidates (each a separate process, as serve-mail would be):

* ``uvloop``: an asyncio Protocol on uvloop (serve-mail's path before issue 12's work);
* ``asyncio``: the same Protocol on asyncio's own selector loop;
* ``thread``: a blocking socket per connection served by its own thread, ``recv`` then
  one ``sendall`` in a loop (the thread releases the GIL while blocked);
* ``thread-timeout``: the same with a receive timeout (``settimeout``: Python then
  polls before each ``recv``), as an idle timer needs;
* ``thread-quickack``: the same, re-arming TCP_QUICKACK after every ``recv``;
* ``thread-nagle``: the same without TCP_NODELAY.

Printed: median ops/s, best ops/s, the server's CPU microseconds per operation (all
its threads, from /proc schedstat), and the ratio of the median to Dovecot's STAT.
"""

from __future__ import annotations

import argparse
import imaplib
import poplib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.pop3_smtp_bench import (  # noqa: E402
    HOST,
    PASSWORD,
    USER,
    alternate,
    message,
    print_against,
    start_bare,
)
from benchmarks.server_cpu import Meter, load_average, tree_cpu  # noqa: E402
from tests.mail import dovecot_lab  # noqa: E402

#: The candidates, in the order printed.
KINDS = ("uvloop", "asyncio", "thread", "thread-timeout", "thread-quickack", "thread-nagle")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per candidate")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds")
    parser.add_argument("--kinds", nargs="*", default=list(KINDS), choices=KINDS)
    args = parser.parse_args()
    reason = dovecot_lab.missing()
    if reason is not None:
        raise SystemExit(f"cannot compare: {reason}")
    slice_ = args.seconds / args.rounds
    procs: list[subprocess.Popen[bytes]] = []
    with dovecot_lab.dovecot({USER: PASSWORD}) as dove:
        try:
            clients: dict[str, Callable[[], object]] = {}
            meters: dict[str, Meter] = {}
            for kind in args.kinds:
                proc, port = start_bare(kind)
                procs.append(proc)
                client = poplib.POP3(HOST, port)
                clients[kind] = client.noop
                meters[kind] = tree_cpu(proc.pid)
            imap = imaplib.IMAP4(HOST, dove.imap)
            imap.login(USER, PASSWORD)
            for _ in range(100):
                imap.append("INBOX", None, None, message(2048))
            imap.logout()
            pop = poplib.POP3(HOST, dove.pop3)
            pop.user(USER)
            pop.pass_(PASSWORD)
            clients["dovecot STAT"] = pop.stat
            meters["dovecot STAT"] = tree_cpu(dove.pid)
            load_before = load_average()
            rates, cpu = alternate(clients, meters, args.rounds, slice_)
        finally:
            for proc in procs:
                proc.kill()
                proc.wait()
    print_against(
        f"bare servers (poplib NOOP) against Dovecot STAT, {args.rounds} alternating rounds"
        f" of {slice_:.2f} s; {load_before} before, {load_average()} after",
        rates,
        cpu,
        "dovecot STAT",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
