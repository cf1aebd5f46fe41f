"""Reading YAML while remembering where everything came from, and refusing what would hurt.

Scenario errors must name the file, the YAML path and the line. PyYAML's composer keeps a
mark on every node, so we build the plain Python data ourselves from the node tree and
record the line of every path on the way (the key's line for mapping entries).

A scenario file is input from anyone (a student, a downloaded lab), so reading it is
bounded: a file of at most :data:`MAX_FILE_BYTES`, nesting at most :data:`MAX_DEPTH`
levels deep, and at most :data:`MAX_VALUES` values and :data:`MAX_TEXT` characters once
aliases are expanded (a kilobyte of nested aliases can otherwise stand for gigabytes: the
"billion laughs"). Only plain YAML is read: strings, numbers, booleans, null, lists and
mappings. Application tags (``!foo``) and merge keys (``<<``) are refused with the line
they are on, never constructed.
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from netsim.scenario.errors import Problem, ScenarioError

YamlPath = tuple[str | int, ...]

MAX_FILE_BYTES = 2_000_000
"""The largest scenario file read (``netsim expand`` of a 5,000-host campus is ~600 KB)."""
MAX_DEPTH = 64
"""The deepest nesting of lists and mappings (a real scenario needs about 8)."""
MAX_VALUES = 200_000
"""The most values (scalars, lists, mappings) a document may hold, aliases expanded."""
MAX_TEXT = 10_000_000
"""The most characters of scalar text a document may hold, aliases expanded."""

_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


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


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, reading ``1e-9`` as a number as YAML 1.2 does.

    YAML 1.1 wants a dot in a float (``1.0e-9``), so PyYAML reads ``ber: 1e-9`` as text;
    models are strict about types, and nobody means that as text.
    """


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _show_tag(tag: str) -> str:
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml") else tag


def _check_nesting(text: str, file: str) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH` while streaming the parse events.

    PyYAML's composer recurses once per level (thousands of levels exhaust Python's stack)
    and its scanner slows quadratically with flow nesting, so the depth is checked on the
    event stream, which stops at the first level too deep.
    """
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark is not None else None
                raise ScenarioError(
                    [
                        Problem(
                            file,
                            "(syntax)",
                            line,
                            f"lists and mappings nested more than {MAX_DEPTH} levels deep",
                        )
                    ]
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _compose(text: str, file: str) -> yaml.Node | None:
    try:
        _check_nesting(text, file)
        return yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + 1 if e.problem_mark is not None else None
        raise ScenarioError(
            [Problem(file, "(syntax)", line, f"not valid YAML: {e.problem or e}")]
        ) from None
    except yaml.YAMLError as e:
        raise ScenarioError([Problem(file, "(syntax)", None, f"not valid YAML: {e}")]) from None


class _Builder:
    """Builds plain data from a node tree, with lines, within the bounds of the module."""

    def __init__(self, source: SourceMap) -> None:
        self.source = source
        self.constructor = _Constructor()
        self.problems: list[Problem] = []
        self.values = 0
        self.text = 0

    def refuse(self, path: YamlPath, node: yaml.Node, message: str) -> None:
        """A problem at ``path``, on the line of ``node`` (the culprit itself)."""
        self.source.lines.setdefault(path, node.start_mark.line + 1)
        line = node.start_mark.line + 1
        self.problems.append(Problem(self.source.file, format_path(path), line, message))

    def too_big(self, path: YamlPath) -> ScenarioError:
        # The path inside an expansion is long and its nodes sit on the anchors' lines:
        # point at the top-level key whose value explodes, on that key's line.
        self.problems.append(
            self.source.problem(
                path[:1],
                f"the document expands to more than {MAX_VALUES:,} values or {MAX_TEXT:,} "
                "characters (aliases repeated inside aliases?); write a smaller scenario, "
                "or use templates and count",
            )
        )
        return ScenarioError(self.problems)

    def scalar(self, node: yaml.ScalarNode, path: YamlPath) -> Any:
        if node.tag == _TIMESTAMP:
            return node.value  # a date is text to a scenario, as written
        if node.tag not in _PLAIN_TAGS:
            self.refuse(
                path,
                node,
                f"unknown YAML tag {_show_tag(node.tag)!r}: scenario files hold plain "
                "values (text, numbers, true/false, lists and mappings)",
            )
            return None
        self.text += len(node.value)
        try:
            return self.constructor.construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError) as e:
            self.refuse(path, node, f"not a valid value: {e}")
            return None

    def build(self, node: yaml.Node, path: YamlPath, depth: int) -> Any:
        self.source.lines.setdefault(path, node.start_mark.line + 1)
        self.values += 1
        if self.values > MAX_VALUES or self.text > MAX_TEXT:
            raise self.too_big(path)
        if depth > MAX_DEPTH:  # an alias inside its own anchor: an endless document
            message = "an alias refers to a list or mapping that contains it"
            self.problems.append(self.source.problem(path[:1], message))
            raise ScenarioError(self.problems)
        if isinstance(node, yaml.MappingNode):
            if node.tag != _MAP:
                self.refuse(path, node, f"unknown YAML tag {_show_tag(node.tag)!r} on a mapping")
            return self.mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                self.refuse(path, node, f"unknown YAML tag {_show_tag(node.tag)!r} on a list")
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        return self.scalar(node, path)

    def mapping(self, node: yaml.MappingNode, path: YamlPath, depth: int) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                self.refuse(
                    path,
                    key_node,
                    "YAML merge keys (<<) are not supported: use topology.defaults, "
                    "or templates and count, to repeat settings",
                )
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.refuse(path, key_node, "a mapping key must be a plain value")
                continue
            key = self.scalar(key_node, path)
            if key is None and key_node.tag not in _PLAIN_TAGS:
                continue
            child = (*path, key if isinstance(key, int) and not isinstance(key, bool) else str(key))
            self.source.lines[child] = key_node.start_mark.line + 1
            if isinstance(key, int) and not isinstance(key, bool):
                # Keys like a generic switch's port 5 are names: find them as "5" too.
                self.source.lines[(*path, str(key))] = key_node.start_mark.line + 1
            if key in out:
                self.problems.append(self.source.problem(child, f"duplicate key {key!r}"))
                continue
            out[key] = self.build(value_node, child, depth + 1)
        return out


def parse_yaml(text: str, file: str) -> tuple[Any, SourceMap]:
    """Parse ``text``; return the data and the line of every path in it.

    Raises :class:`ScenarioError` for anything that is not plain, bounded YAML.
    """
    source = SourceMap(file)
    root = _compose(text, file)
    if root is None:
        return {}, source
    builder = _Builder(source)
    data = builder.build(root, (), 0)
    if builder.problems:
        raise ScenarioError(builder.problems)
    return data, source


def parse_value(text: str, origin: str) -> Any:
    """A value given on the command line (``--set count=5``), read as plain, bounded YAML.

    Text that is not valid YAML is taken as it is (``--set name=a:b``); ``origin`` names
    the value in errors.
    """
    if not text.strip():
        return ""
    try:
        data, _ = parse_yaml(text, origin)
    except ScenarioError as e:
        if all(p.message.startswith("not valid YAML") for p in e.problems):
            return text
        raise ScenarioError(
            [
                Problem(origin, p.path if p.path != "(top level)" else "(value)", None, p.message)
                for p in e.problems
            ]
        ) from None
    return data


def read_yaml(path: Path) -> tuple[Any, SourceMap]:
    """Read and parse a scenario file, with a clear error if it cannot be read.

    Only a regular file is opened: a FIFO would block and a device like /dev/zero never
    ends, so they are refused from their ``stat`` without reading a byte.
    """
    name = str(path)

    def refuse(message: str) -> ScenarioError:
        return ScenarioError([Problem(name, "(file)", None, message)])

    try:
        info = path.stat()
    except FileNotFoundError:
        raise refuse("no such file") from None
    except OSError as e:
        raise refuse(f"cannot read: {e.strerror or e}") from None
    if stat.S_ISDIR(info.st_mode):
        raise refuse("is a folder; expected a scenario file (YAML)")
    if not stat.S_ISREG(info.st_mode):
        raise refuse(
            "is not a regular file (a device, a pipe or a socket); expected a scenario file (YAML)"
        )
    if info.st_size > MAX_FILE_BYTES:
        raise refuse(f"is {info.st_size:,} bytes; a scenario file has at most {MAX_FILE_BYTES:,}")
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)  # /proc files say 0 bytes and may hold more
    except OSError as e:
        raise refuse(f"cannot read: {e.strerror or e}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise refuse(f"is over {MAX_FILE_BYTES:,} bytes, the most a scenario file may have")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise refuse(
            f"is not UTF-8 text (byte {e.start}): expected a scenario file (YAML)"
        ) from None
    return parse_yaml(text, name)
