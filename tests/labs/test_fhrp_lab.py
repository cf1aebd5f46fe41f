"""Lab 11 (HSRP against VRRP): a gateway router fails, and the numbers come from the timers.

The handout's claims are checked on the tables a student opens. The failover oracle is
the protocols' own arithmetic, not a constant: the standby takes over when it has heard
nothing for the hold time (HSRP: hold 10 s, hello 3 s) or the master down interval
(VRRP: 3 × 1 s + (256 − 100)/256 s), counted from the last hello, which left at most one
hello interval before the failure. Ping then resumes within one ping interval plus one
round trip of the takeover.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import netsim

LABS = Path(__file__).resolve().parents[2] / "scenarios" / "labs"
PING_INTERVAL = 0.1
HSRP_HELLO, HSRP_HOLD = 3.0, 10.0
VRRP_INTERVAL = 1.0
VRRP_DOWN = 3 * VRRP_INTERVAL + (256 - 100) / 256 * VRRP_INTERVAL


def run(protocol: str, failure_at: float, *sets: str) -> netsim.Results:
    path = LABS / f"17-fhrp-{protocol}.yaml"
    return netsim.run(netsim.load(path, sets=[f"events[0].at={failure_at}s", *sets]))


def resumed(res: netsim.Results, failure_at: float) -> float:
    """When the first echo reply after the failure came back (ping.csv)."""
    ping = res.ping
    after = ping[(ping["t_sent"] > failure_at) & (ping["outcome"] == "reply")]
    return float(after["t_received"].min())


def takeover(res: netsim.Results) -> float:
    """When R2 became active (HSRP) or master (VRRP) on the floor subnet (fhrp.csv)."""
    fhrp: pd.DataFrame = res.extra["fhrp"]
    rows = fhrp[(fhrp["device"] == "R2") & (fhrp["interface"] == "Gi0/0")]
    return float(rows[rows["new"].isin(["active", "master"])]["time"].min())


def rtt(res: netsim.Results) -> float:
    return float(res.ping["rtt"].max())


# Failures just after one of R1's hellos (the longest wait), mid-cycle, and just before
# the next hello (the shortest wait). R1's HSRP hellos leave at 20 + 3k s; its VRRP
# advertisements at 3.5703125 + k s.
@pytest.mark.parametrize("failure_at", [59.001, 60.05, 61.999])
def test_hsrp_traffic_resumes_within_hold_minus_hello_to_hold(failure_at: float) -> None:
    res = run("hsrp", failure_at)
    gap = takeover(res) - failure_at
    assert HSRP_HOLD - HSRP_HELLO <= gap <= HSRP_HOLD
    outage = resumed(res, failure_at) - failure_at
    assert HSRP_HOLD - HSRP_HELLO <= outage <= HSRP_HOLD + PING_INTERVAL + rtt(res)
    assert 0 <= resumed(res, failure_at) - takeover(res) <= PING_INTERVAL + rtt(res)


@pytest.mark.parametrize("failure_at", [59.571, 60.05, 60.57])
def test_vrrp_traffic_resumes_within_the_master_down_interval(failure_at: float) -> None:
    res = run("vrrp", failure_at)
    gap = takeover(res) - failure_at
    assert VRRP_DOWN - VRRP_INTERVAL <= gap <= VRRP_DOWN
    outage = resumed(res, failure_at) - failure_at
    assert VRRP_DOWN - VRRP_INTERVAL <= outage <= VRRP_DOWN + PING_INTERVAL + rtt(res)


def test_an_imap_session_stalls_through_the_failover_and_recovers() -> None:
    """The IMAP command in flight waits out the takeover (plus TCP's backoff), then the
    session carries on: every command ends OK."""
    for protocol, floor in (("hsrp", HSRP_HOLD - HSRP_HELLO), ("vrrp", VRRP_DOWN - 1)):
        res = run(protocol, 60.05)
        imap = res.imap
        assert (imap["status"] == "OK").all()
        stalled = imap[imap["t_start"].between(60.05 - 0.5, 60.05 + 1.5)]
        assert stalled["latency"].max() >= floor
        assert imap["t_end"].max() > takeover(res)


def test_the_new_active_router_owns_the_virtual_mac_and_ip() -> None:
    """After the takeover the PC's gateway MAC is unchanged: R2 answers for the virtual
    MAC, which the floor switch learned on R2's port from the gratuitous ARP."""
    res = run("hsrp", 60.05)
    moves = res.mac_events
    vmac = moves[(moves["mac"] == "00:00:0c:9f:f0:0a") & (moves["device"] == "lan")]
    last = vmac[vmac["time"] >= takeover(res)].iloc[0]
    assert last["port"] == "4" and last["event"] in ("learn", "move")


def test_a_repaired_router_starts_afresh_and_preempts_with_vrrp() -> None:
    """R1 comes back at 70 s like a rebooted router: it starts as a backup, ignores R2's
    lower-priority advertisements (VRRP preempts by default) and is master again after
    its own master down interval, 3 + (256 - 110)/256 s; R2 steps back."""
    down_up = (
        "[{at: 60.05s, action: device-down, device: R1}, {at: 70s, action: device-up, device: R1}]"
    )
    res = run("vrrp", 60.05, f"events={down_up}")
    fhrp = res.extra["fhrp"]
    r1 = fhrp[(fhrp["device"] == "R1") & (fhrp["interface"] == "Gi0/0") & (fhrp["time"] >= 70)]
    assert r1[["old", "new"]].values.tolist() == [["initialize", "backup"], ["backup", "master"]]
    assert r1["time"].iloc[-1] == pytest.approx(70 + 3 + 146 / 256, abs=1e-5)
    r2 = fhrp[(fhrp["device"] == "R2") & (fhrp["interface"] == "Gi0/0")]
    assert r2["new"].iloc[-1] == "backup"


def test_frames_to_the_virtual_mac_are_delivered_to_whichever_router_owns_it() -> None:
    """frames.csv names the owner of the virtual MAC as the destination: R1 before the
    failure, R2 after the takeover; only the echo requests sent into the gap are lost."""
    res = run("hsrp", 60.05)
    frames = res.frames
    requests = frames[(frames["src"] == "pc1") & (frames["traffic"] == "icmp")]
    before = requests[requests["t_first_bit_out"] < 60.05]
    after = requests[requests["t_first_bit_out"] > takeover(res)]
    assert set(before["dst"]) == {"R1"} and (before["outcome"] == "delivered").all()
    assert set(after["dst"]) == {"R2"} and (after["outcome"] == "delivered").all()
    gap = requests[requests["t_first_bit_out"].between(60.05, takeover(res))]
    assert len(gap) > 0 and (gap["outcome"] == "dropped").all()
