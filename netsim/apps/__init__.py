"""netsim.apps"""
