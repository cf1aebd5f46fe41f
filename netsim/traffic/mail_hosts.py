"""The run's mail server hosts, shared by every mail traffic kind (imap, smtp, pop3).

Not a traffic kind: the kinds call :func:`mail_host` to get the one
:class:`~netsim.apps.mailhost.MailHost` of a server host, made on first use with every
user of every mail entry naming that server (so a message submitted with SMTP can be
delivered to a user who reads mail with IMAP or POP3), and with the CPU and disk of the
scenario's ``mail_servers`` entry for the host, if it has one.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from netsim.apps.mailgen import MailboxSpec
from netsim.engine.sim import Simulation
from netsim.scenario import model as m
from netsim.traffic.registry import RunContext

if TYPE_CHECKING:
    from netsim.apps.mailhost import MailHost

_HOSTS: weakref.WeakKeyDictionary[Simulation, dict[str, MailHost]] = weakref.WeakKeyDictionary()


def mailbox_spec(box: m.ImapMailbox) -> MailboxSpec:
    """The generator's description of a scenario's ``mailbox:``."""
    return MailboxSpec(box.messages, box.mean_size, box.multipart, box.attachment_size)


def mail_users(scenario: m.Scenario, server: str) -> dict[str, MailboxSpec]:
    """Every user of ``server``: those who read mail there (the first entry naming a
    reader gives its INBOX), then those who only submit (an empty INBOX)."""
    users: dict[str, MailboxSpec] = {}
    for entry in scenario.traffic:
        if isinstance(entry, m.ImapTraffic | m.Pop3Traffic):
            for user, box in entry.mail_readers(server).items():
                users.setdefault(user, mailbox_spec(box))
    for entry in scenario.traffic:
        if isinstance(entry, m.SmtpTraffic):
            for user in entry.mail_senders(server):
                users.setdefault(user, mailbox_spec(m.ImapMailbox(messages=0)))
    return users


def mail_host(context: RunContext, server: str) -> MailHost:
    """The mail host on ``server``, made on first use."""
    from netsim.apps.mailhost import MailHost
    from netsim.apps.server_cost import ServerCost

    hosts = _HOSTS.setdefault(context.sim, {})
    if server not in hosts:
        spec = context.scenario.mail_servers.get(server)
        cost = None
        if spec is not None:
            cost = ServerCost(context.sim.env, spec.cores, spec.cpu_speed, spec.fsync)
        users = mail_users(context.scenario, server)
        hosts[server] = MailHost(context.sim, context.net.stacks[server], users, cost)
    return hosts[server]


def delivers_to(scenario: m.Scenario, server: str) -> bool:
    """Does any traffic submit mail to ``server`` during the run (delivery tracking)?"""
    return any(
        isinstance(entry, m.SmtpTraffic) and entry.submits_to(server) for entry in scenario.traffic
    )
