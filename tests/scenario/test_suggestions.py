"""'Did you mean ...?': a typo gets the key it was meant to be, from the keys valid there.

The suggestion comes from the keys of the very mapping that has the unknown key: a host
has no ``ports``, so ``prots`` on a host is not taken for it. A key that is valid
elsewhere in the format but not here (``vlan`` on a ping) is never "corrected" to
itself: the message lists what this mapping takes instead.
"""

from __future__ import annotations

import pytest

import netsim

SCENARIO = """\
name: typos
duration: 1ms
topology:
  nodes:
    h1: {{kind: host}}
    sw1: {{kind: switch, ports: 4}}
    h2: {{kind: host}}
  links:
    - endpoints: [h1, sw1]
    - endpoints: [sw1, h2]
traffic:
  - {traffic}
"""


def problems(traffic: str, node: str = "") -> list[str]:
    text = SCENARIO.format(traffic=traffic)
    if node:
        text = text.replace("h1: {kind: host}", f"h1: {{kind: host, {node}}}")
    with pytest.raises(netsim.ScenarioError) as caught:
        netsim.loads(text)
    return [p.message for p in caught.value.problems]


def test_a_key_valid_elsewhere_is_not_suggested_as_itself():
    (message,) = problems("{kind: ping, from: h1, to: h2, vlan: 10}")
    assert "did you mean 'vlan'" not in message
    assert message == (
        "unknown key 'vlan' here (expected one of kind, name, from, to, count, interval, "
        "size, start, timeout, dscp, ttl)"
    )


def test_a_typo_gets_the_key_of_this_mapping():
    (message,) = problems("{kind: frames, from: h1, to: h2, count: 1, vlna: 10}")
    assert message == "unknown key 'vlna' (did you mean 'vlan'?)"
    (message,) = problems("{kind: ping, from: h1, to: h2, cuont: 2}")
    assert message == "unknown key 'cuont' (did you mean 'count'?)"


def test_suggestions_follow_the_node_kind():
    """``prots`` would be ``ports`` on a switch; a host has no ports key to suggest."""
    (message,) = problems("{kind: ping, from: h1, to: h2}", node="prots: 2")
    assert "did you mean" not in message and "expected one of" in message
    assert "ports" not in message
    (message,) = problems("{kind: ping, from: h1, to: h2}", node="bufer: 1MB")
    assert message == "unknown key 'bufer' (did you mean 'buffer'?)"
