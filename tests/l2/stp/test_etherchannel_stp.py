"""Spanning tree over an EtherChannel: a bundle is one port of the tree.

Spanning tree runs on the switch's *logical* ports: a port-channel (``Po1``) counts once,
in place of its members. Its path cost is that of its aggregate speed: two gigabit
members make 2 Gb/s, cost 3 by the short method (a Catalyst's value, within the range
802.1D-1998 table 8-5 allows a gigabit port), 20 Tb/s / 2 Gb/s = 10,000 by the long
(802.1t) method. A BPDU that arrives on a member is the port-channel's; the bundle is up
while any member carries frames. So only the last member failing is a link change that
makes the tree reconverge; one member failing changes the bundle's cost (IOS counts the
members that carry frames), which may move the tree elsewhere.

The triangle used below, worked by hand from the 802.1D rules:

* A, B, C at equal priority: A has the lowest MAC, so A is root.
* A-B is a two-member bundle of 1G links (cost 3); B-C is 1G (cost 4); C's port to A
  (C:2) is given cost 8.
* B reaches A over the bundle at cost 3: B's Po1 is its root port.
* C reaches A directly at 8, or through B at 3 + 4 = 7: C:1 (to B) is its root port,
  root path cost 7. (Were the bundle costed like one gigabit link, 4 + 4 = 8 would tie
  with the direct 8, and the tie would go to the lower sender bridge ID, A: C:2.)
* On the C-A link A offers 0 against C's 7: A:3 is designated and C:2 blocks. The bundle
  is designated at A and root at B: no member is ever blocked.
"""

from __future__ import annotations

import pandas as pd
import pytest

import netsim
from netsim.l2.stp.engine import bundle_path_cost
from tests.l2.stp.test_agent import roles, scenario

LINKS = [
    'endpoints: ["A:1", "B:1"]',
    'endpoints: ["A:2", "B:2"]',
    'endpoints: ["B:3", "C:1"]',
    'endpoints: ["C:2", "A:3"]',
    'endpoints: [h1, "A:4"]',
    'endpoints: [h2, "B:4"]',
]
FAIL_TIME = 40.0


def triangle(
    channel_mode: str = "on", mode: str = "stp", events: str = "", duration: str = "60s"
) -> netsim.Results:
    """The triangle above, h1 on A and h2 on B (PortFast), and h1 sending h2 100 frames a
    second from 35 s (once the 802.1D tree forwards), across the bundle."""
    member = f"{{channel_group: 1, channel_mode: {channel_mode}}}"
    edge = "{spanning_tree: {portfast: true}}"
    switch = f"{{kind: switch, ports: 4, interfaces: {{'1-2': {member}, 4: {edge}}}}}"
    nodes = {
        "A": switch,
        "B": switch,
        "C": "{kind: switch, ports: 4, interfaces: {2: {spanning_tree: {cost: 8}}}}",
        "h1": "{kind: host}",
        "h2": "{kind: host}",
    }
    extra = """traffic:
  - {kind: frames, from: h2, to: h1, size: 64, count: 1, start: 34s}
  - {kind: frames, from: h1, to: h2, size: 64, start: 35s, interval: 10ms}
"""
    if events:
        extra += "events:\n" + events
    return netsim.run(scenario(nodes, LINKS, mode=mode, extra=extra, duration=duration))


def fail(*members: int) -> str:
    return "".join(
        f'  - {{at: {FAIL_TIME}s, action: link-down, link: ["A:{m}", "B:{m}"]}}\n' for m in members
    )


def test_a_bundle_costs_what_its_aggregate_speed_costs():
    """Short: 2 x 1G = 3; Fast EtherChannel of 2, 3, 4 = 12, 9, 8; 2 x 10G = 1; a bundle
    of one is a plain port. Long (802.1t): 20 Tb/s over the aggregate speed."""
    assert bundle_path_cost(1e9, 2) == 3
    assert [bundle_path_cost(100e6, n) for n in (2, 3, 4)] == [12, 9, 8]
    assert bundle_path_cost(10e9, 2) == 1
    assert bundle_path_cost(1e9, 1) == 4
    assert bundle_path_cost(1e9, 2, "long") == 10_000
    assert bundle_path_cost(100e6, 4, "long") == 50_000


@pytest.mark.parametrize("mode", ["stp", "rstp", "pvst", "rapid-pvst"])
@pytest.mark.parametrize("channel_mode", ["on", "active"])
def test_the_tree_counts_the_bundle_once_at_its_aggregate_cost(channel_mode, mode):
    """The hand-worked triangle: Po1 is root port at B and designated at A, C's root path
    cost is 3 + 4 = 7, and the one blocked port is C:2, outside the bundle (under PVST+
    in VLAN 1's tree)."""
    res = triangle(channel_mode, mode)
    blocked = "discarding" if mode in ("rstp", "rapid-pvst") else "blocking"
    got = roles(res, "1" if "pvst" in mode else "0")
    assert got == {
        "A:Po1": ("designated", "forwarding"),
        "A:3": ("designated", "forwarding"),
        "A:4": ("designated", "forwarding"),
        "B:Po1": ("root", "forwarding"),
        "B:3": ("designated", "forwarding"),
        "B:4": ("designated", "forwarding"),
        "C:1": ("root", "forwarding"),
        "C:2": ("alternate", blocked),
    }
    stp = res.extra["stp"]
    members = stp[stp.bridge.isin(["A", "B"]) & stp.port.isin(["1", "2"])]
    assert members.empty  # a member is never a port of the tree
    assert int(stp[stp.bridge == "C"].root_cost.iloc[-1]) == 7
    assert int(stp[stp.bridge == "B"].root_cost.iloc[-1]) == 3
    assert (res.frames.outcome == "delivered").all()
    # IOS numbers a port-channel after the physical ports: Po1 on a 4-port switch is 5.
    assert "Po1                 Root FWD 3         128.5    P2p" in res.show(
        "B", "show spanning-tree"
    )


def _rows_after(stp: pd.DataFrame, t: float) -> pd.DataFrame:
    return stp[stp.time >= t]


REJOIN_TIME = 90.0


@pytest.mark.parametrize(
    ("mode", "channel_mode", "within"),
    [("stp", "on", 20.0), ("stp", "active", 20.0), ("rstp", "on", 1.0)],
)
def test_the_bundle_costs_what_its_members_carrying_frames_cost(mode, channel_mode, within):
    """IOS recomputes a port-channel's cost from the members that carry frames. A-B member
    1 fails at 40 s: the bundle stays up (Po1 has no link-down, and h1's frames keep
    arriving over member 2, none lost), but it now costs what one gigabit link costs, 4.
    C's path through B costs 4 + 4 = 8, as much as its direct link, and the tie goes to
    the lower designated bridge ID, A's: C:2 becomes root port and C:1 blocks. (Under
    802.1D, C believes B's worse offer only when what it stored from B ages out, up to
    max age later; RSTP believes the same sender at once.) Member 1 comes back at 90 s:
    the cost is 3 again, and C:1 is root port again."""
    events = fail(1) + f'  - {{at: {REJOIN_TIME}s, action: link-up, link: ["A:1", "B:1"]}}\n'
    res = triangle(channel_mode, mode, events=events, duration="150s")
    stp = res.extra["stp"]
    after = _rows_after(stp, FAIL_TIME)
    assert after[(after.port == "Po1") & after.event.isin(["link-down", "link-up"])].empty
    c_roles = after[(after.bridge == "C") & (after.event == "role")]
    moved = c_roles[(c_roles.port == "2") & (c_roles.role == "root")].time.tolist()
    assert len(moved) == 1 and FAIL_TIME < moved[0] <= FAIL_TIME + within
    between = stp[(stp.bridge == "C") & (stp.time >= moved[0]) & (stp.time < REJOIN_TIME)]
    assert set(between.root_cost) == {8}
    back = c_roles[(c_roles.port == "1") & (c_roles.role == "root")].time.tolist()
    assert len(back) == 1 and REJOIN_TIME <= back[0] <= REJOIN_TIME + 5.0  # LACP: ~2 s
    got = roles(res, "0")
    assert (got["C:1"][0], got["C:2"][0]) == ("root", "alternate")
    assert int(stp[stp.bridge == "C"].root_cost.iloc[-1]) == 7
    sent = res.frames[res.frames.src == "h1"]
    assert len(sent) > 10_000
    assert (sent.outcome == "delivered").all()


@pytest.mark.parametrize(("mode", "earliest", "latest"), [("stp", 47.0, 50.0), ("rstp", 0.0, 1.0)])
def test_the_last_member_failing_makes_the_tree_reconverge(mode, earliest, latest):
    """Both members fail at 40 s: Po1 goes down at A and B. In the end C's blocked port
    C:2 is its root port (A direct, cost 8), B reaches A through C (B:3 root port, cost
    8 + 4 = 12), and h1's frames flow A -> C -> B. For C the failure is indirect: under
    802.1D it ignores B's claim to be root until the information it holds from B ages
    out (max age 20 s less the message age, from the last BPDU at most a hello before
    the failure), then C:2 listens and learns for 30 s: 47 to 50 s. RSTP: under 1 s."""
    res = triangle("on", mode, events=fail(1, 2), duration="100s")
    stp = res.extra["stp"]
    after = _rows_after(stp, FAIL_TIME)
    downs = after[after.event == "link-down"]
    assert sorted(zip(downs.bridge, downs.port, strict=True)) == [("A", "Po1"), ("B", "Po1")]
    opened = after[(after.bridge == "C") & (after.port == "2") & (after.state == "forwarding")]
    assert earliest <= float(opened.time.iloc[0]) - FAIL_TIME <= latest
    got = roles(res)
    assert got["C:2"] == ("root", "forwarding")
    assert got["B:3"] == ("root", "forwarding")
    assert got["A:Po1"][1] == got["B:Po1"][1] == "disabled"
    assert int(stp[stp.bridge == "B"].root_cost.iloc[-1]) == 12
    sent = res.frames[res.frames.src == "h1"]
    late = sent[sent.t_queued > FAIL_TIME + latest + 5.0]
    assert len(late) > 100 and (late.outcome == "delivered").all()
