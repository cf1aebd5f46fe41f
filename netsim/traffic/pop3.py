"""``kind: pop3``: client hosts polling their maildrop on a simulated mail host."""

from __future__ import annotations

import math
from collections.abc import Sequence

from netsim.scenario import model as m
from netsim.traffic.mail_hosts import delivers_to, mail_host
from netsim.traffic.registry import RunContext, prepares, starts


@prepares(m.Pop3Traffic)
def start_pop3_servers(context: RunContext, entries: Sequence[m.Pop3Traffic]) -> None:
    """One POP3 service per (host, port), on the host's shared mail store."""
    from netsim.apps.pop3 import Pop3Service

    services: dict[tuple[str, int], tuple[bool, bool]] = {}
    for entry in entries:
        implicit, starttls = services.get((entry.server, entry.port), (False, False))
        services[entry.server, entry.port] = (
            implicit or entry.tls_mode == "implicit",
            starttls or entry.tls_mode == "starttls",
        )
    for (server, port), (implicit, starttls) in services.items():
        Pop3Service(mail_host(context, server), port, implicit_tls=implicit, starttls=starttls)


@starts(m.Pop3Traffic)
def start_pop3(context: RunContext, entry: m.Pop3Traffic, index: int, name: str) -> None:
    """One :class:`Pop3Reader` per client host, their starts spread over ``spread``."""
    from netsim.apps.pop3 import Pop3Reader

    stacks = context.net.stacks
    duration = context.scenario.duration
    tracked = delivers_to(context.scenario, entry.server)
    host = mail_host(context, entry.server)
    for k, client in enumerate(entry.clients):
        start = entry.start + k * entry.spread / len(entry.clients)
        polls = entry.polls
        if polls is None:  # as many as start within the duration
            polls = max(1, math.floor((duration - start) / entry.poll) + 1)
        Pop3Reader(
            context.sim,
            name,
            stacks[client],
            stacks[entry.server],
            entry.server,
            port=entry.port,
            start=start,
            poll=entry.poll,
            polls=polls,
            keep=entry.keep,
            headers_only=entry.fetch == "headers",
            pipelining=entry.pipelining,
            tls=entry.tls_mode,
            tls_version=entry.tls_version,
            deliveries=host.log if tracked else None,
        )
