"""The DHCP server and relay (RFC 2131 §4.3, RFC 1542, RFC 3046), driven by real clients.

A campus of 72 hosts on six floors, each floor its own subnet behind a relay agent,
must get 72 distinct addresses, each from its own floor's subnet; a pool too small for
its floor must warn and leave the extra hosts unconfigured, with no crash.
"""

from __future__ import annotations

import ipaddress
import itertools

import pytest

from netsim.l2.frame import BROADCAST
from netsim.l3.dhcp_server import DhcpServer, PoolConfig, relay_to_client, relay_to_server
from netsim.l3.dhcp_server.relay import MAX_HOPS
from netsim.net.addressing import LIMITED_BROADCAST, IPv4Address, IPv4Interface
from netsim.net.dhcp_client import DhcpClient, DhcpClientState, Transmit
from netsim.net.dhcp_message import (
    CLIENT_PORT,
    SERVER_PORT,
    BootpOp,
    DhcpMessage,
    DhcpMessageType,
    DhcpOption,
    address_option,
)

SERVER = IPv4Interface("10.0.0.1/24")


def floor_pool(n: int, last: int | None = None) -> PoolConfig:
    net = ipaddress.IPv4Network(f"10.1.{n}.0/24")
    return PoolConfig(
        f"floor{n}",
        net,
        gateway=net.network_address + 1,
        last=None if last is None else net.network_address + last,
        excluded=frozenset({net.network_address + 2, net.network_address + 3}),  # HSRP routers
    )


def run_floor(
    server: DhcpServer, floor: int, macs: list[int], now: float = 0.0
) -> list[DhcpClient]:
    """Clients on floor ``floor``, behind a relay whose interface is 10.1.floor.1."""
    relay_if = IPv4Interface(f"10.1.{floor}.1/24")
    xids = itertools.count(floor << 16)
    clients = [DhcpClient(mac, lambda: next(xids)) for mac in macs]
    for client in clients:
        client.start(now)
    by_mac = {c.mac: c for c in clients}
    pending = [(c, e.message) for c in clients for e in c.events() if isinstance(e, Transmit)]
    while pending:
        _client, message = pending.pop(0)
        forwarded = relay_to_server(message, relay_if, circuit_id=f"Gi1/0/{floor}")
        assert forwarded is not None
        reply = server.handle(DhcpMessage.from_bytes(forwarded.to_bytes()), now, SERVER)
        if reply is None:
            continue
        assert (reply.dst, reply.port) == (relay_if.ip, SERVER_PORT)  # back to the relay
        delivered, _ip, _mac = relay_to_client(reply.message)
        target = by_mac[delivered.chaddr]
        target.receive(DhcpMessage.from_bytes(delivered.to_bytes()), now)
        pending += [(target, e.message) for e in target.events() if isinstance(e, Transmit)]
    return clients


def test_72_campus_hosts_get_unique_addresses_from_their_own_subnets() -> None:
    server = DhcpServer(SERVER.ip, [floor_pool(n) for n in range(1, 7)])
    addresses = []
    for floor in range(1, 7):
        macs = [0x0200_0000_0000 | floor << 8 | i for i in range(12)]
        for client in run_floor(server, floor, macs):
            assert client.state is DhcpClientState.BOUND
            assert client.lease is not None
            assert client.lease.interface.network == ipaddress.IPv4Network(f"10.1.{floor}.0/24")
            assert client.lease.gateway == IPv4Address(f"10.1.{floor}.1")
            addresses.append(client.lease.interface.ip)
    assert len(addresses) == 72 == len(set(addresses))
    assert IPv4Address("10.1.1.2") not in addresses  # excluded
    assert len(server.leases()) == 72
    assert server.warnings == []


def test_an_exhausted_pool_warns_and_leaves_the_extra_hosts_unconfigured() -> None:
    """A pool of .4 .. .8 (five addresses) for seven hosts: two stay in SELECTING."""
    server = DhcpServer(SERVER.ip, [floor_pool(1, last=8)])
    macs = [0x0200_0000_0100 | i for i in range(7)]
    clients = run_floor(server, 1, macs)
    bound = [c for c in clients if c.state is DhcpClientState.BOUND]
    assert len(bound) == 5
    assert {c.lease.interface.ip for c in bound if c.lease} == {
        IPv4Address(f"10.1.1.{i}") for i in range(4, 9)
    }
    waiting = [c for c in clients if c.state is DhcpClientState.SELECTING]
    assert [c.mac for c in waiting] == macs[5:]
    assert [(w.pool, w.client_mac) for w in server.warnings] == [("floor1", m) for m in macs[5:]]
    # They keep asking (RFC 2131 §4.1 backoff), and keep being refused, without a crash.
    for client in waiting:
        at = client.next_timer()
        assert at is not None
        client.tick(at)
        (again,) = [e.message for e in client.events() if isinstance(e, Transmit)]
        forwarded = relay_to_server(again, IPv4Interface("10.1.1.1/24"))
        assert forwarded is not None
        assert server.handle(forwarded, at, SERVER) is None
    assert len(server.warnings) == 4


def test_a_released_address_is_handed_out_again() -> None:
    server = DhcpServer(SERVER.ip, [floor_pool(1, last=4)])  # only .4
    (first,) = run_floor(server, 1, [0x0200_0000_0001])
    assert first.lease is not None
    release = DhcpMessage(
        BootpOp.BOOTREQUEST, DhcpMessageType.RELEASE, 9, first.mac,
        ciaddr=first.lease.interface.ip, giaddr=IPv4Address("10.1.1.1"),
        options={DhcpOption.SERVER_ID: address_option(SERVER.ip)},
    )  # fmt: skip
    server.handle(release, 1.0, SERVER)
    (second,) = run_floor(server, 1, [0x0200_0000_0002], now=2.0)
    assert second.lease is not None and second.lease.interface.ip == first.lease.interface.ip


def test_a_request_for_an_address_of_another_subnet_gets_a_nak() -> None:
    server = DhcpServer(SERVER.ip, [floor_pool(1)])
    request = DhcpMessage(
        BootpOp.BOOTREQUEST, DhcpMessageType.REQUEST, 7, 0x0200_0000_0009,
        options={DhcpOption.REQUESTED_ADDRESS: address_option(IPv4Address("192.168.1.20"))},
    )  # fmt: skip
    reply = server.handle(request, 0.0, IPv4Interface("10.1.1.1/24"))
    assert reply is not None
    assert reply.message.message_type is DhcpMessageType.NAK
    assert (reply.dst, reply.port, reply.mac) == (LIMITED_BROADCAST, CLIENT_PORT, BROADCAST)


def test_a_direct_client_that_cannot_take_unicast_is_answered_by_broadcast() -> None:
    server = DhcpServer(SERVER.ip, [floor_pool(0)])
    client = DhcpClient(0x0200_0000_0001, lambda: 5)
    client.start(0.0)
    (discover,) = [e.message for e in client.events() if isinstance(e, Transmit)]
    reply = server.handle(discover, 0.0, IPv4Interface("10.1.0.1/24"))
    assert reply is not None and reply.mac == BROADCAST and reply.port == CLIENT_PORT


def test_the_relay_sets_giaddr_counts_hops_and_option_82_goes_there_and_back() -> None:
    client = DhcpClient(0x0200_0000_0001, lambda: 5)
    client.start(0.0)
    (discover,) = [e.message for e in client.events() if isinstance(e, Transmit)]
    relayed = relay_to_server(discover, IPv4Interface("10.1.3.1/24"), circuit_id="Gi1/0/3")
    assert relayed is not None
    assert relayed.giaddr == IPv4Address("10.1.3.1") and relayed.hops == 1
    assert relayed.options[DhcpOption.RELAY_AGENT_INFO] == b"\x01\x07Gi1/0/3"
    again = relay_to_server(relayed, IPv4Interface("10.9.9.1/24"))
    assert again is not None and again.giaddr == IPv4Address("10.1.3.1")  # first relay's
    server = DhcpServer(SERVER.ip, [floor_pool(3)])
    reply = server.handle(relayed, 0.0, SERVER)
    assert reply is not None
    assert reply.message.options[DhcpOption.RELAY_AGENT_INFO] == b"\x01\x07Gi1/0/3"
    to_client, ip, mac = relay_to_client(reply.message)
    assert DhcpOption.RELAY_AGENT_INFO not in to_client.options
    assert (ip, mac) == (LIMITED_BROADCAST, BROADCAST)


@pytest.mark.parametrize("hops", [MAX_HOPS, 200])
def test_a_request_that_crossed_too_many_relays_is_dropped(hops: int) -> None:
    message = DhcpMessage(BootpOp.BOOTREQUEST, DhcpMessageType.DISCOVER, 1, 2, hops=hops)
    assert relay_to_server(message, IPv4Interface("10.0.0.1/24")) is None


def test_a_pool_range_outside_its_network_is_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        PoolConfig("x", ipaddress.IPv4Network("10.1.1.0/24"), last=IPv4Address("10.1.2.9"))
    with pytest.raises(ValueError, match="gateway"):
        PoolConfig("x", ipaddress.IPv4Network("10.1.1.0/24"), gateway=IPv4Address("10.2.0.1"))
