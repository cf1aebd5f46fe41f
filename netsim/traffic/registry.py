"""The registry of traffic kinds: how each ``traffic:`` entry of a scenario starts.

Each traffic kind is a module of this package that registers a *starter* for its
scenario model with :func:`starts`. A starter creates the applications (senders,
clients) that the entry describes; they schedule their own first events. A kind whose
entries share a server registers a *preparer* as well (:func:`prepares`): it runs once,
with all of that kind's entries, before any entry starts.

``run()`` then stays a short loop (:func:`start_traffic`), and a new kind of traffic is
a new module here, not one more branch in a central file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from netsim.engine.sim import Simulation
from netsim.scenario import model as m
from netsim.scenario.resolve import tcp_ports
from netsim.topology.build import Network

__all__ = ["RunContext", "prepares", "start_traffic", "starts"]


@dataclass
class RunContext:
    """What a starter works with: the simulation, the live network and the scenario."""

    sim: Simulation
    net: Network
    scenario: m.Scenario
    tcp_ports: dict[int, tuple[str, int]] = field(init=False)
    """(server, port) of each TCP or IMAP entry, by traffic index."""

    def __post_init__(self) -> None:
        self.tcp_ports = tcp_ports(self.scenario)


Starter = Callable[[RunContext, Any, int, str], None]
"""``starter(context, entry, index, name)``: start one traffic entry."""
Preparer = Callable[[RunContext, Sequence[Any]], None]
"""``preparer(context, entries)``: set up what all entries of a kind share (a server)."""

_STARTERS: dict[type[BaseModel], Starter] = {}
_PREPARERS: dict[type[BaseModel], Preparer] = {}

S = TypeVar("S", bound=Starter)
P = TypeVar("P", bound=Preparer)


def starts(model: type[BaseModel]) -> Callable[[S], S]:
    """Register the decorated function as the starter of traffic entries of ``model``."""

    def register(starter: S) -> S:
        if model in _STARTERS:
            raise ValueError(f"traffic kind {model.__name__} has two starters")
        _STARTERS[model] = starter
        return starter

    return register


def prepares(model: type[BaseModel]) -> Callable[[P], P]:
    """Register the decorated function to run once before entries of ``model`` start."""

    def register(preparer: P) -> P:
        if model in _PREPARERS:
            raise ValueError(f"traffic kind {model.__name__} has two preparers")
        _PREPARERS[model] = preparer
        return preparer

    return register


def start_traffic(context: RunContext) -> None:
    """Start every traffic entry of the scenario, in the order the file lists them.

    Preparers run first, in the order their kinds first appear. The order matters: it is
    the order in which the first events are scheduled, so it keeps runs reproducible.
    """
    entries = context.scenario.traffic
    for kind in dict.fromkeys(type(t) for t in entries):
        preparer = _PREPARERS.get(kind)
        if preparer is not None:
            preparer(context, [t for t in entries if type(t) is kind])
    for index, entry in enumerate(entries):
        starter = _STARTERS.get(type(entry))
        if starter is None:
            raise LookupError(f"no starter is registered for {type(entry).__name__}")
        starter(context, entry, index, entry.name or f"{entry.kind}{index + 1}")
