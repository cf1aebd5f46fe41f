"""Which spanning tree each switch runs, and which loops a scenario may contain.

A switch's ``spanning_tree:`` keys (:class:`~netsim.scenario.model.SpanningTree`) are
taken key by key from the node, then from ``topology.defaults.switch.spanning_tree``.
When neither sets ``mode``, the switch runs **its model's protocol where it matters**:

* on a switch that some loop of cables passes through, the protocol its maker ships:
  PVST+ on a Catalyst (``model: WS-C...``), 802.1D on a generic switch or a bridge;
* on a switch no loop passes through, none. Spanning tree there would block nothing; it
  would only add BPDUs and hold every port 30 s at start, and loop-free scenarios written
  before spanning tree existed keep their results exactly.

A written ``mode`` always wins, ``none`` included. A loop whose switches all run spanning
tree is accepted (the protocol blocks it); a loop on which some switch runs none is
accepted with a warning, since it makes a broadcast storm (the storm guard stops the run,
see :mod:`netsim.l2.storm`); a loop of hubs and cables alone is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from netsim.l2.stp.config import NO_SPANNING_TREE, BridgeSettings, StpMode
from netsim.l2.stp.engine import DEFAULT_TIMERS, Timers
from netsim.scenario import model as m
from netsim.scenario.source import YamlPath

if TYPE_CHECKING:
    pass

ErrorSink = Callable[[YamlPath, str], None]


def model_mode(model_name: str | None) -> StpMode:
    """The protocol a switch of this catalog model runs out of the box."""
    return StpMode.PVST if model_name is not None and model_name.startswith("WS-C") else StpMode.STP


def written_settings(
    node: m.SwitchNode | m.BridgeNode,
    defaults: m.SwitchSettings,
    path: YamlPath,
    error: ErrorSink,
) -> tuple[StpMode | None, BridgeSettings]:
    """The mode written for ``node`` (None if nobody wrote one) and its other settings."""
    mine = node.spanning_tree or m.SpanningTree()
    theirs = defaults.spanning_tree or m.SpanningTree()

    def pick(key: str) -> object:
        value = getattr(mine, key)
        return value if value is not None else getattr(theirs, key)

    mode_text = pick("mode")
    hello, max_age, delay = pick("hello"), pick("max_age"), pick("forward_delay")
    timers = DEFAULT_TIMERS
    try:
        timers = Timers(
            float(hello) if isinstance(hello, float) else DEFAULT_TIMERS.hello_time,
            float(max_age) if isinstance(max_age, float) else DEFAULT_TIMERS.max_age,
            float(delay) if isinstance(delay, float) else DEFAULT_TIMERS.forward_delay,
        )
    except ValueError as e:
        error((*path, "spanning_tree"), str(e))
    priority = pick("priority")
    method = pick("cost_method")
    portfast = pick("portfast_default")
    settings = BridgeSettings(
        StpMode.NONE,
        priority if isinstance(priority, int) else 32768,
        timers,
        method if isinstance(method, str) else "short",
        bool(portfast),
    )
    return (StpMode(mode_text) if isinstance(mode_text, str) else None), settings


def loop_components(nodes: Iterable[str], links: Iterable[tuple[str, str]]) -> list[frozenset[str]]:
    """The groups of nodes that loops of ``links`` join (2-edge-connected components with
    more than one node; two parallel cables between two nodes are a loop too)."""
    import networkx as nx

    g = nx.MultiGraph()
    g.add_nodes_from(nodes)
    g.add_edges_from(links)
    simple = nx.Graph(g)
    loops = nx.Graph()
    for u, v in simple.edges():
        loops.add_node(u)
        loops.add_node(v)
    cut = {frozenset(e) for e in nx.bridges(simple)}
    for u, v in simple.edges():
        if u != v and (g.number_of_edges(u, v) > 1 or frozenset((u, v)) not in cut):
            loops.add_edge(u, v)
    return [frozenset(c) for c in nx.connected_components(loops) if len(c) > 1]


def effective(
    written: StpMode | None, settings: BridgeSettings, model_name: str | None, on_loop: bool
) -> BridgeSettings:
    """The settings a switch runs with, once its place in the topology is known."""
    if written is not None:
        mode = written
    elif on_loop:
        mode = model_mode(model_name)
    else:
        return NO_SPANNING_TREE
    return BridgeSettings(
        mode, settings.priority, settings.timers, settings.cost_method, settings.portfast_default
    )
