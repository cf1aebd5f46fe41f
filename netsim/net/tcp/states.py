"""TCP connection states and every legal transition between them, in one table.

This is the state diagram of RFC 9293 §3.3.2 written as data. A connection changes
state only through :func:`next_state`, so an illegal move (say, receiving the ACK of a
FIN that was never sent) fails loudly instead of leaving the connection confused.
Aborts (a received RST, the application's abort, giving up after too many
retransmissions) lead from every open state to CLOSED and are added programmatically.
"""

from __future__ import annotations

from enum import Enum


class TcpState(Enum):
    """The eleven states of RFC 9293 §3.3.2."""

    CLOSED = "CLOSED"
    LISTEN = "LISTEN"
    SYN_SENT = "SYN-SENT"
    SYN_RECEIVED = "SYN-RECEIVED"
    ESTABLISHED = "ESTABLISHED"
    FIN_WAIT_1 = "FIN-WAIT-1"
    FIN_WAIT_2 = "FIN-WAIT-2"
    CLOSE_WAIT = "CLOSE-WAIT"
    CLOSING = "CLOSING"
    LAST_ACK = "LAST-ACK"
    TIME_WAIT = "TIME-WAIT"


class Trigger(Enum):
    """What makes a connection change state: a user call, a segment, or a timer."""

    ACTIVE_OPEN = "active open"
    PASSIVE_OPEN = "passive open"
    RCV_SYN = "receive SYN"
    RCV_SYN_ACK = "receive SYN,ACK"
    RCV_ACK_OF_SYN = "receive ACK of SYN"
    CLOSE = "close"
    RCV_FIN = "receive FIN"
    RCV_ACK_OF_FIN = "receive ACK of FIN"
    TIME_WAIT_EXPIRED = "2 MSL timeout"
    RCV_RST = "receive RST"
    ABORT = "abort"
    GIVE_UP = "retransmission limit"


S = TcpState
"""Short alias of :class:`TcpState`, to keep the table below readable."""
T = Trigger
"""Short alias of :class:`Trigger`."""

TRANSITIONS: dict[tuple[TcpState, Trigger], TcpState] = {
    # Opening (RFC 9293 §3.5).
    (S.CLOSED, T.ACTIVE_OPEN): S.SYN_SENT,
    (S.CLOSED, T.PASSIVE_OPEN): S.LISTEN,
    (S.LISTEN, T.RCV_SYN): S.SYN_RECEIVED,
    (S.LISTEN, T.CLOSE): S.CLOSED,
    (S.SYN_SENT, T.RCV_SYN_ACK): S.ESTABLISHED,
    (S.SYN_SENT, T.RCV_SYN): S.SYN_RECEIVED,  # simultaneous open
    (S.SYN_SENT, T.CLOSE): S.CLOSED,
    (S.SYN_RECEIVED, T.RCV_ACK_OF_SYN): S.ESTABLISHED,
    (S.SYN_RECEIVED, T.CLOSE): S.FIN_WAIT_1,
    # Closing (RFC 9293 §3.6): our close first...
    (S.ESTABLISHED, T.CLOSE): S.FIN_WAIT_1,
    (S.FIN_WAIT_1, T.RCV_ACK_OF_FIN): S.FIN_WAIT_2,
    (S.FIN_WAIT_1, T.RCV_FIN): S.CLOSING,
    (S.FIN_WAIT_2, T.RCV_FIN): S.TIME_WAIT,
    (S.CLOSING, T.RCV_ACK_OF_FIN): S.TIME_WAIT,
    (S.TIME_WAIT, T.TIME_WAIT_EXPIRED): S.CLOSED,
    # ...or the peer's.
    (S.ESTABLISHED, T.RCV_FIN): S.CLOSE_WAIT,
    (S.SYN_RECEIVED, T.RCV_FIN): S.CLOSE_WAIT,
    (S.CLOSE_WAIT, T.CLOSE): S.LAST_ACK,
    (S.LAST_ACK, T.RCV_ACK_OF_FIN): S.CLOSED,
}
for _state in TcpState:
    if _state is not S.CLOSED:
        TRANSITIONS[(_state, T.RCV_RST)] = S.CLOSED
        TRANSITIONS[(_state, T.ABORT)] = S.CLOSED
        TRANSITIONS[(_state, T.GIVE_UP)] = S.CLOSED

SYNCHRONIZED = frozenset(
    {
        S.ESTABLISHED,
        S.FIN_WAIT_1,
        S.FIN_WAIT_2,
        S.CLOSE_WAIT,
        S.CLOSING,
        S.LAST_ACK,
        S.TIME_WAIT,
    }
)
"""States in which both sides' sequence numbers are known (RFC 9293 §3.5.2)."""

CAN_SEND = frozenset({S.SYN_SENT, S.SYN_RECEIVED, S.ESTABLISHED, S.CLOSE_WAIT})
"""States in which the application may still queue data (before its close)."""

CAN_RECEIVE = frozenset({S.SYN_RECEIVED, S.ESTABLISHED, S.FIN_WAIT_1, S.FIN_WAIT_2})
"""States in which the peer may still send new data (before its FIN)."""


class TcpStateError(Exception):
    """A transition that the state diagram does not allow."""


def next_state(state: TcpState, trigger: Trigger) -> TcpState:
    """The state after ``trigger`` in ``state``; :class:`TcpStateError` if there is none."""
    try:
        return TRANSITIONS[(state, trigger)]
    except KeyError:
        raise TcpStateError(f"TCP: cannot {trigger.value} in state {state.value}") from None
