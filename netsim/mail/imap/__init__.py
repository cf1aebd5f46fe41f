"""IMAP4rev1 (RFC 3501) as sans-IO protocol objects, server and client.

- :class:`~netsim.mail.imap.server.ImapServer` and its sessions implement the server;
- :class:`~netsim.mail.imap.connection.ServerConnection` is its syntax and state machine;
- :class:`~netsim.mail.imap.client.ClientConnection` is a small client protocol object.
"""

from netsim.mail.imap.client import ClientConnection
from netsim.mail.imap.connection import ServerConnection
from netsim.mail.imap.server import ImapServer, ServerConfig, ServerSession

__all__ = ["ClientConnection", "ImapServer", "ServerConfig", "ServerConnection", "ServerSession"]
