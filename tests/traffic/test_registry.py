"""Traffic kinds register how they start: every kind a scenario may name has a starter."""

from __future__ import annotations

import typing

import pytest

import netsim.traffic  # noqa: F401  (registers every kind)
from netsim.scenario import model as m
from netsim.traffic import registry


def _union_members(annotated: object) -> tuple[type, ...]:
    union = typing.get_args(annotated)[0]
    return typing.get_args(union)


def test_every_traffic_kind_of_the_scenario_model_has_a_starter() -> None:
    """A kind the model accepts but nothing starts would be silently ignored: never."""
    for model in _union_members(m.Traffic):
        assert model in registry._STARTERS, f"{model.__name__} has no starter"


def test_a_kind_cannot_register_two_starters() -> None:
    """Two modules claiming one kind is a programming error, caught at import."""
    with pytest.raises(ValueError, match="two starters"):
        registry.starts(m.PingTraffic)(lambda context, entry, index, name: None)
