"""The mail store: users' mailboxes, their messages, flags and access rights.

The store is protocol-neutral data with IMAP's guarantees built in: every mailbox has a
UIDVALIDITY and hands out strictly increasing UIDs that are never reused, every change
bumps the mailbox's mod-sequence (RFC 7162): each message remembers the mod-sequence of
its last change and each expunged UID the one that removed it, so sessions can tell
others what changed and a client that was away can ask for just that (CONDSTORE,
QRESYNC).  Mod-sequences survive compaction, so they never go backwards.  Every
mutation is one journal record.

By default everything lives in memory.  Given a directory, the store is durable: each
mutation is appended to a journal and fsync'ed *before* the method returns, so anything
a server has acknowledged survives a crash (see :mod:`netsim.mail.journal`).  With
``fsync="optimized"`` (Dovecot's ``mail_fsync = optimized``, its default) only changes
that bring or remove mail or mailboxes are fsync'ed; flag, ACL and subscription changes
are written at once, so they survive the server being killed, but only the operating
system's next flush makes them survive a power cut.

Opening a directory replays its journal and trusts nothing it reads.  Each line must be
JSON, a well-formed record (:mod:`netsim.mail.records`) and consistent with what came
before; a line that is not is reported by file and line, left in place and skipped, and
every other record still applies.  Each blob is checked against its SHA-256 name: a
message whose bytes are missing or corrupt keeps its UID and flags but answers every read
with :class:`MessageLost`.  What was found is in :attr:`MailStore.problems` (and logged);
``netsim serve-mail --check`` prints it without changing anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netsim.mail import mime
from netsim.mail.journal import JOURNAL_NAME, BlobError, Journal, JournalLine, Problem
from netsim.mail.records import ALL_RIGHTS, record_problem

__all__ = [
    "ALL_RIGHTS",
    "DEFAULT_MAILBOXES",
    "DELIMITER",
    "FSYNC_POLICIES",
    "MailStore",
    "Mailbox",
    "Message",
    "MessageLost",
    "Problem",
    "StoreDamaged",
    "StoreError",
]

_log = logging.getLogger(__name__)

#: Mailboxes every user starts with, and their RFC 6154 special-use attribute.
DEFAULT_MAILBOXES: tuple[tuple[str, str | None], ...] = (
    ("INBOX", None),
    ("Sent", "\\Sent"),
    ("Drafts", "\\Drafts"),
    ("Trash", "\\Trash"),
    ("Junk", "\\Junk"),
)
#: The hierarchy delimiter of mailbox names.
DELIMITER = "/"


class StoreError(Exception):
    """A store operation that cannot be done; the message says why."""

    #: The RFC 5530 response code a server's ``NO`` should carry, if one fits.
    code: str | None = None


class StoreDamaged(StoreError):
    """The store's files are damaged in a way that opening them could make worse."""


class MessageLost(StoreError):
    """A message's bytes are missing or corrupt on disk; its UID and flags remain."""

    code = "CORRUPTION"


_RECENT_FLAG = frozenset({"\\Recent"})


@dataclass(eq=False)
class Message:
    """One message in one mailbox: immutable bytes plus mutable flags.

    ``flags`` holds system flags (``\\Seen`` ...) and keywords, never ``\\Recent``,
    which belongs to a session rather than to the message.  ``content`` is ``None`` when
    the message's blob was missing or corrupt; ``lost`` then says which and why.
    """

    uid: int
    content: bytes | None
    flags: set[str]
    internaldate: dt.datetime
    modseq: int
    blob: str
    lost: str | None = None

    @property
    def data(self) -> bytes:
        """The message's octets; raises :class:`MessageLost` if they are gone."""
        if self.content is None:
            raise MessageLost(f"message UID {self.uid} cannot be read: {self.lost}")
        return self.content

    def flag_snapshots(self) -> tuple[set[str], frozenset[str], frozenset[str]]:
        """``flags``, and it frozen without and with ``\\Recent``, built once per change.

        The store replaces ``flags`` with a new set on every change and never edits it
        in place, so the snapshots stay valid while ``flags`` is the same object.  A
        FETCH of a whole mailbox then renders and compares flags without building sets.
        """
        cached: tuple[set[str], frozenset[str], frozenset[str]] | None
        cached = self.__dict__.get("_frozen")
        if cached is None or cached[0] is not self.flags:
            frozen = frozenset(self.flags)
            cached = self.__dict__["_frozen"] = (self.flags, frozen, frozen | _RECENT_FLAG)
        return cached

    @property
    def size(self) -> int:
        """The RFC822.SIZE: number of octets in the message."""
        return len(self.data)

    @property
    def mime(self) -> mime.MimePart:
        """The parsed MIME tree, computed on first use and kept.

        Messages with the same blob (a message copied or moved, or one delivered to
        many users) share one tree: it holds copies of the message's parts, as large
        as the message itself.
        """
        cached: mime.MimePart | None = self.__dict__.get("_mime")
        if cached is None:
            cached = _PARSED.get(self.blob)
            if cached is None:
                cached = _PARSED[self.blob] = mime.parse(self.data)
            self.__dict__["_mime"] = cached
        return cached


_PARSED: weakref.WeakValueDictionary[str, mime.MimePart] = weakref.WeakValueDictionary()
"""Blob name -> its parsed MIME tree, while some message keeps that tree (see
:attr:`Message.mime`); trees are only read once parsed."""


@dataclass(eq=False)
class Mailbox:
    """A named, ordered collection of messages owned by one user."""

    id: int
    owner: str
    name: str
    uidvalidity: int
    uidnext: int = 1
    special_use: str | None = None
    noselect: bool = False
    deleted: bool = False
    acl: dict[str, str] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
    by_uid: dict[int, Message] = field(default_factory=dict)
    keywords: list[str] = field(default_factory=list)
    #: The mailbox's HIGHESTMODSEQ (RFC 7162): bumped by every change, so a session
    #: can also skip work when nothing happened.
    modseq: int = 1
    #: UID -> the mod-sequence of the expunge that removed it (for QRESYNC's VANISHED).
    expunged: dict[int, int] = field(default_factory=dict)
    #: Messages with a UID at or above this mark are recent and not yet claimed.
    recent_mark: int = 1
    #: UIDs of the messages without ``\\Seen``, kept up to date by every change, so
    #: that STATUS UNSEEN and SEARCH UNSEEN need not look at every message.
    unseen: set[int] = field(default_factory=set)

    def rights_of(self, user: str) -> str:
        """The ACL rights ``user`` holds on this mailbox."""
        if user == self.owner:
            return ALL_RIGHTS
        granted = set(self.acl.get(user, "")) | set(self.acl.get("anyone", ""))
        return "".join(r for r in ALL_RIGHTS if r in granted)

    def unseen_count(self) -> int:
        """Number of messages without ``\\Seen``."""
        return len(self.unseen)

    def unclaimed_recent(self) -> int:
        """Number of recent messages no session has claimed yet."""
        return sum(1 for m in self.messages if m.uid >= self.recent_mark)

    def vanished_since(self, modseq: int, within: Callable[[int], bool] | None = None) -> list[int]:
        """UIDs expunged by a change after ``modseq`` (and ``within`` a UID set), sorted."""
        return sorted(
            uid
            for uid, when in self.expunged.items()
            if when > modseq and (within is None or within(uid))
        )


Listener = Callable[[Mailbox], None]


#: The ``fsync`` policies: every change, or only those that bring or remove mail.
FSYNC_POLICIES = ("always", "optimized")
#: Journal ops that ``fsync="optimized"`` still forces to disk before answering.
_MAIL_OPS = frozenset({"append", "expunge", "create", "delete", "rename"})


class MailStore:
    """All users' mailboxes, in memory or journaled to ``directory``."""

    def __init__(
        self,
        directory: str | Path | None = None,
        clock: Callable[[], float] = time.time,
        *,
        read_only: bool = False,
        fsync: str = "always",
    ) -> None:
        if fsync not in FSYNC_POLICIES:
            raise ValueError(f"fsync must be one of {', '.join(FSYNC_POLICIES)}, not {fsync!r}")
        #: Which changes are fsync'ed before a method returns (see the module docstring).
        self.fsync = fsync
        #: Seconds since the epoch, for INTERNALDATE and UIDVALIDITY.  A simulation
        #: passes its own clock so that runs are reproducible.
        self.clock = clock
        #: What opening the directory found wrong with its files (empty when healthy).
        self.problems: list[Problem] = []
        self.read_only = read_only
        self._boxes: dict[int, Mailbox] = {}
        self._by_name: dict[tuple[str, str], Mailbox] = {}
        self._subscriptions: dict[str, set[str]] = {}
        self._next_id = 1
        self._last_uidvalidity = 0
        self._listeners: list[Listener] = []
        self._blobs: dict[str, bytes] = {}
        #: Blobs that could not be used, with the reason (``missing``, ``corrupt: ...``).
        self._lost_blobs: dict[str, str] = {}
        #: id() of each bytes object stored as a blob -> (that object, its key). A
        #: simulated campus appends the same few generated messages to every user's
        #: INBOX: these very bytes need no second SHA-256 (see :meth:`_put_blob`).
        self._stored_objects: dict[int, tuple[bytes, str]] = {}
        self._journal: Journal | None = None
        if directory is not None:
            self._journal = Journal(Path(directory), read_only)
            try:
                self._open(self._journal)
            except BaseException:
                self._journal.close()
                self._journal = None
                raise

    def close(self) -> None:
        """Release the directory of a durable store (a no-op in memory)."""
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def _open(self, journal: Journal) -> None:
        """Replay ``journal`` record by record, report damage, and compact if healthy."""
        complete = damaged = gap = 0
        for line in journal.replay():
            complete += 1
            why = self._replay(line)
            if why is not None:
                damaged += 1
                gap += len(line.text) // _MIN_ENTRY_BYTES + 1
                self._report(f"{JOURNAL_NAME} line {line.number}", why)
        if complete == 0 and journal.has_blobs():
            # Every real store has journal lines before its first blob, so this is a
            # lost journal.  Starting afresh would offer empty mailboxes and let the
            # next compaction delete every message: refuse and touch nothing.
            state = "empty" if journal.path.exists() else "missing"
            count = sum(1 for _ in journal.blob_names())
            raise StoreDamaged(
                f"{journal.path} is {state} but {journal.blob_dir} holds {count} message"
                f" blob(s): that is a damaged store, not a new one, and nothing was changed."
                f" Restore {JOURNAL_NAME} from a backup (or move the blobs away to start"
                f" afresh); netsim serve-mail --check --store DIR reports the details"
            )
        if journal.torn is not None:
            torn = journal.torn
            self._report(
                f"{JOURNAL_NAME} line {torn.number}",
                f"torn last record ({len(torn.text)} bytes, no newline) dropped: a crash"
                f" interrupted its write, so it was never acknowledged",
                damage=False,
            )
        if journal.unterminated is not None:
            self._report(
                f"{JOURNAL_NAME} line {journal.unterminated.number}",
                "the last line lacks its newline but is complete (a hand edit?): read as"
                " usual, and the newline is added before anything is appended",
                damage=False,
            )
        self._report_lost_messages(journal)
        if journal.read_only:
            return
        journal.start_writing()
        if damaged:
            self._skip_ids(gap)
            self._report(
                JOURNAL_NAME,
                f"not compacted, and no blob deleted, while {damaged} line(s) are damaged:"
                f" the damaged lines stay where they are; repair or remove them by hand"
                f" with the server stopped, and every later record still applies."
                f" Meanwhile new UIDs and mailbox ids skip {gap}, as many as the damaged"
                f" lines could have used",
                damage=False,
            )
        else:
            journal.compact(self._snapshot(), self._referenced_blobs())

    def _skip_ids(self, gap: int) -> None:
        """Leave ``gap`` UIDs in every mailbox (and ``gap`` mailbox ids) unused.

        A damaged APPEND may have handed out the mailbox's last UIDs, and a UID must
        never name two messages (RFC 3501 2.3.1.1), or a client's cache would show the
        old message for the new one.  No single line can hold more entries than this
        gap, and a UID actually used is journaled, so the gap needs no record of its own.
        """
        for box in self._boxes.values():
            box.uidnext += gap
        self._next_id += gap

    def _replay(self, line: JournalLine) -> str | None:
        """Apply one journal line; returns why it cannot be applied, or ``None``."""
        try:
            record = line.parse()
        except ValueError as exc:
            why = f"not JSON ({exc}); whatever it recorded is not applied"
        else:
            wrong = record_problem(record) or self._conflict(record)
            if wrong is None:
                self._apply(record)
                return None
            why = f"not a valid record: {wrong}; it is not applied"
            lost = self._describe(record)
            if lost:
                why += f" (lost with it: {lost})"
        blobs = sorted(set(_BLOB_IN_TEXT.findall(line.text.decode("latin-1"))))
        if blobs:
            named = ", ".join(b[:12] + "..." for b in blobs)
            why += f"; the blobs it names are kept ({named})"
        return why

    def _describe(self, record: Any) -> str:
        """What a record that could not be applied would have done, as far as it says.

        The record failed its checks, so every field is looked at with suspicion.
        """
        if not isinstance(record, dict):
            return ""
        op = record.get("op")
        box = self._boxes.get(record["id"]) if isinstance(record.get("id"), int) else None
        where = f"{box.owner}/{box.name}" if box is not None else f"mailbox id {record.get('id')}"

        def count(key: str) -> str:
            value = record.get(key)
            return f"{len(value)} " if isinstance(value, list) and value else ""

        if op == "append":
            return f"{count('messages')}message(s) for {where}"
        if op == "flags":
            return f"flag changes of {count('changes')}message(s) in {where}"
        if op == "expunge":
            return f"the expunge of {count('uids')}message(s) from {where}"
        if op in ("delete", "acl", "recent"):
            return f"a change of op {op!r} to {where}"
        if op == "create":
            return f"the creation of mailbox {record.get('owner')}/{record.get('name')}"
        if op in ("rename", "subscribe", "meta"):
            return f"a change of op {op!r}"
        if op == "batch":
            return f"a batch of {count('records')}change(s), applied all or none"
        return ""

    def _report(self, where: str, what: str, damage: bool = True) -> None:
        problem = Problem(where, what, damage)
        self.problems.append(problem)
        if not self.read_only:
            _log.warning("mail store %s: %s", self._journal_dir(), problem)

    def _journal_dir(self) -> str:
        return str(self._journal.directory) if self._journal is not None else "(memory)"

    def _report_lost_messages(self, journal: Journal) -> None:
        """One problem per unusable blob, naming every message that lost its bytes."""
        lost: dict[str, list[str]] = {}
        for box in self.mailboxes():
            for msg in box.messages:
                if msg.content is None:
                    lost.setdefault(msg.blob, []).append(f"{box.owner}/{box.name} UID {msg.uid}")
        for blob, messages in lost.items():
            self._report(
                journal.blob_file(blob),
                f"{self._lost_blobs[blob]}; messages without their bytes"
                f" (FETCH answers NO [CORRUPTION]): {', '.join(messages)}",
            )

    # -- observation ------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(mailbox)`` after every change to a mailbox (to wake IDLE)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        """Stop calling ``listener``."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    # -- queries ----------------------------------------------------------------------

    def mailbox(self, owner: str, name: str) -> Mailbox | None:
        """The mailbox ``name`` of ``owner``; ``INBOX`` matches in any case."""
        return self._by_name.get((owner, _canonical(name)))

    def holds(self, box: Mailbox) -> bool:
        """True while ``box`` is the mailbox its name names: not deleted, nor renamed
        or replaced by another of the same name."""
        return self._by_name.get((box.owner, box.name)) is box

    def mailboxes(self, owner: str | None = None) -> list[Mailbox]:
        """Every mailbox (of ``owner``, if given), sorted by owner and name."""
        boxes = [b for b in self._boxes.values() if owner is None or b.owner == owner]
        return sorted(boxes, key=lambda b: (b.owner, b.name))

    def subscriptions(self, user: str) -> set[str]:
        """The names ``user`` subscribed to (as that user sees them)."""
        return set(self._subscriptions.get(user, ()))

    def children(self, box: Mailbox) -> list[Mailbox]:
        """Mailboxes below ``box`` in its owner's hierarchy."""
        prefix = box.name + DELIMITER
        return [
            b for b in self._boxes.values() if b.owner == box.owner and b.name.startswith(prefix)
        ]

    # -- mutations --------------------------------------------------------------------

    def ensure_user(self, user: str) -> None:
        """Give ``user`` the default mailboxes they do not have yet."""
        for name, special in DEFAULT_MAILBOXES:
            if self.mailbox(user, name) is None:
                self.create_mailbox(user, name, special)

    def create_mailbox(self, owner: str, name: str, special_use: str | None = None) -> Mailbox:
        """Create ``name`` and any missing superior names (RFC 3501 6.3.3).

        New mailboxes inherit the ACL of their nearest existing superior, so a shared
        folder's new subfolders are shared alike (RFC 4314 section 3).
        """
        name = _canonical(name)
        if self.mailbox(owner, name) is not None:
            raise StoreError("mailbox already exists")
        self._commit(self._create_records(owner, name, special_use))
        box = self.mailbox(owner, name)
        assert box is not None
        return box

    def delete_mailbox(self, box: Mailbox) -> None:
        """Delete ``box``; one with inferiors only loses its messages and becomes \\Noselect."""
        if box.noselect and self.children(box):
            raise StoreError("mailbox has inferior hierarchical names")
        self._commit([{"op": "delete", "id": box.id, "keep": bool(self.children(box))}])

    def rename_mailbox(self, box: Mailbox, new_name: str) -> None:
        """Rename ``box`` and its inferiors; renaming INBOX moves its messages instead.

        Either way it is one journal record, so a crash cannot leave it half done.
        """
        new_name = _canonical(new_name)
        if self.mailbox(box.owner, new_name) is not None:
            raise StoreError("destination mailbox already exists")
        if box.name == "INBOX":
            # RFC 3501 6.3.5: INBOX stays, empty; its messages go to the new mailbox.
            records = self._create_records(box.owner, new_name, None)
            entries = [
                [uid, m.blob, sorted(m.flags), m.internaldate.isoformat()]
                for uid, m in enumerate(box.messages, start=1)
            ]
            if entries:
                records.append({"op": "append", "id": records[-1]["id"], "messages": entries})
                records.append(
                    {"op": "expunge", "id": box.id, "uids": [m.uid for m in box.messages]}
                )
            self._commit(records)
            return
        records = self._create_records(box.owner, new_name, None, leaf=False)
        moves = [[box.id, new_name]]
        for child in self.children(box):
            moves.append([child.id, new_name + child.name[len(box.name) :]])
        records.append({"op": "rename", "moves": moves})
        self._commit(records)

    def subscribe(self, user: str, name: str, on: bool = True) -> None:
        """Add ``name`` to (or with ``on=False`` remove it from) ``user``'s subscriptions."""
        self._commit([{"op": "subscribe", "user": user, "name": _canonical(name), "on": on}])

    def append(
        self,
        box: Mailbox,
        items: Iterable[tuple[bytes, Iterable[str], dt.datetime | None]],
    ) -> list[Message]:
        """Append messages (data, flags, internal date) atomically; returns them with UIDs."""
        self._check_live(box)
        entries: list[list[Any]] = []
        added: list[int] = []
        uid = box.uidnext
        for data, flags, when in items:
            blob = self._put_blob(data)
            when = when or dt.datetime.fromtimestamp(self.clock(), dt.UTC)
            entries.append([uid, blob, sorted(set(flags) - {"\\Recent"}), when.isoformat()])
            added.append(uid)
            uid += 1
        self._commit([{"op": "append", "id": box.id, "messages": entries}])
        return [box.by_uid[u] for u in added]

    def store_flags(
        self, box: Mailbox, uids: Iterable[int], flags: Iterable[str], mode: str
    ) -> list[Message]:
        """Replace (``set``), ``add`` or ``remove`` flags; returns the messages that changed."""
        self._check_live(box)
        wanted = set(flags) - {"\\Recent"}
        changes: list[list[Any]] = []
        for uid in uids:
            msg = box.by_uid.get(uid)
            if msg is None:
                continue
            if mode == "set":
                new = set(wanted)
            elif mode == "add":
                new = msg.flags | wanted
            elif mode == "remove":
                new = msg.flags - wanted
            else:
                raise ValueError(f"unknown flag mode {mode!r}")
            if new != msg.flags:
                changes.append([uid, sorted(new)])
        if changes:
            self._commit([{"op": "flags", "id": box.id, "changes": changes}])
        return [box.by_uid[uid] for uid, _ in changes]

    def expunge(self, box: Mailbox, uids: Iterable[int]) -> list[int]:
        """Remove the messages with these UIDs for good; returns the UIDs removed."""
        self._check_live(box)
        gone = sorted(uid for uid in set(uids) if uid in box.by_uid)
        if gone:
            self._commit([{"op": "expunge", "id": box.id, "uids": gone}])
        return gone

    def copy(self, source: Mailbox, uids: Iterable[int], target: Mailbox) -> list[tuple[int, int]]:
        """Copy messages with flags and internal date; returns (source UID, new UID) pairs."""
        records, pairs = self._copy_records(source, uids, target)
        self._commit(records)
        return pairs

    def move(self, source: Mailbox, uids: Iterable[int], target: Mailbox) -> list[tuple[int, int]]:
        """Copy then expunge as one atomic journal record (RFC 6851 MOVE)."""
        records, pairs = self._copy_records(source, uids, target)
        if pairs:
            records.append({"op": "expunge", "id": source.id, "uids": [p[0] for p in pairs]})
        self._commit(records)
        return pairs

    def claim_recent(self, box: Mailbox) -> set[int]:
        """Take ``box``'s recent messages for one session; no other session gets them.

        This is the RFC 3501 ``\\Recent`` rule.  The claim is journaled but not
        fsync'ed: were it lost in a crash, messages would merely be recent once more.
        """
        if box.deleted or self._boxes.get(box.id) is not box:
            return set()
        claimed = {m.uid for m in box.messages if m.uid >= box.recent_mark}
        if claimed:
            self._commit([{"op": "recent", "id": box.id, "mark": box.uidnext}], sync=False)
        return claimed

    def set_acl(self, box: Mailbox, identifier: str, rights: str | None) -> None:
        """Grant ``identifier`` exactly ``rights`` on ``box``; ``None`` removes the entry."""
        self._check_live(box)
        self._commit([{"op": "acl", "id": box.id, "who": identifier, "rights": rights}])

    # -- internals --------------------------------------------------------------------

    def _create_records(
        self, owner: str, name: str, special_use: str | None, leaf: bool = True
    ) -> list[dict[str, Any]]:
        """Records creating the missing superiors of ``name`` and, if ``leaf``, itself."""
        parts = name.split(DELIMITER)
        acl: dict[str, str] = {}
        for depth in range(len(parts) - 1, 0, -1):
            superior = self.mailbox(owner, DELIMITER.join(parts[:depth]))
            if superior is not None:
                acl = dict(superior.acl)
                break
        records: list[dict[str, Any]] = []
        for depth in range(1, len(parts) + (1 if leaf else 0)):
            path = DELIMITER.join(parts[:depth])
            if self.mailbox(owner, path) is None:
                records.append(
                    {
                        "op": "create",
                        "id": self._next_id + len(records),
                        "owner": owner,
                        "name": path,
                        "uidvalidity": self._new_uidvalidity(),
                        "special": special_use if path == name else None,
                        "acl": acl,
                    }
                )
        return records

    def _copy_records(
        self, source: Mailbox, uids: Iterable[int], target: Mailbox
    ) -> tuple[list[dict[str, Any]], list[tuple[int, int]]]:
        self._check_live(source)
        self._check_live(target)
        entries = []
        pairs = []
        uid = target.uidnext
        for old in sorted(set(uids)):
            msg = source.by_uid.get(old)
            if msg is None:
                continue
            entries.append([uid, msg.blob, sorted(msg.flags), msg.internaldate.isoformat()])
            pairs.append((old, uid))
            uid += 1
        records: list[dict[str, Any]] = []
        if entries:
            records.append({"op": "append", "id": target.id, "messages": entries})
        return records, pairs

    def _check_live(self, box: Mailbox) -> None:
        if box.deleted or self._boxes.get(box.id) is not box:
            raise StoreError("mailbox has been deleted")
        if box.noselect:
            raise StoreError("mailbox is not selectable")

    def _new_uidvalidity(self) -> int:
        # Time-based so a store recreated from scratch still does not repeat old values.
        self._last_uidvalidity = max(self._last_uidvalidity + 1, int(self.clock()))
        return self._last_uidvalidity

    def _put_blob(self, data: bytes) -> str:
        self._check_writable()
        stored = self._stored_objects.get(id(data))
        if stored is not None and stored[0] is data:
            return stored[1]  # the very object stored before: its key is known
        key = hashlib.sha256(data).hexdigest()
        if key not in self._blobs:
            if self._journal is not None:
                try:
                    self._journal.write_blob(key, data)
                except OSError as exc:
                    raise StoreError(f"cannot write the message: {exc.strerror or exc}") from exc
            self._blobs[key] = data
            if type(data) is bytes:  # immutable, so its key stays true
                # Kept with the object, which also keeps its id from being reused.
                self._stored_objects[id(data)] = (data, key)
            if self._lost_blobs.pop(key, None) is not None:
                # The same bytes arrived again, so every message that lost them is whole.
                for box in self._boxes.values():
                    for msg in box.messages:
                        if msg.blob == key:
                            msg.content, msg.lost = data, None
        return key

    def _check_writable(self) -> None:
        if self.read_only:
            raise StoreError("the store is open read-only")

    def _commit(self, records: list[dict[str, Any]], sync: bool = True) -> None:
        """Make ``records`` durable first, then apply them to memory, then notify."""
        if not records:
            return
        self._check_writable()
        if self._journal is not None:
            record = records[0] if len(records) == 1 else {"op": "batch", "records": records}
            if self.fsync == "optimized":
                sync = sync and any(r["op"] in _MAIL_OPS for r in records)
            try:
                self._journal.append(record, sync)
            except OSError as exc:
                # Not on disk, so not applied and not acknowledged: the client gets NO.
                raise StoreError(f"cannot write the journal: {exc.strerror or exc}") from exc
        touched: list[Mailbox] = []
        for record in records:
            touched.extend(self._apply(record))
        for box in dict.fromkeys(touched):
            for listener in list(self._listeners):
                listener(box)

    def _apply(self, record: dict[str, Any]) -> list[Mailbox]:
        """Apply one journal record to memory; returns the mailboxes it touched."""
        op = record["op"]
        if op == "batch":
            touched: list[Mailbox] = []
            for inner in record["records"]:
                touched.extend(self._apply(inner))
            return touched
        if op == "meta":
            self._last_uidvalidity = max(self._last_uidvalidity, record["last_uidvalidity"])
            return []
        if op == "subscribe":
            subs = self._subscriptions.setdefault(record["user"], set())
            if record["on"]:
                subs.add(record["name"])
            else:
                subs.discard(record["name"])
            return []
        if op == "create":
            box = Mailbox(
                id=record["id"],
                owner=record["owner"],
                name=record["name"],
                uidvalidity=record["uidvalidity"],
                uidnext=record.get("uidnext", 1),
                special_use=record.get("special"),
                noselect=record.get("noselect", False),
                acl=dict(record.get("acl", {})),
                keywords=list(record.get("keywords", [])),
                recent_mark=record.get("recent_mark", record.get("uidnext", 1)),
                modseq=record.get("modseq", 1),
            )
            for low, high, modseq in record.get("vanished", ()):
                for uid in range(low, high + 1):
                    box.expunged[uid] = modseq
            self._boxes[box.id] = box
            self._by_name[(box.owner, box.name)] = box
            self._next_id = max(self._next_id, box.id + 1)
            self._last_uidvalidity = max(self._last_uidvalidity, box.uidvalidity)
            return [box]
        target = self._boxes[record["id"]] if "id" in record else None
        if op == "delete":
            assert target is not None
            box = target
            box.modseq += 1
            box.messages.clear()
            box.by_uid.clear()
            box.unseen.clear()
            if record["keep"]:
                box.noselect = True
            else:
                box.deleted = True
                del self._boxes[box.id]
                del self._by_name[(box.owner, box.name)]
            return [box]
        if op == "rename":
            moved = [self._boxes[i] for i, _ in record["moves"]]
            for b in moved:
                del self._by_name[(b.owner, b.name)]
            for (_, name), b in zip(record["moves"], moved, strict=True):
                b.name = name
                self._by_name[(b.owner, name)] = b
            return moved
        assert target is not None
        box = target
        if op == "recent":
            box.recent_mark = max(box.recent_mark, record["mark"])
            return []  # nothing any session needs to hear about
        # A compacted journal restores each message's own mod-sequence (``modseqs``);
        # any other record is one new change to the mailbox.
        restored: list[int] | None = record.get("modseqs")
        if restored is None:
            box.modseq += 1
        if op == "append":
            for i, (uid, blob, flags, when) in enumerate(record["messages"]):
                data, lost = self._load_blob(blob)
                modseq = box.modseq if restored is None else restored[i]
                box.modseq = max(box.modseq, modseq)
                msg = Message(
                    uid, data, set(flags), dt.datetime.fromisoformat(when), modseq, blob, lost
                )
                box.messages.append(msg)
                box.by_uid[uid] = msg
                if "\\Seen" not in msg.flags:
                    box.unseen.add(uid)
                box.uidnext = max(box.uidnext, uid + 1)
                self._note_keywords(box, msg.flags)
        elif op == "flags":
            for uid, flags in record["changes"]:
                msg = box.by_uid[uid]
                msg.flags = set(flags)
                if "\\Seen" in msg.flags:
                    box.unseen.discard(uid)
                else:
                    box.unseen.add(uid)
                msg.modseq = box.modseq
                self._note_keywords(box, msg.flags)
        elif op == "expunge":
            gone = set(record["uids"])
            box.messages = [m for m in box.messages if m.uid not in gone]
            for uid in gone:
                box.by_uid.pop(uid, None)
                box.unseen.discard(uid)
                box.expunged[uid] = box.modseq
        elif op == "acl":
            if record["rights"] is None:
                box.acl.pop(record["who"], None)
            else:
                box.acl[record["who"]] = record["rights"]
        else:
            raise StoreError(f"unknown journal record {op!r}")
        return [box]

    def _load_blob(self, blob: str) -> tuple[bytes | None, str | None]:
        """A blob's bytes, checked against its name; or ``None`` and why it is lost."""
        data = self._blobs.get(blob)
        if data is not None:
            return data, None
        reason = self._lost_blobs.get(blob)
        if reason is None:
            if self._journal is None:
                reason = "its bytes were never stored"  # only a forged record gets here
            else:
                try:
                    data = self._journal.read_blob(blob)
                except BlobError as exc:
                    reason = str(exc.strerror)
                else:
                    self._blobs[blob] = data
                    return data, None
            self._lost_blobs[blob] = reason
        return None, f"its blob {blob[:12]}... is {reason.split(':')[0]}"

    def _conflict(
        self, record: dict[str, Any], pending: dict[int, tuple[str, str]] | None = None
    ) -> str | None:
        """Why a well-formed ``record`` does not fit the current state, or ``None``.

        Replay calls this before :meth:`_apply`, so that a record that does not fit
        (often because an earlier, damaged record would have made it fit) changes
        nothing.  ``pending`` holds the mailboxes created earlier in the same batch.
        """
        op = record["op"]
        if op == "batch":
            pending = {}
            for i, inner in enumerate(record["records"]):
                wrong = self._conflict(inner, pending)
                if wrong is not None:
                    return f"records[{i}]: {wrong}"
            return None
        if op in ("meta", "subscribe"):
            return None
        pending = {} if pending is None else pending

        def taken(key: tuple[str, str]) -> bool:
            return key in self._by_name or key in pending.values()

        if op == "create":
            key = (record["owner"], record["name"])
            if record["id"] in self._boxes or record["id"] in pending:
                return f"mailbox id {record['id']} already exists"
            if taken(key):
                return f"mailbox {key[0]}/{key[1]} already exists"
            pending[record["id"]] = key
            return None
        if op == "rename":
            moved: dict[tuple[str, str], int] = {}
            for box_id, _ in record["moves"]:
                box = self._boxes.get(box_id)
                if box is None:
                    return f"mailbox id {box_id} does not exist"
                moved[(box.owner, box.name)] = box_id
            targets: set[tuple[str, str]] = set()
            for box_id, name in record["moves"]:
                key = (self._boxes[box_id].owner, name)
                if (taken(key) and key not in moved) or key in targets:
                    return f"mailbox {key[0]}/{key[1]} already exists"
                targets.add(key)
            return None
        box_id = record["id"]
        existing = self._boxes.get(box_id)
        if existing is None and box_id not in pending:
            return (
                f"mailbox id {box_id} does not exist"
                " (the record that created it may be the damaged one)"
            )
        uids = existing.by_uid if existing is not None else {}
        label = f"mailbox id {box_id}"
        if existing is not None:
            label = f"mailbox {existing.owner}/{existing.name}"
        if op == "append":
            if "modseqs" in record and len(record["modseqs"]) != len(record["messages"]):
                return "it has not one mod-sequence per message"
            new: set[int] = set()
            for uid, *_ in record["messages"]:
                if uid in uids or uid in new:
                    return f"UID {uid} is already taken in {label}"
                new.add(uid)
        elif op == "flags":
            for uid, _ in record["changes"]:
                if uid not in uids:
                    return (
                        f"UID {uid} is not in {label}"
                        " (the record that appended it may be the damaged one)"
                    )
        return None

    @staticmethod
    def _note_keywords(box: Mailbox, flags: set[str]) -> None:
        for flag in sorted(flags):
            if not flag.startswith("\\") and flag not in box.keywords:
                box.keywords.append(flag)

    def _snapshot(self) -> list[dict[str, Any]]:
        """Records that rebuild the current state from nothing (used to compact)."""
        records: list[dict[str, Any]] = [{"op": "meta", "last_uidvalidity": self._last_uidvalidity}]
        for box in sorted(self._boxes.values(), key=lambda b: b.id):
            records.append(
                {
                    "op": "create",
                    "id": box.id,
                    "owner": box.owner,
                    "name": box.name,
                    "uidvalidity": box.uidvalidity,
                    "uidnext": box.uidnext,
                    "special": box.special_use,
                    "noselect": box.noselect,
                    "acl": box.acl,
                    "keywords": box.keywords,
                    "recent_mark": box.recent_mark,
                    "modseq": box.modseq,
                    "vanished": _runs(box.expunged),
                }
            )
            if box.messages:
                entries = [
                    [m.uid, m.blob, sorted(m.flags), m.internaldate.isoformat()]
                    for m in box.messages
                ]
                modseqs = [m.modseq for m in box.messages]
                records.append(
                    {"op": "append", "id": box.id, "messages": entries, "modseqs": modseqs}
                )
        for user, names in sorted(self._subscriptions.items()):
            for name in sorted(names):
                records.append({"op": "subscribe", "user": user, "name": name, "on": True})
        return records

    def _referenced_blobs(self) -> set[str]:
        return {m.blob for b in self._boxes.values() for m in b.messages}


#: The fewest bytes one message entry takes in a journal line (its blob name, quoted).
_MIN_ENTRY_BYTES = 66
#: A blob name inside a journal line that may not even be JSON.
_BLOB_IN_TEXT = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")


def _runs(expunged: dict[int, int]) -> list[list[int]]:
    """Expunged UIDs as ``[low, high, modseq]`` runs of consecutive UIDs, for a snapshot."""
    runs: list[list[int]] = []
    for uid in sorted(expunged):
        modseq = expunged[uid]
        if runs and runs[-1][1] == uid - 1 and runs[-1][2] == modseq:
            runs[-1][1] = uid
        else:
            runs.append([uid, uid, modseq])
    return runs


def _canonical(name: str) -> str:
    """Mailbox names are case-sensitive, except INBOX (RFC 3501 5.1)."""
    if name.upper() == "INBOX":
        return "INBOX"
    if name[:6].upper() == "INBOX" + DELIMITER:
        return "INBOX" + name[5:]
    return name
