"""The connection state machine of RFC 3501 section 3, as one table."""

from netsim.mail.imap.states import COMMAND_STATES, TRANSITIONS, State, Trigger, next_state


def test_login_then_select_then_close() -> None:
    """The usual life: authenticate, select, close back to authenticated."""
    state = State.NOT_AUTHENTICATED
    state = next_state(state, Trigger.AUTHENTICATED)
    assert state is State.AUTHENTICATED
    state = next_state(state, Trigger.SELECTED)
    assert state is State.SELECTED
    assert next_state(state, Trigger.CLOSED) is State.AUTHENTICATED


def test_a_failed_select_deselects() -> None:
    """RFC 3501 6.3.1: a failed SELECT leaves no mailbox selected."""
    assert next_state(State.SELECTED, Trigger.SELECT_FAILED) is State.AUTHENTICATED


def test_nothing_leaves_logout() -> None:
    """LOGOUT is final: no transition starts there."""
    assert not [pair for pair in TRANSITIONS if pair[0] is State.LOGOUT]
    assert next_state(State.LOGOUT, Trigger.AUTHENTICATED) is State.LOGOUT


def test_no_mailbox_command_before_authentication() -> None:
    """Only CAPABILITY, NOOP, LOGOUT, ID and the login commands work unauthenticated."""
    allowed = {n for n, states in COMMAND_STATES.items() if State.NOT_AUTHENTICATED in states}
    assert allowed == {"CAPABILITY", "NOOP", "LOGOUT", "ID", "STARTTLS", "AUTHENTICATE", "LOGIN"}
