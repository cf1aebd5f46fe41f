"""The routing table: the longest matching prefix wins, connected beats static.

A router holds one route per prefix. For a destination, every route whose prefix
contains it matches; the one with the longest prefix is used (RFC 1812 §5.2.4.3), so
a /24 beats a /16 and anything beats the default route 0.0.0.0/0. The oracle in the
property test is the definition itself, computed by brute force with ``ipaddress``.
"""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.l3.engine import decrement_ttl
from netsim.l3.routing_table import Route, RouteSource, RoutingTable
from netsim.net.addressing import IPv4Address, IPv4Network
from netsim.net.checksum import internet_checksum
from netsim.net.ipv4 import Ipv4Packet


def static(prefix: str, via: str, iface: str = "Gi0/1") -> Route:
    return Route(IPv4Network(prefix), iface, IPv4Address(via), RouteSource.STATIC)


def test_the_longest_prefix_wins_and_the_default_route_catches_the_rest():
    table = RoutingTable()
    table.add(Route(IPv4Network("10.0.1.0/24"), "Gi0/0", None, RouteSource.CONNECTED))
    table.add(static("10.0.0.0/8", "10.0.1.2"))
    table.add(static("10.2.0.0/16", "10.0.1.3"))
    table.add(static("0.0.0.0/0", "10.0.1.254"))
    assert table.lookup(IPv4Address("10.0.1.9")).interface == "Gi0/0"  # type: ignore[union-attr]
    assert table.lookup(IPv4Address("10.2.3.4")).next_hop == IPv4Address("10.0.1.3")  # type: ignore[union-attr]
    assert table.lookup(IPv4Address("10.9.9.9")).next_hop == IPv4Address("10.0.1.2")  # type: ignore[union-attr]
    assert table.lookup(IPv4Address("192.0.2.1")).next_hop == IPv4Address("10.0.1.254")  # type: ignore[union-attr]


def test_no_route_without_a_default():
    table = RoutingTable()
    table.add(static("10.0.0.0/8", "10.0.1.2"))
    assert table.lookup(IPv4Address("192.0.2.1")) is None


def test_a_connected_route_beats_a_static_one_to_the_same_prefix():
    table = RoutingTable()
    connected = Route(IPv4Network("10.0.1.0/24"), "Gi0/0", None, RouteSource.CONNECTED)
    assert table.add(connected)
    assert not table.add(static("10.0.1.0/24", "10.0.2.2"))
    assert table.lookup(IPv4Address("10.0.1.5")) == connected


def test_changing_the_table_empties_the_lookup_cache():
    table = RoutingTable()
    table.add(static("0.0.0.0/0", "10.0.1.254"))
    dst = IPv4Address("10.7.0.1")
    assert table.lookup(dst).prefix.prefixlen == 0  # type: ignore[union-attr]
    table.add(static("10.7.0.0/16", "10.0.1.3"))
    assert table.lookup(dst).prefix.prefixlen == 16  # type: ignore[union-attr]
    table.remove(IPv4Network("10.7.0.0/16"))
    assert table.lookup(dst).prefix.prefixlen == 0  # type: ignore[union-attr]


prefixes = st.builds(
    lambda address, length: ipaddress.IPv4Network((address, length), strict=False),
    st.integers(0, 2**32 - 1),
    st.integers(0, 32),
)


@settings(derandomize=True, max_examples=150, deadline=None)
@given(st.lists(prefixes, max_size=12), st.lists(st.integers(0, 2**32 - 1), max_size=12))
def test_lookup_is_the_longest_matching_prefix(nets, addresses):
    table = RoutingTable()
    for i, net in enumerate(nets):
        table.add(static(str(net), "10.0.0.1", f"if{i}"))
    for a in addresses:
        dst = IPv4Address(a)
        matching = [n for n in set(nets) if dst in n]
        found = table.lookup(dst)
        if not matching:
            assert found is None
        else:
            assert found is not None
            assert found.prefix == max(matching, key=lambda n: n.prefixlen)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(
    ttl=st.integers(1, 255),
    ident=st.integers(0, 0xFFFF),
    tos=st.integers(0, 255),
    protocol=st.integers(0, 255),
    src=st.integers(0, 2**32 - 1),
    dst=st.integers(0, 2**32 - 1),
    payload=st.binary(max_size=40),
)
def test_the_incremental_checksum_equals_a_full_recomputation(
    ttl, ident, tos, protocol, src, dst, payload
):
    """RFC 1624's incremental update gives the checksum that summing the header again
    gives (RFC 1071), including the one's complement corner cases."""
    packet = Ipv4Packet(
        IPv4Address(src), IPv4Address(dst), protocol, payload, ttl=ttl, identification=ident,
        tos=tos,
    )  # fmt: skip
    header = packet.header_bytes()
    patched = decrement_ttl(header)
    assert patched[8] == ttl - 1
    assert internet_checksum(patched) == 0
    if ttl > 1:
        assert patched == packet.decremented_ttl().header_bytes()
