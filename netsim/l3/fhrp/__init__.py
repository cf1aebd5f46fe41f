"""First-hop redundancy: two routers share one gateway address for a subnet's hosts.

Hosts know one default gateway. With a first-hop redundancy protocol two (or more)
routers on the subnet agree which of them answers for a *virtual* IP address and a
*virtual* MAC; when it dies, another takes over both, announces the move with a
gratuitous ARP (so switches learn the virtual MAC on its new port), and hosts keep
sending to the same gateway without noticing anything but the gap.

- :mod:`~netsim.l3.fhrp.hsrp`: Cisco HSRP v1/v2 (RFC 2281): hellos on UDP 1985, an
  active and a standby router, the active presumed dead after the hold time.
- :mod:`~netsim.l3.fhrp.vrrp`: VRRP v3 (RFC 5798): advertisements as IP protocol 112,
  a master and backups, the master presumed dead after 3 x interval + skew.
- :mod:`~netsim.l3.fhrp.common`: what both ask of the router that runs them.

Both are sans-IO state machines, driven by ``start``/``receive``/``tick`` with ``now``;
their wishes come out of ``events()``.
"""

from netsim.l3.fhrp.common import Forward, Send, StateChanged, StopForwarding

__all__ = ["Forward", "Send", "StateChanged", "StopForwarding"]
