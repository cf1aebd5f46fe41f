"""Repetition in scenario files: ``count`` on a node, and templates used several times.

A teacher describing a lab of 12 PCs should not write 12 nodes and 12 cables::

    topology:
      nodes:
        sw: {kind: switch, ports: 24}
        pc: {kind: host, count: 12}     # pc01 .. pc12
      links:
        - endpoints: [pc, sw]           # one cable per pc

And a floor of identical rooms is a template used with a count::

    templates:
      room:
        nodes:
          sw: {kind: switch, model: WS-C2960-24TT-L}
          pc: {kind: host, count: 12}
        links:
          - endpoints: [pc, sw]
    topology:
      nodes:
        core: {kind: switch, ports: 24}
      use:
        - {template: room, name: lab, count: 3, uplink: ["sw:Gi0/1", core]}

which makes ``lab1-sw``, ``lab1-pc01`` ... ``lab3-pc12``, each room's ``sw:Gi0/1`` cabled
to ``core``. Both expand before validation, so ``netsim expand`` prints plain nodes and
links, and every later check sees them.
"""

from __future__ import annotations

import copy
from typing import Any

YamlPath = tuple[str | int, ...]


class TemplateError(ValueError):
    """A template or count that cannot be expanded, with the YAML path of the culprit."""

    def __init__(self, path: YamlPath, message: str) -> None:
        super().__init__(message)
        self.path = path


def expand(data: dict[str, Any]) -> dict[str, Any]:
    """Return scenario data with templates instantiated and counted nodes copied."""
    if "templates" not in data and not _has_counts(data) and not _uses(data):
        return data
    out = copy.deepcopy(data)
    templates = out.pop("templates", None) or {}
    if not isinstance(templates, dict):
        raise TemplateError(("templates",), "templates is a mapping of name: {nodes, links}")
    topology = out.setdefault("topology", {})
    if not isinstance(topology, dict):
        raise TemplateError(("topology",), "topology must be a mapping")
    nodes = topology.setdefault("nodes", {}) or {}
    links = topology.setdefault("links", []) or []
    topology["nodes"], topology["links"] = nodes, links
    for i, use in enumerate(topology.pop("use", None) or []):
        _instantiate(("topology", "use", i), use, templates, nodes, links)
    topology["nodes"], topology["links"] = _copy_counted(nodes, links, ("topology",))
    return out


def _has_counts(data: dict[str, Any]) -> bool:
    nodes = (data.get("topology") or {}).get("nodes") or {}
    return isinstance(nodes, dict) and any(
        isinstance(n, dict) and "count" in n for n in nodes.values()
    )


def _uses(data: dict[str, Any]) -> bool:
    return bool((data.get("topology") or {}).get("use"))


def _instantiate(
    path: YamlPath,
    use: Any,
    templates: dict[str, Any],
    nodes: dict[str, Any],
    links: list[Any],
) -> None:
    if not isinstance(use, dict) or "template" not in use:
        raise TemplateError(
            path, "expected {template: NAME, count: N, name: PREFIX, uplink: [...]}"
        )
    unknown = set(use) - {"template", "count", "name", "uplink"}
    if unknown:
        raise TemplateError((*path, sorted(unknown)[0]), f"unknown key {sorted(unknown)[0]!r}")
    name = use["template"]
    template = templates.get(name)
    if not isinstance(template, dict):
        known = ", ".join(templates) or "none"
        raise TemplateError((*path, "template"), f"unknown template {name!r} (templates: {known})")
    count = use.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 1000:
        raise TemplateError(
            (*path, "count"), f"count must be a whole number 1..1000, got {count!r}"
        )
    prefix = str(use.get("name", name))
    uplink = use.get("uplink")
    if uplink is not None and (not isinstance(uplink, list) or len(uplink) != 2):
        raise TemplateError((*path, "uplink"), "uplink is [inside endpoint, outside endpoint]")
    inner_nodes = template.get("nodes") or {}
    unknown_keys = set(template) - {"nodes", "links"}
    if unknown_keys:
        key = sorted(unknown_keys)[0]
        raise TemplateError(
            ("templates", name, key), f"unknown key {key!r} (templates have nodes and links)"
        )
    inner_links, inner_nodes = _copy_counted_pair(
        inner_nodes, template.get("links") or [], ("templates", name)
    )
    for k in range(1, count + 1):
        rename = {n: f"{prefix}{k}-{n}" for n in inner_nodes}
        for n, spec in inner_nodes.items():
            if rename[n] in nodes:
                raise TemplateError(path, f"{rename[n]} already exists: choose another name")
            nodes[rename[n]] = copy.deepcopy(spec)
        for link in inner_links:
            new = copy.deepcopy(link)
            new["endpoints"] = [_renamed(e, rename) for e in link["endpoints"]]
            links.append(new)
        if uplink is not None:
            inside = _renamed(str(uplink[0]), rename)
            if inside.split(":")[0] not in rename.values():
                raise TemplateError(
                    (*path, "uplink", 0), f"{uplink[0]!r} is not a node of template {name}"
                )
            links.append({"endpoints": [inside, str(uplink[1])]})


def _renamed(endpoint: str, rename: dict[str, str]) -> str:
    node, sep, port = str(endpoint).partition(":")
    return rename.get(node, node) + sep + port


def _copy_counted_pair(
    nodes: dict[str, Any], links: list[Any], path: YamlPath
) -> tuple[list[Any], dict[str, Any]]:
    new_nodes, new_links = _copy_counted(dict(nodes), list(links), path)
    return new_links, new_nodes


def _copy_counted(
    nodes: dict[str, Any], links: list[Any], path: YamlPath
) -> tuple[dict[str, Any], list[Any]]:
    """``pc: {count: 3}`` becomes pc1..pc3 (zero-padded to the count's width)."""
    copies: dict[str, list[str]] = {}
    out_nodes: dict[str, Any] = {}
    for name, spec in nodes.items():
        if isinstance(spec, dict) and "count" in spec:
            count = spec["count"]
            if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 10_000:
                raise TemplateError(
                    (*path, "nodes", name, "count"), f"count must be 1..10000, got {count!r}"
                )
            width = max(2, len(str(count)))
            names = [f"{name}{i:0{width}d}" for i in range(1, count + 1)]
            copies[name] = names
            body = {k: v for k, v in spec.items() if k != "count"}
            for n in names:
                out_nodes[n] = copy.deepcopy(body)
        else:
            out_nodes[name] = spec
    if not copies:
        return out_nodes, links
    out_links: list[Any] = []
    for i, link in enumerate(links):
        ends = link.get("endpoints") if isinstance(link, dict) else None
        if not isinstance(ends, list):
            out_links.append(link)
            continue
        counted = [j for j, e in enumerate(ends) if str(e).partition(":")[0] in copies]
        if not counted:
            out_links.append(link)
            continue
        if len(counted) > 1:
            raise TemplateError(
                (*path, "links", i, "endpoints"), "only one end of a link can name a counted node"
            )
        j = counted[0]
        base, sep, _port = str(ends[j]).partition(":")
        if sep:
            raise TemplateError(
                (*path, "links", i, "endpoints", j), f"{base} has copies: name it without a port"
            )
        for copy_name in copies[base]:
            new = copy.deepcopy(link)
            new["endpoints"] = [copy_name if k == j else e for k, e in enumerate(ends)]
            out_links.append(new)
    return out_nodes, out_links
