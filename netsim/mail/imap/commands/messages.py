"""Commands on the messages of the selected mailbox (RFC 3501 6.4, UIDPLUS, MOVE).

FETCH, STORE and SEARCH also take RFC 7162's modifiers (CHANGEDSINCE, UNCHANGEDSINCE,
MODSEQ; see :mod:`netsim.mail.imap.condstore`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netsim.mail.imap import condstore, fetch, search
from netsim.mail.imap.arguments import Arguments, Bad, No, parse_flags
from netsim.mail.imap.parser import Value
from netsim.mail.imap.responses import flag_list
from netsim.mail.imap.selected import BadSequence, SelectedView
from netsim.mail.imap.sequence import SequenceSet, format_set
from netsim.mail.store import MessageLost

if TYPE_CHECKING:
    from netsim.mail.imap.commands import Steps
    from netsim.mail.imap.server import ServerSession

_RECENT = frozenset({"\\Recent"})
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


def do_search(session: ServerSession, tag: str, args: Arguments) -> Steps:
    """SEARCH: sequence numbers of the messages that match."""
    return _search(session, args, by_uid=False)


def do_uid_search(session: ServerSession, tag: str, args: Arguments) -> Steps:
    """UID SEARCH: UIDs of the messages that match."""
    return _search(session, args, by_uid=True)


def _search(session: ServerSession, args: Arguments, by_uid: bool) -> Steps:
    view = session.require_view()
    try:
        criteria = search.parse_search(search.split_charset(args.rest()))
    except search.UnknownCharset as exc:
        raise No(f"unsupported charset {str(exc)[:40]}", "BADCHARSET (UTF-8 US-ASCII)") from exc
    except search.SearchError as exc:
        raise Bad(str(exc)) from exc
    if criteria.modseq:
        session.enable_condstore()  # a CONDSTORE-enabling command (RFC 7162 3.1)
    matches = criteria.predicate
    max_seq = view.exists
    max_uid = view.uids[-1] if view.uids else 0
    batch = max(1, SEARCH_STEP // criteria.keys)
    found = []
    highest = 0
    lost: list[int] = []
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
            highest = max(highest, msg.modseq)
    if lost:
        session.untagged(
            b"NO [CORRUPTION] UID %s cannot be read (store damage) and was not searched"
            % format_set(lost).encode()
        )
    answer = b"SEARCH" + b"".join(b" %d" % n for n in found)
    if criteria.modseq and found:
        answer += b" (MODSEQ %d)" % highest
    session.untagged(answer)
    return "SEARCH completed"


def do_fetch(session: ServerSession, tag: str, args: Arguments) -> Steps:
    """FETCH: data items of messages by sequence number."""
    return _fetch(session, args, by_uid=False)


def do_uid_fetch(session: ServerSession, tag: str, args: Arguments) -> Steps:
    """UID FETCH: data items of messages by UID (UID always included)."""
    return _fetch(session, args, by_uid=True)


def _pick(
    session: ServerSession, view: SelectedView, seqset: SequenceSet, by_uid: bool
) -> list[tuple[int, int]]:
    try:
        return view.select(seqset, by_uid)
    except BadSequence as exc:
        raise Bad(str(exc)) from exc


def _fetch(session: ServerSession, args: Arguments, by_uid: bool) -> Steps:
    view = session.require_view()
    seqset = args.sequence()
    values = args.rest()
    modifiers = condstore.FetchModifiers()
    if len(values) == 2 and isinstance(values[1], tuple):
        modifiers = condstore.fetch_modifiers(values[1])
        values = values[:1]
    try:
        items = fetch.parse_items(values)
    except fetch.FetchError as exc:
        raise Bad(str(exc)) from exc
    if modifiers.vanished and not (by_uid and session.qresync):
        raise Bad("VANISHED needs UID FETCH and QRESYNC enabled")
    if by_uid and not any(i.name == "UID" for i in items):
        items.insert(0, fetch.FetchItem("UID"))
    changed_since = modifiers.changed_since
    if changed_since is not None or any(i.name == "MODSEQ" for i in items):
        session.enable_condstore()  # a CONDSTORE-enabling command (RFC 7162 3.1)
    wants_flags = any(i.name == "FLAGS" for i in items)
    if (
        session.condstore
        and (wants_flags or changed_since is not None)
        and not any(i.name == "MODSEQ" for i in items)
    ):
        items.append(_MODSEQ_ITEM)  # flags always come with their MODSEQ
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
    if (
        not view.readonly
        and any(i.sets_seen for i in items)
        and "s" in box.rights_of(session.require_user())
    ):
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
    modseq_too = session.condstore and not any(i.name == "MODSEQ" for i in items)
    # This loop runs once per message of e.g. "UID FETCH 1:* FLAGS": keep it lean.
    out = session.out
    live = box.by_uid
    recent = view.recent
    known = view.known_flags
    ghosts = view.messages
    renderers = [fetch.renderer(item) for item in items]
    octets = messages_done = 0
    for seq, uid in picked:
        if octets >= FETCH_STEP_OCTETS or messages_done >= FETCH_STEP_MESSAGES:
            # The answer so far goes out now, and other clients get the loop.
            octets = messages_done = 0
            yield
        messages_done += 1
        # A message another session expunged is still this one's until it is told
        # (RFC 2180 4.1.1): the view keeps it.
        msg = live.get(uid) or ghosts[seq - 1]
        flags = msg.flags | _RECENT if uid in recent else msg.flags
        rendered = [render(msg, flags, uid) for render in renderers]
        if uid in changed and not wants_flags:
            rendered.append(b"FLAGS " + flag_list(flags))
            if modseq_too:
                rendered.append(b"MODSEQ (%d)" % msg.modseq)
        if wants_flags or uid in changed:
            told = known.get(uid)
            if told is None or told ^ msg.flags:
                known[uid] = frozenset(msg.flags)  # now the client knows these flags
        line = b"* %d FETCH (%s)\r\n" % (seq, b" ".join(rendered))
        octets += len(line)
        out.append(line)
    return "FETCH completed"


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
