"""Mailboxes made up from a seed: realistic enough to make IMAP work like it does for users.

Each message is built with the standard library's :mod:`email` package: a sender from a
small cast, a subject, a date, a plain-text body whose size is drawn from a log-normal
distribution (mail sizes are heavy-tailed), and for a share of them a multipart/mixed
structure with an attachment. Messages go to a staff list, so one pool of messages
serves every user of a server (each user gets a different selection, with flags of their
own): a campus of hundreds of users is generated in a moment. Most older messages are
already \\Seen; a few are \\Flagged. The same seed gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime

SENDERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]
TOPICS = [
    "report",
    "meeting",
    "invoice",
    "lab results",
    "holiday",
    "exam",
    "lunch",
    "project",
    "budget",
    "network outage",
    "switch upgrade",
    "timetable",
]
WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "for",
    "on",
    "that",
    "with",
    "as",
    "was",
    "it",
    "be",
    "by",
    "this",
    "are",
    "from",
    "at",
    "or",
    "an",
    "frame",
    "switch",
    "port",
    "link",
    "delay",
    "queue",
    "packet",
    "host",
    "router",
    "cable",
    "latency",
    "mail",
    "server",
    "client",
    "message",
    "folder",
    "student",
    "teacher",
    "week",
    "report",
    "please",
    "thanks",
    "regards",
]
BASE_DATE = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class MailboxSpec:
    """How to make one user's INBOX."""

    messages: int = 50
    mean_size: int = 4000
    """Mean body size in bytes (log-normal, sigma 1)."""
    multipart: float = 0.2
    """Share of messages with an attachment."""
    attachment_size: int = 50_000


Generated = tuple[bytes, list[str], dt.datetime]
"""A message's bytes, flags and internal date, as :meth:`MailStore.append` takes them."""

Composed = tuple[bytes, dt.datetime]


def compose_messages(rng: random.Random, spec: MailboxSpec, count: int) -> list[Composed]:
    """``count`` messages to ``staff@example.org`` (a list every user is on), oldest first."""
    out: list[Composed] = []
    sigma = 1.0
    mu = math.log(max(spec.mean_size, 1)) - sigma * sigma / 2
    for i in range(count):
        sender = rng.choice(SENDERS)
        topic = rng.choice(TOPICS)
        when = BASE_DATE + dt.timedelta(hours=6 * i, minutes=rng.randrange(360))
        body = MIMEText(_text(rng, max(200, int(rng.lognormvariate(mu, sigma)))), "plain")
        msg: Message = body
        if rng.random() < spec.multipart:
            msg = MIMEMultipart("mixed")
            msg.attach(body)
            attachment = MIMEApplication(rng.randbytes(spec.attachment_size), "pdf")
            name = f"{topic.replace(' ', '-')}-{i + 1}.pdf"
            attachment.add_header("Content-Disposition", "attachment", filename=name)
            msg.attach(attachment)
        msg["From"] = f"{sender.title()} <{sender}@example.org>"
        msg["To"] = "staff@example.org"
        msg["Subject"] = f"{topic.capitalize()} #{i + 1}"
        msg["Date"] = format_datetime(when)
        msg["Message-ID"] = f"<{i + 1}.{spec.messages}@netsim.example.org>"
        out.append((msg.as_bytes().replace(b"\n", b"\r\n"), when))
    return out


def generate_mailbox(
    rng: random.Random, spec: MailboxSpec, pool: list[Composed] | None = None
) -> list[Generated]:
    """One user's INBOX, oldest first: ``spec.messages`` messages drawn from ``pool``
    (composed afresh when None), about 70 % of them already \\Seen, a few \\Flagged."""
    if pool is None:
        pool = compose_messages(rng, spec, spec.messages)
    if spec.messages <= len(pool):
        chosen = sorted(rng.sample(range(len(pool)), spec.messages))
    else:
        chosen = sorted(rng.choices(range(len(pool)), k=spec.messages))
    out: list[Generated] = []
    for n, index in enumerate(chosen):
        data, when = pool[index]
        flags = []
        if n < spec.messages * 0.7 or rng.random() < 0.3:
            flags.append("\\Seen")
        if rng.random() < 0.05:
            flags.append("\\Flagged")
        out.append((data, flags, when))
    return out


def _text(rng: random.Random, size: int) -> str:
    # Words drawn in one call: generating mailboxes for a whole campus must stay cheap.
    words = rng.choices(WORDS, k=size // 5 + 1)
    lines = [" ".join(words[i : i + 12]) for i in range(0, len(words), 12)]
    return "\n".join(lines) + "\n"
