"""IMAP4rev1 (RFC 3501) as sans-IO protocol objects, server and client.

Nothing here does I/O or reads a clock, so the same objects run over the simulated TCP
of :mod:`netsim.net` and over real sockets (:mod:`netsim.apps.serve_mail`).

A server session turns client bytes into response bytes::

    server = ImapServer(MailStore(), Users({"alice": "secret"}))
    session = server.open_session()
    transport.write(session.greeting())
    ...
    transport.write(session.receive_data(bytes_from_client))   # b"" at end of input
    if session.closed: transport.close()

A client connection tags commands and parses responses into events::

    client = ClientConnection()
    transport.write(client.send(Request("LOGIN", ("alice", "secret"))))
    client.receive_data(bytes_from_server)
    while (event := client.next_event()) is not NEED_DATA:
        ...   # Tagged(tag, "OK", ...) completes a command: stamp its latency here

The layers, bottom up: :mod:`~netsim.mail.imap.framing` (lines and literals),
:mod:`~netsim.mail.imap.parser` (values), :mod:`~netsim.mail.imap.states` (the state
table), :mod:`~netsim.mail.imap.connection` (the server's sans-IO protocol object),
:mod:`~netsim.mail.imap.server` and :mod:`~netsim.mail.imap.commands` (what commands
mean), :mod:`~netsim.mail.imap.client` (the client's protocol object).
"""

from netsim.mail.imap.client import ClientConnection
from netsim.mail.imap.connection import ServerConnection
from netsim.mail.imap.events import NEED_DATA, Request
from netsim.mail.imap.server import ImapServer, ServerConfig, ServerSession

__all__ = [
    "NEED_DATA",
    "ClientConnection",
    "ImapServer",
    "Request",
    "ServerConfig",
    "ServerConnection",
    "ServerSession",
]
