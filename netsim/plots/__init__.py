"""netsim.plots"""
