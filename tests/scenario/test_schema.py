"""The published JSON Schema: up to date with the models, and it accepts every bundled
scenario, so an editor that validates with it agrees with netsim."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from netsim.scenario.schema import schema_text

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "schema" / "scenario.schema.json"


def test_the_published_schema_is_up_to_date():
    assert PUBLISHED.read_text() == schema_text(), (
        "regenerate: python -m netsim.scenario.schema > schema/scenario.schema.json"
    )


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")), ids=lambda p: p.name)
def test_every_bundled_scenario_satisfies_the_schema(path):
    schema = json.loads(PUBLISHED.read_text())
    jsonschema.Draft202012Validator(schema).validate(yaml.safe_load(path.read_text()))


def test_the_schema_catches_what_an_editor_should_flag():
    schema = json.loads(PUBLISHED.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    bad = {"name": "x", "duration": "5 fortnights", "topology": {"nodes": {"h": {"kind": "host"}}}}
    assert list(validator.iter_errors(bad))
    typo = {"name": "x", "duration": "1s", "topology": {"nodez": {}}}
    assert list(validator.iter_errors(typo))
