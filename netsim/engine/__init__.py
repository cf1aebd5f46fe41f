"""netsim.engine"""
