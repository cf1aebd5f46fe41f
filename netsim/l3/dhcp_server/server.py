"""The DHCP server's decisions (RFC 2131 §4.3), with no I/O: a message in, a reply out.

- **DISCOVER** -> OFFER of an address from the pool of the client's subnet (the subnet of
  ``giaddr`` when a relay forwarded it, else of the interface it arrived on).
- **REQUEST** naming this server (option 54) -> ACK if the address is the one offered;
  naming another server -> the offer is withdrawn, silently. A REQUEST with ``ciaddr``
  set (renewing, rebinding) -> ACK extending the lease, NAK if the server does not know
  the binding and the address is not from this subnet.
- **RELEASE** frees the address; **DECLINE** sets it aside for good.
- An exhausted pool sends nothing (the client keeps retrying) and records a
  :class:`PoolExhausted` warning, which the results report.

Where the reply goes (RFC 2131 §4.1): to the relay agent's ``giaddr`` on port 67; else
to the client's ``ciaddr``; else by broadcast if the client set the broadcast flag;
else unicast to ``yiaddr`` at ``chaddr`` (no ARP: the client does not yet answer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from netsim.l2.frame import BROADCAST, MacAddress
from netsim.l3.dhcp_server.pool import AddressPool, PoolConfig
from netsim.net.addressing import LIMITED_BROADCAST, IPv4Address, IPv4Interface
from netsim.net.dhcp_message import (
    CLIENT_PORT,
    SERVER_PORT,
    ZERO,
    BootpOp,
    DhcpMessage,
    DhcpMessageType,
    DhcpOption,
    address_option,
    seconds_option,
)


@dataclass(frozen=True, slots=True)
class DhcpReply:
    """A message for the wire: to ``dst`` on UDP ``port``, framed to ``mac`` if not None.

    ``mac`` None means "resolve ``dst`` with ARP as usual" (a relay agent, a bound client).
    """

    message: DhcpMessage
    dst: IPv4Address
    port: int
    mac: MacAddress | None


@dataclass(frozen=True, slots=True)
class PoolExhausted:
    """A warning: a client asked and the pool had no address left for it."""

    time: float
    pool: str
    client_mac: MacAddress


class DhcpServer:
    """A DHCP server identified by ``server_id`` (its address, sent in option 54).

    With ``server_id`` None the server is known by the address of the interface each
    request arrived on, as a router serving several subnets is. ``pools`` are the
    configured pools; a message from a subnet with no pool is ignored.
    """

    def __init__(self, server_id: IPv4Address | None, pools: Sequence[PoolConfig]) -> None:
        self.server_id = server_id
        self.pools = [AddressPool(config) for config in pools]
        self.warnings: list[PoolExhausted] = []
        """Every exhausted-pool event, in time order."""
        self.counts: dict[DhcpMessageType, int] = {}
        """Messages received, by type."""

    def pool_for(self, address: IPv4Address) -> AddressPool | None:
        """The pool whose network contains ``address`` (the longest prefix if several)."""
        matching = [p for p in self.pools if address in p.config.network]
        return max(matching, key=lambda p: p.config.network.prefixlen, default=None)

    def handle(
        self, message: DhcpMessage, now: float, arrived_on: IPv4Interface
    ) -> DhcpReply | None:
        """Answer ``message``, which arrived on the server's interface ``arrived_on``."""
        if message.op is not BootpOp.BOOTREQUEST:
            return None
        kind = message.message_type
        self.counts[kind] = self.counts.get(kind, 0) + 1
        subnet_address = message.giaddr if message.giaddr != ZERO else arrived_on.ip
        pool = self.pool_for(subnet_address)
        if pool is None:
            return None
        client = message.client_id
        me = self.server_id if self.server_id is not None else arrived_on.ip
        if kind is DhcpMessageType.DISCOVER:
            binding = pool.offer(client, now, message.requested_address)
            if binding is None:
                self.warnings.append(PoolExhausted(now, pool.config.name, message.chaddr))
                return None
            return self._reply(message, DhcpMessageType.OFFER, binding.address, pool, me)
        if kind is DhcpMessageType.REQUEST:
            return self._on_request(message, now, pool, me)
        if kind is DhcpMessageType.RELEASE and message.server_id in (None, me):
            pool.release(client)
        elif kind is DhcpMessageType.DECLINE and message.requested_address is not None:
            pool.decline(client, message.requested_address)
        return None

    def leases(self) -> list[tuple[str, IPv4Address, MacAddress, float]]:
        """Every lease: (pool, address, client MAC from the client id, expiry time)."""
        rows = []
        for pool in self.pools:
            for binding in pool.leases():
                mac = int.from_bytes(binding.client_id[-6:], "big")
                rows.append((pool.config.name, binding.address, mac, binding.expires))
        return rows

    def _on_request(
        self, message: DhcpMessage, now: float, pool: AddressPool, me: IPv4Address
    ) -> DhcpReply | None:
        client = message.client_id
        chosen = message.server_id
        if chosen is not None and chosen != me:
            pool.release(client)  # the client took another server's offer
            return None
        wanted = message.requested_address if message.ciaddr == ZERO else message.ciaddr
        if wanted is None:
            return None
        if wanted not in pool.config.network:
            return self._nak(message, me)
        binding = pool.lease(client, wanted, now)
        if binding is None:
            return self._nak(message, me)
        return self._reply(message, DhcpMessageType.ACK, binding.address, pool, me)

    def _options(self, pool: AddressPool, me: IPv4Address) -> dict[int, bytes]:
        config = pool.config
        options: dict[int, bytes] = {
            DhcpOption.SERVER_ID: address_option(me),
            DhcpOption.LEASE_TIME: seconds_option(int(config.lease_time)),
            DhcpOption.RENEWAL_TIME: seconds_option(int(config.lease_time * 0.5)),
            DhcpOption.REBINDING_TIME: seconds_option(int(config.lease_time * 0.875)),
            DhcpOption.SUBNET_MASK: address_option(config.network.netmask),
        }
        if config.gateway is not None:
            options[DhcpOption.ROUTER] = address_option(config.gateway)
        if config.dns:
            options[DhcpOption.DNS_SERVERS] = address_option(*config.dns)
        return options

    def _reply(
        self,
        request: DhcpMessage,
        kind: DhcpMessageType,
        address: IPv4Address,
        pool: AddressPool,
        me: IPv4Address,
    ) -> DhcpReply:
        options = self._options(pool, me)
        relay_info = request.options.get(DhcpOption.RELAY_AGENT_INFO)
        if relay_info is not None:
            options[DhcpOption.RELAY_AGENT_INFO] = relay_info  # RFC 3046 §2.2: echo it
        reply = DhcpMessage(
            BootpOp.BOOTREPLY,
            kind,
            request.xid,
            request.chaddr,
            ciaddr=request.ciaddr,
            yiaddr=address,
            giaddr=request.giaddr,
            flags=request.flags,
            options=options,
        )
        return _addressed(reply, request)

    def _nak(self, request: DhcpMessage, me: IPv4Address) -> DhcpReply:
        nak = DhcpMessage(
            BootpOp.BOOTREPLY,
            DhcpMessageType.NAK,
            request.xid,
            request.chaddr,
            giaddr=request.giaddr,
            flags=request.flags,
            options={DhcpOption.SERVER_ID: address_option(me)},
        )
        # RFC 2131 §4.3.2: a NAK not through a relay is always broadcast.
        if request.giaddr == ZERO:
            return DhcpReply(nak, LIMITED_BROADCAST, CLIENT_PORT, BROADCAST)
        return _addressed(nak, request)


def _addressed(reply: DhcpMessage, request: DhcpMessage) -> DhcpReply:
    if request.giaddr != ZERO:
        return DhcpReply(reply, request.giaddr, SERVER_PORT, None)
    if request.ciaddr != ZERO:
        return DhcpReply(reply, request.ciaddr, CLIENT_PORT, None)
    if request.broadcast:
        return DhcpReply(reply, LIMITED_BROADCAST, CLIENT_PORT, BROADCAST)
    return DhcpReply(reply, reply.yiaddr, CLIENT_PORT, request.chaddr)
