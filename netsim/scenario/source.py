"""Reading YAML while remembering where everything came from.

Scenario errors must name the file, the YAML path and the line. PyYAML's composer keeps a
mark on every node, so we build the plain Python data ourselves from the node tree and
record the line of every path on the way (the key's line for mapping entries).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from netsim.scenario.errors import Problem, ScenarioError

YamlPath = tuple[str | int, ...]


def format_path(path: YamlPath) -> str:
    """``("topology", "links", 2, "endpoints")`` -> ``topology.links[2].endpoints``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "(top level)"


@dataclass
class SourceMap:
    """The line (1-based) of every YAML path in one file."""

    file: str
    lines: dict[YamlPath, int] = field(default_factory=dict)

    def line_of(self, path: YamlPath) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        for n in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:n]))
            if line is not None:
                return line
        return None

    def problem(self, path: YamlPath, message: str) -> Problem:
        """A :class:`Problem` located at ``path`` in this file."""
        return Problem(self.file, format_path(path), self.line_of(path), message)


class _Constructor(yaml.constructor.SafeConstructor):
    pass


def parse_yaml(text: str, file: str) -> tuple[Any, SourceMap]:
    """Parse ``text``; return the data and the line of every path in it."""
    source = SourceMap(file)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + 1 if e.problem_mark is not None else None
        raise ScenarioError(
            [Problem(file, "(syntax)", line, f"not valid YAML: {e.problem or e}")]
        ) from None
    except yaml.YAMLError as e:
        raise ScenarioError([Problem(file, "(syntax)", None, f"not valid YAML: {e}")]) from None
    if root is None:
        return {}, source
    constructor = _Constructor()
    problems: list[Problem] = []

    def build(node: yaml.Node, path: YamlPath) -> Any:
        source.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = constructor.construct_object(key_node, deep=True)
                if isinstance(key, list | dict):
                    problems.append(source.problem(path, "a mapping key must be a plain value"))
                    continue
                child = (*path, str(key) if not isinstance(key, int) else key)
                if key in out:
                    source.lines[child] = key_node.start_mark.line + 1
                    problems.append(source.problem(child, f"duplicate key {key!r}"))
                    continue
                source.lines[child] = key_node.start_mark.line + 1
                if isinstance(key, int):
                    # Keys like a generic switch's port 5 are names: find them as "5" too.
                    source.lines[(*path, str(key))] = key_node.start_mark.line + 1
                out[key] = build(value_node, child)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [build(item, (*path, i)) for i, item in enumerate(node.value)]
        return constructor.construct_object(node, deep=True)

    data = build(root, ())
    if problems:
        raise ScenarioError(problems)
    return data, source


def read_yaml(path: Path) -> tuple[Any, SourceMap]:
    """Read and parse a scenario file, with a clear error if it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError([Problem(str(path), "(file)", None, "no such file")]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError([Problem(str(path), "(file)", None, f"cannot read: {e}")]) from None
    return parse_yaml(text, str(path))
