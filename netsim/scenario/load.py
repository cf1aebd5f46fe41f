"""Loading a scenario: YAML -> overrides -> validated model -> topology.

Whatever is wrong comes back as one :class:`~netsim.scenario.errors.ScenarioError` whose
problems each name the file, the YAML path and the line, and say what was expected.
"""

from __future__ import annotations

import copy
import difflib
import fnmatch
import hashlib
import json
import re
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydantic

from netsim.scenario import campus, failures, limits, templates
from netsim.scenario import model as m
from netsim.scenario.errors import Problem, ScenarioError
from netsim.scenario.resolve import resolve
from netsim.scenario.source import (
    MAX_DEPTH,
    SourceMap,
    YamlPath,
    format_path,
    parse_value,
    parse_yaml,
    read_yaml,
)
from netsim.topology.topology import Topology


@dataclass
class LoadedScenario:
    """A scenario ready to run: its data, its validated model and its topology."""

    data: dict[str, Any]
    model: m.Scenario
    topology: Topology
    source: SourceMap
    warnings: list[Problem] = field(default_factory=list)
    """Classic Ethernet rules the scenario breaks (errors instead under ``strict: true``)."""
    written: dict[str, Any] = field(default_factory=dict)
    """The data as written, overrides applied, before templates and ``campus:`` blocks are
    expanded (``data`` is after): what a sweep point overrides again, so that a sweep can
    vary a campus key (``campus.redundant_uplinks``) as well as a node's."""

    @property
    def name(self) -> str:
        """The scenario's name (it names the results folder)."""
        return self.model.name

    @property
    def digest(self) -> str:
        """A SHA-256 of the scenario's data after overrides: same digest, same run."""
        text = json.dumps(_text_keys(self.data), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def _text_keys(data: Any) -> Any:
    """``data`` with every mapping key as text: a port written ``5`` sorts beside ``Gi0/1``."""
    if isinstance(data, dict):
        return {str(k): _text_keys(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_text_keys(v) for v in data]
    return data


def load(
    path: str | Path,
    overrides: Mapping[str, Any] | None = None,
    sets: Iterable[str] = (),
) -> LoadedScenario:
    """Read, override and validate the scenario at ``path``.

    ``overrides`` maps YAML paths (``seed``, ``topology.nodes.sw1.mode``,
    ``traffic[0].count``) to values; ``sets`` are ``PATH=VALUE`` strings as given to
    ``--set``, whose values are read as YAML (``count=5`` is a number).
    """
    data, source = read_yaml(Path(path))
    return from_data(data, source, overrides, sets)


def loads(
    text: str, name: str = "<scenario>", overrides: Mapping[str, Any] | None = None
) -> LoadedScenario:
    """Like :func:`load`, from YAML text."""
    data, source = parse_yaml(text, name)
    return from_data(data, source, overrides)


def from_data(
    data: Any,
    source: SourceMap,
    overrides: Mapping[str, Any] | None = None,
    sets: Iterable[str] = (),
) -> LoadedScenario:
    """Validate already-parsed scenario data (see :func:`load`)."""
    if not isinstance(data, dict):
        raise ScenarioError(
            [source.problem((), "a scenario is a mapping of keys like name, topology")]
        )
    data = copy.deepcopy(data)
    problems: list[Problem] = []
    items: list[tuple[str, Any, str]] = [(k, v, "override") for k, v in (overrides or {}).items()]
    for text in sets:
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            problems.append(Problem("--set", text, None, "expected PATH=VALUE, like seed=3"))
            continue
        try:
            parsed = parse_value(value, f"--set {key.strip()}")
        except ScenarioError as e:
            problems.extend(e.problems)
            continue
        items.append((key.strip(), parsed, "--set"))
    for key, value, origin in items:
        try:
            set_path(data, parse_path(key), value)
        except ValueError as e:
            problems.append(Problem(origin, key, None, str(e)))
    if problems:
        raise ScenarioError(problems)
    _check_shapes(data, source)
    written = copy.deepcopy(data)
    try:
        scenario_limits = m.Limits.model_validate(data.get("limits") or {})
    except pydantic.ValidationError as e:
        raise ScenarioError(_explain(e, data.get("limits"), source, ("limits",))) from None
    too_many = limits.check_nodes(data, scenario_limits.nodes, source)
    if too_many:
        raise ScenarioError(too_many)
    try:
        data = templates.expand(data)
    except templates.TemplateError as e:
        raise ScenarioError([source.problem(e.path, str(e))]) from None
    if "campus" in data:
        try:
            data = campus.expand(data)
        except pydantic.ValidationError as e:
            raise ScenarioError(
                _explain(e, data["campus"], source, ("campus",), campus.Campus)
            ) from None
        except campus.CampusError as e:
            raise ScenarioError([source.problem(e.path, str(e))]) from None
        # What the campus built has no line of its own: point at the campus block.
        campus_line = source.line_of(("campus",))
        for generated in (("topology",), ("topology", "nodes"), ("topology", "links")):
            if campus_line is not None:
                source.lines.setdefault(generated, campus_line)
    too_many = limits.check_nodes(data, scenario_limits.nodes, source, expanded=True)
    if too_many:
        raise ScenarioError(too_many)
    _expand_host_patterns(data, source)
    try:
        scenario = m.Scenario.model_validate(data)
    except pydantic.ValidationError as e:
        raise ScenarioError(_explain(e, data, source)) from None
    warnings: list[Problem] = []
    topology = resolve(scenario, source, warnings)
    failing = failures.check(scenario, topology)
    if failing:
        raise ScenarioError([source.problem(path, message) for path, message in failing])
    too_much = limits.check_work(scenario, topology, source)
    if too_much:
        raise ScenarioError(too_much)
    return LoadedScenario(data, scenario, topology, source, warnings, written)


_SHAPES: tuple[tuple[YamlPath, type, str], ...] = (
    (("topology",), dict, "a mapping with nodes, links and defaults"),
    (("topology", "nodes"), dict, "a mapping of node names to nodes"),
    (("topology", "links"), list, "a list of links"),
    (("topology", "use"), list, "a list of template uses"),
    (("templates",), dict, "a mapping of template names to {nodes, links}"),
    (("campus",), dict, "a mapping (building, floors, server_room, links)"),
    (("traffic",), list, "a list of traffic sources"),
    (("events",), list, "a list of events"),
    (("limits",), dict, "a mapping like {events: 50000000, nodes: 20000}"),
)
"""The containers that expanding templates, counts and campus blocks walk through."""


def _check_shapes(data: dict[str, Any], source: SourceMap) -> None:
    """Refuse, with their paths, containers of the wrong type before anything walks them."""
    problems: list[Problem] = []
    for path, kind, words in _SHAPES:
        node: Any = data
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None and not isinstance(node, kind):
            problems.append(source.problem(path, f"expected {words}; got {node!r:.60}"))
    templates_ = data.get("templates")
    for name, template in (templates_ if isinstance(templates_, dict) else {}).items():
        path = ("templates", name)
        if not isinstance(template, dict):
            problems.append(
                source.problem(path, f"expected {{nodes, links}}; got {template!r:.60}")
            )
            continue
        for key, kind, words in (
            ("nodes", dict, "a mapping of nodes"),
            ("links", list, "a list of links"),
        ):
            value = template.get(key)
            if value is not None and not isinstance(value, kind):
                problems.append(
                    source.problem((*path, key), f"expected {words}; got {value!r:.60}")
                )
    if problems:
        raise ScenarioError(problems)


def _expand_host_patterns(data: dict[str, Any], source: SourceMap) -> None:
    """Let IMAP ``clients`` name hosts by shell patterns: ``["f1r*h*"]``, ``["*"]``.

    A pattern stands for every matching host but the server, in declaration order.
    """
    nodes = (data.get("topology") or {}).get("nodes") or {}
    if not isinstance(nodes, dict):
        return
    hosts = [
        n for n, spec in nodes.items() if isinstance(spec, dict) and spec.get("kind") == "host"
    ]
    problems: list[Problem] = []
    for i, traffic in enumerate(data.get("traffic") or []):
        if not isinstance(traffic, dict) or not isinstance(traffic.get("clients"), list):
            continue
        expanded: list[Any] = []
        for j, entry in enumerate(traffic["clients"]):
            if isinstance(entry, str) and any(c in entry for c in "*?["):
                matches = [
                    h for h in hosts if fnmatch.fnmatchcase(h, entry) and h != traffic.get("server")
                ]
                if not matches:
                    path = ("traffic", i, "clients", j)
                    problems.append(source.problem(path, f"no host matches {entry!r}"))
                expanded.extend(h for h in matches if h not in expanded)
            else:
                expanded.append(entry)
        traffic["clients"] = expanded
    if problems:
        raise ScenarioError(problems)


_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_path(text: str) -> YamlPath:
    """``traffic[0].count`` -> ``("traffic", 0, "count")``."""
    parts: list[str | int] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        if text[pos] == "." and parts:
            pos += 1
        match = _PART.match(text, pos)
        if match is None:
            raise ValueError(f"not a YAML path: {text!r} (write it like topology.nodes.sw1.mode)")
        parts.append(match[1] if match[1] is not None else int(match[2]))
        pos = match.end()
    if not parts:
        raise ValueError("empty path")
    if len(parts) > MAX_DEPTH:
        raise ValueError(f"a path of more than {MAX_DEPTH} parts: no scenario is that deep")
    return tuple(parts)


def set_path(data: dict[str, Any], path: YamlPath, value: Any) -> None:
    """Set ``value`` at ``path`` in ``data``, creating missing mappings on the way."""
    node: Any = data
    for i, part in enumerate(path):
        last = i == len(path) - 1
        where = format_path(path[: i + 1])
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                raise ValueError(f"{where}: no such list item")
            if last:
                node[part] = value
            else:
                node = node[part]
        else:
            if not isinstance(node, dict):
                raise ValueError(f"{where}: {format_path(path[:i])} is not a mapping")
            if part.isdigit() and part not in node and int(part) in node:
                part = int(part)  # a key written as a bare number, like a port: 5
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})


def _all_models() -> list[type[m.Strict]]:
    found: list[type[m.Strict]] = []
    todo: list[type[m.Strict]] = [m.Strict]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


_ALL_KEYS = sorted(
    {(f.alias or name) for model in _all_models() for name, f in model.model_fields.items()}
)
"""Every key a scenario may use anywhere: suggestions for typos come from here."""


def _yaml_path(loc: tuple[str | int, ...], data: Any) -> YamlPath:
    """Map a pydantic error location onto the data, dropping union tags and type names."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if _has(node, part):
            path.append(part)
            node = node[part]
        elif isinstance(part, str) and (
            not isinstance(node, dict | list | type(None)) or _is_union_member(part)
        ):
            continue  # a discriminated-union tag or a union member's type name
        else:
            path.append(part)
            node = None
    return tuple(path)


_UNION_TAGS = frozenset(
    {
        value
        for model in _all_models()
        for key in ("kind", "action")
        if key in model.model_fields
        for value in getattr(model.model_fields[key].annotation, "__args__", ())
    }
    | {"str", "int", "float", "bool", "list", "dict", "tuple"}
    | {"constrained-int", "constrained-float", "constrained-str"}
)
"""Names pydantic puts in error locations that are not keys of the data: the tags of
discriminated unions (node kinds, traffic kinds, event actions) and union member types."""


def _is_union_member(part: str) -> bool:
    return part in _UNION_TAGS or "[" in part or part.startswith("function-")


def _has(node: Any, part: str | int) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _explain(
    error: pydantic.ValidationError,
    data: Any,
    source: SourceMap,
    prefix: YamlPath = (),
    root: type[pydantic.BaseModel] = m.Scenario,
) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for err in error.errors(include_url=False):
        local = _yaml_path(tuple(err["loc"]), data)
        path = prefix + local
        if err["type"] == "missing" and path:
            path = path[:-1]  # the key is not there: point at the mapping that lacks it
        where = format_path(path)
        if where in seen:
            continue  # a union reports each member; the first says enough
        seen.add(where)
        if err["type"] == "extra_forbidden":
            message = _unknown_key(str(local[-1]), _keys_at(root, local[:-1], data))
        else:
            message = _message(err)
        problems.append(source.problem(path, message))
    return problems


def _unknown_key(key: str, allowed: list[str] | None) -> str:
    """``unknown key 'prots' (did you mean 'ports'?)``, suggesting only keys valid here.

    Without the keys of this very mapping, the suggestion comes from every key of the
    format, but never the given key itself: a key valid elsewhere (``vlan`` on a frames
    source) is not a typo here, and the message says what this mapping takes instead.
    """
    candidates = [k for k in (allowed if allowed is not None else _ALL_KEYS) if k != key]
    # Swapped letters are the commonest typo (modle): prefer a key with the same letters.
    close = [k for k in candidates if sorted(k) == sorted(key)]
    close = close or difflib.get_close_matches(key, candidates, n=1)
    if close:
        return f"unknown key {key!r} (did you mean {close[0]!r}?)"
    if allowed is not None:
        return f"unknown key {key!r} here (expected one of {', '.join(allowed)})"
    return f"unknown key {key!r}"


def _keys_at(root: type[pydantic.BaseModel], path: YamlPath, data: Any) -> list[str] | None:
    """The keys the mapping at ``path`` in ``data`` may have, or None if it is unclear."""
    annotation: Any = root
    node = data
    for part in (*path, None):
        annotation = _concrete(annotation, node)
        if annotation is None:
            return None
        if part is None:
            break
        if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
            fields = {(f.alias or name): f for name, f in annotation.model_fields.items()}
            if part not in fields:
                return None
            annotation = fields[str(part)].annotation
        else:
            args = typing.get_args(annotation)
            origin = typing.get_origin(annotation)
            if origin is dict and args:
                annotation = args[1]
            elif origin in (list, tuple) and args:
                annotation = args[0]
            else:
                return None
        node = node[part] if _has(node, part) else None
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return [(f.alias or name) for name, f in annotation.model_fields.items()]
    return None


def _concrete(annotation: Any, node: Any) -> Any:
    """Strip ``Annotated`` and ``None`` from an annotation, and pick the member of a union
    that ``node`` is: by its ``kind`` or ``action`` tag, or the only mapping member."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [_concrete(a, node) for a in typing.get_args(annotation) if a is not type(None)]
        models = [a for a in members if isinstance(a, type) and issubclass(a, pydantic.BaseModel)]
        if isinstance(node, dict):
            for model in models:
                for tag in ("kind", "action"):
                    field = model.model_fields.get(tag)
                    if field is not None and node.get(tag) in typing.get_args(field.annotation):
                        return model
        if len(models) == 1:
            return models[0]
        containers = [a for a in members if typing.get_origin(a) in (dict, list, tuple)]
        return containers[0] if len(containers) == 1 else None
    return annotation


def _message(err: Any) -> str:
    kind = err["type"]
    loc = err["loc"]
    ctx = err.get("ctx") or {}
    got = err.get("input")
    if kind == "missing":
        return f"required key {loc[-1]!r} is missing"
    if kind == "union_tag_invalid":
        key = str(ctx.get("discriminator", "kind")).strip("'")
        return f"unknown {key} {ctx.get('tag')!r} (expected one of {ctx.get('expected_tags', '')})"
    if kind == "union_tag_not_found":
        return f"required key {ctx.get('discriminator', 'kind').strip(chr(39))!r} is missing"
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        return msg[len("Value error, ") :]
    if msg.startswith("Assertion failed, "):
        return msg[len("Assertion failed, ") :]
    text = msg[0].lower() + msg[1:]
    if got is not None and not isinstance(got, dict | list):
        text += f"; got {got!r}"
    return text
