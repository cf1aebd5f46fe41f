"""Check a durable mail store without changing it (``netsim serve-mail --check``).

The check opens the store read-only, exactly as a server would replay it, so it sees the
same things: every journal line that is not JSON, not a well-formed record or does not fit
the records before it; every blob that is missing or does not hash to its name, with the
messages that lost their bytes; a journal that is missing or empty next to existing blobs.
It also notes what a crash leaves behind and the next start tidies up (a torn last line,
half-written blob files, blobs no message refers to), which is not damage.

It writes nothing and takes no lock, so it can look at the store of a running server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from netsim.mail.journal import JOURNAL_NAME, Journal, Problem
from netsim.mail.store import MailStore, StoreDamaged


class NotAStore(ValueError):
    """The directory does not exist or holds no mail store at all."""


@dataclass(frozen=True)
class MailboxCount:
    """How many messages one mailbox has, and how many of them lost their bytes."""

    owner: str
    name: str
    messages: int
    lost: int
    noselect: bool = False


@dataclass
class CheckReport:
    """What :func:`check_store` found: counts per mailbox and every problem."""

    directory: Path
    mailboxes: list[MailboxCount] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    blobs_on_disk: int = 0

    @property
    def damaged(self) -> bool:
        """True if anything is damaged (rather than a crash artefact a start repairs)."""
        return any(p.damage for p in self.problems)

    def format(self) -> str:
        """The report as text, one fact per line."""
        out = [f"mail store {self.directory}"]
        out.append(f"  blobs on disk: {self.blobs_on_disk}")
        for owner in sorted({b.owner for b in self.mailboxes}):
            boxes = [b for b in self.mailboxes if b.owner == owner]
            messages = sum(b.messages for b in boxes)
            lost = sum(b.lost for b in boxes)
            out.append(
                f"  user {owner}: {len(boxes)} mailbox(es), {messages} message(s)"
                + (f", {lost} lost" if lost else "")
            )
            for box in boxes:
                line = f"    {box.name}: {box.messages} message(s)"
                if box.lost:
                    line += f", {box.lost} lost"
                if box.noselect:
                    line += " (\\Noselect)"
                out.append(line)
        damage = [p for p in self.problems if p.damage]
        notes = [p for p in self.problems if not p.damage]
        if damage:
            out.append(f"problems ({len(damage)}):")
            out.extend(f"  {p}" for p in damage)
        if notes:
            out.append(f"notes ({len(notes)}, not damage; the next start tidies them up):")
            out.extend(f"  {p}" for p in notes)
        if damage:
            out.append(
                f"result: DAMAGED ({len(damage)} problem(s)); a server on this store serves"
                " everything else and answers NO for what is lost"
            )
        else:
            out.append("result: clean")
        return "\n".join(out)


def check_store(directory: str | Path) -> CheckReport:
    """Verify the store in ``directory`` read-only; raises :class:`NotAStore` if none."""
    directory = Path(directory)
    if not directory.is_dir():
        raise NotAStore(f"{directory} is not a directory")
    journal = Journal(directory, read_only=True)
    has_blobs = journal.has_blobs()
    if not journal.path.exists() and not has_blobs:
        raise NotAStore(f"{directory} is not a mail store: it has no {JOURNAL_NAME} and no blobs")
    report = CheckReport(directory, blobs_on_disk=sum(1 for _ in journal.blob_names()))
    try:
        store = MailStore(directory, read_only=True)
    except StoreDamaged as exc:
        report.problems.append(Problem(JOURNAL_NAME, str(exc)))
        return report
    try:
        report.problems.extend(store.problems)
        referenced: set[str] = set()
        for box in store.mailboxes():
            referenced.update(m.blob for m in box.messages)
            report.mailboxes.append(
                MailboxCount(
                    box.owner,
                    box.name,
                    len(box.messages),
                    sum(1 for m in box.messages if m.content is None),
                    box.noselect,
                )
            )
    finally:
        store.close()
    journal_damaged = any(
        p.damage and p.where.startswith(f"{JOURNAL_NAME} line") for p in report.problems
    )
    unused = [key for key in journal.blob_names() if key not in referenced]
    if unused and journal_damaged:
        # Likely the very messages the damaged lines recorded: name them for recovery.
        names = ", ".join(journal.blob_file(key) for key in unused)
        report.problems.append(
            Problem(
                "blobs",
                f"{len(unused)} blob(s) no readable record refers to, kept because the"
                f" damaged lines may: {names}",
                damage=False,
            )
        )
    elif unused:
        report.problems.append(
            Problem(
                "blobs",
                f"{len(unused)} blob(s) no message refers to (expunged, or written just"
                " before a crash); the next start deletes them",
                damage=False,
            )
        )
    leftovers = sorted(directory.glob("blobs/*/*.eml.tmp")) + sorted(directory.glob("*.tmp"))
    for leftover in leftovers:
        report.problems.append(
            Problem(
                str(leftover.relative_to(directory)),
                "half-written file a crash left behind; nothing refers to it",
                damage=False,
            )
        )
    return report
