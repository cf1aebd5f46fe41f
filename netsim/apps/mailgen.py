"""Mailboxes made up from a seed: realistic enough to make IMAP work like it does for users.

Each message is built with the standard library's :mod:`email` package: a sender from a
small cast, a subject, a date, a plain-text body whose size is drawn from a log-normal
distribution (mail sizes are heavy-tailed), and for a share of them a multipart/mixed
structure with an attachment. Most older messages are already \\Seen; a few are
\\Flagged. The same seed gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
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


def generate_mailbox(rng: random.Random, user: str, spec: MailboxSpec) -> list[Generated]:
    """The messages of ``user``'s INBOX, oldest first."""
    out: list[Generated] = []
    sigma = 1.0
    mu = math.log(max(spec.mean_size, 1)) - sigma * sigma / 2
    for i in range(spec.messages):
        sender = rng.choice(SENDERS)
        topic = rng.choice(TOPICS)
        when = BASE_DATE + dt.timedelta(hours=6 * i, minutes=rng.randrange(360))
        msg = EmailMessage(policy=SMTP)
        msg["From"] = f"{sender.title()} <{sender}@example.org>"
        msg["To"] = f"{user}@example.org"
        msg["Subject"] = f"{topic.capitalize()} #{i + 1}"
        msg["Date"] = format_datetime(when)
        msg["Message-ID"] = f"<{i + 1}.{user}@netsim.example.org>"
        size = max(200, int(rng.lognormvariate(mu, sigma)))
        msg.set_content(_text(rng, size))
        if rng.random() < spec.multipart:
            data = rng.randbytes(spec.attachment_size)
            msg.add_attachment(
                data,
                maintype="application",
                subtype="pdf",
                filename=f"{topic.replace(' ', '-')}-{i + 1}.pdf",
            )
        flags = []
        if i < spec.messages * 0.7 or rng.random() < 0.3:
            flags.append("\\Seen")
        if rng.random() < 0.05:
            flags.append("\\Flagged")
        out.append((msg.as_bytes(), flags, when))
    return out


def _text(rng: random.Random, size: int) -> str:
    lines, line, total = [], [], 0
    while total < size:
        word = rng.choice(WORDS)
        line.append(word)
        total += len(word) + 1
        if len(line) >= 12:
            lines.append(" ".join(line))
            line = []
    lines.append(" ".join(line))
    return "\n".join(lines) + "\n"
