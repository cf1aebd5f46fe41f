"""netsim.l2.lacp: link aggregation (802.1AX LACP, Cisco EtherChannel), sans-IO.

See :mod:`netsim.l2.lacp.engine` for how a switch wires the protocol in, and
:mod:`netsim.l2.lacp.hashing` for the member-selection hash.
"""
