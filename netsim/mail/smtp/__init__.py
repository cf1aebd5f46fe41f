"""SMTP (RFC 5321) and message submission (RFC 6409) without I/O.

Layers, bottom up: :mod:`~netsim.mail.lines` (lines and dot-terminated blocks),
:mod:`.states` (the session states in one table), :mod:`.events`,
:mod:`.connection` (``ServerConnection``: ``receive_data`` / ``next_event`` /
``send``), :mod:`.server` (``SmtpServer``, ``SmtpSession``: commands and delivery
into the mail store).
"""

from netsim.mail.smtp.server import SmtpConfig, SmtpServer, SmtpSession

__all__ = ["SmtpConfig", "SmtpServer", "SmtpSession"]
