"""Disconnected IMAP (RFC 4549): a cache, a queue of offline changes, a resynchronisation.

A laptop's mail program keeps each message's UID and flags. Offline, the user's changes
(messages marked read, a note filed) wait in a queue. Back online the client SELECTs the
INBOX: the same UIDVALIDITY means its cached UIDs still name the same messages, so it
only asks for the flags of those it knows and for the messages from its cached UIDNEXT
on, then replays the queue. Mail that arrived meanwhile is seen at the resync, not
pushed; mail that arrives while it idles online is pushed.

This module pins ``resync: plain``, RFC 4549's own way, which works with any server;
test_imap_resync.py compares it with CONDSTORE and QRESYNC (RFC 7162).
"""

from __future__ import annotations

import pytest

import netsim

SCENARIO = """
name: offline
duration: 5s
topology:
  defaults:
    link: {speed: 100M, delay: 2us}
  nodes:
    laptop: {kind: host}
    h2: {kind: host}
    sw1: {kind: switch, ports: 4}
    mail1: {kind: host}
  links:
    - endpoints: [laptop, sw1]
    - endpoints: [h2, sw1]
    - endpoints: [sw1, mail1]
traffic:
  - kind: imap
    server: mail1
    clients: [laptop]
    session: [disconnected]
    resync: plain
    think: 500ms
    mailbox: {messages: 40}
  - kind: smtp
    server: mail1
    clients: [h2]
    to: [laptop]
    schedule: [2s, 4s]
events:
  - {at: 1s, action: mail-offline, host: laptop}
  - {at: 3s, action: mail-online, host: laptop}
"""


@pytest.fixture(scope="module")
def res() -> netsim.Results:
    return netsim.run(netsim.loads(SCENARIO))


def test_the_client_logs_out_offline_and_resynchronises_back_online(res):
    imap = res.imap
    assert (imap["status"].isin(["OK", "+"])).all(), imap[~imap["status"].isin(["OK", "+"])]
    connects = imap[imap["command"] == "CONNECT"]["t_start"].tolist()
    assert connects[0] == 0 and connects[1] == pytest.approx(3.0)
    logouts = imap[imap["command"] == "LOGOUT"]["t_start"].tolist()
    assert logouts[0] == pytest.approx(1.0, abs=1e-3)  # it went offline at 1 s
    second = imap[imap["t_start"] >= 3.0]
    # Known flags, then what is new, then the queue: no full download of the mailbox.
    replay_starts = second[second["command"] == "APPEND"]["t_start"].min()
    fetches = second[(second["command"] == "UID FETCH") & (second["t_start"] < replay_starts)]
    assert len(fetches) == 2
    first_session_fetch = imap[(imap["t_start"] < 1) & (imap["command"] == "UID FETCH")]
    assert fetches["bytes_in"].sum() < first_session_fetch["bytes_in"].sum()


def test_changes_made_offline_are_replayed_in_order_once_online(res):
    second = res.imap[res.imap["t_start"] >= 3.0]
    replay = second[second["command"].isin(["UID STORE", "APPEND"])]
    # One note filed, then a message marked read every 500 ms from 1 s to 3 s.
    assert list(replay["command"]) == ["APPEND"] + ["UID STORE"] * 4
    assert (replay["status"] == "OK").all()
    resync = second[(second["command"] == "UID FETCH") & (second["t_start"] < 3.5)]
    assert replay["t_start"].min() >= resync["t_end"].max()  # after the resynchronisation


def test_mail_that_came_while_offline_is_seen_at_the_resync_and_later_mail_is_pushed(res):
    delivery = res.extra["delivery"].set_index("via")
    assert set(delivery.index) == {"imap-resync", "imap-idle"}
    resync = delivery.loc["imap-resync"]
    assert resync["t_submitted"] == pytest.approx(2.0, abs=1e-3)
    assert 3.0 < resync["t_seen"] < 3.01
    pushed = delivery.loc["imap-idle"]
    assert pushed["t_submitted"] == pytest.approx(4.0, abs=1e-3)
    assert pushed["push_latency"] < 100e-6  # one crossing of two 100 Mb/s links


def test_an_offline_event_for_a_host_without_such_a_client_is_a_clear_error():
    text = SCENARIO.replace("action: mail-offline, host: laptop", "action: mail-offline, host: h2")
    with pytest.raises(netsim.ScenarioError) as caught:
        netsim.loads(text)
    (problem,) = caught.value.problems
    assert problem.path == "events[0].host"
    assert "h2 runs no disconnected-use IMAP client" in problem.message
