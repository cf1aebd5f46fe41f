"""What an FHRP state machine asks of the router interface that runs it.

The machine decides; the router acts. Four kinds of request come out of a machine's
``events()``:

- :class:`Send`: put this hello or advertisement on the wire (real bytes, built by the
  protocol's codec), from the virtual MAC or the interface's own.
- :class:`Forward`: from now on own the virtual IP and MAC (answer ARP for the virtual IP,
  accept frames to the virtual MAC and route them), and broadcast a gratuitous ARP so
  the switches move the virtual MAC to this port and the hosts' ARP caches agree.
- :class:`StopForwarding`: give them up (another router took over, or shutdown).
- :class:`StateChanged`: a line for the results (fhrp.csv), what ``show standby``
  and ``show vrrp`` report as the last state change.
"""

from __future__ import annotations

from dataclasses import dataclass

from netsim.l2.frame import MacAddress
from netsim.net.addressing import IPv4Address
from netsim.net.arp import ArpOp, ArpPacket


@dataclass(frozen=True, slots=True)
class Send:
    """Transmit ``payload`` (an IP payload: UDP for HSRP, VRRP for VRRP) to ``dst``.

    ``protocol`` is the IP protocol number, ``ttl`` the IP TTL the standard asks for, and
    ``src_mac`` the Ethernet source: the virtual MAC, or None for the interface's own.
    """

    payload: bytes
    dst: IPv4Address
    protocol: int
    ttl: int
    src_mac: MacAddress | None


@dataclass(frozen=True, slots=True)
class Forward:
    """Take over ``virtual_ip`` and ``virtual_mac``; announce them with a gratuitous ARP."""

    virtual_ip: IPv4Address
    virtual_mac: MacAddress

    def gratuitous_arp(self) -> ArpPacket:
        """The announcement: an ARP reply for the virtual IP from the virtual MAC, broadcast.

        Sender and target IP are both the virtual address (RFC 5227 §3 "ARP
        Announcement"); Cisco HSRP and RFC 5798 §6.4.2 send it on takeover.
        """
        return ArpPacket(
            ArpOp.REPLY, self.virtual_mac, self.virtual_ip, 0xFFFF_FFFF_FFFF, self.virtual_ip
        )


@dataclass(frozen=True, slots=True)
class StopForwarding:
    """No longer answer for ``virtual_ip`` and ``virtual_mac``."""

    virtual_ip: IPv4Address
    virtual_mac: MacAddress


@dataclass(frozen=True, slots=True)
class StateChanged:
    """The group moved from ``old`` to ``new`` at ``time``; ``reason`` says why."""

    time: float
    protocol: str
    group: int
    old: str
    new: str
    reason: str


FhrpEvent = Send | Forward | StopForwarding | StateChanged
