"""netsim.net"""
