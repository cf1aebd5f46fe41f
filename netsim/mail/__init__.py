"""netsim.mail"""
