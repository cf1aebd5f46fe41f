"""netsim.topology"""
