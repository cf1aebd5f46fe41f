"""IPv4 interfaces and the on-link/gateway decision of RFC 1122 §3.3.1."""

from __future__ import annotations

import dataclasses

import pytest

from netsim.net.addressing import (
    LIMITED_BROADCAST,
    IpConfig,
    IPv4Address,
    IPv4Network,
    NoRouteError,
    address_from_packed,
    auto_interface,
    parse_interface,
)


def test_parse_interface_with_and_without_prefix() -> None:
    """A scenario's ``ip: 10.0.0.25/24`` parses; a bare address gets the lab's usual /24."""
    assert str(parse_interface("10.0.0.25/24")) == "10.0.0.25/24"
    assert parse_interface("192.168.1.7").network == IPv4Network("192.168.1.0/24")


@pytest.mark.parametrize("text", ["10.0.0.300/24", "hello", "10.0.0.0/24", "10.0.0.255/24"])
def test_parse_interface_rejects_clearly(text: str) -> None:
    """Nonsense, and a subnet's network or broadcast address, are not host interfaces."""
    with pytest.raises(ValueError, match=r"10\.0\.0|hello"):
        parse_interface(text)


def test_auto_interface_numbers_hosts_from_one() -> None:
    """Host 0 gets .1, host 9 gets .10; running out of addresses is an error."""
    assert str(auto_interface(0)) == "10.0.0.1/24"
    assert str(auto_interface(9)) == "10.0.0.10/24"
    with pytest.raises(ValueError, match="does not fit"):
        auto_interface(254)


def test_next_hop_on_link_direct_and_off_link_via_gateway() -> None:
    """On-link destinations are reached directly; others through the default gateway."""
    cfg = IpConfig(parse_interface("10.0.0.5/24"), gateway=IPv4Address("10.0.0.1"))
    assert cfg.next_hop(IPv4Address("10.0.0.9")) == IPv4Address("10.0.0.9")
    assert cfg.next_hop(IPv4Address("8.8.8.8")) == IPv4Address("10.0.0.1")
    assert cfg.next_hop(LIMITED_BROADCAST) == LIMITED_BROADCAST
    assert cfg.is_local_broadcast(IPv4Address("10.0.0.255"))


def test_off_link_without_gateway_is_no_route() -> None:
    """Without a gateway, a host can only talk to its own subnet."""
    cfg = IpConfig(parse_interface("10.0.0.5/24"))
    with pytest.raises(NoRouteError, match=r"no route to 10\.1\.0\.1"):
        cfg.next_hop(IPv4Address("10.1.0.1"))


def test_the_kept_address_is_the_interface_address_and_survives_replace() -> None:
    """A configuration keeps its address (the stack reads it for every packet); it is the
    interface's, also in a copy made with another interface (a new DHCP lease)."""
    cfg = IpConfig(parse_interface("10.0.0.5/24"))
    assert cfg.address == IPv4Address("10.0.0.5")
    renewed = dataclasses.replace(cfg, interface=parse_interface("10.0.1.7/24"))
    assert renewed.address == IPv4Address("10.0.1.7")
    assert renewed == IpConfig(parse_interface("10.0.1.7/24"))


def test_addresses_decoded_from_headers_are_shared_and_equal() -> None:
    """A decoder builds each address once: the same 4 bytes give the same object."""
    packed = bytes((192, 168, 1, 20))
    assert address_from_packed(packed) == IPv4Address("192.168.1.20")
    assert address_from_packed(bytes(packed)) is address_from_packed(packed)
