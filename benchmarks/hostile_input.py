"""Benchmark: how fast hostile scenarios are refused (wall seconds to the error message).

Each case is a scenario that once hung, exhausted memory or ran for minutes: a 1 KB
alias bomb, nesting 20,000 levels deep, a frame every picosecond, a billion pings, a
million hosts from templates, a mailbox of 100,000 x 1 GB. Each must now end in one
located message, in a fraction of a second. The tests check the messages; this script
reports the time (best of ``--repeat`` runs), which tests must never assert.

    python benchmarks/hostile_input.py [--repeat N]
"""

from __future__ import annotations

import argparse
import time

import netsim

BASE = """\
name: base
duration: 1ms
topology:
  nodes:
    h1: {kind: host}
    sw1: {kind: switch, ports: 4}
    h2: {kind: host}
  links:
    - endpoints: [h1, sw1]
    - endpoints: [sw1, h2]
traffic:
  - {kind: frames, from: h1, to: h2, size: 64, count: 1}
"""


def alias_bomb() -> str:
    lines = ["b0: &b0 [" + ", ".join(["lol"] * 10) + "]"]
    for i in range(1, 10):
        lines.append(f"b{i}: &b{i} [" + ", ".join([f"*b{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


TRAFFIC = "  - {kind: frames, from: h1, to: h2, size: 64, count: 1}\n"
CASES = {
    "alias bomb (1 KB, 10^10 values)": BASE + alias_bomb(),
    "nesting 20,000 deep": BASE + "x: " + "[" * 20_000 + "]" * 20_000 + "\n",
    "a frame every 1 ps, no count": BASE.replace(
        TRAFFIC, "  - {kind: frames, from: h1, to: h2, interval: 1ps}\n"
    ),
    "10^9 pings, interval 0": BASE.replace(
        TRAFFIC, "  - {kind: ping, from: h1, to: h2, count: 1000000000, interval: 0}\n"
    ),
    "templates making 10^6 hosts": "name: t\nduration: 1ms\ntemplates:\n  room:\n    nodes:\n"
    "      pc: {kind: host, count: 10000}\ntopology:\n  use:\n    - {template: room, count: 100}\n",
    "mailbox of 100,000 x 1 GB": BASE.replace(
        TRAFFIC,
        "  - {kind: imap, server: h2, clients: [h1], "
        "mailbox: {messages: 100000, mean_size: 1GB}}\n",
    ),
    "delay: 1e999s": BASE.replace(
        "topology:\n", "topology:\n  defaults: {link: {delay: 1e999s}}\n"
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (best is shown)")
    args = parser.parse_args()
    print(f"{'case':<34}{'refused in':>12}  message")
    for name, text in CASES.items():
        best = float("inf")
        message = ""
        for _ in range(args.repeat):
            started = time.perf_counter()
            try:
                netsim.loads(text, "case.yaml")
                message = "ACCEPTED (not refused!)"
            except netsim.ScenarioError as e:
                message = str(e.problems[0])
            best = min(best, time.perf_counter() - started)
        print(f"{name:<34}{best * 1e3:>9.1f} ms  {message[:90]}")


if __name__ == "__main__":
    main()
