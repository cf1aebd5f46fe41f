"""The POP3 session states (RFC 1939 section 3), in one table.

::

    AUTHORIZATION --PASS +OK--> TRANSACTION --QUIT--> UPDATE --(deletions done)--> closed
          |                                                        ^
          +------------------------ QUIT -------------------------+ (deletes nothing)

A dropped connection never reaches UPDATE: messages marked with DELE stay.
The connection object moves between states by watching replies go out, as the IMAP
and SMTP ones do; :data:`COMMAND_STATES` says where each command may be issued.
"""

from __future__ import annotations

from enum import Enum


class State(Enum):
    """Where a POP3 session is in its life."""

    # Every command looks its state up in COMMAND_STATES and ON_OK.  Enum's own
    # __hash__ is Python code (hash of the name); members are singletons compared by
    # identity, so the identity hash, in C, is as right and costs no call.
    __hash__ = object.__hash__

    AUTHORIZATION = "AUTHORIZATION"
    TRANSACTION = "TRANSACTION"
    UPDATE = "UPDATE"
    CLOSED = "closed"


_AUTH, _TRANS = State.AUTHORIZATION, State.TRANSACTION
_BOTH = frozenset({_AUTH, _TRANS})

#: Command -> the states in which it may be issued (RFC 1939, RFC 2449, RFC 2595).
COMMAND_STATES: dict[str, frozenset[State]] = {
    "USER": frozenset({_AUTH}),
    "PASS": frozenset({_AUTH}),
    "APOP": frozenset({_AUTH}),
    "STLS": frozenset({_AUTH}),
    "CAPA": _BOTH,
    "QUIT": _BOTH,
    "STAT": frozenset({_TRANS}),
    "LIST": frozenset({_TRANS}),
    "RETR": frozenset({_TRANS}),
    "DELE": frozenset({_TRANS}),
    "NOOP": frozenset({_TRANS}),
    "RSET": frozenset({_TRANS}),
    "TOP": frozenset({_TRANS}),
    "UIDL": frozenset({_TRANS}),
}

#: (state, command) -> the state a ``+OK`` leads to; other pairs leave it alone.
ON_OK: dict[tuple[State, str], State] = {
    (_AUTH, "PASS"): _TRANS,
    (_AUTH, "APOP"): _TRANS,
    (_AUTH, "QUIT"): State.CLOSED,
    (_TRANS, "QUIT"): State.CLOSED,  # through UPDATE, which the session carries out
}


def next_state(state: State, verb: str, ok: bool) -> State:
    """The state after answering ``verb`` with ``+OK`` (``ok``) or ``-ERR``."""
    if verb == "QUIT" and state is _TRANS:
        return State.CLOSED  # RFC 1939 6: even a failed UPDATE ends the session
    return ON_OK.get((state, verb), state) if ok else state
