"""``netsim animate SCENARIO -o run.html [--from T --to T]``: write a browser replay."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from netsim.scenario.units import parse_time

EXIT_USAGE = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``netsim animate`` (the scenario and ``--set`` come from the caller)."""
    parser.add_argument("-o", "--output", type=Path, required=True, help="HTML file to write")
    parser.add_argument(
        "--from",
        dest="start",
        default="0s",
        metavar="TIME",
        help="start of the window, e.g. 1.5s (default 0)",
    )
    parser.add_argument(
        "--to", dest="end", metavar="TIME", help="end of the window (default: the end of the run)"
    )
    parser.add_argument(
        "--max-frames",
        type=int,
        default=None,
        metavar="N",
        help="frames to follow at most (default 500)",
    )
    parser.add_argument("--seed", type=int, help="seed instead of the scenario's")


def run(args: argparse.Namespace, load: Callable[[argparse.Namespace], Any]) -> int:
    """Simulate with a window, then write the page and say what it holds.

    ``load`` reads the scenario as every command does (printing its warnings)."""
    from netsim.animate import DEFAULT_MAX_FRAMES, page, record

    try:
        start = parse_time(args.start)
        end = parse_time(args.end) if args.end is not None else None
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    limit = args.max_frames if args.max_frames is not None else DEFAULT_MAX_FRAMES
    if limit < 1:
        print("error: --max-frames: expected 1 or more", file=sys.stderr)
        return EXIT_USAGE
    scenario = load(args)
    try:
        results = record(scenario, start, end, limit, args.seed)
        text = page(results, title=f"netsim replay: {scenario.name}")
    except ValueError as e:
        print(f"error: {args.scenario}: {e}", file=sys.stderr)
        return EXIT_USAGE
    args.output.write_text(text, encoding="utf-8")
    frames = len(results.frame_bytes)
    print(f"{args.output}: {frames} frames, {len(results.hops)} events, {len(text) / 1e3:.0f} kB")
    if results.window_cut is not None:
        print(
            f"note: more than {limit} frames in the window: the replay stops at "
            f"{results.window_cut:.9g} s; narrow it with --from/--to or raise --max-frames",
            file=sys.stderr,
        )
    return 0
