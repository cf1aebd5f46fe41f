"""netsim.metrics"""
