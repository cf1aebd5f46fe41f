"""IDLE (RFC 2177): news pushed to the client as it happens, until DONE."""

from __future__ import annotations

from typing import TYPE_CHECKING

from netsim.mail.imap.arguments import Arguments
from netsim.mail.imap.events import Continuation, IdleDone, Tagged

if TYPE_CHECKING:
    from netsim.mail.imap.server import ServerSession


def do_idle(session: ServerSession, tag: str, args: Arguments) -> str:
    """IDLE (RFC 2177): report news as it happens until the client says DONE."""
    args.end()
    session.emit(Continuation("idling"))
    session.idle_tag = tag
    for payload in session.view.updates(allow_expunge=True) if session.view else ():
        session.untagged(payload)
    return ""


def finish_idle(session: ServerSession, event: IdleDone) -> None:
    """The line that ends IDLE: ``DONE`` completes the command, anything else is BAD."""
    session.idle_tag = None
    if event.line.strip().upper() != b"DONE":
        session.emit(Tagged(event.tag, "BAD", "expected DONE"))
        return
    session.news("IDLE")
    session.emit(Tagged(event.tag, "OK", "IDLE terminated"))
