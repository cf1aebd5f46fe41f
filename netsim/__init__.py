"""netsim: a discrete-event lab simulator for switched Ethernet LANs that carry mail traffic."""

__version__ = "0.1.0"
