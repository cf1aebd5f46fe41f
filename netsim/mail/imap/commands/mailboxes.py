"""Commands on mailboxes as a whole (RFC 3501 6.3): SELECT, CREATE, LIST, APPEND ..."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

from netsim.mail.imap import condstore, names, utf7
from netsim.mail.imap.arguments import Arguments, Bad, No, parse_flags
from netsim.mail.imap.commands import messages
from netsim.mail.imap.dates import DateError, parse_date_time
from netsim.mail.imap.events import UntaggedStatus
from netsim.mail.imap.parser import Atom, LiteralBytes
from netsim.mail.imap.responses import astring, flag_list, plist, string
from netsim.mail.imap.selected import SelectedView
from netsim.mail.imap.sequence import format_set
from netsim.mail.store import DELIMITER, Mailbox

if TYPE_CHECKING:
    from netsim.mail.imap.commands import Steps
    from netsim.mail.imap.server import ServerSession

_STATUS_ITEMS = ("MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "HIGHESTMODSEQ")
#: Names matched against a LIST or LSUB pattern in one step.
LIST_STEP = 32


def do_select(session: ServerSession, tag: str, args: Arguments) -> tuple[str, str | None]:
    """SELECT: open a mailbox read-write; EXAMINE: read-only."""
    return _open(session, args, examine=False)


def do_examine(session: ServerSession, tag: str, args: Arguments) -> tuple[str, str | None]:
    """EXAMINE: like SELECT, but nothing in the mailbox changes."""
    return _open(session, args, examine=True)


def _open(session: ServerSession, args: Arguments, examine: bool) -> tuple[str, str | None]:
    name = args.mailbox()
    params = condstore.SelectParameters()
    if args.more():
        params = condstore.select_parameters(args.plist("SELECT parameters"))
    args.end()
    if params.resync is not None and not session.qresync:
        raise Bad("QRESYNC must be enabled first (ENABLE QRESYNC)")
    if session.view is not None:
        # RFC 7162 3.2.11: the old mailbox is closed before anything about the new one.
        session.emit(UntaggedStatus("OK", "Previous mailbox closed", "CLOSED"))
    session.view = None  # a failed SELECT leaves no mailbox selected (RFC 3501 6.3.1)
    box = session.find(name, "r")
    if box.noselect:
        raise No("mailbox cannot be selected")
    if params.condstore:
        session.enable_condstore()
    rights = box.rights_of(session.require_user())
    readonly = examine or not any(r in rights for r in "swte")
    view = SelectedView(session.store, box, readonly, session.condstore, session.qresync)
    session.view = view
    for payload in view.flags_response()[:1]:
        session.untagged(payload)
    session.untagged(b"%d EXISTS" % view.exists)
    session.untagged(b"%d RECENT" % len(view.recent))
    for seq, uid in enumerate(view.uids, start=1):
        if "\\Seen" not in box.by_uid[uid].flags:
            session.untagged(b"OK [UNSEEN %d] First unseen message" % seq)
            break
    session.untagged(view.flags_response()[1])
    session.untagged(b"OK [UIDVALIDITY %d] UIDs valid" % box.uidvalidity)
    session.untagged(b"OK [UIDNEXT %d] Predicted next UID" % box.uidnext)
    session.untagged(b"OK [HIGHESTMODSEQ %d] Highest" % box.modseq)
    if params.resync is not None and params.resync.uidvalidity == box.uidvalidity:
        _resynchronize(session, view, params.resync)
    mode = "READ-ONLY" if readonly else "READ-WRITE"
    return ("EXAMINE completed" if examine else "SELECT completed"), mode


def _resynchronize(session: ServerSession, view: SelectedView, resync: condstore.Resync) -> None:
    """What changed since ``resync.modseq``: VANISHED (EARLIER), then FETCH (RFC 7162 3.2.5).

    The store remembers every expunge, so the client's sequence match data (which
    helps servers that forget) is checked but not needed.
    """
    box = view.box
    known = resync.known_uids.merged(box.uidnext - 1) if resync.known_uids is not None else None
    inside = known.contains if known is not None else None
    vanished = box.vanished_since(resync.modseq, inside)
    if vanished:
        session.untagged(b"VANISHED (EARLIER) " + format_set(vanished).encode())
    for seq, uid in enumerate(view.uids, start=1):
        msg = box.by_uid[uid]
        if msg.modseq > resync.modseq and (inside is None or inside(uid)):
            flags = flag_list(view.flags(msg))
            line = b"%d FETCH (UID %d FLAGS %s MODSEQ (%d))" % (seq, uid, flags, msg.modseq)
            session.untagged(line)


def do_create(session: ServerSession, tag: str, args: Arguments) -> str:
    """CREATE: a new mailbox, with any missing superior names."""
    name = args.mailbox()
    args.end()
    user = session.require_user()
    name = name.rstrip(DELIMITER) if name.endswith(DELIMITER) else name
    owner, path = names.split_name(user, name)
    try:
        names.check_new_name(path)
    except names.NameError_ as exc:
        raise No(str(exc), "CANNOT") from exc
    if owner != user:
        parent = DELIMITER.join(path.split(DELIMITER)[:-1])
        if not parent:
            raise No("cannot create top-level mailboxes of another user", "NOPERM")
        session.find(names.OTHER_USERS + DELIMITER + owner + DELIMITER + parent, "k")
    if path.upper() == "INBOX":
        raise No("INBOX always exists", "ALREADYEXISTS")
    if session.store.mailbox(owner, path) is not None:
        raise No("mailbox already exists", "ALREADYEXISTS")
    session.store.create_mailbox(owner, path)
    return "CREATE completed"


def do_delete(session: ServerSession, tag: str, args: Arguments) -> str:
    """DELETE: remove a mailbox (INBOX never)."""
    name = args.mailbox()
    args.end()
    box = session.find(name, "x")
    # Judge the mailbox the name resolved to, not the spelling: "user/alice/INBOX" and
    # "user/bob/inbox" name an INBOX as surely as "INBOX" does.
    if box.name == "INBOX":
        raise No("INBOX cannot be deleted", "CANNOT")
    if box.noselect and session.store.children(box):
        raise No("mailbox has inferior hierarchical names", "INUSE")
    session.store.delete_mailbox(box)
    return "DELETE completed"


def do_rename(session: ServerSession, tag: str, args: Arguments) -> str:
    """RENAME: a mailbox and its inferiors; renaming INBOX moves its messages."""
    old = args.mailbox()
    new = args.mailbox()
    args.end()
    user = session.require_user()
    box = session.find(old, "x")
    owner, path = names.split_name(user, new)
    if owner != box.owner:
        raise No("cannot rename into another user's hierarchy", "CANNOT")
    try:
        names.check_new_name(path)
    except names.NameError_ as exc:
        raise No(str(exc), "CANNOT") from exc
    if path.upper() == "INBOX" or session.store.mailbox(owner, path) is not None:
        raise No("destination mailbox already exists", "ALREADYEXISTS")
    # Renaming INBOX moves its messages, so INBOX/old is fine; any other mailbox
    # cannot become its own inferior.
    if box.name != "INBOX" and path.startswith(box.name + DELIMITER):
        raise No("cannot rename a mailbox into itself", "CANNOT")
    session.store.rename_mailbox(box, path)
    return "RENAME completed"


def do_subscribe(session: ServerSession, tag: str, args: Arguments) -> str:
    """SUBSCRIBE: add a name to the LSUB list."""
    name = args.mailbox()
    args.end()
    session.find(name)
    session.store.subscribe(session.require_user(), name, True)
    return "SUBSCRIBE completed"


def do_unsubscribe(session: ServerSession, tag: str, args: Arguments) -> str:
    """UNSUBSCRIBE: remove a name from the LSUB list."""
    name = args.mailbox()
    args.end()
    user = session.require_user()
    if name not in session.store.subscriptions(user):
        raise No("not subscribed to that name", "NONEXISTENT")
    session.store.subscribe(user, name, False)
    return "UNSUBSCRIBE completed"


def _visible(session: ServerSession) -> dict[str, Mailbox]:
    """Every mailbox this user may see, by the name the user sees."""
    user = session.require_user()
    found: dict[str, Mailbox] = {}
    for box in session.store.mailboxes():
        if box.owner == user or "l" in box.rights_of(user):
            found[names.visible_name(user, box)] = box
    return found


def _list_args(session: ServerSession, args: Arguments) -> tuple[str, str]:
    reference = args.astring("reference")
    value = args.take("mailbox pattern")
    if isinstance(value, tuple):
        raise Bad("mailbox pattern must be a string")
    pattern = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    args.end()
    try:
        return names.decode_name(reference) if reference else "", utf7.decode(pattern)
    except (names.NameError_, utf7.Utf7Error) as exc:
        raise Bad(str(exc)) from exc


def _compile(reference: str, pattern: str) -> names.ListPattern:
    try:
        return names.pattern(reference, pattern)
    except names.NameError_ as exc:
        raise Bad(str(exc)) from exc


def _list_options(args: Arguments) -> tuple[set[str], Arguments]:
    """Split off RFC 5258 selection and RETURN options, of which we know SPECIAL-USE.

    ``LIST (SPECIAL-USE) "" "*"`` is how RFC 6154 clients ask for just the special
    mailboxes; the attributes themselves come back with every LIST anyway.
    """
    values = list(args.values)
    selection: set[str] = set()
    if values and isinstance(values[0], tuple):
        for option in values.pop(0):
            if not isinstance(option, Atom) or option.upper() != "SPECIAL-USE":
                raise Bad(f"unsupported LIST selection option {str(option)[:40]}")
            selection.add("SPECIAL-USE")
    if len(values) == 4 and isinstance(values[2], Atom) and values[2].upper() == "RETURN":
        returned = values[3]
        if not isinstance(returned, tuple) or any(
            not isinstance(o, Atom) or o.upper() not in ("SPECIAL-USE", "CHILDREN")
            for o in returned
        ):
            raise Bad("unsupported LIST return option")
        values = values[:2]
    return selection, Arguments(tuple(values))


def do_list(session: ServerSession, tag: str, args: Arguments) -> Steps:
    """LIST: names matching a pattern, with attributes (CHILDREN, SPECIAL-USE)."""
    selection, args = _list_options(args)
    reference, pattern = _list_args(session, args)
    if not pattern:
        root = reference.split(DELIMITER)[0] + DELIMITER if DELIMITER in reference else ""
        session.untagged(b'LIST (\\Noselect) "/" ' + string(root))
        return "LIST completed"
    visible = _visible(session)
    listed: dict[str, Mailbox | None] = dict(visible)
    for name in visible:
        for parent in names.ancestors(name):
            listed.setdefault(parent, None)
    parents = {parent for name in listed for parent in names.ancestors(name)}
    matcher = _compile(reference, pattern)
    for i, name in enumerate(sorted(listed, key=lambda n: (n != "INBOX", n)), start=1):
        if i % LIST_STEP == 0:
            yield  # thousands of long names are matched in steps
        if not matcher.fullmatch(name):
            continue
        box = listed[name]
        if "SPECIAL-USE" in selection and (box is None or not box.special_use):
            continue
        has_children = name in parents
        attrs = []
        if box is None or box.noselect:
            attrs.append("\\Noselect")
        attrs.append("\\HasChildren" if has_children else "\\HasNoChildren")
        if box is not None and box.special_use and box.owner == session.user:
            attrs.append(box.special_use)
        session.untagged(
            b"LIST (" + " ".join(attrs).encode() + b') "/" ' + astring(names.encode_name(name))
        )
    return "LIST completed"


def do_lsub(session: ServerSession, tag: str, args: Arguments) -> Steps:
    """LSUB: subscribed names matching a pattern."""
    reference, pattern = _list_args(session, args)
    matcher = _compile(reference, pattern)
    subscribed = session.store.subscriptions(session.require_user())
    shown: dict[str, bool] = {}
    for i, name in enumerate(sorted(subscribed), start=1):
        if i % LIST_STEP == 0:
            yield
        if matcher.fullmatch(name):
            shown[name] = True
        elif pattern.endswith("%"):
            # A subscribed inferior makes a matching superior show as \Noselect.
            for parent in names.ancestors(name):
                if matcher.fullmatch(parent) and parent not in subscribed:
                    shown.setdefault(parent, False)
    for name in sorted(shown):
        attrs = b"()" if shown[name] else b"(\\Noselect)"
        session.untagged(b"LSUB " + attrs + b' "/" ' + astring(names.encode_name(name)))
    return "LSUB completed"


def do_status(session: ServerSession, tag: str, args: Arguments) -> str:
    """STATUS: counters of a mailbox without selecting it."""
    name = args.mailbox()
    items = args.plist("status items")
    args.end()
    if not items:
        raise Bad("empty status item list")
    for item in items:
        if not isinstance(item, Atom) or item.upper() not in _STATUS_ITEMS:
            raise Bad(f"unknown status item {str(item)[:40]}")
    box = session.find(name, "r")
    if box.noselect:
        raise No("mailbox cannot be selected")
    # Each counter is computed only if asked for: UNSEEN walks the whole mailbox.
    values: dict[str, Callable[[], int]] = {
        "MESSAGES": lambda: len(box.messages),
        "RECENT": box.unclaimed_recent,
        "UIDNEXT": lambda: box.uidnext,
        "UIDVALIDITY": lambda: box.uidvalidity,
        "UNSEEN": box.unseen_count,
        "HIGHESTMODSEQ": lambda: box.modseq,
    }
    out = []
    for item in items:
        assert isinstance(item, Atom)
        upper = item.upper()
        if upper == "HIGHESTMODSEQ":
            session.enable_condstore()  # a CONDSTORE-enabling command (RFC 7162 3.1)
        out.append(b"%s %d" % (upper.encode(), values[upper]()))
    session.untagged(b"STATUS " + session.wire_name(box) + b" " + plist(out))
    return "STATUS completed"


def do_append(session: ServerSession, tag: str, args: Arguments) -> tuple[str, str | None]:
    """APPEND (and MULTIAPPEND, RFC 3502): add messages to a mailbox, atomically."""
    name = args.mailbox()
    items: list[tuple[bytes, set[str], dt.datetime | None]] = []
    while args.more() or not items:
        flags: set[str] = set()
        when = None
        value = args.take("message literal")
        if isinstance(value, tuple):
            flags = parse_flags(value, allow_recent=True)
            value = args.take("message literal")
        if isinstance(value, bytes) and not isinstance(value, LiteralBytes):
            try:
                when = parse_date_time(value.decode("ascii"))
            except (DateError, UnicodeDecodeError) as exc:
                raise Bad(f"bad date-time: {exc}") from exc
            value = args.take("message literal")
        if not isinstance(value, LiteralBytes):
            raise Bad("message must be a literal")
        if not value:
            raise No("empty message")
        items.append((value, flags, when))
    try:
        box = session.find(name, "i")
    except No as exc:
        if exc.code == "NONEXISTENT":
            raise No("mailbox does not exist", "TRYCREATE") from exc
        raise
    if box.noselect:
        raise No("mailbox cannot hold messages", "CANNOT")
    rights = box.rights_of(session.require_user())
    for _, flags, _ in items:
        messages.check_flag_rights(session, rights, flags)
    added = session.store.append(box, items)
    uids = format_set(m.uid for m in added)
    return "APPEND completed", f"APPENDUID {box.uidvalidity} {uids}"


def do_namespace(session: ServerSession, tag: str, args: Arguments) -> str:
    """NAMESPACE (RFC 2342): personal and other users' prefixes."""
    args.end()
    session.untagged(b'NAMESPACE (("" "/")) (("user/" "/")) NIL')
    return "NAMESPACE completed"


def do_enable(session: ServerSession, tag: str, args: Arguments) -> str:
    """ENABLE (RFC 5161): CONDSTORE and QRESYNC (RFC 7162) are the ones to enable.

    ``ENABLED`` names what this command turned on; unknown names are ignored.
    """
    if not args.more():
        raise Bad("ENABLE needs capability names")
    enabled: list[bytes] = []
    for value in args.rest():
        if not isinstance(value, Atom):
            raise Bad("capability names are atoms")
        upper = value.upper()
        if upper == "CONDSTORE" and not session.condstore:
            session.enable_condstore()
            enabled.append(b"CONDSTORE")
        elif upper == "QRESYNC" and not session.qresync:
            session.enable_condstore(qresync=True)
            enabled.append(b"QRESYNC")
    session.untagged(b"ENABLED" + b"".join(b" " + name for name in enabled))
    return "ENABLE completed"
