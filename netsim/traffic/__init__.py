"""Traffic kinds: one module each, registering how its scenario entries start.

See :mod:`netsim.traffic.registry`. Importing this package registers every kind.
"""

from netsim.traffic import frames, imap, load, ping, tcp  # noqa: F401  (they register)
from netsim.traffic.registry import RunContext, prepares, start_traffic, starts

__all__ = ["RunContext", "prepares", "start_traffic", "starts"]
