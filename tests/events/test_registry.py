"""Scenario events register what they do: every event a scenario may name has a handler."""

from __future__ import annotations

import typing

import pytest

import netsim.events  # noqa: F401  (registers every event)
from netsim.events import registry
from netsim.scenario import model as m


def test_every_event_of_the_scenario_model_has_a_handler() -> None:
    """An event the model accepts but nothing carries out would be silently ignored: never."""
    union = typing.get_args(m.Event)[0]
    for model in typing.get_args(union):
        assert model in registry._HANDLERS, f"{model.__name__} has no handler"


def test_an_event_cannot_register_two_handlers() -> None:
    """Two modules claiming one event is a programming error, caught at import."""
    with pytest.raises(ValueError, match="two handlers"):
        registry.handles(m.LinkEvent)(lambda context, event: None)
