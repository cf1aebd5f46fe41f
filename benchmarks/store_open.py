"""How long a durable mail store takes to open, now that it verifies everything it reads.

A script, not a test::

    .venv/bin/python benchmarks/store_open.py [--messages 20000] [--size 4096]

It builds a store of ``--messages`` messages of ``--size`` bytes in a temporary
directory, then times three things: opening it (replay, checking every record and every
blob's SHA-256, compaction), opening it again (a compacted journal), and
``serve-mail --check`` (read-only, no compaction).  Each figure is the best of three.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from netsim.mail.store import MailStore
from netsim.mail.store_check import check_store

WHEN = dt.datetime(2020, 2, 5, 10, 0, tzinfo=dt.UTC)


def build(directory: Path, messages: int, size: int) -> None:
    """``messages`` distinct messages in one INBOX, appended in batches of 100."""
    store = MailStore(directory)
    store.ensure_user("bench")
    inbox = store.mailbox("bench", "INBOX")
    assert inbox is not None
    pad = b"x" * max(0, size - 40)
    for start in range(0, messages, 100):
        batch = range(start, min(messages, start + 100))
        store.append(inbox, [(b"Subject: %08d\r\n\r\n" % i + pad, [], WHEN) for i in batch])
    store.close()


def best_of(runs: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--size", type=int, default=4096, help="bytes per message")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "store"
        build(directory, args.messages, args.size)
        total = args.messages * args.size / 1e6
        print(f"store: {args.messages} messages x {args.size} B = {total:.0f} MB")

        def reopen() -> None:
            MailStore(directory).close()

        for label, action in [
            ("open (replay, verify, compact)", reopen),
            ("serve-mail --check (read-only)", lambda: check_store(directory)),
        ]:
            seconds = best_of(3, action)
            print(f"{label:34s} {seconds:7.3f} s   {args.messages / seconds:9.0f} messages/s")


if __name__ == "__main__":
    main()
