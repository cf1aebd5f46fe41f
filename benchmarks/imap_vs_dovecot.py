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
the best rate of each is kept (other load only ever slows a round down).  A ratio of
1.0 or more means serve-mail is at least as fast as Dovecot for that operation.

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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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
    args = parser.parse_args()
    bench = args.anchors / "imaplib_bench.py"
    if shutil.which("dovecot") is None:
        print("dovecot is not installed (apt-get install dovecot-imapd)", file=sys.stderr)
        return 2
    if not bench.exists():
        print(f"{bench} is missing (see /work/shared/anchors/README.md)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        lab = Path(tmp)
        dovecot, dovecot_port = start_dovecot(args.anchors, lab)
        netsim, netsim_port = start_serve_mail(lab, args.memory, args.fsync, args.event_loop)
        best: dict[str, dict[str, float]] = {"dovecot": {}, "netsim": {}}
        try:
            for _ in range(args.rounds):
                for who, port in (("dovecot", dovecot_port), ("netsim", netsim_port)):
                    for op, value in measure(bench, port, args.n).items():
                        best[who][op] = max(best[who].get(op, 0.0), value)
        finally:
            for proc in (netsim, dovecot):
                proc.terminate()
                proc.wait(10)
    store = "in memory" if args.memory else f"--store --fsync {args.fsync}"
    print(
        f"N={args.n}, best of {args.rounds} alternating rounds;"
        f" serve-mail {store} --event-loop {args.event_loop}; load average"
        f" {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print(f"{'operation':34} {'dovecot':>9} {'netsim':>9} {'ratio':>7}")
    worst = float("inf")
    for op, reference in best["dovecot"].items():
        ours = best["netsim"].get(op, 0.0)
        ratio = ours / reference if reference else float("nan")
        worst = min(worst, ratio)
        print(f"{op:34} {reference:9.0f} {ours:9.0f} {ratio:6.2f}x")
    print(f"lowest ratio: {worst:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
