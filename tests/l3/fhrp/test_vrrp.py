"""VRRP v3 (RFC 5798): advertisements as IP protocol 112, a master and backups.

The failover oracle: a backup takes over when it has heard nothing for the master down
interval, 3 × interval + (256 − priority) × interval / 256 = 3.609375 s at priority 100
and 1 s. The last advertisement left at most one interval before the failure, so the
takeover comes between MDI − interval and MDI after it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.l3.fhrp.common import Forward, Send
from netsim.l3.fhrp.vrrp import (
    GROUP,
    PROTOCOL,
    TTL,
    VrrpAdvertisement,
    VrrpConfig,
    VrrpRouter,
    VrrpState,
    virtual_mac,
)
from netsim.net.addressing import IPv4Address, IPv4Interface
from netsim.net.checksum import internet_checksum
from netsim.net.errors import DecodeError
from netsim.net.ipv4 import Ipv4Packet
from tests.l3.fhrp.lan import Lan
from tests.l3.wire import TSHARK, frame_bytes, multicast_mac, tshark_fields

VIP = IPv4Address("10.1.20.1")
SRC = IPv4Address("10.1.20.2")


def test_the_master_down_interval_at_the_defaults_is_3_609_seconds() -> None:
    config = VrrpConfig(20, VIP)
    assert config.skew_time(1.0) == 156 / 256
    assert config.master_down_interval(1.0) == 3.609375
    assert VrrpConfig(20, VIP, priority=254).master_down_interval(1.0) == 3 + 2 / 256


def test_an_advertisement_has_the_rfc_5798_layout() -> None:
    octets = VrrpAdvertisement(20, 100, (VIP,), 1.0).to_bytes(SRC)
    assert octets[:6] == bytes([0x31, 20, 100, 1, 0x00, 100])  # v3 type 1, 100 centiseconds
    assert octets[8:] == VIP.packed
    pseudo = SRC.packed + GROUP.packed + bytes([0, PROTOCOL, 0, len(octets)])
    assert internet_checksum(pseudo + octets) == 0
    assert virtual_mac(20) == 0x0000_5E00_0114


adverts = st.builds(
    VrrpAdvertisement,
    st.integers(1, 255),
    st.integers(0, 255),
    st.lists(st.integers(0, (1 << 32) - 1).map(IPv4Address), min_size=1, max_size=5).map(tuple),
    st.integers(1, 0xFFF).map(lambda c: c / 100),
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(adverts)
def test_every_advertisement_round_trips(advert: VrrpAdvertisement) -> None:
    assert VrrpAdvertisement.from_bytes(advert.to_bytes(SRC), SRC) == advert


@settings(max_examples=30, deadline=None, derandomize=True)
@given(adverts)
def test_fed_a_byte_at_a_time_no_prefix_decodes(advert: VrrpAdvertisement) -> None:
    octets = advert.to_bytes(SRC)
    for cut in range(len(octets)):
        with pytest.raises(DecodeError, match="VRRP"):
            VrrpAdvertisement.from_bytes(octets[:cut], SRC)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.binary(max_size=40), st.sampled_from([b"", b"\x31"]))
def test_random_bytes_decode_or_raise_decode_error(data: bytes, prefix: bytes) -> None:
    try:
        VrrpAdvertisement.from_bytes(prefix + data, SRC)
    except DecodeError as error:
        assert str(error).startswith("VRRP")


def test_an_advertisement_from_another_source_fails_the_checksum() -> None:
    octets = VrrpAdvertisement(20, 100, (VIP,)).to_bytes(SRC)
    with pytest.raises(DecodeError, match="checksum"):
        VrrpAdvertisement.from_bytes(octets, IPv4Address("10.1.20.3"))


@pytest.mark.skipif(TSHARK is None, reason="tshark is not installed (Debian package tshark)")
def test_tshark_decodes_an_advertisement_with_a_valid_checksum(tmp_path: Path) -> None:
    router = VrrpRouter(VrrpConfig(20, VIP), IPv4Interface("10.1.20.2/24"), 0x0200_0000_0002)
    router.start(0.0)
    router.tick(4.0)
    send = next(e for e in router.events() if isinstance(e, Send))
    assert (send.dst, send.protocol, send.ttl, send.src_mac) == (GROUP, 112, 255, virtual_mac(20))
    packet = Ipv4Packet(SRC, GROUP, send.protocol, send.payload, ttl=send.ttl)
    rows = tshark_fields(
        tmp_path / "vrrp.pcap",
        [frame_bytes(multicast_mac(GROUP), virtual_mac(20), packet)],
        ["vrrp.version", "vrrp.virt_rtr_id", "vrrp.prio", "vrrp.short_adver_int", "vrrp.ip_addr",
         "vrrp.checksum.status", "eth.src", "_ws.malformed"],
    )  # fmt: skip
    assert rows == [["3", "20", "100", "100", "10.1.20.1", "1", "00:00:5e:00:01:14", ""]]


# -- the state machine -------------------------------------------------------------------


def pair(*, r2_priority: int = 100, preempt: bool = True) -> Lan:
    """R1 (priority 110) and R2 on 10.1.20.0/24, virtual IP .1."""
    return Lan(
        {
            "R1": VrrpRouter(
                VrrpConfig(20, VIP, 110, preempt), IPv4Interface("10.1.20.2/24"), 0x02_0001
            ),
            "R2": VrrpRouter(
                VrrpConfig(20, VIP, r2_priority, preempt),
                IPv4Interface("10.1.20.3/24"),
                0x02_0002,
            ),
        }
    )


def states(lan: Lan) -> dict[str, VrrpState]:
    return {name: router.state for name, router in lan.routers.items()}  # type: ignore[misc]


def test_the_higher_priority_becomes_master_the_other_backup() -> None:
    lan = pair()
    lan.start("R1")
    lan.start("R2")
    lan.run_until(10.0)
    assert states(lan) == {"R1": VrrpState.MASTER, "R2": VrrpState.BACKUP}
    # R1's master down interval (3 + 146/256 s) ends before R2's (3 + 156/256 s).
    assert lan.takeovers("R1") == [3 + 146 / 256] and lan.takeovers("R2") == []


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.floats(min_value=10.0, max_value=12.0))
def test_failover_comes_within_the_master_down_interval(failure_at: float) -> None:
    lan = pair()
    lan.start("R1")
    lan.start("R2")
    lan.run_until(failure_at)
    lan.kill("R1")
    lan.run_until(failure_at + 10.0)
    (takeover,) = lan.takeovers("R2")
    mdi = 3.609375
    assert mdi - 1.0 <= takeover - failure_at <= mdi
    forward = next(e for _t, who, e in lan.log if who == "R2" and isinstance(e, Forward))
    assert forward.gratuitous_arp().sender_mac == virtual_mac(20)


def test_the_address_owner_starts_as_master_at_once() -> None:
    owner = VrrpRouter(VrrpConfig(20, VIP), IPv4Interface("10.1.20.1/24"), 1)
    assert owner.priority == 255
    owner.start(0.0)
    assert owner.state is VrrpState.MASTER


def test_with_preemption_a_better_router_takes_over_after_its_own_down_interval() -> None:
    lan = pair()
    lan.start("R2")
    lan.run_until(10.0)
    lan.start("R1")
    lan.run_until(20.0)
    assert lan.takeovers("R1") == [10.0 + 3 + 146 / 256]
    assert states(lan) == {"R1": VrrpState.MASTER, "R2": VrrpState.BACKUP}


def test_without_preemption_the_master_keeps_its_role() -> None:
    lan = pair(preempt=False)
    lan.start("R2")
    lan.run_until(10.0)
    lan.start("R1")
    lan.run_until(30.0)
    assert states(lan) == {"R1": VrrpState.BACKUP, "R2": VrrpState.MASTER}


def test_a_master_that_shuts_down_sends_priority_0_and_the_backup_waits_only_the_skew() -> None:
    lan = pair()
    lan.start("R1")
    lan.start("R2")
    lan.run_until(10.0)
    r1 = lan.routers["R1"]
    assert isinstance(r1, VrrpRouter)
    r1.shutdown(10.0)
    lan._collect("R1")
    lan.run_until(15.0)
    assert lan.takeovers("R2") == [10.0 + 156 / 256]


def test_advertisements_with_a_ttl_other_than_255_are_ignored() -> None:
    """RFC 5798 §7.1: the packet may have crossed a router; it is not from this link."""
    backup = VrrpRouter(VrrpConfig(20, VIP), IPv4Interface("10.1.20.3/24"), 1)
    backup.start(0.0)
    deadline = backup.next_timer()
    backup.receive(VrrpAdvertisement(20, 200, (VIP,)), SRC, TTL - 1, 1.0)
    assert backup.next_timer() == deadline
    backup.receive(VrrpAdvertisement(20, 200, (VIP,)), SRC, TTL, 1.0)
    assert backup.next_timer() == 1.0 + 3.609375
