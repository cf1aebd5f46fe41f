"""CPU per command of the IMAP server session alone, for imaplib_bench.py's operations.

A script, not a test::

    .venv/bin/python benchmarks/imap_session_cost.py [--n 1000] [--rounds 3]
                    [--against DIR]

The sans-IO session that ``serve-mail`` runs (:class:`ServerSession`), in this process,
on a durable store with ``--fsync optimized``: no sockets, no event loop, no client, so
other load on the machine moves the figures far less than the rates of
``imap_vs_dovecot.py``.  The operations are those of the Dovecot anchor's
``imaplib_bench.py`` on a mailbox of 100 messages of 2 KB, each fed ``--n`` times to
``receive_data``; the figure is CPU microseconds per command (``time.process_time``),
the median of ``--rounds``.  ``SEARCH UNSEEN`` runs twice: with the 100 messages unseen,
and after the STOREs have marked them all seen (as in imaplib_bench.py).

``--against DIR`` measures another checkout's ``netsim`` too (``git archive REV netsim
| tar -x -C DIR``), in alternation with this one, each round in a fresh process, and
prints the ratio.

``--evict KB`` measures each command *cold*: before each one, the script writes a byte
in every cache line of a KB-kilobyte buffer, as another process (the client) does while
the server sleeps in its event loop, and the figure is the median command's wall time.
A small command then costs several times its warm figure, and what makes it cheaper is
touching less code and data, not only running fewer bytecodes.  On this machine 2048
is the useful size: two identical trees then agree within a few per cent (8192 evicts
more, closer to what ``serve-mail`` pays per NOOP, but identical trees then differ by
up to 40 %).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MESSAGE = (
    b"From: a@example.org\r\nTo: b@example.org\r\nSubject: bench\r\n"
    b"Message-ID: <b@example.org>\r\n\r\n" + b"x" * 2000 + b"\r\n"
)

#: Name -> the command line for the i-th repetition, in imaplib_bench.py's order.
OPERATIONS: dict[str, str] = {
    "NOOP": "NOOP",
    "FETCH 1 (FLAGS UID)": "FETCH 1 (FLAGS UID)",
    "UID FETCH 1:* (FLAGS) [100 msgs]": "UID FETCH 1:* (FLAGS)",
    "FETCH n BODY.PEEK[]": "FETCH {n} (BODY.PEEK[])",
    "SEARCH UNSEEN [100 unseen]": "SEARCH UNSEEN",
    "STORE n +FLAGS (\\Seen)": "STORE {n} +FLAGS (\\Seen)",
    "SEARCH UNSEEN [none unseen]": "SEARCH UNSEEN",
    "STATUS INBOX (MESSAGES UIDNEXT)": "STATUS INBOX (MESSAGES UIDNEXT)",
}


def one_round(n: int, evict_kb: int = 0) -> dict[str, float]:
    """CPU microseconds per command of each operation, in this process (with
    ``evict_kb``, the median command's wall microseconds after evicting the caches)."""
    from netsim.mail.imap.server import ImapServer, ServerConfig
    from netsim.mail.store import MailStore
    from netsim.mail.users import Users

    with tempfile.TemporaryDirectory() as directory:
        store = MailStore(directory, fsync="optimized")
        server = ImapServer(store, Users({"test": "pass"}), ServerConfig(debug=True))
        session = server.open_session(tls=True)
        session.greeting()

        def command(line: str | bytes) -> None:
            data = line.encode() if isinstance(line, str) else line
            out = session.receive_data(b"a " + data + b"\r\n")
            if not out.rsplit(b"\r\n", 2)[-2].startswith(b"a OK"):
                raise SystemExit(f"{line!r} failed: {out[-200:]!r}")

        command("LOGIN test pass")
        command("CREATE Bench")
        for _ in range(100):
            command(b"APPEND Bench {%d+}\r\n" % len(MESSAGE) + MESSAGE)
        command("SELECT Bench")
        used = {}
        buffer = bytearray(evict_kb * 1024)
        for name, template in OPERATIONS.items():
            lines = [template.format(n=i % 100 + 1) for i in range(n)]
            if evict_kb:
                used[name] = statistics.median(_cold(command, line, buffer) for line in lines)
                continue
            start = time.process_time()
            for line in lines:
                command(line)
            used[name] = (time.process_time() - start) / n * 1e6
        store.close()
    return used


def _cold(command: Callable[[str], None], line: str, buffer: bytearray) -> float:
    """Wall microseconds of one command after a write to every cache line of ``buffer``."""
    for i in range(0, len(buffer), 64):
        buffer[i] = 1
    start = time.perf_counter()
    command(line)
    return (time.perf_counter() - start) * 1e6


def in_process(tree: Path, n: int, evict_kb: int) -> dict[str, float]:
    """One round in a fresh interpreter importing ``netsim`` from ``tree``."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import imap_session_cost as b;"
        " print(json.dumps(b.one_round(int(sys.argv[2]), int(sys.argv[3]))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__).parent), str(n), str(evict_kb)],
        env=env,
        cwd=tree,  # "-c" puts the working directory first on the path
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result: dict[str, float] = json.loads(out)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="commands per operation")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, median kept")
    parser.add_argument("--against", type=Path, help="another checkout's tree to compare")
    parser.add_argument(
        "--evict", type=int, default=0, metavar="KB", help="evict KB of cache before each command"
    )
    args = parser.parse_args()
    trees = {"this": ROOT}
    if args.against is not None:
        if not (args.against / "netsim").is_dir():
            raise SystemExit(f"{args.against} has no netsim/ package")
        trees = {"against": args.against, "this": ROOT}
    runs: dict[str, dict[str, list[float]]] = {name: {} for name in trees}
    for _ in range(args.rounds):
        for name, tree in trees.items():
            for op, value in in_process(tree, args.n, args.evict).items():
                runs[name].setdefault(op, []).append(value)
    load = f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    what = f"wall us after evicting {args.evict} KB" if args.evict else "CPU us"
    print(f"IMAP session {what} per command, median of {args.rounds} rounds; {load}")
    header = f"{'operation':34} {'this':>8}"
    if "against" in runs:
        header += f" {'against':>8} {'speed-up':>8}"
    print(header)
    for op in OPERATIONS:
        ours = statistics.median(runs["this"][op])
        line = f"{op:34} {ours:8.1f}"
        if "against" in runs:
            theirs = statistics.median(runs["against"][op])
            line += f" {theirs:8.1f} {theirs / ours:7.2f}x"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
