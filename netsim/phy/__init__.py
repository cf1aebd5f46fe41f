"""netsim.phy"""
