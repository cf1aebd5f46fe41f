"""netsim.net: the host's protocol stack above Ethernet, written sans-IO.

Every module here is pure: codecs turn packets into real bytes and back, and the
stateful parts (the ARP cache, a TCP connection) are driven by explicit ``now``
arguments instead of a clock, so they run the same under SimPy, in a test's tiny
event loop, or by hand in a notebook.

- :mod:`~netsim.net.checksum`: the Internet checksum (RFC 1071).
- :mod:`~netsim.net.addressing`: IPv4 interfaces and next-hop choice.
- :mod:`~netsim.net.arp`, :mod:`~netsim.net.arp_cache`: ARP packets (RFC 826) and the cache.
- :mod:`~netsim.net.ipv4`: the IPv4 header (RFC 791).
- :mod:`~netsim.net.icmp`: ICMP echo (RFC 792).
- :mod:`~netsim.net.tcp`: TCP segments and connections (RFC 9293, 6298, 5681).
- :mod:`~netsim.net.stack`: the adapter that puts all of the above on a simulated host's
  NIC and clock (ARP before the first packet, every header real bytes).
- :mod:`~netsim.net.sockets`: sockets for simulated processes, SimPy events for every
  call that would block.
"""

from netsim.net.addressing import IpConfig, parse_interface
from netsim.net.errors import DecodeError

__all__ = [
    "DecodeError",
    "IpConfig",
    "parse_interface",
]
