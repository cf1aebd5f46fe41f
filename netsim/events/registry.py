"""The registry of scenario events: what each ``events:`` entry does when its time comes.

Each kind of event is a module of this package that registers a *handler* for its
scenario model with :func:`handles`. :func:`schedule_events` schedules every event of
the scenario at its time ``at``; when the time comes, the handler acts on the live
network (takes a link down, clears a MAC table, moves a host). A new kind of event is a
new module here, not one more branch in a central file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

from netsim.engine.sim import Simulation
from netsim.scenario import model as m
from netsim.topology.build import Network

__all__ = ["EventContext", "handles", "schedule_events"]


@dataclass(frozen=True)
class EventContext:
    """What a handler works with: the simulation, the live network and the scenario."""

    sim: Simulation
    net: Network
    scenario: m.Scenario


Handler = Callable[[EventContext, Any], None]
"""``handler(context, event)``: carry out ``event`` now (at ``event.at``)."""

_HANDLERS: dict[type[BaseModel], Handler] = {}

H = TypeVar("H", bound=Handler)


def handles(model: type[BaseModel]) -> Callable[[H], H]:
    """Register the decorated function as the handler of scenario events of ``model``."""

    def register(handler: H) -> H:
        if model in _HANDLERS:
            raise ValueError(f"event {model.__name__} has two handlers")
        _HANDLERS[model] = handler
        return handler

    return register


def schedule_events(context: EventContext) -> None:
    """Schedule every event of the scenario at its time, in the order the file lists them.

    Events at the same time happen in file order: the simulation breaks ties by the
    order in which they were scheduled.
    """
    for event in context.scenario.events:
        handler = _HANDLERS.get(type(event))
        if handler is None:
            raise LookupError(f"no handler is registered for {type(event).__name__}")
        context.sim.call_at(event.at, handler, context, event)
