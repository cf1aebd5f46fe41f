"""Random failures and measured availability against reliability theory.

Each part fails after an exponential time of mean MTBF and is repaired after one of mean
MTTR, so in the long run it works ``A = MTBF / (MTBF + MTTR)`` of the time; parts in
series multiply, redundant parts in parallel fail only together. Over a long run the
measured availability must agree with that figure. The check is statistical: at instants
far apart compared with MTBF and MTTR the path's state is a near-independent draw that is
up with probability A, so the number of up instants is binomial, and the analytic A must
lie in its confidence interval (Wilson's, at 99.9 %).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

import netsim
from netsim.scenario.errors import ScenarioError

SCENARIO = """
name: random-failures
seed: {seed}
duration: 1000000s
topology:
  nodes:
    h1: {{kind: host}}
    h2: {{kind: host}}
    h3: {{kind: host}}
    stack: {{kind: switch, model: WS-C3750G-12S, members: 4}}
    sw1: {{kind: switch}}
    sw2: {{kind: switch}}
  links:
    - endpoints: [h1, "stack:Gi1/0/1"]
    - endpoints: [h2, "stack:Gi3/0/1"]
    - endpoints: [h3, sw1]
    - endpoints: [sw1, sw2]
    - endpoints: [sw2, "stack:Gi1/0/2"]
failures:
  - {{device: stack, member: 2, mtbf: 1000s, mttr: 100s}}
  - {{device: stack, member: 4, mtbf: 1000s, mttr: 100s}}
  - {{device: sw1, mtbf: 1000s, mttr: 100s}}
  - {{device: sw2, mtbf: 1000s, mttr: 100s}}
{extra}
measure:
  availability: [[h1, h2], [h3, h1]]
"""
"""h1 -> h2 crosses a 4-member stack from member 1 to member 3: the ring goes through
member 2 or member 4, two parts in parallel. h3 -> h1 crosses sw1 and sw2 in series."""

A = 1000 / 1100
"""Each failing part's availability."""


def run(seed: int = 1, extra: str = "") -> netsim.Results:
    return netsim.run(netsim.loads(SCENARIO.format(seed=seed, extra=extra)))


def up_at(outages: pd.DataFrame, path: str, instants: list[float]) -> int:
    """How many of ``instants`` fall outside every outage of ``path``."""
    mine = outages[outages["path"] == path]
    spans = list(zip(mine["start"], mine["end"], strict=True))
    return sum(not any(s <= t < e for s, e in spans) for t in instants)


def wilson(k: int, n: int, z: float = 3.29) -> tuple[float, float]:
    """Wilson's score interval for a binomial proportion k/n (z = 3.29: 99.9 %)."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


@pytest.fixture(scope="module")
def results() -> netsim.Results:
    return run()


@pytest.mark.parametrize(
    ("path", "analytic"),
    [("h3 -> h1", A * A), ("h1 -> h2", 1 - (1 - A) ** 2)],
    ids=["series", "parallel"],
)
def test_measured_availability_is_within_the_binomial_interval_of_the_analytic(
    results, path, analytic
):
    """Sampled every 500 s (the state's memory fades as exp(-t/MTBF - t/MTTR), e^-5.5
    after 500 s), 2000 near-independent draws: analytic A within their 99.9 % interval."""
    section = results.summary["availability"]["paths"][path]
    assert section["analytic"] == pytest.approx(analytic)
    instants = [250.0 + 500.0 * i for i in range(2000)]
    low, high = wilson(up_at(results.extra["availability"], path, instants), len(instants))
    assert low <= analytic <= high
    # The time average (what summary.json reports) agrees as well.
    assert section["measured"] == pytest.approx(analytic, abs=high - low)


def test_the_summary_names_single_points_and_redundant_parts(results):
    paths = results.summary["availability"]["paths"]
    assert paths["h3 -> h1"]["single_points_of_failure"] == ["sw1", "sw2"]
    assert paths["h1 -> h2"]["single_points_of_failure"] == []
    assert paths["h1 -> h2"]["redundant"] == [["stack[2]", "stack[4]"]]


def test_outage_rows_add_up_to_the_downtime(results):
    table = results.extra["availability"]
    assert list(table.columns) == ["path", "start", "end", "duration"]
    assert (table["end"] > table["start"]).all()
    for path, section in results.summary["availability"]["paths"].items():
        mine = table[table["path"] == path]
        assert len(mine) == section["outages"]
        assert mine["duration"].sum() == pytest.approx(section["downtime"])


def test_the_same_seed_gives_the_same_failures(results):
    again = run()
    pd.testing.assert_frame_equal(results.extra["availability"], again.extra["availability"])
    other = run(seed=2)
    assert not results.extra["availability"].equals(other.extra["availability"])


def test_failing_another_part_does_not_move_the_others_failures(results):
    """Each part draws from its own stream: adding failures for h2's cable leaves the
    series path (which does not cross it) exactly as it was."""
    more = run(extra="  - {link: [h2, stack], mtbf: 500s, mttr: 50s}")
    series = results.extra["availability"].query("path == 'h3 -> h1'").reset_index(drop=True)
    again = more.extra["availability"].query("path == 'h3 -> h1'").reset_index(drop=True)
    pd.testing.assert_frame_equal(series, again)


@pytest.mark.parametrize(
    ("entry", "path", "message"),
    [
        ("{device: sw1, link: [sw1, sw2], mtbf: 1h, mttr: 1h}", "failures[4]", "exactly one"),
        ("{device: sw1, mtbf: 2h, mttr: 1h}", "failures[4]", "failures[2] already"),
        ("{kind: switch, mtbf: 10ms, mttr: 10ms}", "failures", "over the limit"),
        ("{device: sw1, mtbf: 0h, mttr: 1h}", "failures[4].mtbf", "positive"),
        ("{link: [h1, h3], mtbf: 1h, mttr: 1h}", "failures[4].link", "no link joins h1 and h3"),
    ],
)
def test_bad_failures_are_one_clear_message(entry, path, message):
    with pytest.raises(ScenarioError) as caught:
        netsim.loads(SCENARIO.format(seed=1, extra=f"  - {entry}"))
    text = str(caught.value)
    assert path in text
    assert message in text
