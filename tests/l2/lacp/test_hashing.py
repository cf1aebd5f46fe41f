"""The EtherChannel member hash: a pure function of a frame's addresses.

The low three bits of the chosen address (or the XOR of two addresses) give one of eight
buckets; buckets are dealt to the members in turn. So with the default ``src-mac``, 16
hosts whose MACs differ in the last octet split 8/8 over two links and 6/6/4 over three,
and one host always uses one link.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.l2.lacp.hashing import (
    DEFAULT_LOAD_BALANCE,
    LoadBalance,
    bucket,
    bucket_owner,
    select_member,
)
from netsim.net.addressing import IPv4Address

SERVER = 0x0200_0000_00FF
HOSTS = [0x0200_0000_0100 + i for i in range(16)]


def test_the_catalyst_default_is_src_mac() -> None:
    assert DEFAULT_LOAD_BALANCE is LoadBalance.SRC_MAC


@pytest.mark.parametrize(
    ("members", "shares"),
    [
        (2, [8, 8]),
        (3, [6, 6, 4]),
        (4, [4, 4, 4, 4]),
        (5, [4, 4, 4, 2, 2]),
        (8, [2] * 8),
    ],
)
def test_sixteen_hosts_by_src_mac_split_as_the_bucket_table_says(
    members: int, shares: list[int]
) -> None:
    counts = Counter(select_member(LoadBalance.SRC_MAC, members, h, SERVER) for h in HOSTS)
    assert [counts[m] for m in range(members)] == shares


def test_traffic_to_one_server_by_dst_mac_uses_one_link() -> None:
    """dst-mac: everyone sending to the same server shares one member."""
    assert {select_member(LoadBalance.DST_MAC, 2, h, SERVER) for h in HOSTS} == {1}


def test_the_cisco_bucket_ratios() -> None:
    """Buckets per member for 2..8 members: 4:4, 3:3:2, 2:2:2:2, 2:2:2:1:1, ..."""
    table = {
        n: sorted(Counter(bucket_owner(b, n) for b in range(8)).values(), reverse=True)
        for n in range(2, 9)
    }
    assert table == {
        2: [4, 4],
        3: [3, 3, 2],
        4: [2, 2, 2, 2],
        5: [2, 2, 2, 1, 1],
        6: [2, 2, 1, 1, 1, 1],
        7: [2, 1, 1, 1, 1, 1, 1],
        8: [1] * 8,
    }


def test_ip_methods_hash_the_low_bits_of_the_addresses() -> None:
    src, dst = int(IPv4Address("10.0.0.5")), int(IPv4Address("10.0.0.25"))
    assert bucket(LoadBalance.SRC_IP, 0, 0, src, dst) == 5
    assert bucket(LoadBalance.DST_IP, 0, 0, src, dst) == 25 & 7
    assert bucket(LoadBalance.SRC_DST_IP, 0, 0, src, dst) == (5 ^ 25) & 7


def test_ip_methods_fall_back_to_macs_for_frames_without_ip() -> None:
    assert bucket(LoadBalance.SRC_IP, 0x13, 0x20) == bucket(LoadBalance.SRC_MAC, 0x13, 0x20)
    assert bucket(LoadBalance.SRC_DST_IP, 0x13, 0x20) == (0x13 ^ 0x20) & 7


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.sampled_from(LoadBalance),
    st.integers(1, 8),
    st.integers(0, (1 << 48) - 1),
    st.integers(0, (1 << 48) - 1),
    st.integers(0, (1 << 32) - 1),
    st.integers(0, (1 << 32) - 1),
)
def test_a_flow_always_maps_to_one_valid_member(
    method: LoadBalance, members: int, smac: int, dmac: int, sip: int, dip: int
) -> None:
    """Deterministic, in range, and the XOR methods do not care about direction."""
    member = select_member(method, members, smac, dmac, sip, dip)
    assert 0 <= member < members
    assert member == select_member(method, members, smac, dmac, sip, dip)
    if method in (LoadBalance.SRC_DST_MAC, LoadBalance.SRC_DST_IP):
        assert member == select_member(method, members, dmac, smac, dip, sip)


def test_bundles_have_one_to_eight_members() -> None:
    with pytest.raises(ValueError, match="1 to 8"):
        select_member(LoadBalance.SRC_MAC, 9, 1, 2)
