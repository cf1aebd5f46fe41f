"""POP3 (RFC 1939, CAPA RFC 2449, STLS RFC 2595) without I/O, on the shared mail store.

Layers: :mod:`~netsim.mail.lines` (lines, dot-stuffing), :mod:`.states` (the three
states in one table), :mod:`.connection` (``ServerConnection``: ``receive_data`` /
``next_event`` / ``send``), :mod:`.server` (``Pop3Server``, ``Pop3Session``).
"""

from netsim.mail.pop3.server import Pop3Config, Pop3Server, Pop3Session

__all__ = ["Pop3Config", "Pop3Server", "Pop3Session"]
