"""One session's view of its selected mailbox: sequence numbers and pending news.

Message sequence numbers are per session: they change only when *this* session is told
of an expunge.  So each session keeps the UIDs it has announced, in order, and compares
them with the shared mailbox to produce the untagged ``EXPUNGE``, ``EXISTS``,
``RECENT`` and ``FETCH (FLAGS ..)`` responses other sessions' changes call for
(RFC 3501 section 5.2).  An expunge cannot be announced while answering FETCH, STORE
or SEARCH (section 7.4.1; the UID forms may), so then the message lingers as a ghost
until a later command.  The view keeps the messages it has announced, so a ghost can
still be fetched until its EXPUNGE is told (RFC 2180 4.1.1): a client is never asked
to make sense of a message that vanished under a number it still holds.  With
CONDSTORE on, flag news carries the message's MODSEQ; with QRESYNC on, expunges are
told by UID in one ``VANISHED`` (RFC 7162 3.2.10).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from netsim.mail.imap.responses import flag_list
from netsim.mail.imap.sequence import SequenceSet, format_set
from netsim.mail.store import Mailbox, MailStore, Message

#: Flags every mailbox accepts permanently (keywords come on top).
SYSTEM_FLAGS = ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft")


class BadSequence(ValueError):
    """A message sequence number beyond the mailbox size."""


class SelectedView:
    """What one session knows of the mailbox it has selected."""

    def __init__(
        self,
        store: MailStore,
        box: Mailbox,
        readonly: bool,
        modseqs: bool = False,
        vanished: bool = False,
    ) -> None:
        self.store = store
        self.box = box
        self.readonly = readonly
        #: Show MODSEQ with flags (CONDSTORE is on).
        self.modseqs = modseqs
        #: Tell expunges as VANISHED (QRESYNC is on).
        self.vanished = vanished
        #: The messages this session has been told of, in sequence order, ghosts included.
        self.messages = list(box.messages)
        self.uids = [m.uid for m in self.messages]
        self.known_flags = {m.uid: frozenset(m.flags) for m in box.messages}
        # EXAMINE must not change the mailbox, so it shows \Recent without claiming.
        if readonly:
            self.recent = {m.uid for m in box.messages if m.uid >= box.recent_mark}
        else:
            self.recent = store.claim_recent(box)
        self.seen_modseq = box.modseq
        self.known_keywords = len(box.keywords)
        self._ghosts = False

    # -- addressing -------------------------------------------------------------------

    @property
    def exists(self) -> int:
        """The message count this session has been told."""
        return len(self.uids)

    def seq_of(self, uid: int) -> int | None:
        """The sequence number of ``uid`` in this session, if it is known."""
        i = bisect_left(self.uids, uid)
        if i < len(self.uids) and self.uids[i] == uid:
            return i + 1
        return None

    def select(self, seqset: SequenceSet, by_uid: bool) -> list[tuple[int, int]]:
        """(sequence number, UID) pairs a set names, in mailbox order.

        Sequence numbers beyond the mailbox are an error; UIDs that do not exist are
        simply ignored (RFC 3501 section 6.4.8).
        """
        uids = self.uids
        ranges = seqset.ranges
        if len(ranges) == 1 and ranges[0][0] is not None and ranges[0][0] == ranges[0][1]:
            # One number, the most common set of all ("FETCH 7", "UID STORE 42").
            number = ranges[0][0]
            if by_uid:
                seq = self.seq_of(number)
                return [] if seq is None else [(seq, number)]
            if number > len(uids):
                raise BadSequence("message sequence number out of range")
            return [(number, uids[number - 1])]
        spans: list[range] = []
        if by_uid:
            largest = uids[-1] if uids else 0
            for low, high in seqset.merged(largest):
                spans.append(range(bisect_left(uids, low), bisect_right(uids, high)))
        else:
            if not uids or seqset.largest_named() > len(uids):
                raise BadSequence("message sequence number out of range")
            for low, high in seqset.merged(len(uids)):
                spans.append(range(low - 1, high))
        # Merged ranges are disjoint and ascending, so the indices come out in order.
        return [(i + 1, uids[i]) for span in spans for i in span]

    def message(self, uid: int) -> Message | None:
        """The message, or ``None`` if it was expunged meanwhile (a ghost)."""
        return self.box.by_uid.get(uid)

    def flags(self, msg: Message) -> set[str]:
        """The message's flags as this session shows them, ``\\Recent`` included."""
        if msg.uid in self.recent:
            return msg.flags | {"\\Recent"}
        return set(msg.flags)

    def reported(self, msg: Message) -> None:
        """Note that this session has just shown ``msg``'s current flags."""
        self.known_flags[msg.uid] = frozenset(msg.flags)

    def flags_response(self) -> list[bytes]:
        """``FLAGS`` and ``PERMANENTFLAGS`` payloads for this mailbox."""
        flags = list(SYSTEM_FLAGS) + self.box.keywords
        permanent = b"" if self.readonly else flag_list([*flags, "\\*"])
        out = [b"FLAGS " + flag_list(flags)]
        if self.readonly:
            out.append(b"OK [PERMANENTFLAGS ()] No permanent flags permitted")
        else:
            out.append(b"OK [PERMANENTFLAGS " + permanent + b"] Flags permitted")
        return out

    def new_keywords(self) -> list[bytes]:
        """``FLAGS`` and ``PERMANENTFLAGS`` again if the mailbox has keywords not yet told.

        A client may only be shown a keyword in a FETCH after FLAGS has listed it, so
        a command that adds one says so before its own FETCH responses.
        """
        if len(self.box.keywords) == self.known_keywords:
            return []
        self.known_keywords = len(self.box.keywords)
        return self.flags_response()

    # -- news -------------------------------------------------------------------------

    def updates(self, allow_expunge: bool) -> list[bytes]:
        """Untagged payloads that bring this session up to date with the mailbox."""
        box = self.box
        if box.modseq == self.seen_modseq and not self._ghosts:
            return []
        out: list[bytes] = self.new_keywords()
        live = box.by_uid
        if any(uid not in live for uid in self.uids):
            if allow_expunge:
                kept: list[int] = []
                kept_messages: list[Message] = []
                gone: list[int] = []
                for uid, message in zip(self.uids, self.messages, strict=True):
                    if uid in live:
                        kept.append(uid)
                        kept_messages.append(message)
                    else:
                        # Each EXPUNGE renumbers what follows, so the number to send
                        # is the count of survivors so far plus one.
                        if not self.vanished:
                            out.append(b"%d EXPUNGE" % (len(kept) + 1))
                        gone.append(uid)
                        self.known_flags.pop(uid, None)
                        self.recent.discard(uid)
                if self.vanished:
                    out.append(b"VANISHED " + format_set(gone).encode())
                self.uids = kept
                self.messages = kept_messages
                self._ghosts = False
            else:
                self._ghosts = True
        last = self.uids[-1] if self.uids else 0
        if box.messages and box.messages[-1].uid > last:
            start = len(box.messages)
            while start > 0 and box.messages[start - 1].uid > last:
                start -= 1
            for new in box.messages[start:]:
                self.uids.append(new.uid)
                self.messages.append(new)
                self.known_flags[new.uid] = frozenset(new.flags)
            if not self.readonly:
                self.recent |= self.store.claim_recent(box)
            out.append(b"%d EXISTS" % len(self.uids))
            out.append(b"%d RECENT" % len(self.recent))
        for seq, uid in enumerate(self.uids, start=1):
            changed = live.get(uid)
            if changed is None or changed.modseq <= self.seen_modseq:
                continue
            current = frozenset(changed.flags)
            if self.known_flags.get(uid) != current:
                self.known_flags[uid] = current
                line = b"%d FETCH (UID %d FLAGS %s" % (seq, uid, flag_list(self.flags(changed)))
                if self.modseqs:
                    line += b" MODSEQ (%d)" % changed.modseq
                out.append(line + b")")
        self.seen_modseq = box.modseq
        return out
