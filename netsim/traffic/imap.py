"""``kind: imap``: IMAP clients running sessions against a simulated IMAP server.

The IMAP code loads only when a scenario has IMAP traffic (start-up stays light).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from netsim.scenario import model as m
from netsim.traffic.mail_hosts import delivers_to, mail_host
from netsim.traffic.registry import RunContext, prepares, starts


@prepares(m.ImapTraffic)
def start_imap_servers(context: RunContext, entries: Sequence[m.ImapTraffic]) -> None:
    """One IMAP service per (host, port), on the host's shared mail store."""
    from netsim.apps.imap import ImapService

    services: dict[tuple[str, int], tuple[bool, bool]] = {}
    for entry in entries:
        implicit, starttls = services.get((entry.server, entry.port), (False, False))
        services[entry.server, entry.port] = (
            implicit or entry.tls_mode == "implicit",
            starttls or entry.tls_mode == "starttls",
        )
    for (server, port), (implicit, starttls) in services.items():
        host = mail_host(context, server)
        ImapService(host, port, implicit_tls=implicit, starttls=starttls)


@starts(m.ImapTraffic)
def start_imap(context: RunContext, entry: m.ImapTraffic, index: int, name: str) -> None:
    """One :class:`ImapClient` per client host, their starts spread over ``spread``."""
    from netsim.apps.imap import ImapClient
    from netsim.apps.imap_offline import OfflineImapClient

    offline = entry.steps == ["disconnected"]
    stacks = context.net.stacks
    if entry.dscp is not None:
        for marker in (entry.server, *entry.clients):
            stacks[marker].mark(entry.port, entry.dscp)
    tracked = delivers_to(context.scenario, entry.server)
    host = mail_host(context, entry.server)
    for k, client in enumerate(entry.clients):
        kind = partial(OfflineImapClient, resync=entry.resync) if offline else ImapClient
        kind(
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
            tls=entry.tls_mode,
            tls_version=entry.tls_version,
            pipelining=entry.pipelining,
            headers_only=entry.fetch == "headers",
            deliveries=host.log if tracked else None,
        )
