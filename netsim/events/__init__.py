"""Scenario events: one module each, registering what the event does when it happens.

See :mod:`netsim.events.registry`. Importing this package registers every event.
"""

from netsim.events import failures, host_move, link, mac_table  # noqa: F401  (they register)
from netsim.events.registry import EventContext, handles, schedule_events

__all__ = ["EventContext", "handles", "schedule_events"]
