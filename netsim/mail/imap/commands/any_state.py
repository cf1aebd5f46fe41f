"""Commands valid in any state: CAPABILITY, NOOP, LOGOUT and ID (RFC 3501 6.1, RFC 2971)."""

from __future__ import annotations

from functools import cache
from importlib import metadata
from typing import TYPE_CHECKING

from netsim.mail.imap.arguments import Arguments, Bad
from netsim.mail.imap.events import Tagged, UntaggedStatus
from netsim.mail.imap.parser import Atom
from netsim.mail.imap.responses import string

if TYPE_CHECKING:
    from netsim.mail.imap.server import ServerSession


def do_capability(session: ServerSession, tag: str, args: Arguments) -> str:
    """CAPABILITY: list what this server can do."""
    args.end()
    session.untagged(b"CAPABILITY " + session.capabilities().encode())
    return "CAPABILITY completed"


def do_noop(session: ServerSession, tag: str, args: Arguments) -> str:
    """NOOP: do nothing, which gives the server a chance to report news."""
    args.end()
    return "NOOP completed"


def do_logout(session: ServerSession, tag: str, args: Arguments) -> str:
    """LOGOUT: say BYE, complete, and close."""
    args.end()
    session.emit(UntaggedStatus("BYE", "netsim IMAP server logging out"))
    session.emit(Tagged(tag, "OK", "LOGOUT completed"))
    session.close()
    return ""


def do_id(session: ServerSession, tag: str, args: Arguments) -> str:
    """ID (RFC 2971): exchange implementation names."""
    value = args.take("ID parameter list")
    if not (isinstance(value, tuple) or (isinstance(value, Atom) and value.upper() == "NIL")):
        raise Bad("ID takes NIL or a parenthesized list")
    if isinstance(value, tuple) and (len(value) % 2 or len(value) > 60):
        raise Bad("ID list must hold field-value pairs")
    args.end()
    session.untagged(b'ID ("name" "netsim" "version" ' + string(_version()) + b")")
    return "ID completed"


@cache
def _version() -> str:
    # From the installed metadata: importing the top-level package would drag in the
    # whole simulator just to say its version.
    try:
        return metadata.version("netsim")
    except metadata.PackageNotFoundError:
        return "unknown"
