"""A simulated application failure is a result, never the end of the run.

A link that goes down and stays down makes TCP retransmit with a doubling timeout until
it gives up (RFC 6298; 15 retries, as Linux's tcp_retries2): the transfer or exchange it
broke is a tcp.csv row with the reason, the other sources carry on, and the results are
saved. Counters that wrap in the real protocol wrap here too: the ICMP echo sequence
number is 16 bits (RFC 792), so the 65,537th ping of a run carries sequence 0 again.
"""

from __future__ import annotations

import netsim

LAN = """\
name: failures
duration: {duration}
topology:
  nodes:
    h1: {{kind: host}}
    sw1: {{kind: switch, ports: 4}}
    h2: {{kind: host}}
  links:
    - endpoints: [h1, sw1]
    - endpoints: [sw1, h2]
traffic:
{traffic}
{events}
"""

LINK_STAYS_DOWN = "events:\n  - {at: 2ms, action: link-down, link: [sw1, h2]}"


def run(traffic: str, events: str = "", duration: str = "10ms") -> netsim.Results:
    text = LAN.format(traffic=traffic, events=events, duration=duration)
    return netsim.run(netsim.loads(text))


def test_a_bulk_transfer_cut_off_is_a_row_with_the_reason():
    res = run("  - {kind: tcp, from: h1, to: h2, bytes: 1MB}", LINK_STAYS_DOWN)
    (row,) = res.tcp.itertuples()
    assert row.kind == "bulk"
    assert row.error == "connection to 10.0.0.2:5001 timed out"
    assert not row.intact
    assert 0 < row.bytes < 1_000_000
    assert row.timeouts == 15 and row.retransmissions >= 15
    # 15 doubling timeouts from a 200 ms minimum, capped at 120 s: minutes, not seconds.
    assert 120 < row.t_end < 1000


def test_an_exchange_left_without_its_response_is_a_row_and_the_run_goes_on():
    traffic = (
        "  - {kind: tcp, from: h1, to: h2, request: 100B, response: 2KB, count: 5}\n"
        "  - {kind: frames, from: h1, to: h2, size: 64, count: 3, interval: 1ms}"
    )
    res = run(traffic, LINK_STAYS_DOWN)
    (row,) = res.tcp.itertuples()
    assert row.kind == "exchange" and row.exchange == 0
    assert "timed out" in row.error
    frames = res.frames[res.frames["traffic"] == "frames2"]
    assert list(frames["outcome"]) == ["delivered", "delivered", "dropped"]
    assert list(frames["drop_reason"])[-1] == "no-egress"  # sw1 has no other port up


def test_a_connection_to_a_host_that_never_answers_is_a_failed_row():
    res = run("  - {kind: tcp, from: h1, to: h2, bytes: 10KB, start: 3ms}", LINK_STAYS_DOWN)
    (row,) = res.tcp.itertuples()
    assert row.kind == "failed" and row.bytes == 0
    assert "timed out" in row.error


def test_transfers_that_succeed_have_no_error():
    res = run("  - {kind: tcp, from: h1, to: h2, bytes: 100KB}")
    (row,) = res.tcp.itertuples()
    assert row.bytes == 100_000 and row.intact and row.error == ""


def test_the_icmp_sequence_number_wraps_after_65535():
    """70,000 echo requests, one every microsecond, to a host whose link is down (so each
    costs only its request and its timeout): sequence numbers run 0..65535 and start
    again at 0, as on the wire, and every request is recorded."""
    res = run(
        "  - {kind: ping, from: h1, to: h2, count: 70000, interval: 1us, size: 0, timeout: 1us}",
        "events:\n  - {at: 0s, action: link-down, link: [sw1, h2]}",
        duration="1ms",
    )
    ping = res.ping
    assert len(ping) == 70_000
    assert ping["seq"].max() == 65_535
    by_time = ping.sort_values("t_sent", kind="stable")
    assert list(by_time["seq"].iloc[65_534:65_538]) == [65_534, 65_535, 0, 1]
    assert set(ping["outcome"]) == {"timeout"}


def test_replies_are_matched_to_their_request_by_sequence_number():
    """Requests are now scheduled one by one (each schedules the next, so a huge count
    costs no memory up front): every one still goes out on time and is answered."""
    res = run("  - {kind: ping, from: h1, to: h2, count: 300, interval: 10us, size: 0}")
    assert (res.ping["outcome"] == "reply").all()
    assert list(res.ping.sort_values("t_sent")["seq"]) == list(range(300))
