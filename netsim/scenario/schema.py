"""The JSON Schema of scenario files, generated from the pydantic models.

Editors that know JSON Schema (VS Code with the YAML extension, PyCharm) check a scenario
file as it is typed and complete its keys. The published copy is
``schema/scenario.schema.json``; regenerate it after changing the models with::

    python -m netsim.scenario.schema > schema/scenario.schema.json

and a test fails while the copy is out of date. To use it, start a scenario with
``# yaml-language-server: $schema=../schema/scenario.schema.json``.
"""

from __future__ import annotations

import json
from typing import Any

from netsim.scenario.campus import Campus
from netsim.scenario.model import Scenario


def scenario_schema() -> dict[str, Any]:
    """The schema of a whole scenario file, ``campus:`` block included."""
    schema = Scenario.model_json_schema()
    campus = Campus.model_json_schema(ref_template="#/$defs/{model}")
    schema.setdefault("$defs", {}).update(campus.pop("$defs", {}))
    schema["$defs"]["Campus"] = campus
    schema["properties"]["campus"] = {"$ref": "#/$defs/Campus"}
    # With a campus block the topology comes from it, so either one will do.
    schema["required"] = [k for k in schema["required"] if k != "topology"]
    schema["anyOf"] = [{"required": ["topology"]}, {"required": ["campus"]}]
    schema["title"] = "netsim scenario"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def schema_text() -> str:
    """The schema as the published file holds it."""
    return json.dumps(scenario_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(schema_text(), end="")
