"""Which parts fail, and at what rates: the most specific ``failures:`` entry wins.

A part named by several entries takes the rates of the most specific one: a named
device, stack member or cable, then a model, then a kind (``uplink``, a cable between two
switches, before ``link``, any cable). A stack fails member by member.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import netsim
from netsim.scenario.failures import failing_parts, measured_paths

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "labs" / "13-availability.yaml"


@pytest.fixture(scope="module")
def campus() -> netsim.LoadedScenario:
    return netsim.load(SCENARIO)


def test_each_part_takes_its_most_specific_rates(campus):
    parts = {p.element: p for p in failing_parts(campus.model, campus.topology)}
    # Building members from the model entry, the other switches from the kind entry.
    assert parts["building[1]"].availability == pytest.approx(20000 / 20040)
    assert parts["building[2]"].mtbf == 20000
    assert "building" not in parts  # a stack fails member by member
    assert parts["f1"].availability == pytest.approx(100000 / 100020)
    # Cables between switches are uplinks; the others take the every-link entry.
    assert parts["f1:Gi0/24 - building:Gi1/0/1"].mtbf == 8000
    assert parts["f1r1h01:eth0 - f1r1:Fa0/1"].mtbf == 200000
    hosts = [p for p in parts.values() if p.device in ("f1r1h01", "mail")]
    assert hosts == []  # no entry names hosts: they never fail


def test_a_named_member_overrides_its_stack():
    text = SCENARIO.read_text().replace(
        "failures:\n", "failures:\n  - {device: building, member: 2, mtbf: 1h, mttr: 1h}\n"
    )
    loaded = netsim.loads(text)
    parts = {p.element: p for p in failing_parts(loaded.model, loaded.topology)}
    assert parts["building[2]"].availability == 0.5
    assert parts["building[1]"].mtbf == 20000


def test_paths_come_from_measure_or_else_from_the_traffic(campus):
    assert measured_paths(campus.model) == [("f1r1h01", "mail")]
    text = SCENARIO.read_text().replace(
        "measure:\n  availability: [[f1r1h01, mail]]\n",
        "traffic:\n  - {kind: imap, server: mail, clients: [f1r1h01, f2r1h02]}\n"
        "  - {kind: ping, from: f1r1h01, to: mail}\n",
    )
    assert measured_paths(netsim.loads(text).model) == [("f1r1h01", "mail"), ("f2r1h02", "mail")]
