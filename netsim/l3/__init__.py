"""netsim.l3: routing devices, the layer that joins IP subnets.

A router takes a frame addressed to its own MAC, looks the packet's destination up in
its routing table (longest prefix wins over connected and static routes), decrements
the TTL and sends the packet on in a new frame from its own MAC to the next hop's,
which it finds with ARP on the outgoing interface. What it cannot deliver it answers
with ICMP (time exceeded, destination unreachable), as RFC 1812 asks.

- :mod:`~netsim.l3.routing_table`: routes and the longest-prefix match (pure logic).
- :mod:`~netsim.l3.interface`: one layer-3 interface (address, MAC, ARP cache, counters).
- :mod:`~netsim.l3.engine`: the forwarding logic shared by every routing device.
- :mod:`~netsim.l3.router`: ``kind: router``, a device whose every port is routed.
- :mod:`~netsim.l3.switch`: a layer-3 switch (WS-C3750G-12S): SVIs and routed ports
  on a learning switch.
- :mod:`~netsim.l3.dhcp_server`: a DHCP server with address pools, and the relay agent
  (``ip helper-address``) that carries DHCP across a router.
- :mod:`~netsim.l3.fhrp`: first-hop redundancy, HSRP and VRRP (sans-IO state machines).

FHRP (HSRP, VRRP) builds on :class:`~netsim.l3.engine.RoutingEngine` and
:class:`~netsim.l3.interface.L3Interface`: an extra address and MAC that an interface
answers for.
"""
