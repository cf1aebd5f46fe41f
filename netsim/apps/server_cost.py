"""What serving a mail command costs a simulated server host: CPU time and disk syncs.

Out of the box a simulated server answers in zero time, which is right for lessons about
the fabric. A scenario that wants server latency too gives the server host a
``mail_servers:`` entry: ``cores`` (a SimPy resource: commands queue when every core is
busy), ``cpu_speed`` (how many times faster than the machine the model was measured on)
and ``fsync`` (how long the disk takes to make one write durable; one disk, so syncs
queue too).

The per-command figures come from ``mail_costs.json`` in this package, which
``benchmarks/mail_costs.py`` writes by timing netsim's own servers (the code
``serve-mail`` runs) on a durable store: the CPU time of each command (a fixed part plus
a part per octet of request and response) and how many fsyncs it made.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import simpy


@dataclass(frozen=True)
class CommandCost:
    """One command's measured cost on the calibration machine."""

    cpu_s: float
    """CPU seconds, besides the per-octet part."""
    fsyncs: int
    """Durable writes (a journal line, a message blob) the command waits for."""


@dataclass(frozen=True)
class CostModel:
    """Per-command costs of one protocol, as measured by ``benchmarks/mail_costs.py``."""

    protocol: str
    commands: dict[str, CommandCost]
    per_octet_s: float
    """CPU seconds per octet of request and response (parsing, copying, formatting)."""
    default: CommandCost
    """The cost of a command the table does not list (the median of those it does)."""

    def cost(self, verb: str) -> CommandCost:
        """The cost of ``verb`` (``NOOP``, ``UID FETCH``, ``DATA`` ...)."""
        return self.commands.get(verb.upper(), self.default)

    def cpu_seconds(self, verb: str, octets: int) -> float:
        """CPU seconds for one ``verb`` that read and wrote ``octets`` in all."""
        return self.cost(verb).cpu_s + self.per_octet_s * octets


@cache
def measured(protocol: str) -> CostModel:
    """The measured model of ``protocol`` (``imap``, ``smtp``, ``pop3``)."""
    text = resources.files("netsim.apps").joinpath("data/mail_costs.json").read_text()
    table: dict[str, Any] = json.loads(text)
    if protocol not in table["protocols"]:
        raise KeyError(f"no measured cost model for {protocol!r}")
    data = table["protocols"][protocol]
    commands = {
        verb: CommandCost(float(c["cpu_us"]) * 1e-6, int(c["fsyncs"]))
        for verb, c in data["commands"].items()
    }
    ordered = sorted(c.cpu_s for c in commands.values())
    return CostModel(
        protocol=protocol,
        commands=commands,
        per_octet_s=float(data["per_octet_ns"]) * 1e-9,
        default=CommandCost(ordered[len(ordered) // 2] if ordered else 0.0, 0),
    )


class ServerCost:
    """A simulated server host's CPU cores and disk, shared by all its mail services."""

    def __init__(
        self, env: simpy.Environment, cores: int = 1, cpu_speed: float = 1.0, fsync: float = 0.0
    ) -> None:
        self.env = env
        self.cpu = simpy.Resource(env, capacity=cores)
        self.disk = simpy.Resource(env, capacity=1)
        self.cpu_speed = cpu_speed
        self.fsync = fsync
        #: CPU seconds and disk seconds spent so far, for the summary.
        self.cpu_busy = 0.0
        self.disk_busy = 0.0

    def serve(self, model: CostModel, verb: str, octets: int) -> Generator[simpy.Event, Any, float]:
        """Spend what ``verb`` costs (queueing for a core, then the disk); return the time."""
        start = self.env.now
        cost = model.cost(verb)
        cpu = model.cpu_seconds(verb, octets) / self.cpu_speed
        if cpu > 0:
            with self.cpu.request() as core:
                yield core
                yield self.env.timeout(cpu)
            self.cpu_busy += cpu
        if self.fsync > 0:
            for _ in range(cost.fsyncs):
                with self.disk.request() as disk:
                    yield disk
                    yield self.env.timeout(self.fsync)
                self.disk_busy += self.fsync
        return float(self.env.now - start)
