"""TCP across the simulated fabric, checked against the arithmetic of framing and windows.

A full-size segment carries 1460 bytes of payload in 1460 + 20 (TCP) + 20 (IPv4) + 14 + 4
(Ethernet) = 1518 frame bytes, plus 8 of preamble and 12 of gap on the wire: at best
1460/1538 of the link rate is goodput. A window-limited sender gets one window per round
trip: goodput = window / RTT.
"""

from __future__ import annotations

import pytest

import netsim

CHAIN = """
name: tcp
duration: {duration}
topology:
  defaults:
    link: {{speed: {speed}, delay: 1us}}
    host: {{{host}}}
  nodes:
    h1: {{kind: host}}
    sw1: {{kind: switch, ports: 4{sw}}}
    sw2: {{kind: switch, ports: 4}}
    h2: {{kind: host{h2}}}
  links:
    - {{endpoints: [h1, sw1]{ber}}}
    - endpoints: [sw1, sw2]
    - endpoints: [sw2, h2]
traffic:
{traffic}
"""


def run(
    traffic: str,
    *,
    speed: str = "100M",
    host: str = "",
    h2: str = "",
    sw: str = "",
    ber: str = "",
    duration: str = "1s",
) -> netsim.Results:
    text = CHAIN.format(
        traffic=traffic, speed=speed, host=host, h2=h2, sw=sw, ber=ber, duration=duration
    )
    return netsim.run(netsim.loads(text))


BULK = "  - {kind: tcp, name: bulk, from: h1, to: h2, bytes: 4MB}"


def test_bulk_transfer_reaches_the_goodput_framing_allows():
    res = run(BULK)
    (row,) = res.tcp.to_dict("records")
    best = 100e6 * 1460 / 1538
    assert row["intact"] is True or row["intact"] == True  # noqa: E712 - numpy bool
    assert row["goodput_bps"] >= 0.9 * best
    assert row["goodput_bps"] <= best
    assert row["retransmissions"] == 0


def test_a_small_window_gives_window_over_rtt():
    """Receiver window 2920 bytes (two segments), ACKs sent at once (no delayed ACK):
    the sender sends two segments and waits. RTT = a full segment's store-and-forward
    trip over 3 links plus the ACK's: 3 * (1526*8/R + d) + 3 * (72*8/R + d)."""
    res = run(BULK, h2=", tcp_window: 2920B, delayed_ack: false")
    (row,) = res.tcp.to_dict("records")
    rate, d = 100e6, 1e-6
    rtt = 3 * (1526 * 8 / rate + d) + 3 * (72 * 8 / rate + d)
    expected = 2920 * 8 / rtt
    assert expected < 100e6 * 1460 / 1538  # the window, not the link, is the limit
    # Within 3 %: the receiver also sends a window update when the application reads,
    # one more 64-byte frame per window on the return path.
    assert row["goodput_bps"] == pytest.approx(expected, rel=0.03)


def test_bit_errors_are_repaired_every_byte_arrives_once_in_order():
    res = run(BULK, ber=", ber: 2e-6")
    (row,) = res.tcp.to_dict("records")
    assert bool(row["intact"])
    assert row["bytes"] == 4_000_000
    assert row["retransmissions"] > 0
    dropped = res.frames[res.frames["outcome"] == "dropped"]
    assert set(dropped["drop_reason"]) == {"fcs-error"}


def test_an_undersized_switch_buffer_loses_frames_and_tcp_recovers():
    """h1 on 1G into a 100M path with 6KB of buffer: slow start overflows the queue."""
    text = CHAIN.format(
        traffic=BULK,
        speed="100M",
        host="",
        h2="",
        sw=", buffer: 6KB",
        ber=", speed: 1G",
        duration="1s",
    )
    res = netsim.run(netsim.loads(text))
    (row,) = res.tcp.to_dict("records")
    assert bool(row["intact"])
    assert row["retransmissions"] > 0
    assert (res.frames["drop_reason"] == "queue-full").any()


WRITE_WRITE_READ = (
    "  - {kind: tcp, name: rpc, from: h1, to: h2, request: [100B, 100B], response: 100B,\n"
    "     count: 5, interval: 10ms}"
)


def test_nagle_and_delayed_ack_stall_a_write_write_read_exchange():
    """The client writes 100 bytes, then 100 more, then waits for the answer. Nagle holds
    the second write until the first is acknowledged; the server delays that ACK, hoping
    to piggyback it on a response it cannot send before it has the whole request: each
    exchange waits out the 40 ms delayed-ACK timer."""
    stalled = run(WRITE_WRITE_READ).tcp
    assert (stalled["duration"] > 0.040).all()
    assert (stalled["duration"] < 0.045).all()


def test_tcp_nodelay_removes_the_stall():
    fast = run(WRITE_WRITE_READ, host="nagle: false").tcp
    assert (fast["duration"] < 0.001).all()
    assert fast["intact"].all()
