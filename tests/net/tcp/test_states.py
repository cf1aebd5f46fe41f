"""The state diagram of RFC 9293 §3.3.2, as a table: complete, connected, and strict."""

from __future__ import annotations

from collections import deque

import pytest

from netsim.net.tcp.states import TRANSITIONS, TcpState, TcpStateError, Trigger, next_state

S, T = TcpState, Trigger


def test_the_textbook_paths() -> None:
    """Client: CLOSED → SYN-SENT → ESTABLISHED → FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT → CLOSED."""
    path = [T.ACTIVE_OPEN, T.RCV_SYN_ACK, T.CLOSE, T.RCV_ACK_OF_FIN, T.RCV_FIN, T.TIME_WAIT_EXPIRED]
    state = S.CLOSED
    seen = [state]
    for trigger in path:
        state = next_state(state, trigger)
        seen.append(state)
    assert seen == [
        S.CLOSED, S.SYN_SENT, S.ESTABLISHED, S.FIN_WAIT_1, S.FIN_WAIT_2, S.TIME_WAIT, S.CLOSED,
    ]  # fmt: skip
    server = [T.PASSIVE_OPEN, T.RCV_SYN, T.RCV_ACK_OF_SYN, T.RCV_FIN, T.CLOSE, T.RCV_ACK_OF_FIN]
    state = S.CLOSED
    for trigger in server:
        state = next_state(state, trigger)
    assert state is S.CLOSED


def test_simultaneous_close_goes_through_closing() -> None:
    """Both FINs cross: FIN-WAIT-1 → CLOSING → TIME-WAIT."""
    state = next_state(S.FIN_WAIT_1, T.RCV_FIN)
    assert state is S.CLOSING
    assert next_state(state, T.RCV_ACK_OF_FIN) is S.TIME_WAIT


@pytest.mark.parametrize("state", [s for s in TcpState if s is not S.CLOSED])
def test_every_open_state_can_be_reset_aborted_or_given_up(state: TcpState) -> None:
    """A RST, an abort or the retransmission limit ends any connection at once."""
    for trigger in (T.RCV_RST, T.ABORT, T.GIVE_UP):
        assert next_state(state, trigger) is S.CLOSED


def test_illegal_moves_fail_loudly() -> None:
    """Receiving the ACK of a FIN in ESTABLISHED (no FIN was sent) is a bug, not a no-op."""
    with pytest.raises(TcpStateError, match="receive ACK of FIN in state ESTABLISHED"):
        next_state(S.ESTABLISHED, T.RCV_ACK_OF_FIN)


def test_every_state_is_reachable_and_can_reach_closed() -> None:
    """The table is one connected diagram: no orphan state, no trap."""
    reachable = {S.CLOSED}
    todo = deque([S.CLOSED])
    while todo:
        state = todo.popleft()
        for (src, _), dst in TRANSITIONS.items():
            if src is state and dst not in reachable:
                reachable.add(dst)
                todo.append(dst)
    assert reachable == set(TcpState)
    leads_to_closed = {S.CLOSED}
    changed = True
    while changed:
        changed = False
        for (src, _), dst in TRANSITIONS.items():
            if dst in leads_to_closed and src not in leads_to_closed:
                leads_to_closed.add(src)
                changed = True
    assert leads_to_closed == set(TcpState)
