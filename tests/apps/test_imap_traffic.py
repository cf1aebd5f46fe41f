"""IMAP across the simulated fabric: netsim's own IMAP server on a simulated host, clients
on others, every command timed from its first byte to its tagged reply.

On an idle path a NOOP is one frame each way, so its latency is pure fabric arithmetic:
each frame crosses 3 links; store-and-forward pays W*8/R + d per link, cut-through pays
the serialization once and 22 bytes per switch (validation.md). A TCP segment's frame is
14 (Ethernet) + 20 (IPv4) + 20 (TCP) + payload + 4 (FCS) bytes, 64 at least.
"""

from __future__ import annotations

import pytest

import netsim

SCENARIO = """
name: imap
duration: 2s
topology:
  defaults:
    link: {{speed: 100M, delay: 2us}}
    switch: {{mode: {mode}}}
  nodes:
    h1: {{kind: host}}
    sw1: {{kind: switch, ports: 4}}
    sw2: {{kind: switch, ports: 4}}
    mail1: {{kind: host}}
  links:
    - endpoints: [h1, sw1]
    - endpoints: [sw1, sw2]
    - endpoints: [sw2, mail1]
traffic:
  - kind: imap
    server: mail1
    clients: [h1]
    session: {session}
    repeat: {repeat}
    think: 100ms
"""

R, D, LINKS = 100e6, 2e-6, 3


def frame_bytes(payload: int) -> int:
    return max(64, 14 + 20 + 20 + payload + 4)


def one_way(payload: int, mode: str) -> float:
    w = frame_bytes(payload) + 8
    if mode == "store-and-forward":
        return LINKS * (w * 8 / R + D)
    return w * 8 / R + (LINKS - 1) * 22 * 8 / R + LINKS * D


def run(mode: str = "store-and-forward", session: str = "[NOOP]", repeat: int = 5):
    return netsim.run(netsim.loads(SCENARIO.format(mode=mode, session=session, repeat=repeat)))


@pytest.mark.parametrize("mode", ["store-and-forward", "cut-through"])
def test_noop_latency_is_the_fabric_round_trip(mode):
    imap = run(mode).imap
    noops = imap[imap["command"] == "NOOP"]
    assert len(noops) == 5 and (noops["status"] == "OK").all()
    for row in noops.itertuples():
        expected = one_way(row.bytes_out, mode) + one_way(row.bytes_in, mode)
        assert row.latency == pytest.approx(expected, abs=1e-9)


def test_store_and_forward_and_cut_through_differ_by_what_the_fabric_predicts():
    sf = run("store-and-forward").imap.set_index("tag")
    ct = run("cut-through").imap.set_index("tag")
    noop = sf[sf["command"] == "NOOP"].index
    for tag in noop:
        out, back = int(sf.loc[tag, "bytes_out"]), int(sf.loc[tag, "bytes_in"])
        saved = sum(
            one_way(b, "store-and-forward") - one_way(b, "cut-through") for b in (out, back)
        )
        assert sf.loc[tag, "latency"] - ct.loc[tag, "latency"] == pytest.approx(saved, abs=1e-9)
        assert saved > 0


def test_every_workload_runs_and_every_command_is_answered_ok():
    imap = run(
        session="[check-new-mail, read-a-message, search, file-to-folder, idle]", repeat=2
    ).imap
    assert (imap["status"].isin(["OK", "+"])).all(), imap[~imap["status"].isin(["OK", "+"])]
    commands = set(imap["command"])
    assert {
        "CONNECT",
        "LOGIN",
        "SELECT",
        "NOOP",
        "UID SEARCH",
        "UID FETCH",
        "FETCH",
        "SEARCH",
        "MOVE",
        "IDLE",
        "DONE",
        "LOGOUT",
    } <= commands
    assert (imap["latency"] > 0).all()
    body = imap[(imap["command"] == "FETCH") & (imap["bytes_in"] > 1000)]
    assert not body.empty  # a whole message came back


def test_raw_commands_are_sent_as_written():
    imap = run(
        session='["UID FETCH 1:3 (FLAGS)", "STATUS INBOX (MESSAGES)", "BOGUS"]', repeat=1
    ).imap.set_index("command")
    assert imap.loc["UID FETCH", "status"] == "OK"
    assert imap.loc["STATUS", "status"] == "OK"
    assert imap.loc["BOGUS", "status"] == "BAD"


def test_an_unknown_workload_is_a_clear_error():
    with pytest.raises(netsim.ScenarioError) as caught:
        netsim.loads(SCENARIO.format(mode="cut-through", session="[check-mail-now]", repeat=1))
    (problem,) = caught.value.problems
    assert problem.path == "traffic[0]"
    assert "unknown workload 'check-mail-now'" in problem.message
