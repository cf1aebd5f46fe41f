"""netsim.l2.stp: spanning tree (802.1D STP and 802.1w RSTP) as sans-IO protocol engines.

See :mod:`netsim.l2.stp.engine` for how a switch wires an engine in.
"""
