"""Access control lists (RFC 4314): who may see and change a mailbox."""

from __future__ import annotations

from typing import TYPE_CHECKING

from netsim.mail.imap.arguments import Arguments, Bad, No
from netsim.mail.imap.responses import astring, string
from netsim.mail.store import ALL_RIGHTS

if TYPE_CHECKING:
    from netsim.mail.imap.server import ServerSession


def do_setacl(session: ServerSession, tag: str, args: Arguments) -> str:
    """SETACL: grant, add (+) or remove (-) rights of an identifier."""
    name = args.mailbox()
    identifier = args.astring("identifier")
    rights = args.astring("rights")
    args.end()
    box = session.find(name, "a")
    current = set(box.acl.get(identifier, ""))
    mode, letters = ("+", rights[1:]) if rights.startswith("+") else ("=", rights)
    if rights.startswith("-"):
        mode, letters = "-", rights[1:]
    letters = letters.replace("c", "k").replace("d", "xte")  # RFC 2086 obsolete rights
    bad = [c for c in letters if c not in ALL_RIGHTS]
    if bad:
        raise Bad(f"unknown rights {''.join(bad)}")
    if identifier == box.owner:
        raise No("the owner's rights cannot be changed", "CANNOT")
    new = (
        set(letters)
        if mode == "="
        else current | set(letters)
        if mode == "+"
        else current - set(letters)
    )
    text = "".join(r for r in ALL_RIGHTS if r in new)
    session.store.set_acl(box, identifier, text or None)
    return "SETACL completed"


def do_deleteacl(session: ServerSession, tag: str, args: Arguments) -> str:
    """DELETEACL: remove an identifier's entry."""
    name = args.mailbox()
    identifier = args.astring("identifier")
    args.end()
    box = session.find(name, "a")
    session.store.set_acl(box, identifier, None)
    return "DELETEACL completed"


def do_getacl(session: ServerSession, tag: str, args: Arguments) -> str:
    """GETACL: every identifier and its rights."""
    name = args.mailbox()
    args.end()
    box = session.find(name, "a")
    entries = [astring(box.owner) + b" " + ALL_RIGHTS.encode()]
    for who, rights in sorted(box.acl.items()):
        entries.append(astring(who) + b" " + astring(rights))
    session.untagged(b"ACL " + session.wire_name(box) + b" " + b" ".join(entries))
    return "GETACL completed"


def do_listrights(session: ServerSession, tag: str, args: Arguments) -> str:
    """LISTRIGHTS: which rights an identifier always has and which can be granted."""
    name = args.mailbox()
    identifier = args.astring("identifier")
    args.end()
    box = session.find(name, "a")
    if identifier == box.owner:
        fixed, optional = ALL_RIGHTS, []
    else:
        fixed, optional = "", list(ALL_RIGHTS)
    line = (
        b"LISTRIGHTS " + session.wire_name(box) + b" " + astring(identifier) + b" " + string(fixed)
    )
    if optional:
        line += b" " + b" ".join(r.encode() for r in optional)
    session.untagged(line)
    return "LISTRIGHTS completed"


def do_myrights(session: ServerSession, tag: str, args: Arguments) -> str:
    """MYRIGHTS: the rights this user holds."""
    name = args.mailbox()
    args.end()
    box = session.find(name)
    rights = box.rights_of(session.require_user())
    session.untagged(b"MYRIGHTS " + session.wire_name(box) + b" " + string(rights))
    return "MYRIGHTS completed"
