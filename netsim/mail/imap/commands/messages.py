"""Commands on the messages of the selected mailbox (RFC 3501 6.4, UIDPLUS, MOVE).

FETCH, STORE and SEARCH also take RFC 7162's modifiers (CHANGEDSINCE, UNCHANGEDSINCE,
MODSEQ; see :mod:`netsim.mail.imap.condstore`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Generator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from netsim.mail.imap import condstore, fetch, search
from netsim.mail.imap.arguments import Arguments, Bad, No, parse_flags
from netsim.mail.imap.parser import Value
from netsim.mail.imap.responses import flag_list
from netsim.mail.imap.selected import BadSequence, SelectedView
from netsim.mail.imap.sequence import SequenceSet, format_set
from netsim.mail.store import MessageLost

if TYPE_CHECKING:
    from netsim.mail.imap.arguments import Result
    from netsim.mail.imap.commands import Outcome, Steps
    from netsim.mail.imap.server import ServerSession

_MODSEQ_ITEM = fetch.FetchItem("MODSEQ")
#: Work in one step of SEARCH, in key evaluations (a key tested on one message).
SEARCH_STEP = 2000
#: Response octets, and messages, in one step of FETCH.
FETCH_STEP_OCTETS = 256 * 1024
FETCH_STEP_MESSAGES = 500


def do_check(session: ServerSession, tag: str, args: Arguments) -> str:
    """CHECK: a checkpoint; the store is always consistent, so only news is due."""
    args.end()
    return "CHECK completed"


def do_close(session: ServerSession, tag: str, args: Arguments) -> str:
    """CLOSE: silently expunge \\Deleted messages (if writable) and deselect."""
    args.end()
    view = session.require_view()
    box = view.box
    if not view.readonly and "e" in box.rights_of(session.require_user()) and not box.deleted:
        session.store.expunge(box, [m.uid for m in box.messages if "\\Deleted" in m.flags])
    session.view = None
    return "CLOSE completed"


def do_unselect(session: ServerSession, tag: str, args: Arguments) -> str:
    """UNSELECT (RFC 3691): deselect without expunging."""
    args.end()
    session.view = None
    return "UNSELECT completed"


def do_expunge(session: ServerSession, tag: str, args: Arguments) -> str:
    """EXPUNGE: remove every \\Deleted message for good."""
    return _expunge(session, args, by_uid=False)


def do_uid_expunge(session: ServerSession, tag: str, args: Arguments) -> str:
    """UID EXPUNGE (UIDPLUS): expunge only \\Deleted messages with the given UIDs."""
    return _expunge(session, args, by_uid=True)


def _expunge(session: ServerSession, args: Arguments, by_uid: bool) -> str:
    view = session.require_view()
    wanted = args.sequence() if by_uid else None
    args.end()
    if view.readonly:
        raise No("mailbox is read-only", "READ-ONLY")
    box = view.box
    if "e" not in box.rights_of(session.require_user()):
        raise No("permission denied (need right e)", "NOPERM")
    largest = box.messages[-1].uid if box.messages else 0
    ranges = wanted.merged(largest) if wanted is not None else None
    doomed = [
        m.uid
        for m in box.messages
        if "\\Deleted" in m.flags and (ranges is None or ranges.contains(m.uid))
    ]
    session.store.expunge(box, doomed)
    return "EXPUNGE completed"


def do_search(session: ServerSession, tag: str, args: Arguments) -> Outcome:
    """SEARCH: sequence numbers of the messages that match."""
    return _search(session, args, by_uid=False)


def do_uid_search(session: ServerSession, tag: str, args: Arguments) -> Outcome:
    """UID SEARCH: UIDs of the messages that match."""
    return _search(session, args, by_uid=True)


def _search(session: ServerSession, args: Arguments, by_uid: bool) -> Outcome:
    view = session.require_view()
    try:
        criteria = search.parse_search(search.split_charset(args.rest()))
    except search.UnknownCharset as exc:
        raise No(f"unsupported charset {str(exc)[:40]}", "BADCHARSET (UTF-8 US-ASCII)") from exc
    except search.SearchError as exc:
        raise Bad(str(exc)) from exc
    if criteria.modseq:
        session.enable_condstore()  # a CONDSTORE-enabling command (RFC 7162 3.1)
    if criteria.flag == ("\\Seen", False) and len(view.box.unseen) * 4 <= len(view.uids):
        # Few unseen: the store's index answers at once, with no steps to take.
        found: list[int] = []
        _search_unseen(view, by_uid, found)
        return _search_answer(session, criteria, found, [], 0)
    return _search_in_steps(session, view, criteria, by_uid)


def _search_in_steps(
    session: ServerSession, view: SelectedView, criteria: search.Criteria, by_uid: bool
) -> Steps:
    """A search that tests each message (or its flags), a step of messages at a time."""
    found: list[int] = []
    lost: list[int] = []
    highest = 0
    if criteria.flag is not None:
        yield from _search_flag(view, criteria.flag, by_uid, found)
    else:
        highest = yield from _search_messages(view, criteria, by_uid, found, lost)
    return _search_answer(session, criteria, found, lost, highest)


def _search_answer(
    session: ServerSession,
    criteria: search.Criteria,
    found: list[int],
    lost: list[int],
    highest: int,
) -> Result:
    """The untagged SEARCH reply (and a NO for messages that could not be read)."""
    if lost:
        session.untagged(
            b"NO [CORRUPTION] UID %s cannot be read (store damage) and was not searched"
            % format_set(lost).encode()
        )
    answer = b"SEARCH " + " ".join(map(str, found)).encode() if found else b"SEARCH"
    if criteria.modseq and found:
        answer += b" (MODSEQ %d)" % highest
    session.untagged(answer)
    return "SEARCH completed"


def _search_unseen(view: SelectedView, by_uid: bool, found: list[int]) -> None:
    """Add to ``found`` the messages without \\Seen, from the mailbox's index of them:
    a binary search in the session's UIDs per unseen message, none per seen one."""
    uids = view.uids
    for uid in sorted(view.box.unseen):
        i = bisect_left(uids, uid)
        # Not told to this session yet (appended meanwhile): not in its answer.
        if i < len(uids) and uids[i] == uid:
            found.append(uid if by_uid else i + 1)


def _search_flag(
    view: SelectedView, flag: tuple[str, bool], by_uid: bool, found: list[int]
) -> Generator[None, None, None]:
    """Add to ``found`` the messages with (or without) one flag, in steps of
    :data:`SEARCH_STEP` messages: a flag test needs neither a predicate nor the bytes."""
    name, wanted = flag
    uids = list(view.uids)
    for start in range(0, len(uids), SEARCH_STEP):
        if start:
            yield  # a big mailbox is searched in steps: other clients go in between
        live = view.box.by_uid  # looked up afresh after each step
        chunk = enumerate(uids[start : start + SEARCH_STEP], start=start + 1)
        found += [
            uid if by_uid else seq
            for seq, uid in chunk
            # a message expunged meanwhile (a ghost) matches nothing
            if (msg := live.get(uid)) is not None and (name in msg.flags) is wanted
        ]


def _search_messages(
    view: SelectedView,
    criteria: search.Criteria,
    by_uid: bool,
    found: list[int],
    lost: list[int],
) -> Generator[None, None, int]:
    """Add to ``found`` the messages ``criteria`` matches, and to ``lost`` those whose
    bytes are gone; returns the highest mod-sequence among the matches."""
    matches = criteria.predicate
    max_seq = view.exists
    max_uid = view.uids[-1] if view.uids else 0
    batch = max(1, SEARCH_STEP // criteria.keys)
    highest = 0
    live = view.box.by_uid
    recent = view.recent
    candidate: search.Candidate | None = None
    for seq, uid in enumerate(list(view.uids), start=1):
        if seq % batch == 0:
            yield  # a big mailbox is searched in steps: other clients go in between
            live = view.box.by_uid  # an expunge meanwhile may have replaced nothing, but
            recent = view.recent  # a session's news may have: look them up afresh
        msg = live.get(uid)
        if msg is None:
            continue  # expunged meanwhile (a ghost)
        if candidate is None:
            candidate = search.Candidate(seq, msg, uid in recent, max_seq, max_uid)
        else:
            candidate.seq, candidate.msg, candidate.recent = seq, msg, uid in recent
        try:
            matched = matches(candidate)
        except MessageLost:
            # Store damage costs this message, not the search: the others are still
            # answered, and the client hears which ones could not be read.
            lost.append(uid)
            continue
        if matched:
            found.append(uid if by_uid else seq)
            if msg.modseq > highest:
                highest = msg.modseq
    return highest


def do_fetch(session: ServerSession, tag: str, args: Arguments) -> Outcome:
    """FETCH: data items of messages by sequence number."""
    return _fetch(session, args, by_uid=False)


def do_uid_fetch(session: ServerSession, tag: str, args: Arguments) -> Outcome:
    """UID FETCH: data items of messages by UID (UID always included)."""
    return _fetch(session, args, by_uid=True)


def _pick(
    session: ServerSession, view: SelectedView, seqset: SequenceSet, by_uid: bool
) -> list[tuple[int, int]]:
    try:
        return view.select(seqset, by_uid)
    except BadSequence as exc:
        raise Bad(str(exc)) from exc


@dataclass(frozen=True, slots=True)
class _FetchPlan:
    """What one FETCH item list asks for, worked out once: clients send the same few
    lists again and again, so plans are kept (:func:`_fetch_plan`)."""

    items: tuple[fetch.FetchItem, ...]
    renderers: tuple[fetch.Renderer, ...]
    #: FLAGS is among the items.
    wants_flags: bool
    #: MODSEQ is among the items (asked for, or added because CONDSTORE is on).
    has_modseq: bool
    #: Some item marks the message \Seen (BODY[], RFC822 ...).
    sets_seen: bool
    #: The command turns CONDSTORE on (RFC 7162 3.1): MODSEQ asked, or CHANGEDSINCE.
    enables_condstore: bool
    #: Every item is short and a function of the message's UID, flags and MODSEQ (or
    #: of its bytes, which never change): a message's rendering can be kept and
    #: reused while those stay the same (see :func:`_memo`).
    memoizable: bool


#: Items whose renderings are kept per message (short, and see ``memoizable``).
_MEMOIZABLE = frozenset({"UID", "FLAGS", "MODSEQ", "RFC822.SIZE", "INTERNALDATE"})


@lru_cache(maxsize=128)
def _fetch_plan(
    values: tuple[Value, ...], by_uid: bool, condstore_on: bool, changed_since: bool
) -> _FetchPlan:
    """The plan for FETCH items ``values``; raises :class:`Bad` if they are malformed."""
    try:
        items = fetch.parse_items(list(values))
    except fetch.FetchError as exc:
        raise Bad(str(exc)) from exc
    if by_uid and not any(i.name == "UID" for i in items):
        items.insert(0, fetch.FetchItem("UID"))
    asks_modseq = any(i.name == "MODSEQ" for i in items)
    wants_flags = any(i.name == "FLAGS" for i in items)
    if condstore_on and (wants_flags or changed_since) and not asks_modseq:
        items.append(_MODSEQ_ITEM)  # flags always come with their MODSEQ
    return _FetchPlan(
        items=tuple(items),
        renderers=tuple(fetch.renderer(item) for item in items),
        wants_flags=wants_flags,
        has_modseq=any(i.name == "MODSEQ" for i in items),
        sets_seen=any(i.sets_seen for i in items),
        enables_condstore=changed_since or asks_modseq,
        memoizable=all(i.name in _MEMOIZABLE and i.section is None for i in items),
    )


def _fetch(session: ServerSession, args: Arguments, by_uid: bool) -> Outcome:
    view = session.require_view()
    seqset = args.sequence()
    values = args.rest()
    modifiers = condstore.FetchModifiers()
    if len(values) == 2 and isinstance(values[1], tuple):
        modifiers = condstore.fetch_modifiers(values[1])
        values = values[:1]
    changed_since = modifiers.changed_since
    key = tuple(values)
    plan = _fetch_plan(key, by_uid, session.condstore, changed_since is not None)
    if modifiers.vanished and not (by_uid and session.qresync):
        raise Bad("VANISHED needs UID FETCH and QRESYNC enabled")
    if plan.enables_condstore and not session.condstore:
        session.enable_condstore()  # a CONDSTORE-enabling command (RFC 7162 3.1)
        plan = _fetch_plan(key, by_uid, True, changed_since is not None)
    picked = _pick(session, view, seqset, by_uid)
    box = view.box
    if changed_since is not None:
        if modifiers.vanished:
            ranges = seqset.merged(box.uidnext - 1)
            gone = box.vanished_since(changed_since, ranges.contains)
            if gone:
                session.untagged(b"VANISHED (EARLIER) " + format_set(gone).encode())
        live_now = box.by_uid
        picked = [
            (seq, uid)
            for seq, uid in picked
            if uid in live_now and live_now[uid].modseq > changed_since
        ]
    if plan.sets_seen and not view.readonly and "s" in box.rights_of(session.require_user()):
        # A message whose bytes are lost (store damage) cannot be read, so it is not
        # marked read either: its FETCH answers NO [CORRUPTION] and it stays unseen.
        unseen = [
            uid
            for _, uid in picked
            if uid in box.by_uid
            and "\\Seen" not in box.by_uid[uid].flags
            and box.by_uid[uid].lost is None
        ]
        changed = {m.uid for m in session.store.store_flags(box, unseen, ["\\Seen"], "add")}
    else:
        changed = set()
    job = _FetchJob(session, view, plan, picked, changed)
    if _render_fetch(job):
        # Most FETCHes fit in one step: answered at once, with no steps to take.
        return "FETCH completed"
    return _fetch_in_steps(job)


@dataclass(slots=True)
class _FetchJob:
    """A FETCH under way: what it renders, for whom, and how far it has got."""

    session: ServerSession
    view: SelectedView
    plan: _FetchPlan
    #: (sequence number, UID) of every message asked for, in order.
    picked: list[tuple[int, int]]
    #: UIDs this FETCH marked \Seen (their new FLAGS go out even if not asked for).
    changed: set[int]
    #: How many of ``picked`` are rendered.
    done: int = 0


def _fetch_in_steps(job: _FetchJob) -> Steps:
    """The rest of a FETCH too big for one step: one step at a time."""
    while True:
        yield  # the answer so far goes out now, and other clients get the loop
        if _render_fetch(job):
            return "FETCH completed"


def _render_fetch(job: _FetchJob) -> bool:
    """Render one step's worth of ``job``'s messages; True when none are left."""
    session, view, plan = job.session, job.view, job.plan
    modseq_too = session.condstore and not plan.has_modseq
    wants_flags = plan.wants_flags
    changed = job.changed
    # This loop runs once per message of e.g. "UID FETCH 1:* (FLAGS)": keep it lean.
    out = session.out
    live = view.box.by_uid
    recent = view.recent
    known = view.known_flags
    ghosts = view.messages
    renderers = plan.renderers
    memoizable = plan.memoizable
    octets = 0
    picked = job.picked
    start = job.done
    end = min(len(picked), start + FETCH_STEP_MESSAGES)
    for index in range(start, end):
        if octets >= FETCH_STEP_OCTETS:
            job.done = index
            return False
        seq, uid = picked[index]
        # A message another session expunged is still this one's until it is told
        # (RFC 2180 4.1.1): the view keeps it.
        msg = live.get(uid) or ghosts[seq - 1]
        _, current, with_recent = msg.flag_snapshots()
        flags = with_recent if uid in recent else current
        # "UID FETCH 1:* (FLAGS)" on every sync of an unchanged mailbox renders the
        # same lines again: a memoizable plan keeps each message's last line.
        memo = msg.__dict__.get("_fetch_memo") if memoizable else None
        if (
            memo is not None
            and memo[0] is plan
            and memo[1] is flags
            and memo[2] == msg.modseq
            and memo[3] == seq
        ):
            line: bytes = memo[4]
        else:
            body = b" ".join([render(msg, flags, uid) for render in renderers])
            if uid in changed and not wants_flags:
                body += b" FLAGS " + flag_list(flags)
                if modseq_too:
                    body += b" MODSEQ (%d)" % msg.modseq
            line = b"* %d FETCH (%s)\r\n" % (seq, body)
            if memoizable and not changed:  # (its items mark nothing \Seen anyway)
                msg.__dict__["_fetch_memo"] = (plan, flags, msg.modseq, seq, line)
        if (wants_flags or uid in changed) and known.get(uid) is not current:
            known[uid] = current  # now the client knows these flags
        octets += len(line)
        out.append(line)
    job.done = end
    return end == len(picked)


def do_store(session: ServerSession, tag: str, args: Arguments) -> tuple[str, str | None]:
    """STORE: replace, add or remove flags by sequence number."""
    return _store(session, args, by_uid=False)


def do_uid_store(session: ServerSession, tag: str, args: Arguments) -> tuple[str, str | None]:
    """UID STORE: the same by UID."""
    return _store(session, args, by_uid=True)


def check_flag_rights(session: ServerSession, rights: str, flags: set[str]) -> None:
    """Refuse flags the user may not set: \\Seen needs ``s``, \\Deleted ``t``, others ``w``."""
    for flag in flags:
        need = "s" if flag == "\\Seen" else "t" if flag == "\\Deleted" else "w"
        if need not in rights:
            raise No(f"permission denied (need right {need})", "NOPERM")


def _store(session: ServerSession, args: Arguments, by_uid: bool) -> tuple[str, str | None]:
    view = session.require_view()
    seqset = args.sequence()
    unchanged_since: int | None = None
    if args.more() and isinstance(args.values[args.pos], tuple):
        unchanged_since = condstore.store_unchanged_since(args.plist("STORE modifiers"))
        session.enable_condstore()  # a CONDSTORE-enabling command (RFC 7162 3.1)
    item = args.atom("data item")
    value = args.rest()
    flag_values: tuple[Value, ...] | list[Value] = (
        value[0] if len(value) == 1 and isinstance(value[0], tuple) else value
    )
    assert isinstance(flag_values, (tuple, list))
    flags = parse_flags(flag_values)
    base, _, suffix = item.partition(".")
    modes = {"FLAGS": "set", "+FLAGS": "add", "-FLAGS": "remove"}
    if base not in modes or suffix not in ("", "SILENT"):
        raise Bad(f"unknown STORE item {item[:40]}")
    picked = _pick(session, view, seqset, by_uid)
    if view.readonly:
        raise No("mailbox is read-only", "READ-ONLY")
    rights = view.box.rights_of(session.require_user())
    check_flag_rights(session, rights, flags)
    modified: list[int] = []
    if unchanged_since is not None:
        # RFC 7162 3.1.3: a message changed after the client's mod-sequence is left
        # alone, and named in OK [MODIFIED ...] so the client can look again.
        live = view.box.by_uid
        kept = []
        for seq, uid in picked:
            msg = live.get(uid)
            if msg is not None and msg.modseq > unchanged_since:
                modified.append(uid if by_uid else seq)
            else:
                kept.append((seq, uid))
        picked = kept
    changed = session.store.store_flags(view.box, [uid for _, uid in picked], flags, modes[base])
    for payload in view.new_keywords():
        session.untagged(payload)  # a keyword is in FLAGS before any FETCH shows it
    code = f"MODIFIED {format_set(modified)}" if modified else None
    text = "Conditional STORE failed" if modified else "STORE completed"
    if suffix == "SILENT":
        for done in changed:
            view.reported(done)  # the client knows what it asked for
            if session.condstore:
                # The client knows the flags, not the new mod-sequence (RFC 7162 3.1.3).
                uid_part = b"UID %d " % done.uid if by_uid else b""
                number = view.seq_of(done.uid) or 0
                session.untagged(b"%d FETCH (%sMODSEQ (%d))" % (number, uid_part, done.modseq))
        return text, code
    for seq, uid in picked:
        msg = view.message(uid)
        if msg is None:
            continue
        view.reported(msg)
        uid_part = b"UID %d " % uid if by_uid else b""
        line = b"%d FETCH (%sFLAGS %s" % (seq, uid_part, flag_list(view.flags(msg)))
        if session.condstore:
            line += b" MODSEQ (%d)" % msg.modseq
        session.untagged(line + b")")
    return text, code


def do_copy(session: ServerSession, tag: str, args: Arguments) -> tuple[str, str | None]:
    """COPY: messages to the end of another mailbox (COPYUID, RFC 4315)."""
    return _copy(session, args, by_uid=False, move=False)


def do_uid_copy(session: ServerSession, tag: str, args: Arguments) -> tuple[str, str | None]:
    """UID COPY: the same by UID."""
    return _copy(session, args, by_uid=True, move=False)


def do_move(session: ServerSession, tag: str, args: Arguments) -> tuple[str, str | None]:
    """MOVE (RFC 6851): copy, then expunge from here, atomically."""
    return _copy(session, args, by_uid=False, move=True)


def do_uid_move(session: ServerSession, tag: str, args: Arguments) -> tuple[str, str | None]:
    """UID MOVE: the same by UID."""
    return _copy(session, args, by_uid=True, move=True)


def _copy(
    session: ServerSession, args: Arguments, by_uid: bool, move: bool
) -> tuple[str, str | None]:
    view = session.require_view()
    seqset = args.sequence()
    name = args.mailbox()
    args.end()
    picked = _pick(session, view, seqset, by_uid)
    try:
        target = session.find(name, "i")
    except No as exc:
        if exc.code == "NONEXISTENT":
            raise No("mailbox does not exist", "TRYCREATE") from exc
        raise
    if target.noselect:
        raise No("mailbox cannot hold messages", "CANNOT")
    verb = "MOVE" if move else "COPY"
    uids = [uid for _, uid in picked if uid in view.box.by_uid]
    if move:
        if view.readonly:
            raise No("mailbox is read-only", "READ-ONLY")
        rights = view.box.rights_of(session.require_user())
        if "t" not in rights or "e" not in rights:
            raise No("permission denied (need rights t and e)", "NOPERM")
        pairs = session.store.move(view.box, uids, target)
    else:
        pairs = session.store.copy(view.box, uids, target)
    if not pairs:
        return f"{verb} completed (nothing to do)", None
    sources = ",".join(str(p[0]) for p in pairs)
    copies = ",".join(str(p[1]) for p in pairs)
    code = f"COPYUID {target.uidvalidity} {sources} {copies}"
    if move:
        session.untagged(b"OK [" + code.encode() + b"] Moved")
        return f"{verb} completed", None
    return f"{verb} completed", code
