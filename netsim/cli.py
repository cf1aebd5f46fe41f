"""The ``netsim`` command line.

    netsim run SCENARIO.yaml [--out DIR] [--seed N] [--set PATH=VALUE ...]
    netsim validate SCENARIO.yaml
    netsim show SCENARIO.yaml --at 2.5s sw1 mac address-table
    netsim animate SCENARIO.yaml -o run.html [--from T --to T]
    netsim serve-mail --imap PORT [--smtp PORT --pop3 PORT ...] --users FILE [--store DIR]

A mistake in a scenario prints one line per problem (file, YAML path, line, what was
expected) and exits with status 2; so does an output path that cannot be written. It
never prints a traceback. Ctrl-C during ``run`` stops the simulation, saves what it has
(summary.json says ``"interrupted": true``) and exits with status 130.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from netsim import __version__
from netsim.scenario.errors import ScenarioError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
"""128 + SIGINT, as a shell reports a command stopped by Ctrl-C."""


class OutputError(Exception):
    """An output path that cannot be written, said in one line."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    words = list(sys.argv[1:] if argv is None else argv)
    parser = _parser(
        serve_mail="serve-mail" in words or not words or "-h" in words or "--help" in words
    )
    args = parser.parse_args(words)
    try:
        return int(args.func(args))
    except ScenarioError as e:
        for problem in e.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    except OutputError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``netsim run x.yaml | head``): not an error of ours.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return 0


def _parser(serve_mail: bool = True) -> argparse.ArgumentParser:
    """The parser of every command; ``serve_mail=False`` leaves out that command's options.

    Building serve-mail's options imports the IMAP server (a large package), which
    ``netsim run`` does not need: a short run should not pay for it at start-up.
    """
    parser = argparse.ArgumentParser(
        prog="netsim", description="Discrete-event simulator for switched Ethernet LANs."
    )
    parser.add_argument("--version", action="version", version=f"netsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = _scenario_command(sub, "run", "simulate a scenario and write its results", _run)
    run.add_argument("--out", type=Path, help="results folder (default results/<name>/)")
    run.add_argument("--seed", type=int, help="seed instead of the scenario's")
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")
    run.add_argument("--no-plots", action="store_true", help="write tables only, no PNG figures")

    _scenario_command(sub, "validate", "check a scenario without running it", _validate)

    sweep = _scenario_command(sub, "sweep", "run a scenario over its sweep: grid", _sweep)
    sweep.add_argument("--workers", type=int, help="worker processes (default: all cores)")
    sweep.add_argument("--out", type=Path, help="results folder (default results/<name>-sweep/)")
    sweep.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask cluster, like tcp://10.0.0.5:8786 (default: local processes)",
    )

    draw = _scenario_command(sub, "draw", "draw a scenario's topology", _draw)
    draw.add_argument("-o", "--output", type=Path, required=True, help="PNG file to write")
    draw.add_argument("--ports", action="store_true", help="interface names on the link ends")

    ladder = _scenario_command(
        sub, "ladder", "time-space diagram of one frame, per switching mode", _ladder
    )
    ladder.add_argument("--frame", type=int, required=True, help="frame_id, from frames.csv")
    ladder.add_argument("-o", "--output", type=Path, required=True, help="PNG file to write")
    ladder.add_argument(
        "--to", metavar="DEVICE", help="for a flooded frame: the receiver to follow"
    )
    ladder.add_argument(
        "--as-configured",
        action="store_true",
        help="one diagram with the scenario's own modes, not one per mode",
    )

    _scenario_command(
        sub, "expand", "print a scenario with its templates and campus expanded", _expand
    )

    show = _scenario_command(
        sub, "show", "an IOS-style show command on a device, at a simulated time", _show
    )
    _add_arguments("netsim.show.cli", show)

    animate = _scenario_command(
        sub, "animate", "replay a run in the browser: one self-contained HTML file", _animate
    )
    _add_arguments("netsim.animate.cli", animate)

    models = sub.add_parser("models", help="list the device and media catalogs")
    models.add_argument("--sources", action="store_true", help="where each figure comes from")
    models.set_defaults(func=_models)

    if not serve_mail:
        sub.add_parser("serve-mail", help="serve IMAP, SMTP and POP3 on real sockets")
        return parser
    try:
        server = importlib.import_module("netsim.apps.serve_mail")
    except ImportError:
        server = None
    if server is not None:
        serve = sub.add_parser("serve-mail", help="serve IMAP, SMTP and POP3 on real sockets")
        server.add_arguments(serve)
        serve.set_defaults(func=server.run)
    return parser


def _scenario_command(
    sub: Any, name: str, help: str, func: Callable[[argparse.Namespace], int]
) -> argparse.ArgumentParser:
    """A subcommand that reads a scenario file, whose values ``--set`` may override."""
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help)
    parser.add_argument("scenario", type=Path)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        dest="sets",
        help="override a value, e.g. --set topology.nodes.sw1.mode=cut-through",
    )
    parser.set_defaults(func=func)
    return parser


def _add_arguments(module: str, parser: argparse.ArgumentParser) -> None:
    importlib.import_module(module).add_arguments(parser)


def _show(args: argparse.Namespace) -> int:
    from netsim.show.cli import run

    return run(args, _load)


def _animate(args: argparse.Namespace) -> int:
    from netsim.animate.cli import run

    return run(args, _load)


def _load(args: argparse.Namespace) -> Any:
    """Load the command's scenario; print a warning per classic Ethernet rule it breaks."""
    import netsim

    scenario = netsim.load(args.scenario, sets=args.sets)
    for problem in scenario.warnings:
        print(f"warning: {problem}", file=sys.stderr)
    return scenario


def _run(args: argparse.Namespace) -> int:
    import netsim

    scenario = _load(args)
    out = output_folder(args.out, Path("results") / scenario.name, "--out")

    def started() -> None:
        if not args.quiet:
            print(
                f"running {scenario.name}: {len(scenario.topology.nodes)} devices, "
                f"{len(scenario.model.traffic)} traffic sources "
                "(Ctrl-C stops and saves what is done)",
                file=sys.stderr,
                flush=True,
            )

    horizon = scenario.model.stop or scenario.model.duration
    progress = _ProgressBar(horizon) if not args.quiet else None
    results = netsim.run(scenario, seed=args.seed, progress=progress, on_start=started)
    if progress is not None:
        progress.done()
    interrupted = bool(results.summary.get("interrupted"))
    _write(out, results.save)
    if not args.no_plots and not interrupted:
        from netsim.plots.run import save_run_plots

        _write(out, lambda folder: save_run_plots(results, scenario.topology, folder))
    if interrupted:
        print(
            f"interrupted at {results.summary['simulated_time']:.6g} s simulated: "
            f"the results so far are in {out}/",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    storm = results.summary.get("storm")
    if storm is not None:
        print(f"stopped: {storm['message']}", file=sys.stderr)
    if not args.quiet:
        _print_summary(results, out)
    return 0


def output_folder(given: Path | None, default: Path, option: str) -> Path:
    """The results folder, created now, so that a bad path fails before a long run."""
    out = given if given is not None else default
    where = f"{option} {out}" if given is not None else str(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{where}: is a file, not a folder; results go into a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"{where}: cannot create the folder: {e.strerror or e}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise OutputError(f"{where}: cannot write into this folder (permission denied)")
    return out


def output_file(path: Path, option: str) -> Path:
    """A file to write (a figure), checked before the work that produces it."""
    if path.is_dir():
        raise OutputError(f"{option} {path}: is a folder; give a file name like topo.png")
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(f"{option} {path}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {path}: cannot write into {parent} (permission denied)")
    return path


def _write(target: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(target)``; a failure of the file system becomes one line."""
    try:
        write(target)
    except OSError as e:
        name = e.filename if e.filename is not None else target
        raise OutputError(f"{name}: cannot write: {e.strerror or e}") from None


class _ProgressBar:
    """A one-line bar on simulated time, shown on a terminal once a run takes over 1 s."""

    def __init__(self, duration: float) -> None:
        self.duration = duration
        self.started = time.perf_counter()
        self.shown = False
        self.enabled = sys.stderr.isatty()

    def __call__(self, now: float) -> None:
        if not self.enabled or time.perf_counter() - self.started < 1.0:
            return
        share = min(1.0, now / self.duration) if self.duration > 0 else 1.0
        bar = "#" * int(share * 30)
        print(
            f"\r  [{bar:<30}] {share:4.0%}  {now:.3g} of {self.duration:.3g} s simulated",
            end="",
            file=sys.stderr,
            flush=True,
        )
        self.shown = True

    def done(self) -> None:
        if self.shown:
            print(file=sys.stderr)


def _validate(args: argparse.Namespace) -> int:

    scenario = _load(args)
    topo = scenario.topology
    points = ""
    if scenario.model.sweep_grid:
        from netsim.sweep import grid

        points = f", a sweep of {len(grid(scenario))} runs"  # each point loads, as sweep would
    print(
        f"{args.scenario}: ok: scenario {scenario.name!r}, {len(topo.nodes)} nodes, "
        f"{len(topo.links)} links, {len(scenario.model.traffic)} traffic sources{points}"
    )
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from netsim.sweep import SweepInterrupted, run_sweep

    if args.workers is not None and args.workers < 1:
        print("error: --workers: expected a number of processes, 1 or more", file=sys.stderr)
        return EXIT_USAGE
    scenario = _load(args)
    out = output_folder(args.out, Path("results") / f"{scenario.name}-sweep", "--out")

    def progress(done: int, total: int) -> None:
        if done == 0:
            print(
                f"running {total} runs (Ctrl-C stops; finished runs are kept)",
                file=sys.stderr,
                flush=True,
            )
        else:
            print(f"  {done}/{total} runs done", file=sys.stderr, flush=True)

    cluster = scenario.model.sweep_cluster
    scheduler = args.scheduler or (cluster.scheduler if cluster is not None else None)
    try:
        table = run_sweep(scenario, args.workers, out, progress, scheduler)
    except SweepInterrupted as stopped:
        finished = stopped.table
        if not finished.empty:
            _write(
                out / "sweep.csv", lambda p: finished.to_csv(p, index=False, float_format="%.12g")
            )
        print(
            f"interrupted after {stopped.done} of {stopped.total} runs: their results are "
            f"in {out}/",
            file=sys.stderr,
        )
        # The pool's workers were terminated mid-run, and concurrent.futures joins its
        # manager thread at interpreter exit, which can then wait forever: leave at once
        # (everything worth keeping is written and flushed).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)
    except ImportError as e:
        print(
            f"error: a sweep on a Dask cluster needs dask.distributed ({e}); "
            "install it with pip install 'netsim[dask]'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except Exception as e:
        if scheduler is None:
            raise
        # Whatever a remote cluster does wrong (unreachable, not a Dask scheduler at all,
        # a worker lost) is said in one line: the scenario itself was checked already.
        print(
            f"error: Dask scheduler {scheduler}: cannot run the sweep there: "
            f"{type(e).__name__}: {e}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    _write(out / "sweep.csv", lambda path: table.to_csv(path, index=False, float_format="%.12g"))
    parquet = _write_parquet(table, out / "sweep.parquet")
    parameters = list(scenario.model.sweep_grid)
    metric = _sweep_metric(table)
    if metric is not None:
        _write(out, lambda folder: _plot_sweep(table, parameters, metric, folder))
        shown = table.dropna(subset=[metric[0]]).dropna(axis="columns", how="all")
        print(shown.to_string(index=False, max_colwidth=24, float_format=lambda x: f"{x:.6g}"))
    print(f"results in {out}/ (sweep.csv{parquet}, one folder per run)")
    return 0


def _write_parquet(table: Any, path: Path) -> str:
    """Write the sweep's Parquet copy; say what was written, for the closing line."""
    from netsim.sweep import write_parquet

    try:
        write_parquet(table, path)
    except ImportError:
        print("note: sweep.parquet not written: pyarrow is not installed", file=sys.stderr)
        return ""
    return f", {path.name}"


SWEEP_METRICS = (
    ("latency_mean", "mean latency (s)"),
    ("availability_measured", "measured availability"),
)
"""What sweep.png plots and the terminal shows: the first column of these with values
(a sweep of random failures and no traffic has availabilities, no latencies)."""


def _sweep_metric(table: Any) -> tuple[str, str] | None:
    """The sweep table's column to show, with its axis label; None if it has none."""
    for column, label in SWEEP_METRICS:
        if column in table.columns and table[column].notna().any():
            return column, label
    return None


def _plot_sweep(table: object, parameters: list[str], metric: tuple[str, str], out: Path) -> None:
    try:
        from netsim.plots.sweep import plot_sweep
    except ImportError:
        return
    import pandas as pd

    assert isinstance(table, pd.DataFrame)
    column, label = metric
    plot_sweep(table, parameters, column, out / "sweep.png", ylabel=label)


def _draw(args: argparse.Namespace) -> int:
    from netsim.plots.topology import draw_topology

    scenario = _load(args)
    output_file(args.output, "-o")
    _write(
        args.output,
        lambda path: draw_topology(scenario.topology, path, title=scenario.name, ports=args.ports),
    )
    print(f"{args.output}: {len(scenario.topology.nodes)} devices")
    return 0


def _ladder(args: argparse.Namespace) -> int:
    import netsim

    try:
        from netsim.plots.ladder import save_ladder
    except ImportError:
        print("error: ladder diagrams are not available in this build", file=sys.stderr)
        return EXIT_USAGE
    scenario = _load(args)
    output_file(args.output, "-o")
    modes = None if args.as_configured else netsim.api.MODES
    try:
        hops = netsim.follow_frame(scenario, args.frame, modes)
        _write(args.output, lambda path: save_ladder(hops, path, title=scenario.name, to=args.to))
    except ValueError as e:
        print(f"error: {args.scenario}: --frame {args.frame}: {e}", file=sys.stderr)
        return EXIT_USAGE
    print(f"{args.output}: frame {args.frame}, {', '.join(hops)}")
    return 0


def _expand(args: argparse.Namespace) -> int:
    import yaml

    from netsim.scenario.interfaces import vlan_summary

    scenario = _load(args)
    print(
        yaml.safe_dump(scenario.data, sort_keys=False, default_flow_style=None, width=100), end=""
    )
    summary = vlan_summary(scenario.topology)
    if summary:
        # Comments, so the output stays a scenario that netsim runs as it is.
        print("# Interfaces, as resolved onto the ports (show vlan brief, show interfaces trunk):")
        for line in summary:
            print(f"#   {line}")
    return 0


def _models(args: argparse.Namespace) -> int:
    from netsim.topology.catalog import MODELS

    print(f"{'model':<18}{'kind':<8}{'ports':<40}{'MACs':>7}{'buffer/port':>13}{'forwarding':>13}")
    for model in MODELS.values():
        ports = " + ".join(f"{g.count} x {g.kind}" for g in model.interfaces if g.count)
        if model.max_stack_members > 1:
            ports += f", stack of {model.max_stack_members}"
        macs = f"{model.mac_table_size:,}" if model.mac_table_size else "-"
        buffer = f"{model.buffer_bytes // 1000:,} KB" if model.buffer_bytes else "-"
        rate = f"{model.forwarding_rate_pps / 1e6:.1f} Mpps" if model.forwarding_rate_pps else "-"
        print(f"{model.name:<18}{model.kind:<8}{ports:<40}{macs:>7}{buffer:>13}{rate:>13}")
        if args.sources:
            for what, source in model.sources.items():
                print(f"    {what}: {source}")
    print("Catalysts forward store-and-forward; a scenario may set another mode for what-ifs.")
    _print_media(args.sources)
    return 0


def _print_media(sources: bool) -> None:
    """The media catalog: IEEE 802.3 figures, and with ``sources`` where they come from."""
    from netsim.metrics.text_table import format_table
    from netsim.phy.media import MEDIA, SOURCES

    rows = []
    for m in MEDIA.values():
        d = m.delay_bt
        rows.append(
            [
                m.name,
                f"{m.rate_bps / 1e6:g} Mb/s",
                f"{m.max_segment_m:g} m",
                "full" if m.full_duplex else "half only",
                f"{m.ns_per_m:g}",
                f"{m.max_stations} / {m.min_tap_spacing_m:g} m" if m.coax else "-",
                f"{d.left:g} / {d.middle:g} / {d.right:g} + {d.per_metre:g}/m" if d else "-",
            ]
        )
    header = ["medium", "rate", "segment", "duplex", "ns/m", "taps", "delay bit times (802.3)"]
    print()
    print("\n".join(format_table(header, rows)))
    if sources:
        for what, source in SOURCES.items():
            print(f"    {what}: {source}")


QUANTILES = ("mean", "p50", "p99")
"""Latency statistics the run's summary prints per traffic source and IMAP command."""


def _print_summary(results: object, out: Path) -> None:
    from netsim.metrics.results import Results
    from netsim.metrics.text_table import format_table

    assert isinstance(results, Results)
    s = results.summary
    f = s["frames"]
    print(
        f"scenario {s['scenario']} (seed {s['seed']}): simulated {s['simulated_time']:.6g} s "
        f"in {results.wall_seconds:.2f} s wall, {s['events_processed']:,} events"
    )
    in_flight = f", {f['in_flight']} in flight at the stop" if f.get("in_flight") else ""
    print(
        f"frames: {f['sent']} sent, {f['delivered']} delivered, {f['dropped']} dropped{in_flight}"
    )
    for reason, count in f["dropped_by_reason"].items():
        print(f"  dropped, {reason}: {count}")
    if f["by_traffic"]:
        rows = [
            [name, t["sent"], t["delivered"], *(_us(t["latency"][k]) for k in QUANTILES)]
            for name, t in f["by_traffic"].items()
        ]
        print("\n".join(format_table(["traffic", "sent", "deliv.", *QUANTILES], rows)))
    imap = s.get("imap", {}).get("by_command", {})
    if imap:
        rows = [[command, *(_ms(lat[k]) for k in QUANTILES)] for command, lat in imap.items()]
        print("\n".join(format_table(["IMAP command", *QUANTILES], rows)))
    for table in ("ping", "tcp"):
        if table in s:
            print(f"{table}.csv: {s[table]['rows']} rows")
    paths = s.get("availability", {}).get("paths", {})
    if paths:
        rows = [
            [
                name,
                p["outages"],
                f"{p['downtime']:.6g} s",
                f"{p['measured']:.5f}",
                "-" if p["analytic"] is None else f"{p['analytic']:.5f}",
            ]
            for name, p in paths.items()
        ]
        headers = ["path", "outages", "downtime", "measured A", "analytic A"]
        print("\n".join(format_table(headers, rows)))
    for warning in s.get("dhcp_pools", {}).get("warnings", []):
        print(f"warning: DHCP {warning} (dhcp_pools.csv, dhcp.csv)", file=sys.stderr)
    print(f"results in {out}/")


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:.3f} ms"


def _us(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e6:.3f} us"


if __name__ == "__main__":
    sys.exit(main())
