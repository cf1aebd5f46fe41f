"""netsim.l2"""
