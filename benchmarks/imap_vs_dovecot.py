"""serve-mail against Dovecot in the same run: the ratio of their rates per operation.

A script, not a test::

    .venv/bin/python benchmarks/imap_vs_dovecot.py [--n 500] [--rounds 3]
                    [--fsync optimized|always | --memory] [--event-loop auto|uvloop|asyncio]

Absolute rates on a shared machine move by a third from run to run, so the figure
that holds is a ratio against a reference measured in the same run.  The reference is
Debian's Dovecot (``dovecot-imapd``), configured from ``/work/shared/anchors/dovecot``
(or ``--anchors DIR``), and the client is that directory's ``imaplib_bench.py``: one
stock-imaplib connection with TCP_NODELAY, N operations of each kind.  Dovecot and
``netsim serve-mail`` are started here, measured in alternation ``--rounds`` times, and
the median rate of each is kept.  A ratio of 1.0 or more means serve-mail is at least
as fast as Dovecot for that operation.

Rates on a loaded machine say as much about the scheduler as about the servers, so the
table also gives the server side's CPU time per operation (Dovecot's whole process
tree; nanoseconds on the CPU from /proc schedstat, see ``server_cpu.py``), measured
with the same operations, which other load moves less.  The load average is printed
with the figures.

Like for like: Dovecot keeps mail in a maildir with its default ``mail_fsync =
optimized`` (new mail is fsync'ed, flag changes are not), so serve-mail runs with a
durable ``--store`` and the same policy, ``--fsync optimized``.  ``--fsync always``
measures serve-mail's strictest mode (every change fsync'ed), ``--memory`` no store.

Exits 2 (with the reason) when Dovecot or the anchor files are not there.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.server_cpu import Meter, load_average, tree_cpu  # noqa: E402

DEFAULT_ANCHORS = Path("/work/shared/anchors/dovecot")
#: One result line of imaplib_bench.py: operation, ops/s, p50, p99.
_LINE = re.compile(r"^(.*?)\s+(\d+) ops/s\s+p50\s+([\d.]+) ms\s+p99\s+([\d.]+) ms$")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    """Block until something accepts on ``port`` (or the process dies: exit)."""
    for _ in range(200):
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with status {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{what} did not listen on port {port}")


def dovecot_missing(anchors: Path) -> str | None:
    """Why :func:`start_dovecot` cannot start Dovecot here, if it cannot."""
    if shutil.which("dovecot") is None:
        return "dovecot is not installed (apt-get install dovecot-imapd)"
    if not (anchors / "dovecot.conf.in").is_file():
        return f"{anchors / 'dovecot.conf.in'} is missing (see /work/shared/anchors/README.md)"
    return None


def start_dovecot(anchors: Path, lab: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Dovecot as the anchors README sets it up, on a free port, user test/pass."""
    port = free_port()
    base = lab / "dovecot"
    for sub in ("run", "state", "home"):
        (base / sub).mkdir(parents=True)
    conf = (anchors / "dovecot.conf.in").read_text().replace("@LAB@", str(lab))
    conf = conf.replace("port = 14300", f"port = {port}").replace("port = 11000", "port = 0")
    (base / "dovecot.conf").write_text(conf)
    (base / "users").write_text(f"test:{{PLAIN}}pass:65534:65534::{base}/home/test::\n")
    os.chmod(lab, 0o755)
    os.chmod(base / "home", 0o777)
    proc = subprocess.Popen(
        ["dovecot", "-F", "-c", str(base / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, proc, "dovecot")
    return proc, port


def start_serve_mail(
    lab: Path, memory: bool, fsync: str, event_loop: str
) -> tuple[subprocess.Popen[bytes], int]:
    """``netsim serve-mail`` with user test/pass on a free port."""
    port = free_port()
    users = lab / "users"
    users.write_text("test:pass\n")
    argv = [sys.executable, "-m", "netsim.apps.serve_mail", "--imap", str(port)]
    argv += ["--host", "127.0.0.1", "--users", str(users), "--allow-plaintext-login"]
    argv += ["--event-loop", event_loop]
    if not memory:
        argv += ["--store", str(lab / "store"), "--fsync", fsync]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, env=env)
    wait_for_port(port, proc, "serve-mail")
    return proc, port


MESSAGE = (
    b"From: a@example.org\r\nTo: b@example.org\r\nSubject: bench\r\n"
    b"Message-ID: <b@example.org>\r\n\r\n" + b"x" * 2000 + b"\r\n"
)


def cpu_per_operation(port: int, meter: Meter, n: int, repeat: int) -> dict[str, float]:
    """Server CPU microseconds per operation, for imaplib_bench.py's operations."""
    import imaplib
    import socket as sockets

    def connect() -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", port)
        client.sock.setsockopt(sockets.IPPROTO_TCP, sockets.TCP_NODELAY, 1)
        client.login("test", "pass")
        return client

    def cycle(i: int) -> None:
        client = connect()
        client.select("INBOX")
        client.logout()

    c = connect()
    c.delete("CpuBench")
    c.create("CpuBench")
    operations: list[tuple[str, int, Callable[[int], object]]] = [
        ("APPEND 2KB", n // 5, lambda i: c.append("CpuBench", None, None, MESSAGE)),
        ("NOOP", n, lambda i: c.noop()),
        ("FETCH 1 (FLAGS UID)", n, lambda i: c.fetch("1", "(FLAGS UID)")),
        ("UID FETCH 1:* (FLAGS) [100 msgs]", n // 5, lambda i: c.uid("FETCH", "1:*", "(FLAGS)")),
        ("FETCH n BODY.PEEK[]", n, lambda i: c.fetch(str(i % 100 + 1), "(BODY.PEEK[])")),
        ("STORE n +FLAGS (\\Seen)", n, lambda i: c.store(str(i % 100 + 1), "+FLAGS", "(\\Seen)")),
        ("SEARCH UNSEEN", n // 5, lambda i: c.search(None, "UNSEEN")),
        ("STATUS INBOX", n // 5, lambda i: c.status("INBOX", "(MESSAGES UIDNEXT)")),
        ("connect+LOGIN+SELECT+LOGOUT", max(10, n // 25), cycle),
    ]
    used = {}
    for name, count, operation in operations:
        if name != "APPEND 2KB":  # the first 100 messages are what the others work on
            count *= repeat  # enough operations for many 10 ms clock ticks
        start = meter()
        for i in range(count):
            operation(i)
        used[name] = (meter() - start) / count * 1e6
        if name == "APPEND 2KB":
            c.select("CpuBench")
    c.close()
    c.delete("CpuBench")
    c.logout()
    return used


def measure(bench: Path, port: int, n: int) -> dict[str, float]:
    """ops/s per operation from one run of imaplib_bench.py against ``port``."""
    out = subprocess.run(
        [sys.executable, str(bench), str(port), str(n)],
        env=dict(os.environ, NODELAY="1"),
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    ).stdout
    rates = {}
    for line in out.splitlines():
        found = _LINE.match(line.strip())
        if found:
            rates[found.group(1).strip()] = float(found.group(2))
    return rates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="operations per kind (N)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds, best kept")
    parser.add_argument("--memory", action="store_true", help="serve-mail without --store")
    parser.add_argument("--fsync", choices=("optimized", "always"), default="optimized")
    parser.add_argument("--event-loop", choices=("auto", "uvloop", "asyncio"), default="auto")
    parser.add_argument("--anchors", type=Path, default=DEFAULT_ANCHORS)
    parser.add_argument(
        "--cpu-repeat", type=int, default=4, help="the CPU figures run N x this many of each"
    )
    args = parser.parse_args()
    bench = args.anchors / "imaplib_bench.py"
    missing = dovecot_missing(args.anchors)
    if missing is not None:
        print(missing, file=sys.stderr)
        return 2
    if not bench.exists():
        print(f"{bench} is missing (see /work/shared/anchors/README.md)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        lab = Path(tmp)
        dovecot, dovecot_port = start_dovecot(args.anchors, lab)
        netsim, netsim_port = start_serve_mail(lab, args.memory, args.fsync, args.event_loop)
        rates: dict[str, dict[str, list[float]]] = {"dovecot": {}, "netsim": {}}
        cpu: dict[str, dict[str, list[float]]] = {"dovecot": {}, "netsim": {}}
        meters = {"dovecot": tree_cpu(dovecot.pid), "netsim": tree_cpu(netsim.pid)}
        load_before = load_average()
        try:
            for _ in range(args.rounds):
                for who, port in (("dovecot", dovecot_port), ("netsim", netsim_port)):
                    for op, value in measure(bench, port, args.n).items():
                        rates[who].setdefault(op, []).append(value)
                    used = cpu_per_operation(port, meters[who], args.n, args.cpu_repeat)
                    for op, value in used.items():
                        cpu[who].setdefault(op, []).append(value)
        finally:
            for proc in (netsim, dovecot):
                proc.terminate()
                proc.wait(10)
    store = "in memory" if args.memory else f"--store --fsync {args.fsync}"
    print(
        f"N={args.n}, median of {args.rounds} alternating rounds; serve-mail {store}"
        f" --event-loop {args.event_loop}; {load_before} before, {load_average()} after"
    )
    print("rate: ops/s of imaplib_bench.py; CPU: the server's microseconds per operation")
    print("(all its processes and threads, from /proc schedstat); a ratio of 1.0 or more")
    print("means serve-mail is as fast as Dovecot (a higher rate, or less CPU)")
    print(
        f"{'operation':34} {'dovecot':>8} {'netsim':>8} {'rate':>6}"
        f"   {'dovecot':>8} {'netsim':>8} {'CPU':>6}"
    )
    print(
        f"{'':34} {'ops/s':>8} {'ops/s':>8} {'ratio':>6}   {'us/op':>8} {'us/op':>8} {'ratio':>6}"
    )
    worst = float("inf")
    for op, reference_rates in rates["dovecot"].items():
        reference = statistics.median(reference_rates)
        ours = statistics.median(rates["netsim"].get(op, [0.0]))
        ratio = ours / reference if reference else float("nan")
        worst = min(worst, ratio)
        their_cpu = statistics.median(cpu["dovecot"].get(op, [float("nan")]))
        our_cpu = statistics.median(cpu["netsim"].get(op, [float("nan")]))
        cpu_ratio = their_cpu / our_cpu if our_cpu else float("inf")
        print(
            f"{op:34} {reference:8.0f} {ours:8.0f} {ratio:5.2f}x"
            f"   {their_cpu:8.1f} {our_cpu:8.1f} {cpu_ratio:5.2f}x"
        )
    print(f"lowest rate ratio: {worst:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
