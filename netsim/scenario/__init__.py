"""netsim.scenario"""
