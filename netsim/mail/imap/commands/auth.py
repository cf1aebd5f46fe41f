"""Getting authenticated: STARTTLS, LOGIN and AUTHENTICATE PLAIN (RFC 3501 6.2, RFC 4616)."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

from netsim.mail.imap.arguments import Arguments, Bad, No, Result
from netsim.mail.imap.events import Continuation, SaslResponse, Tagged

if TYPE_CHECKING:
    from netsim.mail.imap.server import ServerSession


def do_starttls(session: ServerSession, tag: str, args: Arguments) -> str:
    """STARTTLS: after OK, the owner upgrades the transport to TLS."""
    args.end()
    if session.tls:
        raise Bad("TLS is already active")
    if not session.server.config.starttls:
        raise No("TLS is not available")
    session.emit(Tagged(tag, "OK", "Begin TLS negotiation now"))
    session.connection.start_tls()
    session.starttls_requested = True
    return ""


def do_login(session: ServerSession, tag: str, args: Arguments) -> Result:
    """LOGIN: a user name and a password in the clear."""
    user = args.astring("user name")
    password = args.astring("password")
    args.end()
    if session.login_disabled():
        raise No("LOGIN is disabled without TLS", "PRIVACYREQUIRED")
    return _authenticate(session, user, password)


def do_authenticate(session: ServerSession, tag: str, args: Arguments) -> Result:
    """AUTHENTICATE PLAIN (RFC 4616), with or without an initial response (SASL-IR)."""
    mechanism = args.atom("mechanism")
    initial = args.astring("initial response") if args.more() else None
    args.end()
    if mechanism != "PLAIN":
        raise No(f"unsupported mechanism {mechanism[:20]}")
    if session.login_disabled():
        raise No("authentication is disabled without TLS", "PRIVACYREQUIRED")
    if initial is None:
        session.emit(Continuation(""))
        return ""
    return _sasl_plain(session, b"" if initial == "=" else initial.encode())


def continue_authenticate(session: ServerSession, event: SaslResponse) -> None:
    """The client's line after our ``+``: the PLAIN response, or ``*`` to cancel."""
    try:
        if event.line.strip() == b"*":
            raise Bad("AUTHENTICATE cancelled")
        text, code = _sasl_plain(session, event.line.strip())
    except No as exc:
        session.emit(Tagged(event.tag, "NO", str(exc), exc.code))
    except Bad as exc:
        session.emit(Tagged(event.tag, "BAD", str(exc), exc.code))
    else:
        session.emit(Tagged(event.tag, "OK", text, code))


def _sasl_plain(session: ServerSession, encoded: bytes) -> tuple[str, str | None]:
    try:
        message = base64.b64decode(encoded, validate=True)
        authzid, authcid, password = message.decode("utf-8").split("\0")
    except (binascii.Error, ValueError):
        raise Bad("malformed PLAIN response") from None
    if authzid and authzid != authcid:
        raise No("cannot act as another user", "AUTHORIZATIONFAILED")
    return _authenticate(session, authcid, password)


def _authenticate(session: ServerSession, user: str, password: str) -> tuple[str, str | None]:
    server = session.server
    if not server.users.check(user, password):
        # Answer late, and later with every failure of this connection or this user:
        # the owner waits session.hold seconds before it sends this NO or reads on.
        session.failed_logins += 1
        session.hold = server.logins.failed(server.throttle_key(user), session.failed_logins)
        raise No("invalid user name or password", "AUTHENTICATIONFAILED")
    server.logins.succeeded(user)
    session.logged_in(user)
    session.store.ensure_user(user)
    caps = session.capabilities().replace(" STARTTLS", "").replace(" AUTH=PLAIN", "")
    return "logged in", f"CAPABILITY {caps.replace(' LOGINDISABLED', '')}"
