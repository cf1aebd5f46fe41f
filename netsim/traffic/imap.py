"""``kind: imap``: IMAP clients running sessions against a simulated IMAP server.

The IMAP code loads only when a scenario has IMAP traffic (start-up stays light).
"""

from __future__ import annotations

from collections.abc import Sequence

from netsim.apps.mailgen import MailboxSpec
from netsim.scenario import model as m
from netsim.traffic.registry import RunContext, prepares, starts


@prepares(m.ImapTraffic)
def start_imap_servers(context: RunContext, entries: Sequence[m.ImapTraffic]) -> None:
    """One IMAP server per (host, port), with a generated INBOX for every client user."""
    from netsim.apps.imap import ImapService

    users: dict[tuple[str, int], dict[str, MailboxSpec]] = {}
    for entry in entries:
        box = entry.mailbox
        mailbox = MailboxSpec(box.messages, box.mean_size, box.multipart, box.attachment_size)
        for client in entry.clients:
            users.setdefault((entry.server, entry.port), {})[client] = mailbox
    for (server, port), accounts in users.items():
        ImapService(context.sim, context.net.stacks[server], accounts, port)


@starts(m.ImapTraffic)
def start_imap(context: RunContext, entry: m.ImapTraffic, index: int, name: str) -> None:
    """One :class:`ImapClient` per client host, their starts spread over ``spread``."""
    from netsim.apps.imap import ImapClient

    stacks = context.net.stacks
    if entry.dscp is not None:
        for marker in (entry.server, *entry.clients):
            stacks[marker].mark(entry.port, entry.dscp)
    for k, client in enumerate(entry.clients):
        ImapClient(
            context.sim,
            name,
            stacks[client],
            stacks[entry.server],
            entry.server,
            port=entry.port,
            session=entry.steps,
            repeat=entry.repeat,
            think=entry.think,
            idle=entry.idle,
            start=entry.start + k * entry.spread / len(entry.clients),
            stop_at=context.scenario.duration,
        )
