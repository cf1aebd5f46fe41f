"""The device catalog: real Catalyst figures, each with its source, and what a model
brings to a scenario node (interface names, port speeds, table size, forwarding rate)."""

from __future__ import annotations

import pytest

import netsim
from netsim.cli import main
from netsim.topology.catalog import MODELS, WIRE_SPEED_PPS_1G


def test_every_catalyst_figure_says_where_it_comes_from():
    for model in MODELS.values():
        if model.name.startswith("WS-"):
            assert {"ports", "forwarding rate", "MAC table", "buffer", "mode"} <= set(model.sources)


def test_models_have_their_real_interfaces():
    assert MODELS["WS-C2960-24TT-L"].port_names()[:2] == ["Fa0/1", "Fa0/2"]
    assert MODELS["WS-C2960-24TT-L"].port_names()[-2:] == ["Gi0/1", "Gi0/2"]
    assert len(MODELS["WS-C2960-48TT-L"].port_names()) == 50
    assert MODELS["WS-C3750G-12S"].port_names(2)[12] == "Gi2/0/1"
    # Derived wire-speed figures: 84 bytes of wire per 64-byte frame.
    assert pytest.approx(1_488_095, rel=1e-6) == WIRE_SPEED_PPS_1G
    assert MODELS["WS-C2960G-24TC-L"].forwarding_rate_pps == pytest.approx(35.7e6, rel=1e-3)


SCENARIO = """
name: m
duration: 1ms
topology:
  nodes:
    acc: {{kind: switch, model: WS-C2960-24TT-L{extra}}}
    pc: {{kind: host}}
    srv: {{kind: host}}
  links:
    - {{endpoints: [pc, acc]{speed}}}
    - endpoints: [srv, "acc:Gi0/1"]
"""


def test_a_model_node_takes_its_figures_and_port_speeds():
    sc = netsim.loads(SCENARIO.format(extra="", speed=""))
    acc = sc.topology.nodes["acc"]
    assert acc.mac_table_size == 8000 and acc.forwarding_rate == 6.5e6
    assert acc.mode == "store-and-forward"
    rates = {lk.a[0]: (lk.b[1], lk.rate_bps) for lk in sc.topology.links}
    assert rates == {"pc": ("Fa0/1", 100e6), "srv": ("Gi0/1", 1e9)}


def test_a_scenario_may_override_a_model_for_what_ifs():
    sc = netsim.loads(SCENARIO.format(extra=", mode: cut-through, mac_table_size: 16", speed=""))
    assert sc.topology.nodes["acc"].mode == "cut-through"
    assert sc.topology.nodes["acc"].mac_table_size == 16


def test_a_link_faster_than_its_port_is_refused():
    with pytest.raises(netsim.ScenarioError) as caught:
        netsim.loads(SCENARIO.format(extra="", speed=", speed: 1G"))
    (problem,) = caught.value.problems
    assert problem.path == "topology.links[0].speed"
    assert "acc:Fa0/1 runs at most 100M; 1G is too fast for it" in problem.message


def test_netsim_models_lists_the_catalog(capsys):
    assert main(["models", "--sources"]) == 0
    out = capsys.readouterr().out
    for name in MODELS:
        assert name in out
    assert "6.5 Mpps" in out and "derived" in out
