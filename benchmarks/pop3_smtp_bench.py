"""POP3 and SMTP throughput of ``serve-mail`` against Dovecot, in the same run.

A script, not a test::

    .venv/bin/python benchmarks/pop3_smtp_bench.py [--seconds 2] [--memory] [--profile]

Both servers run as separate processes on loopback; the clients are Python's stock
poplib and smtplib, one connection each, so the figures include the clients' overhead
and every operation is one round trip (or, for a message, MAIL, RCPT and DATA).

* POP3: a maildrop of 100 messages of 2 KB, put there by IMAP APPEND on both servers;
  then STAT, LIST (all 100), UIDL (all 100) and RETR 1 on a logged-in connection, and a
  whole connect + USER + PASS + QUIT.
* SMTP: ``sendmail`` of a 2 KB message on an open connection, to serve-mail's port 25
  and to Dovecot's LMTP (RFC 2033, its final-delivery sibling of SMTP; dovecot-lmtpd).
  Both store durably: serve-mail with ``--store --fsync optimized`` unless ``--memory``
  (new mail is fsync'ed before the 250, as Dovecot's default ``mail_fsync =
  optimized`` does for its maildir).  serve-mail runs on its default event loop
  (uvloop when installed; ``--event-loop asyncio`` to compare).

Absolute rates swing by ±30 % on a shared machine, so the two servers are measured in
alternating rounds and the median round of each is kept; the ratio is the figure.  The
last lines measure poplib's NOOP against bare servers that answer every line with
``+OK`` and do nothing else, on serve-mail's two I/O paths: a thread per connection with
a blocking socket (POP3's) and the event loop (IMAP's and SMTP's).  No server on a path
can answer one client faster here, so each is the ceiling for one-round-trip commands
such as STAT on that path.
``--profile`` runs serve-mail in this process under cProfile instead.
"""

from __future__ import annotations

import argparse
import imaplib
import importlib.util
import os
import poplib
import re
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.server_cpu import Meter, load_average, start_profiled, tree_cpu  # noqa: E402
from tests.mail import dovecot_lab  # noqa: E402

HOST = "127.0.0.1"
USER, PASSWORD = "bench", "secret"
#: The user of the login cycle: the maildrop of USER is held by the open connection
#: (RFC 1939 lets a server lock it; serve-mail does).
OTHER_USER = "cycle"
#: Alternating rounds per measurement (``--rounds``): more, shorter rounds let the two
#: servers share the machine's slower and faster moments more evenly.
ROUNDS = 3


def message(size: int) -> bytes:
    """A plain message of about ``size`` octets, with a dot-stuffed line in it."""
    head = (
        b"From: Bench <bench@example.org>\r\nTo: bench@example.org\r\n"
        b"Subject: benchmark\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\n\r\n.dot\r\n"
    )
    line = b"The quick brown fox jumps over the lazy dog. 0123456789\r\n"
    return head + line * max(1, (size - len(head)) // len(line))


def one_round(operation: Callable[[], object], seconds: float) -> tuple[float, int]:
    """Operations per second of ``operation`` run back to back for ``seconds``, and
    how many ran."""
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        operation()
        count += 1
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start), count


class Target:
    """One server under test: its name and its ports."""

    def __init__(
        self, name: str, imap: int, pop3: int, smtp: int, smtp_class: type, cpu: Meter
    ) -> None:
        self.name = name
        self.imap, self.pop3, self.smtp = imap, pop3, smtp
        self.smtp_class = smtp_class
        self.cpu = cpu

    def fill(self, count: int, body: bytes) -> None:
        """Put ``count`` copies of ``body`` in the INBOX, over IMAP."""
        client = imaplib.IMAP4(HOST, self.imap)
        client.login(USER, PASSWORD)
        for _ in range(count):
            client.append("INBOX", None, None, body)
        client.logout()

    def operations(self, body: bytes) -> dict[str, Callable[[], object]]:
        """Each measured operation, on connections opened now."""
        pop = poplib.POP3(HOST, self.pop3)
        pop.user(USER)
        pop.pass_(PASSWORD)
        smtp = self.smtp_class(HOST, self.smtp)
        smtp.ehlo_or_helo_if_needed()

        def cycle() -> None:
            other = poplib.POP3(HOST, self.pop3)
            other.user(OTHER_USER)
            other.pass_(PASSWORD)
            other.quit()

        def send() -> None:
            smtp.sendmail("bench@example.org", [f"{USER}@example.org"], body)

        return {
            "POP3 STAT": pop.stat,
            "POP3 LIST (100 msgs)": pop.list,
            "POP3 UIDL (100 msgs)": pop.uidl,
            "POP3 RETR 2 KB": lambda: pop.retr(1),
            "POP3 connect+USER+PASS+QUIT": cycle,
            "SMTP MAIL+RCPT+DATA 2 KB": send,
        }


class _Lmtp(smtplib.LMTP):
    """smtplib's LMTP client; ``ehlo_or_helo_if_needed`` sends LHLO."""


def start_serve_mail(
    tmp: Path, memory: bool, event_loop: str = "auto"
) -> tuple[subprocess.Popen[bytes], dict[str, int]]:
    """``python -m netsim.apps.serve_mail`` with IMAP, SMTP and POP3 on free ports."""
    users = tmp / "users"
    users.write_text(f"{USER}:{PASSWORD}\n{OTHER_USER}:{PASSWORD}\n")
    argv = [sys.executable, "-m", "netsim.apps.serve_mail", "--host", HOST, "--users", str(users)]
    argv += ["--imap", "0", "--smtp", "0", "--pop3", "0", "--allow-plaintext-login"]
    # The SMTP client connects first and speaks last, without logging in: long runs
    # (--seconds) must not see it logged out for silence.
    argv += ["--event-loop", event_loop, "--login-timeout", "0"]
    if not memory:
        argv += ["--store", str(tmp / "store"), "--fsync", "optimized"]
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, env=dict(os.environ, PYTHONPATH=str(ROOT))
    )
    assert proc.stdout is not None
    ports: dict[str, int] = {}
    while len(ports) < 3:
        line = proc.stdout.readline().decode()
        found = re.search(r"(\w+) listening on .*:(\d+)$", line.strip())
        if not found:
            proc.kill()
            raise SystemExit(f"serve-mail did not start: {line!r}")
        ports[found.group(1)] = int(found.group(2))
    return proc, ports


#: Bare servers that greet, then answer each line with +OK and do nothing else (the
#: ceiling of an I/O path): ``python -c BARE_SERVER KIND`` prints its port, then serves.
#: KIND: uvloop, asyncio, thread (a thread per connection, blocking socket: serve-mail's
#: POP3 path), thread-timeout, thread-quickack, thread-nagle (benchmarks/pop3_io_paths.py).
#: With a second argument ``imap`` they speak IMAP instead: the greeting announces
#: IMAP4rev1 (so imaplib asks nothing more) and each line gets ``<tag> OK``
#: (benchmarks/imap_io_paths.py).
BARE_SERVER = r"""
import asyncio, socket, sys, threading
kind = sys.argv[1]
imap = sys.argv[2:] == ["imap"]
GREETING = b"* OK [CAPABILITY IMAP4rev1] bare\r\n" if imap else b"+OK ready\r\n"

def answer(data):
    if imap:
        lines = data.split(b"\r\n")[:-1]
        return b"".join(line.split(b" ", 1)[0] + b" OK done\r\n" for line in lines)
    return b"+OK\r\n" * data.count(b"\n")

def serve_threads(nodelay, quickack, timeout):
    listener = socket.create_server(("127.0.0.1", 0))
    print(listener.getsockname()[1], flush=True)
    def connection(sock):
        if nodelay:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(timeout)
        sock.sendall(GREETING)
        while True:
            data = sock.recv(65536)
            if not data:
                return
            if quickack:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            sock.sendall(answer(data))
    while True:
        sock, _ = listener.accept()
        threading.Thread(target=connection, args=(sock,), daemon=True).start()

class Answer(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        transport.get_extra_info("socket").setsockopt(
            socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        transport.write(GREETING)
    def data_received(self, data):
        self.transport.write(answer(data))

async def serve_loop():
    server = await asyncio.get_running_loop().create_server(Answer, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()

if kind == "uvloop":
    import uvloop
    uvloop.run(serve_loop())
elif kind == "asyncio":
    asyncio.run(serve_loop())
else:
    serve_threads(
        nodelay=kind != "thread-nagle",
        quickack=kind == "thread-quickack",
        timeout=60.0 if kind == "thread-timeout" else None,
    )
"""


def start_bare(kind: str, protocol: str = "pop3") -> tuple[subprocess.Popen[bytes], int]:
    """A :data:`BARE_SERVER` of ``kind`` speaking ``protocol`` (pop3 or imap), and its port."""
    argv = [sys.executable, "-c", BARE_SERVER, kind] + (["imap"] if protocol == "imap" else [])
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


def bare_ceiling(seconds: float, kind: str, rounds: int = ROUNDS) -> float:
    """poplib NOOPs per second against :data:`BARE_SERVER` of ``kind`` (best round)."""
    if kind == "auto":
        kind = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    proc, port = start_bare(kind)
    try:
        pop = poplib.POP3(HOST, port)
        return max(one_round(pop.noop, seconds / rounds)[0] for _ in range(rounds))
    finally:
        proc.kill()
        proc.wait()


def alternate(
    operations: dict[str, Callable[[], object]],
    meters: dict[str, Meter],
    rounds: int,
    seconds: float,
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Each named operation's rate and its server's CPU microseconds per operation, in
    ``rounds`` rounds where the operations take turns for ``seconds`` each (after one
    warm-up call each): turns this fine make the ratios hold on a shared machine."""
    rates: dict[str, list[float]] = {name: [] for name in operations}
    cpu: dict[str, list[float]] = {name: [] for name in operations}
    for operation in operations.values():
        operation()  # warm up
    for _ in range(rounds):
        for name, operation in operations.items():
            before = meters[name]()
            rate, done = one_round(operation, seconds)
            cpu[name].append((meters[name]() - before) / done * 1e6)
            rates[name].append(rate)
    return rates, cpu


def print_against(
    caption: str, rates: dict[str, list[float]], cpu: dict[str, list[float]], reference: str
) -> None:
    """:func:`alternate`'s figures as a table: median and best rate, median CPU per
    operation, and the median rate against ``reference``'s."""
    print(caption)
    width = max(map(len, rates))
    against = "vs " + reference
    print(f"{'server':{width}} {'median/s':>9} {'best/s':>8} {'CPU µs/op':>10} {against:>12}")
    base = statistics.median(rates[reference])
    for name, found in rates.items():
        median = statistics.median(found)
        print(
            f"{name:{width}} {median:9.0f} {max(found):8.0f}"
            f" {statistics.median(cpu[name]):10.1f} {median / base:11.2f}x"
        )


Results = dict[str, dict[str, tuple[float, float]]]
"""Operation -> target -> (median ops/s, median server CPU microseconds per operation)."""


def measure(targets: list[Target], seconds: float, rounds: int = ROUNDS) -> Results:
    """Median ops/s per operation and target, the targets taking turns round by round,
    and the median of the server's CPU time per operation in each round."""
    body = message(2048)
    for target in targets:
        target.fill(100, body)
    operations = {t.name: t.operations(body) for t in targets}
    results: Results = {}
    for name in operations[targets[0].name]:
        rates: dict[str, list[float]] = {t: [] for t in operations}
        cpu: dict[str, list[float]] = {t: [] for t in operations}
        for target in targets:
            operations[target.name][name]()  # warm up
        for _ in range(rounds):
            for target in targets:
                before = target.cpu()
                value, done = one_round(operations[target.name][name], seconds / rounds)
                cpu[target.name].append((target.cpu() - before) / done * 1e6)
                rates[target.name].append(value)
        results[name] = {
            t: (statistics.median(rates[t]), statistics.median(cpu[t])) for t in operations
        }
    return results


def profile(seconds: float) -> None:
    """serve-mail in this process under cProfile, for the POP3 and SMTP loops."""
    import pstats

    from netsim.apps.serve_mail import BackgroundServer
    from netsim.mail.imap.server import ImapServer
    from netsim.mail.pop3 import Pop3Server
    from netsim.mail.smtp import SmtpServer
    from netsim.mail.store import MailStore
    from netsim.mail.users import Users

    store, users = MailStore(), Users({USER: PASSWORD, OTHER_USER: PASSWORD})
    background = BackgroundServer(
        ImapServer(store, users),
        allow_plaintext_login=True,
        smtp=SmtpServer(store, users),
        pop3=Pop3Server(store, users),
    )
    profiler = start_profiled(background)
    try:
        ports = background.ports
        target = Target(
            "serve-mail",
            ports["imap"],
            ports["pop3"],
            ports["smtp"],
            smtplib.SMTP,
            tree_cpu(os.getpid()),
        )
        for name, by_target in measure([target], seconds).items():
            print(name, by_target)
    finally:
        background.stop()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="duration of each measurement")
    parser.add_argument(
        "--memory", action="store_true", help="serve-mail without --store (no fsync)"
    )
    parser.add_argument(
        "--event-loop",
        choices=("auto", "uvloop", "asyncio"),
        default="auto",
        help="serve-mail's event loop (default auto: uvloop if installed)",
    )
    parser.add_argument(
        "--rounds", type=int, default=ROUNDS, help="alternating rounds per measurement"
    )
    parser.add_argument("--profile", action="store_true", help="profile serve-mail in-process")
    args = parser.parse_args()
    if args.profile:
        profile(args.seconds)
        return 0
    reason = dovecot_lab.missing()
    if reason is not None:
        raise SystemExit(f"cannot compare: {reason}")
    if not dovecot_lab.has_lmtp():
        raise SystemExit("cannot compare SMTP: dovecot-lmtpd is not installed")
    with (
        tempfile.TemporaryDirectory() as tmp,
        dovecot_lab.dovecot({USER: PASSWORD, OTHER_USER: PASSWORD}) as dove,
    ):
        proc, ports = start_serve_mail(Path(tmp), args.memory, args.event_loop)
        try:
            ours = Target(
                "serve-mail",
                ports["imap"],
                ports["pop3"],
                ports["smtp"],
                smtplib.SMTP,
                tree_cpu(proc.pid),
            )
            theirs = Target("dovecot", dove.imap, dove.pop3, dove.lmtp, _Lmtp, tree_cpu(dove.pid))
            load_before = load_average()
            results = measure([ours, theirs], args.seconds, args.rounds)
        finally:
            proc.terminate()
            proc.wait(10)
    ceilings = {
        "(bare +OK, thread: POP3's path)": bare_ceiling(args.seconds, "thread", args.rounds),
        f"(bare +OK, event loop {args.event_loop})": bare_ceiling(
            args.seconds, args.event_loop, args.rounds
        ),
    }
    store = "in memory" if args.memory else "--store --fsync optimized"
    print(
        f"serve-mail ({store}, event loop {args.event_loop}) against Dovecot,"
        f" median of {args.rounds} alternating rounds; {load_before} before, {load_average()} after"
    )
    print("ops/s, and the server's CPU microseconds per operation (all its processes and")
    print("threads, from /proc schedstat); a ratio of 1.0 or more: serve-mail is as fast")
    print(
        f"{'operation':30} {'serve-mail':>10} {'dovecot':>8} {'rate':>6}"
        f"   {'serve-mail':>10} {'dovecot':>8} {'CPU':>6}"
    )
    for name, by_target in results.items():
        (ours_rate, ours_cpu), (their_rate, their_cpu) = (
            by_target["serve-mail"],
            by_target["dovecot"],
        )
        ratio = ours_rate / their_rate
        cpu_ratio = their_cpu / ours_cpu if ours_cpu else float("inf")
        print(
            f"{name:30} {ours_rate:10.0f} {their_rate:8.0f} {ratio:5.2f}x"
            f"   {ours_cpu:10.1f} {their_cpu:8.1f} {cpu_ratio:5.2f}x"
        )
    for name, ceiling in ceilings.items():
        print(f"{name:30} {ceiling:11.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
