"""The DHCP relay agent (RFC 1542 §4, RFC 2131 §4.1, RFC 3046): ``ip helper-address``.

A client's DISCOVER is a broadcast, and routers do not forward broadcasts. A router
interface with ``ip helper-address SERVER`` catches the broadcast on UDP port 67 and sends
it on to SERVER by unicast, after writing its own interface address into ``giaddr`` (if
no relay before it did) and adding one to ``hops``. The server picks the pool by
``giaddr`` and answers the relay on port 67; the relay hands the answer to the client on
port 68, by broadcast if the client asked for it. Optionally the relay adds option 82
(relay agent information, RFC 3046) with a circuit id naming the port the client is on;
the server echoes it and the relay strips it before the client sees the reply.
"""

from __future__ import annotations

import dataclasses

from netsim.l2.frame import BROADCAST, MacAddress
from netsim.net.addressing import LIMITED_BROADCAST, IPv4Address, IPv4Interface
from netsim.net.dhcp_message import ZERO, BootpOp, DhcpMessage, DhcpOption

MAX_HOPS = 16
"""RFC 1542 §4.1.1: a relay discards a request that has already crossed 16 relays."""
CIRCUIT_ID = 1
"""Option 82 sub-option 1: the agent circuit id (RFC 3046 §3.1)."""


def relay_to_server(
    message: DhcpMessage, interface: IPv4Interface, circuit_id: str | None = None
) -> DhcpMessage | None:
    """The request as the relay forwards it to the helper address; None if it must be dropped."""
    if message.op is not BootpOp.BOOTREQUEST or message.hops >= MAX_HOPS:
        return None
    options = dict(message.options)
    if circuit_id is not None and DhcpOption.RELAY_AGENT_INFO not in options:
        circuit = circuit_id.encode("ascii", "replace")[:253]
        options[DhcpOption.RELAY_AGENT_INFO] = bytes([CIRCUIT_ID, len(circuit)]) + circuit
    giaddr = message.giaddr if message.giaddr != ZERO else interface.ip
    return dataclasses.replace(message, giaddr=giaddr, hops=message.hops + 1, options=options)


def relay_to_client(message: DhcpMessage) -> tuple[DhcpMessage, IPv4Address, MacAddress]:
    """A server's reply as the relay delivers it on the client's subnet: (message, IP, MAC).

    Broadcast if the client asked for it (or for a NAK), else unicast to ``yiaddr`` at
    the client's MAC, which needs no ARP.
    """
    options = {k: v for k, v in message.options.items() if k != DhcpOption.RELAY_AGENT_INFO}
    reply = dataclasses.replace(message, options=options)
    if message.broadcast or message.yiaddr == ZERO:
        return reply, LIMITED_BROADCAST, BROADCAST
    return reply, message.yiaddr, message.chaddr
