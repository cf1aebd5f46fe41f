"""HSRP (RFC 2281, Cisco v2): hellos on UDP 1985, an active and a standby router.

The failover oracle: the standby presumes the active dead when no hello has come for the
hold time. The last hello left at most one hello time before the failure, so takeover
comes between hold − hello and hold after it (7..10 s at the defaults), never sooner,
never later, wherever in the hello cycle the failure falls.
"""

from __future__ import annotations

from pathlib import Path

import dpkt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.l3.fhrp.common import Forward, Send, StateChanged, StopForwarding
from netsim.l3.fhrp.hsrp import (
    GROUP_V1,
    GROUP_V2,
    PORT,
    HsrpConfig,
    HsrpGroup,
    HsrpMessage,
    HsrpOpcode,
    HsrpState,
    virtual_mac,
)
from netsim.net.addressing import IPv4Address, IPv4Interface
from netsim.net.errors import DecodeError
from netsim.net.ipv4 import Ipv4Packet
from tests.l3.fhrp.lan import Lan
from tests.l3.wire import TSHARK, frame_bytes, multicast_mac, tshark_fields

VIP = IPv4Address("10.1.10.1")
HELLO = HsrpMessage(
    2, HsrpOpcode.HELLO, HsrpState.ACTIVE, 10, 110, VIP, 3.0, 10.0, 0x0200_0000_0002
)


def test_virtual_macs_follow_the_version() -> None:
    assert virtual_mac(10, version=1) == 0x0000_0C07_AC0A
    assert virtual_mac(10, version=2) == 0x0000_0C9F_F00A
    assert virtual_mac(4095, version=2) == 0x0000_0C9F_FFFF


def test_a_v1_hello_is_the_20_bytes_dpkt_reads() -> None:
    """dpkt's HSRP class (version 1 layout) agrees on every field."""
    message = HsrpMessage(1, HsrpOpcode.HELLO, HsrpState.STANDBY, 7, 90, VIP)
    octets = message.to_bytes()
    assert len(octets) == 20
    theirs = dpkt.hsrp.HSRP(octets)
    assert (theirs.version, theirs.opcode, theirs.state) == (0, 0, 8)
    assert (theirs.hello, theirs.hold, theirs.priority, theirs.group) == (3, 10, 90, 7)
    assert theirs.auth == b"cisco\x00\x00\x00" and theirs.vip == VIP.packed


def test_a_v2_hello_is_a_40_byte_group_state_tlv() -> None:
    octets = HELLO.to_bytes()
    assert octets[:2] == bytes([1, 40]) and len(octets) == 42
    assert octets[2:6] == bytes([2, 0, 6, 4])  # version 2, hello, active (v2 code 6), IPv4
    assert octets[6:8] == (10).to_bytes(2, "big")
    assert octets[18:26] == (3000).to_bytes(4, "big") + (10000).to_bytes(4, "big")


messages = st.builds(
    HsrpMessage,
    st.sampled_from([1, 2]),
    st.sampled_from(HsrpOpcode),
    st.sampled_from(HsrpState),
    st.integers(0, 255),
    st.integers(0, 255),
    st.integers(0, (1 << 32) - 1).map(IPv4Address),
    st.integers(1, 255).map(float),
    st.integers(1, 255).map(float),
    st.integers(0, (1 << 48) - 1),
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(messages)
def test_every_message_round_trips(message: HsrpMessage) -> None:
    decoded = HsrpMessage.from_bytes(message.to_bytes())
    if message.version == 1:  # v1 carries no identifier
        assert decoded == HsrpMessage(
            1, message.opcode, message.state, message.group, message.priority,
            message.virtual_ip, message.hello_time, message.hold_time,
        )  # fmt: skip
    else:
        assert decoded == HsrpMessage(
            2, message.opcode, message.state, message.group, message.priority,
            message.virtual_ip, message.hello_time, message.hold_time, message.identifier,
            decoded.authentication,
        )  # fmt: skip


@settings(max_examples=30, deadline=None, derandomize=True)
@given(messages)
def test_fed_a_byte_at_a_time_no_prefix_decodes(message: HsrpMessage) -> None:
    octets = message.to_bytes()
    for cut in range(len(octets)):
        with pytest.raises(DecodeError, match="HSRP"):
            HsrpMessage.from_bytes(octets[:cut])


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.binary(max_size=50), st.sampled_from([b"", b"\x00", b"\x01\x28\x02"]))
def test_random_bytes_decode_or_raise_decode_error(data: bytes, prefix: bytes) -> None:
    try:
        HsrpMessage.from_bytes(prefix + data)
    except DecodeError as error:
        assert str(error).startswith("HSRP")


@pytest.mark.skipif(TSHARK is None, reason="tshark is not installed (Debian package tshark)")
def test_tshark_decodes_v1_and_v2_hellos_with_valid_checksums(tmp_path: Path) -> None:
    frames = []
    src = IPv4Address("10.1.10.2")
    for version, group in ((1, GROUP_V1), (2, GROUP_V2)):
        router = HsrpGroup(
            HsrpConfig(10, VIP, priority=110, version=version),
            IPv4Interface("10.1.10.2/24"),
            0x0200_0000_0002,
        )
        router.start(0.0)
        for t in (10.0, 20.0):
            router.tick(t)
        sends = [e for e in router.events() if isinstance(e, Send)]
        assert sends[-1].dst == group and sends[-1].src_mac == virtual_mac(10, version)
        packet = Ipv4Packet(src, group, sends[-1].protocol, sends[-1].payload, ttl=sends[-1].ttl)
        frames.append(frame_bytes(multicast_mac(group), virtual_mac(10, version), packet))
    rows = tshark_fields(
        tmp_path / "hsrp.pcap",
        frames,
        ["udp.dstport", "hsrp.state", "hsrp2.state", "hsrp.virt_ip", "hsrp2.virt_ip",
         "hsrp2.group", "hsrp2.priority", "hsrp2.hellotime", "udp.checksum.status", "ip.ttl",
         "_ws.malformed"],
    )  # fmt: skip
    assert rows == [
        [str(PORT), "16", "", "10.1.10.1", "", "", "", "", "1", "1", ""],
        [str(PORT), "", "6", "", "10.1.10.1", "10", "110", "3000", "1", "1", ""],
    ]


# -- the state machine -------------------------------------------------------------------


def pair(*, preempt: bool = False, version: int = 2) -> Lan:
    """R1 (priority 110) and R2 (priority 100) on 10.1.10.0/24, virtual IP .1."""
    return Lan(
        {
            "R1": HsrpGroup(
                HsrpConfig(10, VIP, 110, preempt, version),
                IPv4Interface("10.1.10.2/24"),
                0x0200_0000_0001,
            ),
            "R2": HsrpGroup(
                HsrpConfig(10, VIP, 100, False, version),
                IPv4Interface("10.1.10.3/24"),
                0x0200_0000_0002,
            ),
        }
    )


def states(lan: Lan) -> dict[str, HsrpState]:
    return {name: router.state for name, router in lan.routers.items()}  # type: ignore[misc]


def test_two_routers_elect_the_higher_priority_active_and_the_other_standby() -> None:
    lan = pair()
    lan.start("R1")
    lan.start("R2")
    lan.run_until(40.0)
    assert states(lan) == {"R1": HsrpState.ACTIVE, "R2": HsrpState.STANDBY}
    assert lan.takeovers("R1") and not lan.takeovers("R2")
    path = [e.new for _t, who, e in lan.log if who == "R1" and isinstance(e, StateChanged)]
    assert path == ["listen", "speak", "standby", "active"]


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.floats(min_value=40.0, max_value=46.0))
def test_failover_comes_between_hold_minus_hello_and_hold(failure_at: float) -> None:
    """Wherever the failure falls in the 3 s hello cycle: 7 s <= gap <= 10 s."""
    lan = pair()
    lan.start("R1")
    lan.start("R2")
    lan.run_until(failure_at)
    lan.kill("R1")
    lan.run_until(failure_at + 15.0)
    (takeover,) = lan.takeovers("R2")
    assert 10.0 - 3.0 <= takeover - failure_at <= 10.0
    assert lan.routers["R2"].state is HsrpState.ACTIVE


def test_the_new_active_announces_the_virtual_mac_with_a_gratuitous_arp() -> None:
    lan = pair(version=1)
    lan.start("R1")
    lan.start("R2")
    lan.run_until(40.0)
    lan.kill("R1")
    lan.run_until(60.0)
    forward = next(e for _t, who, e in lan.log if who == "R2" and isinstance(e, Forward))
    arp = forward.gratuitous_arp()
    assert arp.sender_mac == 0x0000_0C07_AC0A and arp.sender_ip == arp.target_ip == VIP
    hellos = [e for t, who, e in lan.log if who == "R2" and isinstance(e, Send) and t >= 50]
    assert all(h.src_mac == 0x0000_0C07_AC0A for h in hellos)  # active: from the virtual MAC


def test_without_preemption_a_better_router_that_returns_stays_standby() -> None:
    lan = pair(preempt=False)
    lan.start("R2")
    lan.run_until(30.0)
    lan.start("R1")
    lan.run_until(90.0)
    assert states(lan) == {"R1": HsrpState.STANDBY, "R2": HsrpState.ACTIVE}


def test_with_preemption_a_better_router_takes_over_with_a_coup_at_once() -> None:
    lan = pair(preempt=True)
    lan.start("R2")
    lan.run_until(30.0)
    lan.start("R1")
    lan.run_until(33.0)
    # R2 became active at 20 s and says hello every 3 s: its hello at 32 s is the first
    # R1 hears, and R1 (better, preempting) answers it with a coup at once.
    assert lan.takeovers("R1") == [32.0]
    coups = [
        HsrpMessage.from_bytes(e.payload[8:]).opcode
        for _t, who, e in lan.log
        if who == "R1" and isinstance(e, Send)
    ]
    assert HsrpOpcode.COUP in coups
    assert states(lan) == {"R1": HsrpState.ACTIVE, "R2": HsrpState.SPEAK}
    assert any(isinstance(e, StopForwarding) for _t, who, e in lan.log if who == "R2")


def test_a_resigning_active_hands_over_without_waiting_for_the_hold_time() -> None:
    lan = pair()
    lan.start("R1")
    lan.start("R2")
    lan.run_until(40.0)
    r1 = lan.routers["R1"]
    assert isinstance(r1, HsrpGroup)
    r1.resign(40.0)
    lan._collect("R1")
    lan.run_until(40.5)
    assert lan.takeovers("R2") == [40.0]


def test_a_virtual_ip_outside_the_interface_subnet_is_refused() -> None:
    with pytest.raises(ValueError, match="outside the interface's subnet"):
        HsrpGroup(HsrpConfig(1, IPv4Address("10.9.9.1")), IPv4Interface("10.1.10.2/24"), 1)


def test_hellos_announcing_another_virtual_ip_are_counted() -> None:
    lan = pair()
    r2 = lan.routers["R2"]
    assert isinstance(r2, HsrpGroup)
    r2.config = HsrpConfig(10, IPv4Address("10.1.10.254"))
    lan.start("R1")
    lan.start("R2")
    lan.run_until(40.0)
    r1 = lan.routers["R1"]
    assert isinstance(r1, HsrpGroup) and r1.mismatches > 0
