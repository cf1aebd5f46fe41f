"""Measured availability follows spanning tree: a path is down until the tree forwards.

A redundant campus (``campus.redundant_uplinks: true``) cables each floor switch twice to
the building stack. Spanning tree blocks one of the two uplinks; when the forwarding one
is cut, the floor is cut off until the blocked one forwards. That is what the hosts
feel, so it is what availability.csv records:

- 802.1D (PVST+, the Catalyst default): the alternate port of a direct root-port failure
  listens for one forward delay and learns for another: 2 x 15 s = 30 s without mail;
- RSTP (rapid PVST+): the alternate port becomes the root port and forwards at once.

The oracle is stp.csv: the outage ends when the floor switch's other uplink reaches the
forwarding state there. PortFast on the campus's edge ports (PCs, servers, the floors'
ports to their rooms) lets a PC's first IMAP command through at power-on instead of after
30 s of listening and learning.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import netsim

CAMPUS = Path(__file__).resolve().parents[2] / "scenarios" / "campus.yaml"
CUT_AT = 40.0
F1_PATH = "f1r1h01 -> mail"
F2_PATH = "f2r1h01 -> mail"


def run(mode: str, cut: str = "[f1, building]") -> netsim.Results:
    """The redundant campus for 75 s, a floor-1 uplink cut at 40 s."""
    sets = [
        "campus.redundant_uplinks=true",
        "duration=75s",
        f"topology.defaults.switch.spanning_tree.mode={mode}",
        "measure.availability=[[f1r1h01, mail], [f2r1h01, mail]]",
        f"events=[{{at: {CUT_AT}s, action: link-down, link: {cut}}}]",
    ]
    return netsim.run(netsim.load(CAMPUS, sets=sets))


@pytest.fixture(scope="module")
def pvst() -> netsim.Results:
    return run("pvst")


@pytest.fixture(scope="module")
def rapid() -> netsim.Results:
    return run("rapid-pvst")


def f1_rows(results: netsim.Results) -> pd.DataFrame:
    stp = results.extra["stp"]
    return stp[(stp["bridge"] == "f1") & (stp["instance"] == 10)]


def forwarding_again(results: netsim.Results) -> float:
    """When f1's other uplink (Gi0/23) forwards after the cut, read from stp.csv."""
    rows = f1_rows(results)
    after = rows[
        (rows["time"] >= CUT_AT)
        & (rows["port"] == "Gi0/23")
        & (rows["event"] == "state")
        & (rows["state"] == "forwarding")
    ]
    return float(after["time"].iloc[0])


def outages_after_cut(results: netsim.Results, path: str) -> pd.DataFrame:
    outages = results.extra["availability"]
    return outages[(outages["path"] == path) & (outages["end"] > CUT_AT)]


def test_the_cut_uplink_was_the_floor_switchs_root_port(pvst, rapid):
    """The scenario cuts f1:Gi0/24, the port f1 reaches the root through (a direct
    failure: f1 itself sees its root port go down)."""
    for results in (pvst, rapid):
        rows = f1_rows(results)
        before = rows[(rows["time"] < CUT_AT) & (rows["event"] == "role")]
        assert before[before["port"] == "Gi0/24"]["role"].iloc[-1] == "root"
        assert before[before["port"] == "Gi0/23"]["role"].iloc[-1] == "alternate"


def test_with_pvst_the_path_is_down_until_the_alternate_forwards_30s_later(pvst):
    """802.1D: the outage lasts exactly until stp.csv shows the alternate forwarding,
    2 x forward delay after the cut."""
    outages = outages_after_cut(pvst, F1_PATH)
    assert len(outages) == 1
    outage = outages.iloc[0]
    assert outage["start"] == CUT_AT
    assert outage["end"] == forwarding_again(pvst)
    assert outage["duration"] == pytest.approx(30.0, abs=2.0)  # within one hello
    assert pvst.summary["availability"]["paths"][F1_PATH]["downtime"] >= 30.0


def test_with_rapid_pvst_the_alternate_takes_over_at_once(rapid):
    """RSTP: the alternate port becomes the root port and forwards in the same instant:
    the outage is under a second (here none at all)."""
    assert forwarding_again(rapid) - CUT_AT < 1.0
    assert outages_after_cut(rapid, F1_PATH)["duration"].sum() < 1.0


def test_another_floor_does_not_notice(pvst, rapid):
    """Floor 2 has its own uplinks (and, under PVST+, its own tree in VLAN 20)."""
    for results in (pvst, rapid):
        assert outages_after_cut(results, F2_PATH).empty


def test_cutting_the_blocked_uplink_costs_nothing():
    """The alternate port carried no data: losing its cable cuts no path."""
    results = run("pvst", cut="[f1:Gi0/23, building:Gi2/0/1]")
    assert outages_after_cut(results, F1_PATH).empty


def test_portfast_lets_the_first_imap_command_through_at_power_on(pvst, rapid):
    """Edge ports forward as their link comes up. With rapid PVST+ the uplinks agree in
    a moment too: every PC connects to the mail server well within a second, not 30 s.
    With 802.1D the uplinks themselves still listen and learn for 30 s at power-on, but
    the mail server's edge port forwards from the start."""
    imap = rapid.extra["imap"]
    connects = imap[imap["command"] == "CONNECT"]
    assert len(connects) == 72
    assert (connects["t_end"] - connects["t_start"]).max() < 1.0
    stp = pvst.extra["stp"]
    mail_port = stp[
        (stp["bridge"] == "serverroom") & (stp["port"] == "Gi0/1") & (stp["event"] == "state")
    ]
    assert mail_port["state"].iloc[0] == "forwarding"
    assert mail_port["time"].iloc[0] == 0.0


# --- repairs: what a link coming back costs ----------------------------------------------

LAB13 = CAMPUS.parent / "labs" / "13-availability.yaml"
F1_UPLINK = "[f1:Gi0/24, building:Gi1/0/1]"
ROOM_UPLINK = "[f1r1:Gi0/1, f1:Gi0/1]"


def cut_and_repair(mode: str, link: str, down: float, up: float) -> pd.DataFrame:
    """Lab 13's campus with redundant uplinks and no random failures: ``link`` is cut at
    ``down`` and repaired at ``up``. The outages of f1r1h01 -> mail."""
    sets = [
        "campus.redundant_uplinks=true",
        "duration=150s",
        "failures=[]",
        f"topology.defaults.switch.spanning_tree.mode={mode}",
        f"events=[{{at: {down}s, action: link-down, link: {link}}},"
        f" {{at: {up}s, action: link-up, link: {link}}}]",
    ]
    outages = netsim.run(netsim.load(LAB13, sets=sets)).extra["availability"]
    return outages[outages["end"] > 35.0]  # after the tree formed at power-on


def spans(outages: pd.DataFrame) -> list[float]:
    """Each outage's start and end, in a row: [start1, end1, start2, end2, ...]."""
    return [float(t) for t in outages[["start", "end"]].to_numpy().ravel()]


def test_with_pvst_the_repaired_root_uplink_listens_and_learns_again():
    """802.1D: when the cut uplink comes back it is the better way to the root again, so
    it becomes the root port and the alternate blocks at once; the new root port listens
    and learns for 30 s before it forwards. A failure of the forwarding uplink costs
    30 s at the cut and 30 s more at the repair (what UplinkFast was invented for)."""
    outages = cut_and_repair("pvst", F1_UPLINK, 40.0, 100.0)
    assert spans(outages) == pytest.approx([40, 70, 100, 130], abs=1.0)  # timers tick each 1 s


def test_with_pvst_a_repair_before_the_alternate_forwards_costs_the_repair_plus_30s():
    """Repaired after 10 s, while the alternate still listens: the repaired uplink takes
    the root port back and starts its own 30 s. One outage, 10 s + 30 s."""
    outages = cut_and_repair("pvst", F1_UPLINK, 40.0, 50.0)
    assert spans(outages) == pytest.approx([40, 80], abs=1.0)


def test_with_pvst_a_repaired_single_point_of_failure_costs_30s_more():
    """The room's uplink has no alternate: the path is down while it is cut, as the
    analytic figure counts. But f1r1's end is no edge port: coming back, it listens and
    learns 30 s before it forwards, an outage 30 s longer than the repair."""
    outages = cut_and_repair("pvst", ROOM_UPLINK, 40.0, 50.0)
    assert spans(outages) == pytest.approx([40, 80], abs=1.0)


def test_with_rapid_pvst_repairs_cost_nothing_beyond_the_cut():
    """RSTP brings a repaired link back with a proposal and an agreement, in microseconds:
    the root uplink's failure costs under a millisecond in all, the room uplink's the time
    it was cut."""
    assert cut_and_repair("rapid-pvst", F1_UPLINK, 40.0, 100.0)["duration"].sum() < 1e-3
    outages = cut_and_repair("rapid-pvst", ROOM_UPLINK, 40.0, 50.0)
    assert outages["start"].min() == pytest.approx(40.0)
    assert outages["end"].max() == pytest.approx(50.0, abs=1e-3)
