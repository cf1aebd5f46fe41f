"""netsim's mail server on one simulated host: one store and user list behind every service.

A scenario's ``imap`` (and ``smtp``, ``pop3``) traffic naming the same server host
shares one :class:`MailHost`: the users are every client of every mail entry for that
host, each with a generated INBOX, and a message delivered by one protocol shows up at
once in the others (an IMAP session in IDLE is told straight away).

The host also keeps the bookkeeping of the ``delivery`` table (:class:`DeliveryLog`):
when a message was submitted, when the store had it, and when each client saw it. That
is measurement, not protocol: the clients learn about mail only through the protocols.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from netsim.apps.mailgen import Composed, MailboxSpec, compose_messages, generate_mailbox
from netsim.apps.server_cost import ServerCost
from netsim.engine.sim import Simulation
from netsim.mail.store import Mailbox, MailStore
from netsim.mail.users import Users
from netsim.net.stack import IpStack

#: Every simulated user's password.
PASSWORD = "netsim"
#: What the simulated store's clock reads at simulated time 0 (2026-01-01T00:00:00Z), so
#: that UIDVALIDITY and INTERNALDATE are the same on every run.
EPOCH = 1_767_225_600.0

_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]*>)", re.IGNORECASE | re.MULTILINE)


def message_id(data: bytes) -> str | None:
    """The Message-ID in a message's header, if it has one."""
    head = data.split(b"\r\n\r\n", 1)[0]
    match = _MESSAGE_ID.search(head)
    return match.group(1).decode("ascii", "replace") if match else None


@dataclass
class Submission:
    """When a message entered the mail system, as its sender saw it."""

    sender: str
    recipient: str
    t_submitted: float
    """The sender handed the message over (the first byte of SMTP's MAIL FROM)."""
    t_accepted: float | None = None
    """The sender read the server's 250 after DATA (the message is safe)."""
    t_stored: float | None = None
    """The server's store had the message (what IMAP and POP3 sessions can now see)."""


class DeliveryLog:
    """Submission, storage and sighting times of tracked messages, by Message-ID."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.messages: dict[str, Submission] = {}

    def submitted(self, mid: str, sender: str, recipient: str) -> None:
        """A sender starts handing over ``mid`` now."""
        self.messages[mid] = Submission(sender, recipient, self.sim.now)

    def accepted(self, mid: str) -> None:
        """The sender got the 250 for ``mid`` now."""
        if mid in self.messages:
            self.messages[mid].t_accepted = self.sim.now

    def stored(self, mid: str) -> None:
        """The store took ``mid`` now."""
        sub = self.messages.get(mid)
        if sub is not None and sub.t_stored is None:
            sub.t_stored = self.sim.now

    def seen(
        self, mid: str, client: str, via: str, at: float | None = None, **extra: object
    ) -> None:
        """``client`` learned of ``mid`` at time ``at`` (now), by ``via``.

        ``via`` says how: ``imap-idle`` (pushed), ``imap-poll`` or ``pop3`` (polled), or
        ``imap-resync`` (coming back online; ``extra`` then names the ``resync`` method).
        """
        sub = self.messages.get(mid)
        if sub is None:
            return  # not a message submitted during the run (the generated INBOX)
        now = self.sim.now if at is None else at
        self.sim.trace.row(
            "delivery",
            message_id=mid,
            sender=sub.sender,
            recipient=sub.recipient,
            client=client,
            via=via,
            t_submitted=sub.t_submitted,
            t_accepted=sub.t_accepted,
            t_stored=sub.t_stored,
            t_seen=now,
            latency=now - sub.t_submitted,
            push_latency=now - sub.t_stored if sub.t_stored is not None else None,
            **extra,
        )


class MailHost:
    """The mail store, users and hardware of one simulated server host."""

    def __init__(
        self,
        sim: Simulation,
        stack: IpStack,
        users: dict[str, MailboxSpec],
        cost: ServerCost | None = None,
    ) -> None:
        self.sim = sim
        self.stack = stack
        self.name = stack.host.name
        self.cost = cost
        self.store = MailStore(clock=lambda: EPOCH + sim.now)
        self.users = Users({u: PASSWORD for u in users})
        self.log = DeliveryLog(sim)
        pools: dict[MailboxSpec, list[Composed]] = {}
        for user, spec in users.items():
            if spec not in pools:
                pool_rng = sim.rng(f"mailpool:{self.name}:{len(pools)}")
                pools[spec] = compose_messages(pool_rng, spec, max(spec.messages, 100))
            self.store.ensure_user(user)
            inbox = self.store.mailbox(user, "INBOX")
            assert inbox is not None
            self.store.append(
                inbox, generate_mailbox(sim.rng(f"mailbox:{user}"), spec, pools[spec])
            )
            self.store.create_mailbox(user, "Archive")
        self._seen_uid = {box.id: box.uidnext for box in self.store.mailboxes()}
        self._deferred: list[Callable[[], None]] | None = None
        self.store.add_listener(self._note_stored)

    # -- the store's news ---------------------------------------------------------------

    def _note_stored(self, box: Mailbox) -> None:
        # With a cost model, a message is stored once its command's fsyncs are done.
        self.announce(lambda: self._record_stored(box))

    def _record_stored(self, box: Mailbox) -> None:
        first = self._seen_uid.get(box.id, 1)
        for msg in box.messages:
            if msg.uid >= first and msg.content is not None:
                mid = message_id(msg.content)
                if mid is not None:
                    self.log.stored(mid)
        self._seen_uid[box.id] = box.uidnext

    def announce(self, push: Callable[[], None]) -> None:
        """Run ``push`` (news for other sessions) now, or once the current command is paid.

        With a cost model, a command's effects reach other clients only after its CPU
        and disk time: a message is not in the store before its fsync has finished.
        """
        if self._deferred is not None:
            self._deferred.append(push)
        else:
            push()

    def defer_announcements(self) -> None:
        """Hold announcements made from now on (a command is being processed)."""
        self._deferred = []

    def release_announcements(self) -> list[Callable[[], None]]:
        """The announcements held since :meth:`defer_announcements`; stop holding."""
        held, self._deferred = self._deferred or [], None
        return held


class MailUser(Protocol):
    """A simulated mail client as its results rows name it."""

    traffic: str
    user: str
    server_name: str


def command_row(
    sim: Simulation,
    table: str,
    who: MailUser,
    session: str,
    command: str,
    t0: float,
    out: int,
    got: int,
    status: str,
    tag: str | None = None,
    **extra: object,
) -> None:
    """One row of a mail protocol's table (imap.csv, smtp.csv, pop3.csv): a command of
    ``session``, from ``t0`` to now, with the octets it cost each way and its status."""
    now = sim.now
    row: dict[str, object] = {
        "traffic": who.traffic,
        "client": who.user,
        "server": who.server_name,
        "session": session,
    }
    if tag is not None:
        row["tag"] = tag
    row.update(
        command=command,
        t_start=t0,
        t_end=now,
        latency=now - t0,
        bytes_out=out,
        bytes_in=got,
        status=status,
        **extra,
    )
    sim.trace.row(table, **row)
