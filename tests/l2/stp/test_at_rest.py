"""A settled RSTP bridge does almost nothing per hello, and that changes nothing.

Once a tree has formed, every bridge sends the same BPDU on each designated port every
hello time, and its neighbours hear the same BPDU again and again. Each time, 802.1w's
machines (17.21.8 RepeatedDesignatedInfo, then the port role transitions) run and only
restart the timer after which the information would age out. So the engine remembers
whether its machines are *at rest*, where stepping them again would change nothing;
there, a repeated hello only refreshes that timer, and its own hello only sends BPDUs.

The oracle is the same engine that never believes it is at rest, and so runs every
machine on every BPDU: on random networks whose links fail and come back, and on a
campus run on the fabric with a failing uplink, both must do the same things at the
same times, with far fewer machine steps.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings

import netsim
import netsim.l2.stp.agent
from netsim.l2.stp.bpdu import BridgeId
from netsim.l2.stp.rstp import RstpBridge, _Port
from tests.l2.stp.test_trees import Link, Network, churn, churned


class Counted(RstpBridge):
    """RSTP, counting how often a port's machines are stepped."""

    steps = 0

    def _transitions(self, p: _Port, now: float) -> bool:
        type(self).steps += 1
        return super()._transitions(p, now)


class NeverAtRest(Counted):
    """The oracle: the engine as it was before it learned to rest. It steps every
    machine on every input, searches for its next deadline whenever asked, and for the
    earliest port timer at every step of a tick."""

    steps = 0

    def _settle(self, now: float) -> None:
        super()._settle(now)
        self._at_rest = False

    def next_deadline(self, every_timer: bool = False) -> float | None:
        self._deadline_known = False
        return super().next_deadline(every_timer)

    def _next_due(
        self, port_timer: tuple[float, str, _Port] | None
    ) -> tuple[float, str, _Port | None] | None:
        return super()._next_due(self._next_port_timer())


class Checked(Counted):
    """RSTP that checks every deadline it remembers against one found afresh."""

    def next_deadline(self, every_timer: bool = False) -> float | None:
        remembered = super().next_deadline(every_timer)
        self._deadline_known = False
        assert remembered == super().next_deadline(every_timer)
        return remembered


def run_both(
    case: tuple[Network, list[tuple[float, int, bool]], list[Link]],
) -> tuple[int, int]:
    net, events, _ = case
    Counted.steps = Checked.steps = NeverAtRest.steps = 0
    shortcut = churned(Checked, net, events, every_timer=False)
    oracle = churned(NeverAtRest, net, events, every_timer=False)
    assert shortcut.records == oracle.records
    return Checked.steps, NeverAtRest.steps


@settings(max_examples=40, deadline=None, derandomize=True)
@given(churn())
def test_shortcuts_at_rest_change_no_record(
    case: tuple[Network, list[tuple[float, int, bool]], list[Link]],
) -> None:
    """Every BPDU sent, state, role, flush and short aging the same, at the same time;
    and every deadline the engine remembers instead of finding is the one it would find."""
    steps, oracle_steps = run_both(case)
    assert steps < oracle_steps


def test_a_settled_bridge_steps_no_machine_for_a_hello() -> None:
    """Two bridges joined twice (one link's far end is an alternate port), one link
    failing at 40 s and back at 50 s: only the changes step machines, not the hellos."""

    def two_bridges(engine: type[Counted]) -> int:
        engine.steps = 0
        ids = [BridgeId(32768, 0, 0x0200_0000_0001), BridgeId(32768, 0, 0x0200_0000_0002)]
        net = Network(ids, [Link(0, 1, 1, 1, 19), Link(0, 2, 1, 2, 19)])
        churned(engine, net, [(40.0, 1, False), (50.0, 1, True)], every_timer=False)
        return engine.steps

    oracle, shortcut = two_bridges(NeverAtRest), two_bridges(Counted)
    # 130 s of hellos: each bridge ticks 65 times and hears 65 BPDUs per designated port.
    assert oracle > 4 * 65
    assert shortcut < oracle / 3


LAB = "scenarios/labs/15-stp-vs-rstp.yaml"


@pytest.mark.parametrize("mode", ["rapid-pvst", "rstp"])
def test_a_campus_run_is_the_same_with_the_shortcuts(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lab 15 under RSTP: the uplink fails under a mail session. Every table (stp.csv,
    imap.csv, frames, ports, MAC events) is identical to the last bit."""
    sets = [f"topology.defaults.switch.spanning_tree.mode={mode}", "duration=60s"]
    fast = netsim.run(netsim.load(LAB, sets=sets))
    with monkeypatch.context() as patch:
        patch.setattr(netsim.l2.stp.agent, "RstpBridge", NeverAtRest)
        slow = netsim.run(netsim.load(LAB, sets=sets))
    assert len(fast.extra["stp"]) > 10
    pd.testing.assert_frame_equal(fast.frames, slow.frames, check_exact=True)
    pd.testing.assert_frame_equal(fast.ports, slow.ports, check_exact=True)
    pd.testing.assert_frame_equal(fast.mac_events, slow.mac_events, check_exact=True)
    for name in slow.extra:
        pd.testing.assert_frame_equal(fast.extra[name], slow.extra[name], check_exact=True)
    assert fast.summary == slow.summary
