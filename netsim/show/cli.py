"""``netsim show SCENARIO --at TIME DEVICE COMMAND``: run a scenario, print one show command.

The run takes a snapshot at ``--at``, so the output is the switch's own state at that
instant (its MAC table, its counters), printed under an IOS prompt.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from netsim.scenario.units import parse_time

EXIT_USAGE = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``netsim show`` (the scenario and ``--set`` come from the caller)."""
    parser.add_argument("--at", metavar="TIME", help="simulated time, e.g. 2.5s (default: end)")
    parser.add_argument("--seed", type=int, help="seed instead of the scenario's")
    parser.add_argument("device", help="a switch, bridge, hub or host of the scenario")
    parser.add_argument(
        "words", nargs="+", metavar="COMMAND", help='e.g. "mac address-table" or int status'
    )


def run(args: argparse.Namespace, load: Callable[[argparse.Namespace], Any]) -> int:
    """Simulate, then print ``DEVICE#show COMMAND`` and its output.

    ``load`` reads the scenario as every command does (printing its warnings)."""
    import netsim
    from netsim.show import ShowError, resolve

    command = " ".join(args.words)
    try:
        at = parse_time(args.at) if args.at is not None else None
        cmd, extra = resolve(command)
    except ValueError as e:  # ShowError is a ValueError too
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    scenario = load(args)
    if args.device not in scenario.topology.nodes:
        names = ", ".join(scenario.topology.nodes)
        print(
            f"error: {args.scenario}: no device {args.device!r} (devices: {names})", file=sys.stderr
        )
        return EXIT_USAGE
    results = netsim.run(scenario, seed=args.seed, snapshots=[at] if at is not None else [])
    try:
        text = results.show(args.device, command, at)
    except ShowError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    when = f"{at:g} s" if at is not None else "the end of the run"
    print(f"{args.device}#show {' '.join((cmd.name, *extra))}    ! at {when}")
    print(text, end="")
    return 0
