"""A DHCP server (RFC 2131 §4.3) and relay agent (RFC 1542, RFC 3046), sans-IO.

A router or a layer-3 switch serves addresses to the hosts of its subnets, the way IOS
does with ``ip dhcp pool``: one :class:`~netsim.l3.dhcp_server.pool.AddressPool` per
subnet (network, range, excluded addresses, gateway, DNS, lease time). A DISCOVER that
arrives directly picks the pool of the interface it came in on; one forwarded by a relay
agent (``ip helper-address`` on another router) picks the pool containing its ``giaddr``.

- :mod:`~netsim.l3.dhcp_server.pool`: which addresses are free, offered, leased.
- :mod:`~netsim.l3.dhcp_server.server`: DISCOVER -> OFFER, REQUEST -> ACK/NAK, RELEASE,
  DECLINE, and a warning when a pool runs dry.
- :mod:`~netsim.l3.dhcp_server.relay`: what a relay agent changes on the way.
"""

from netsim.l3.dhcp_server.pool import AddressPool, PoolConfig
from netsim.l3.dhcp_server.relay import relay_to_client, relay_to_server
from netsim.l3.dhcp_server.server import DhcpReply, DhcpServer, PoolExhausted

__all__ = [
    "AddressPool",
    "DhcpReply",
    "DhcpServer",
    "PoolConfig",
    "PoolExhausted",
    "relay_to_client",
    "relay_to_server",
]
