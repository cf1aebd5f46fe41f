"""Commands on the messages of the selected mailbox (RFC 3501 6.4, UIDPLUS, MOVE)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from netsim.mail.imap import fetch, search
from netsim.mail.imap.arguments import Arguments, Bad, No, parse_flags
from netsim.mail.imap.parser import Value
from netsim.mail.imap.responses import flag_list
from netsim.mail.imap.selected import BadSequence, SelectedView
from netsim.mail.imap.sequence import SequenceSet

if TYPE_CHECKING:
    from netsim.mail.imap.commands import Steps
    from netsim.mail.imap.server import ServerSession

_RECENT = frozenset({"\\Recent"})
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
        criteria, keys = search.parse_counted(search.split_charset(args.rest()))
    except search.UnknownCharset as exc:
        raise No(f"unsupported charset {str(exc)[:40]}", "BADCHARSET (UTF-8 US-ASCII)") from exc
    except search.SearchError as exc:
        raise Bad(str(exc)) from exc
    max_seq = view.exists
    max_uid = view.uids[-1] if view.uids else 0
    batch = max(1, SEARCH_STEP // keys)
    found = []
    for seq, uid in enumerate(list(view.uids), start=1):
        if seq % batch == 0:
            yield  # a big mailbox is searched in steps: other clients go in between
        msg = view.message(uid)
        if msg is None:
            continue
        candidate = search.Candidate(seq, msg, uid in view.recent, max_seq, max_uid)
        if criteria(candidate):
            found.append(uid if by_uid else seq)
    session.untagged(b"SEARCH" + b"".join(b" %d" % n for n in found))
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
    try:
        items = fetch.parse_items(args.rest())
    except fetch.FetchError as exc:
        raise Bad(str(exc)) from exc
    if by_uid and not any(i.name == "UID" for i in items):
        items.insert(0, fetch.FetchItem("UID"))
    picked = _pick(session, view, seqset, by_uid)
    box = view.box
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
    wants_flags = any(i.name == "FLAGS" for i in items)
    missing = False
    # This loop runs once per message of e.g. "UID FETCH 1:* FLAGS": keep it lean.
    out = session.out
    live = box.by_uid
    recent = view.recent
    known = view.known_flags
    renderers = [fetch.renderer(item) for item in items]
    octets = messages_done = 0
    for seq, uid in picked:
        if octets >= FETCH_STEP_OCTETS or messages_done >= FETCH_STEP_MESSAGES:
            # The answer so far goes out now, and other clients get the loop.
            octets = messages_done = 0
            yield
        messages_done += 1
        msg = live.get(uid)
        if msg is None:
            missing = True
            continue
        flags = msg.flags | _RECENT if uid in recent else msg.flags
        rendered = [render(msg, flags, uid) for render in renderers]
        if uid in changed and not wants_flags:
            rendered.append(b"FLAGS " + flag_list(flags))
        if wants_flags or uid in changed:
            told = known.get(uid)
            if told is None or told ^ msg.flags:
                known[uid] = frozenset(msg.flags)  # now the client knows these flags
        line = b"* %d FETCH (%s)\r\n" % (seq, b" ".join(rendered))
        octets += len(line)
        out.append(line)
    if missing:
        return "FETCH completed; some messages were expunged meanwhile"
    return "FETCH completed"


def do_store(session: ServerSession, tag: str, args: Arguments) -> str:
    """STORE: replace, add or remove flags by sequence number."""
    return _store(session, args, by_uid=False)


def do_uid_store(session: ServerSession, tag: str, args: Arguments) -> str:
    """UID STORE: the same by UID."""
    return _store(session, args, by_uid=True)


def check_flag_rights(session: ServerSession, rights: str, flags: set[str]) -> None:
    """Refuse flags the user may not set: \\Seen needs ``s``, \\Deleted ``t``, others ``w``."""
    for flag in flags:
        need = "s" if flag == "\\Seen" else "t" if flag == "\\Deleted" else "w"
        if need not in rights:
            raise No(f"permission denied (need right {need})", "NOPERM")


def _store(session: ServerSession, args: Arguments, by_uid: bool) -> str:
    view = session.require_view()
    seqset = args.sequence()
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
    changed = session.store.store_flags(view.box, [uid for _, uid in picked], flags, modes[base])
    if suffix == "SILENT":
        for done in changed:
            view.reported(done)  # the client knows what it asked for
        return "STORE completed"
    for seq, uid in picked:
        msg = view.message(uid)
        if msg is None:
            continue
        view.reported(msg)
        uid_part = b"UID %d " % uid if by_uid else b""
        session.untagged(b"%d FETCH (%sFLAGS %s)" % (seq, uid_part, flag_list(view.flags(msg))))
    return "STORE completed"


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
        if target is view.box:
            raise No("cannot move to the same mailbox", "CANNOT")
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
