"""The SMTP server's session states (RFC 5321 sections 3 and 4.1.4), in one table.

::

    greeted --EHLO/HELO--> ready --MAIL--> mail --RCPT--> rcpt --DATA 354--> (data)
       ^                     ^                                     |
       |                     +---- 250 or 5xx after the message ---+
       |                     +---- RSET, EHLO (from mail or rcpt) -+
       +---- STARTTLS 220: forget everything said before the handshake (RFC 3207 4.2)

The connection object moves between states by watching its replies go out: a ``250``
to ``MAIL`` opens a transaction, a ``354`` to ``DATA`` switches to reading the message.
:data:`COMMAND_STATES` says where each command may be issued; anywhere else it gets
``503 5.5.1 bad sequence of commands``.
"""

from __future__ import annotations

from enum import Enum


class State(Enum):
    """Where an SMTP session is in its life."""

    GREETED = "greeted, waiting for EHLO or HELO"
    READY = "ready for a mail transaction"
    MAIL = "sender given, waiting for recipients"
    RCPT = "recipients given, waiting for DATA"
    DATA = "reading the message"
    CLOSED = "closed"


class Mode(Enum):
    """How the next input is read."""

    COMMAND = "command lines"
    DATA = "message lines up to CRLF.CRLF"
    AUTH = "SASL response lines (RFC 4954)"
    CLOSED = "no more input"


_G, _R, _M, _RC = State.GREETED, State.READY, State.MAIL, State.RCPT
_ANY = frozenset({_G, _R, _M, _RC})

#: Command verb -> the states in which it may be issued.
COMMAND_STATES: dict[str, frozenset[State]] = {
    "EHLO": _ANY,
    "HELO": _ANY,
    "MAIL": frozenset({_R}),
    "RCPT": frozenset({_M, _RC}),
    "DATA": frozenset({_M, _RC}),  # in MAIL it gets 554 "no valid recipients"
    "RSET": _ANY,
    "NOOP": _ANY,
    "QUIT": _ANY,
    "VRFY": _ANY,
    "HELP": _ANY,
    "STARTTLS": frozenset({_R}),
    "AUTH": frozenset({_R}),
}

#: (command, reply code) -> the state that reply leads to; pairs not listed leave the
#: state alone.  A ``221`` or ``421`` closes the session whatever the command.
TRANSITIONS: dict[tuple[str, int], State] = {
    ("EHLO", 250): _R,
    ("HELO", 250): _R,
    ("MAIL", 250): _M,
    ("RCPT", 250): _RC,
    ("RCPT", 251): _RC,
    ("DATA", 354): State.DATA,
    ("RSET", 250): _R,
    ("STARTTLS", 220): _G,
}


def next_state(state: State, verb: str, code: int) -> State:
    """The state after replying ``code`` to ``verb`` in ``state``."""
    if code in (221, 421):
        return State.CLOSED
    if state is State.DATA:
        # The reply to the message itself ends the transaction, accepted or not.
        return _R
    if verb == "RSET" and state is _G:
        return _G  # RSET before EHLO does not greet (RFC 5321 4.1.1.5)
    return TRANSITIONS.get((verb, code), state)
