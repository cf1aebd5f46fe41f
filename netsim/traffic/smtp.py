"""``kind: smtp``: client hosts submitting mail to a simulated mail host during the run."""

from __future__ import annotations

from collections.abc import Sequence

from netsim.scenario import model as m
from netsim.traffic.mail_hosts import mail_host
from netsim.traffic.registry import RunContext, prepares, starts


@prepares(m.SmtpTraffic)
def start_smtp_servers(context: RunContext, entries: Sequence[m.SmtpTraffic]) -> None:
    """One SMTP service per (host, port), delivering into the host's mail store."""
    from netsim.apps.smtp import SmtpService

    services: dict[tuple[str, int], tuple[bool, bool, bool]] = {}
    for entry in entries:
        implicit, starttls, _ = services.get((entry.server, entry.port), (False, False, False))
        services[entry.server, entry.port] = (
            implicit or entry.tls_mode == "implicit",
            starttls or entry.tls_mode == "starttls",
            entry.submission,
        )
    for (server, port), (implicit, starttls, submission) in services.items():
        SmtpService(
            mail_host(context, server),
            port,
            submission=submission,
            implicit_tls=implicit,
            starttls=starttls,
        )


@starts(m.SmtpTraffic)
def start_smtp(context: RunContext, entry: m.SmtpTraffic, index: int, name: str) -> None:
    """One :class:`SmtpSender` per client host, with its submission times and sizes."""
    from netsim.apps.smtp import SmtpSender, message_sizes, submission_times

    stacks = context.net.stacks
    host = mail_host(context, entry.server)
    for client in entry.clients:
        rng = context.sim.rng(f"smtp-schedule:{name}:{client}")
        times = submission_times(
            rng,
            schedule=entry.schedule,
            start=entry.start,
            count=entry.count,
            interval=entry.interval,
            poisson=entry.pattern == "poisson",
        )
        sizes = message_sizes(rng, len(times), entry.size, entry.sizes == "lognormal")
        SmtpSender(
            context.sim,
            name,
            stacks[client],
            stacks[entry.server],
            entry.server,
            port=entry.port,
            recipients=entry.to,
            times=times,
            sizes=sizes,
            tls=entry.tls_mode,
            tls_version=entry.tls_version,
            submission=entry.submission,
            pipelining=entry.pipelining,
            deliveries=host.log,
        )
