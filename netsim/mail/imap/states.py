"""The IMAP connection state machine (RFC 3501 section 3), in one table.

::

                +----------------------+
                |connection established|
                +----------------------+
                           ||
               +-----------------------+   (1) greeting without PREAUTH
               |   NOT AUTHENTICATED   |   (4) LOGIN or AUTHENTICATE succeeded
               +-----------------------+   (5) SELECT or EXAMINE succeeded
               (4) ||           ||   (7)   (6) CLOSE, UNSELECT, a failed SELECT/EXAMINE, or
                                                   OK [CLOSED]: the mailbox went away
               +-----------------------+   (7) LOGOUT, BYE or closed connection
               |     AUTHENTICATED     |
               +-----------------------+
          (5) ||      ^ (6)     ||   (7)
               +-----------------------+
               |       SELECTED        |
               +-----------------------+
                           ||  (7)
               +-----------------------+
               |        LOGOUT         |
               +-----------------------+

The protocol objects look transitions up in :data:`TRANSITIONS`; a pair that is not
there is no transition.  :data:`COMMAND_STATES` says where each command may be issued.
"""

from __future__ import annotations

from enum import Enum


class State(Enum):
    """Where a connection is in its life (RFC 3501 section 3)."""

    NOT_AUTHENTICATED = "not authenticated"
    AUTHENTICATED = "authenticated"
    SELECTED = "selected"
    LOGOUT = "logout"


class Trigger(Enum):
    """What moves a connection from one state to another."""

    AUTHENTICATED = "LOGIN or AUTHENTICATE succeeded"
    SELECTED = "SELECT or EXAMINE succeeded"
    SELECT_FAILED = "SELECT or EXAMINE failed"
    CLOSED = "CLOSE or UNSELECT succeeded, or the server closed the mailbox (OK [CLOSED])"
    BYE = "LOGOUT, BYE or connection closed"


class Mode(Enum):
    """How the next input line is read, independent of the state above."""

    COMMAND = "command lines"
    LITERAL = "awaiting our decision on a synchronizing literal"
    IDLE = "idling until DONE (RFC 2177)"
    SASL = "AUTHENTICATE response lines"
    CLOSED = "no more input"


_NA, _AUTH, _SEL, _OUT = State.NOT_AUTHENTICATED, State.AUTHENTICATED, State.SELECTED, State.LOGOUT

#: (state, trigger) -> next state: every legal transition, and nothing else.
TRANSITIONS: dict[tuple[State, Trigger], State] = {
    (_NA, Trigger.AUTHENTICATED): _AUTH,
    (_AUTH, Trigger.SELECTED): _SEL,
    (_SEL, Trigger.SELECTED): _SEL,
    (_AUTH, Trigger.SELECT_FAILED): _AUTH,
    (_SEL, Trigger.SELECT_FAILED): _AUTH,
    (_SEL, Trigger.CLOSED): _AUTH,
    (_NA, Trigger.BYE): _OUT,
    (_AUTH, Trigger.BYE): _OUT,
    (_SEL, Trigger.BYE): _OUT,
}

# Tuples, not sets: membership then compares identities, where a set would call the
# Enum's hash (Python code) for every command.
_ANY = (_NA, _AUTH, _SEL)
_AUTHED = (_AUTH, _SEL)
_SELECTED = (_SEL,)

#: Command name -> the states in which it is valid.
COMMAND_STATES: dict[str, tuple[State, ...]] = {
    # any state (RFC 3501 6.1; RFC 2971 ID)
    "CAPABILITY": _ANY,
    "NOOP": _ANY,
    "LOGOUT": _ANY,
    "ID": _ANY,
    # not authenticated (6.2)
    "STARTTLS": (_NA,),
    "AUTHENTICATE": (_NA,),
    "LOGIN": (_NA,),
    # authenticated (6.3) and extensions that live there
    "SELECT": _AUTHED,
    "EXAMINE": _AUTHED,
    "CREATE": _AUTHED,
    "DELETE": _AUTHED,
    "RENAME": _AUTHED,
    "SUBSCRIBE": _AUTHED,
    "UNSUBSCRIBE": _AUTHED,
    "LIST": _AUTHED,
    "LSUB": _AUTHED,
    "STATUS": _AUTHED,
    "APPEND": _AUTHED,
    "NAMESPACE": _AUTHED,
    "ENABLE": (_AUTH,),
    "IDLE": _AUTHED,
    "SETACL": _AUTHED,
    "DELETEACL": _AUTHED,
    "GETACL": _AUTHED,
    "LISTRIGHTS": _AUTHED,
    "MYRIGHTS": _AUTHED,
    # selected (6.4), MOVE, UNSELECT and UIDPLUS's UID EXPUNGE
    "CHECK": _SELECTED,
    "CLOSE": _SELECTED,
    "UNSELECT": _SELECTED,
    "EXPUNGE": _SELECTED,
    "SEARCH": _SELECTED,
    "FETCH": _SELECTED,
    "STORE": _SELECTED,
    "COPY": _SELECTED,
    "MOVE": _SELECTED,
    "UID SEARCH": _SELECTED,
    "UID FETCH": _SELECTED,
    "UID STORE": _SELECTED,
    "UID COPY": _SELECTED,
    "UID MOVE": _SELECTED,
    "UID EXPUNGE": _SELECTED,
}

#: The trigger a successful (``OK``) tagged response fires for each command.
ON_OK: dict[str, Trigger] = {
    "LOGIN": Trigger.AUTHENTICATED,
    "AUTHENTICATE": Trigger.AUTHENTICATED,
    "SELECT": Trigger.SELECTED,
    "EXAMINE": Trigger.SELECTED,
    "CLOSE": Trigger.CLOSED,
    "UNSELECT": Trigger.CLOSED,
    "LOGOUT": Trigger.BYE,
}

#: The trigger a failed (``NO`` or ``BAD``) tagged response fires.
ON_FAILURE: dict[str, Trigger] = {
    "SELECT": Trigger.SELECT_FAILED,
    "EXAMINE": Trigger.SELECT_FAILED,
}


#: How input is read after the server's ``+`` to a command (a ``+`` to a literal just
#: lets the literal in, and the command line goes on).  A tagged response to the
#: command always returns to :attr:`Mode.COMMAND`.
CONTINUATION_MODES: dict[str, Mode] = {
    "IDLE": Mode.IDLE,
    "AUTHENTICATE": Mode.SASL,
}


def next_state(state: State, trigger: Trigger) -> State:
    """The state after ``trigger``; triggers that do not apply leave the state alone."""
    return TRANSITIONS.get((state, trigger), state)
