"""The ARP cache as pure logic: every step driven by an explicit ``now``."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.net.addressing import IPv4Address
from netsim.net.arp import ArpOp, ArpPacket
from netsim.net.arp_cache import ArpCache, ArpConfig

ME_MAC = 0x020000000001
ME = IPv4Address("10.0.0.1")
PEER_MAC = 0x020000000002
PEER = IPv4Address("10.0.0.2")
OTHER_MAC = 0x020000000003
OTHER = IPv4Address("10.0.0.3")


def test_unknown_address_queues_the_packet_and_requests_at_once() -> None:
    """The first packet to an unknown address waits, and a request is due right away."""
    cache: ArpCache[str] = ArpCache()
    assert cache.resolve(PEER, "packet 1", now=0.0) is None
    assert cache.next_timer() == 0.0
    poll = cache.poll(0.0)
    assert poll.requests == [PEER] and poll.failures == []
    assert cache.is_pending(PEER)


def test_reply_releases_waiting_packets_in_order() -> None:
    """The reply teaches the mapping; the queued packets go out, oldest first."""
    cache: ArpCache[str] = ArpCache()
    cache.resolve(PEER, "first", 0.0)
    cache.poll(0.0)
    cache.resolve(PEER, "second", 0.1)
    assert cache.poll(0.1).requests == [], "one request per second at most (RFC 1122)"
    reply = ArpPacket(ArpOp.REPLY, PEER_MAC, PEER, ME_MAC, ME)
    handled = cache.handle(reply, ME, ME_MAC, now=0.2)
    assert handled.reply is None
    assert handled.released == [(PEER_MAC, "first"), (PEER_MAC, "second")]
    assert cache.resolve(PEER, "third", 0.3) == PEER_MAC
    assert cache.next_timer() is None


def test_retries_then_failure_drops_the_queue() -> None:
    """Three requests a second apart; a second after the third, the address fails."""
    cache: ArpCache[str] = ArpCache(ArpConfig(retry_interval=1.0, max_requests=3))
    cache.resolve(PEER, "p", 0.0)
    times = []
    now = 0.0
    failures = []
    while (deadline := cache.next_timer()) is not None:
        now = deadline
        poll = cache.poll(now)
        times += [now] * len(poll.requests)
        failures += poll.failures
    assert times == [0.0, 1.0, 2.0]
    assert now == 3.0
    assert [(f.ip, f.packets) for f in failures] == [(PEER, ("p",))]
    assert cache.stats.failures == 1 and cache.stats.packets_dropped == 1


def test_queue_keeps_the_newest_packets() -> None:
    """With max_pending=2, a third waiting packet pushes out the oldest (RFC 1122 §2.3.2.2)."""
    cache: ArpCache[int] = ArpCache(ArpConfig(max_pending=2))
    for i in range(3):
        cache.resolve(PEER, i, 0.0)
    released = cache.learn(PEER, PEER_MAC, 0.5)
    assert released == [1, 2]
    assert cache.stats.packets_dropped == 1


def test_entries_time_out() -> None:
    """A mapping is trusted for entry_timeout seconds, then must be resolved again."""
    cache: ArpCache[str] = ArpCache(ArpConfig(entry_timeout=60.0))
    cache.learn(PEER, PEER_MAC, now=10.0)
    assert cache.lookup(PEER, 69.9) == PEER_MAC
    assert cache.entries(69.9) == {PEER: PEER_MAC}
    assert cache.lookup(PEER, 70.0) is None
    assert cache.resolve(PEER, "late", 70.0) is None


def test_request_for_us_is_answered_and_teaches_the_asker() -> None:
    """RFC 826: a request for our address adds the asker and gets a unicast reply."""
    cache: ArpCache[str] = ArpCache()
    request = ArpPacket.request(PEER_MAC, PEER, ME)
    handled = cache.handle(request, ME, ME_MAC, 0.0)
    assert handled.reply == ArpPacket(ArpOp.REPLY, ME_MAC, ME, PEER_MAC, PEER)
    assert cache.lookup(PEER, 1.0) == PEER_MAC


def test_overheard_request_only_updates_existing_entries() -> None:
    """A broadcast request for someone else refreshes a known sender but adds no stranger."""
    cache: ArpCache[str] = ArpCache()
    cache.learn(PEER, 0x0200000000FF, 0.0)  # stale MAC
    cache.handle(ArpPacket.request(PEER_MAC, PEER, OTHER), ME, ME_MAC, 1.0)
    assert cache.lookup(PEER, 1.0) == PEER_MAC, "the merge flag: update what we know"
    handled = cache.handle(ArpPacket.request(OTHER_MAC, OTHER, PEER), ME, ME_MAC, 1.0)
    assert handled.reply is None
    assert cache.lookup(OTHER, 1.0) is None, "not addressed to us: not added"


def test_config_is_validated() -> None:
    """Nonsense timing is refused when the config is built."""
    with pytest.raises(ValueError, match="positive"):
        ArpConfig(retry_interval=0)
    with pytest.raises(ValueError, match="at least one"):
        ArpConfig(max_requests=0)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["send", "reply", "wait"]), st.integers(0, 3), st.floats(0, 2.5)),
        max_size=40,
    )
)
def test_every_packet_is_accounted_for_exactly_once(steps: list[tuple[str, int, float]]) -> None:
    """Whatever the order of sends, replies and waiting, each packet ends exactly one way:
    sent at once, released by a reply, dropped from a full queue, reported failed, or
    still waiting; and no address is asked for more often than once a second."""
    cache: ArpCache[int] = ArpCache(ArpConfig(max_pending=2))
    now = 0.0
    delivered: list[int] = []
    failed: list[int] = []
    requests: dict[IPv4Address, list[float]] = {}
    created = 0
    for action, host, dt in steps:
        now += dt
        ip = IPv4Address(f"10.0.0.{10 + host}")
        if action == "send":
            if cache.resolve(ip, created, now) is not None:
                delivered.append(created)
            created += 1
        elif action == "reply":
            reply = ArpPacket(ArpOp.REPLY, 0x020000000100 + host, ip, ME_MAC, ME)
            delivered += [packet for _, packet in cache.handle(reply, ME, ME_MAC, now).released]
        poll = cache.poll(now)
        for requested in poll.requests:
            requests.setdefault(requested, []).append(now)
        for failure in poll.failures:
            failed += failure.packets
    waiting = [p for pending in cache._pending.values() for p in pending.packets]
    queue_drops = cache.stats.packets_dropped - len(failed)
    outcomes = delivered + failed + waiting
    assert len(outcomes) == len(set(outcomes)), "no packet twice"
    assert len(outcomes) + queue_drops == created
    for times in requests.values():
        assert all(b - a >= 1.0 - 1e-9 for a, b in itertools.pairwise(times))
