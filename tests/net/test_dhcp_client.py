"""The DHCP client (RFC 2131 §4.4): INIT -> SELECTING -> REQUESTING -> BOUND, and back.

The client is driven by hand here, with a real :class:`DhcpServer` answering it, so
every test reads like the exchange a capture shows: DISCOVER, OFFER, REQUEST, ACK.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import itertools

from netsim.l3.dhcp_server import DhcpServer, PoolConfig
from netsim.net.addressing import IPv4Address, IPv4Interface
from netsim.net.dhcp_client import (
    FIRST_RETRANSMIT,
    REQUEST_ATTEMPTS,
    Configured,
    DhcpClient,
    DhcpClientState,
    Transmit,
    Unconfigured,
)
from netsim.net.dhcp_message import DhcpMessage, DhcpMessageType

MAC = 0x0200_0000_0042
ROUTER = IPv4Interface("10.1.10.1/24")
POOL = PoolConfig(
    "floor1", ipaddress.IPv4Network("10.1.10.0/24"), gateway=ROUTER.ip, lease_time=600
)


def new_client() -> DhcpClient:
    xids = itertools.count(0x1000)
    return DhcpClient(MAC, lambda: next(xids), host_name="pc42")


def sent(client: DhcpClient) -> list[DhcpMessage]:
    return [e.message for e in client.events() if isinstance(e, Transmit)]


def exchange(client: DhcpClient, server: DhcpServer, now: float) -> list[DhcpMessageType]:
    """Carry messages between client and server until neither has anything to say."""
    kinds = []
    pending = sent(client)
    while pending:
        message = pending.pop(0)
        kinds.append(message.message_type)
        reply = server.handle(DhcpMessage.from_bytes(message.to_bytes()), now, ROUTER)
        if reply is not None:
            kinds.append(reply.message.message_type)
            client.receive(DhcpMessage.from_bytes(reply.message.to_bytes()), now)
            pending += sent(client)
    return kinds


def test_the_first_four_packets_are_discover_offer_request_ack() -> None:
    client, server = new_client(), DhcpServer(ROUTER.ip, [POOL])
    client.start(0.0)
    assert client.state is DhcpClientState.SELECTING
    assert exchange(client, server, 0.0) == [
        DhcpMessageType.DISCOVER,
        DhcpMessageType.OFFER,
        DhcpMessageType.REQUEST,
        DhcpMessageType.ACK,
    ]
    assert client.state is DhcpClientState.BOUND
    assert client.lease is not None
    assert client.lease.interface == IPv4Interface("10.1.10.2/24")  # lowest free, not .1
    assert client.lease.gateway == ROUTER.ip


def test_the_request_names_the_offer_and_its_server() -> None:
    client, server = new_client(), DhcpServer(ROUTER.ip, [POOL])
    client.start(0.0)
    discover = sent(client)[0]
    offer = server.handle(discover, 0.0, ROUTER)
    assert offer is not None
    client.receive(offer.message, 0.0)
    request = sent(client)[0]
    assert request.requested_address == offer.message.yiaddr
    assert request.server_id == ROUTER.ip
    assert request.xid == discover.xid


def test_configured_is_reported_once_when_bound() -> None:
    client, server = new_client(), DhcpServer(ROUTER.ip, [POOL])
    client.start(0.0)
    events = []
    pending = [e for e in client.events()]
    while pending:
        event = pending.pop(0)
        events.append(event)
        if isinstance(event, Transmit):
            reply = server.handle(event.message, 0.0, ROUTER)
            if reply is not None:
                client.receive(reply.message, 0.0)
                pending += client.events()
    assert sum(isinstance(e, Configured) for e in events) == 1


def test_an_unanswered_discover_backs_off_4_8_16_32_64_64_seconds() -> None:
    """RFC 2131 §4.1: retransmit after 4 s, doubling up to 64 s (no jitter here)."""
    client = new_client()
    client.start(0.0)
    times = [0.0]
    for _ in range(6):
        at = client.next_timer()
        assert at is not None
        client.tick(at)
        assert [m.message_type for m in sent(client)][-1] is DhcpMessageType.DISCOVER
        times.append(at)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[1:] == [8.0, 16.0, 32.0, 64.0, 64.0] and gaps[0] == FIRST_RETRANSMIT
    assert client.state is DhcpClientState.SELECTING
    assert client.discovers_sent == 7


def test_a_request_unanswered_four_times_starts_over() -> None:
    client, server = new_client(), DhcpServer(ROUTER.ip, [POOL])
    client.start(0.0)
    offer = server.handle(sent(client)[0], 0.0, ROUTER)
    assert offer is not None
    client.receive(offer.message, 0.0)
    requests = len(sent(client))
    while client.state is DhcpClientState.REQUESTING:
        at = client.next_timer()
        assert at is not None
        client.tick(at)
        requests += sum(m.message_type is DhcpMessageType.REQUEST for m in sent(client))
    assert requests == REQUEST_ATTEMPTS
    assert client.state is DhcpClientState.SELECTING


def test_renewal_at_half_the_lease_is_unicast_to_the_server() -> None:
    client, server = new_client(), DhcpServer(ROUTER.ip, [POOL])
    client.start(0.0)
    exchange(client, server, 0.0)
    assert client.next_timer() == 300.0  # T1 = lease / 2
    client.tick(300.0)
    assert client.state is DhcpClientState.RENEWING
    renew = [e for e in client.events() if isinstance(e, Transmit)]
    assert renew[0].server == ROUTER.ip
    assert renew[0].message.ciaddr == IPv4Address("10.1.10.2")
    reply = server.handle(renew[0].message, 300.0, ROUTER)
    assert reply is not None and reply.dst == IPv4Address("10.1.10.2")
    client.receive(reply.message, 300.0)
    assert client.state is DhcpClientState.BOUND
    assert client.events() == []  # same address: nothing to reconfigure
    assert client.lease is not None and client.lease.expires_at == 900.0


def test_a_lease_nobody_renews_expires_and_the_host_is_unconfigured() -> None:
    client, server = new_client(), DhcpServer(ROUTER.ip, [POOL])
    client.start(0.0)
    exchange(client, server, 0.0)
    now = 0.0
    while client.state is not DhcpClientState.SELECTING:
        at = client.next_timer()
        assert at is not None
        now = at
        client.tick(now)
    assert now == 600.0
    assert any(isinstance(e, Unconfigured) for e in client.events())
    assert client.lease is None


def test_replies_to_another_transaction_or_mac_are_ignored() -> None:
    client, server = new_client(), DhcpServer(ROUTER.ip, [POOL])
    client.start(0.0)
    discover = sent(client)[0]
    offer = server.handle(discover, 0.0, ROUTER)
    assert offer is not None
    client.receive(dataclasses.replace(offer.message, xid=discover.xid + 1), 0.0)
    client.receive(dataclasses.replace(offer.message, chaddr=MAC + 1), 0.0)
    assert client.state is DhcpClientState.SELECTING
