"""netsim.l3: routing devices and the services they run for their subnets.

- :mod:`~netsim.l3.dhcp_server`: a DHCP server with address pools, and the relay agent
  (``ip helper-address``) that carries DHCP across a router.
- :mod:`~netsim.l3.fhrp`: first-hop redundancy, HSRP and VRRP.
"""
