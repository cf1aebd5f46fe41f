"""One TCP connection as a sans-IO state machine (RFC 9293, with RFC 6298 and RFC 5681).

A :class:`TcpConnection` never touches a network or a clock. Its owner drives it:

- input: :meth:`~TcpConnection.receive_segment` (a segment arrived),
  :meth:`~TcpConnection.on_timer` (time reached :meth:`~TcpConnection.next_timer`), and
  the application's :meth:`~TcpConnection.send`, :meth:`~TcpConnection.read`,
  :meth:`~TcpConnection.close` and :meth:`~TcpConnection.abort`;
- output: :meth:`~TcpConnection.segments_to_send` (to put on the wire now) and
  :meth:`~TcpConnection.next_event` (to tell the application).

After every input the owner calls ``segments_to_send(now)``, drains the events and
re-arms one timer at ``next_timer()``. Everything that depends on time takes ``now``.
A ``read`` counts as input too: freeing buffer space may call for a window update.

Inside, sequence positions are unbounded integers (see :mod:`.seqnum`) named as in
RFC 9293 §3.3.1: SND.UNA (oldest unacknowledged), SND.NXT (next to send), RCV.NXT (next
expected). ``snd_max`` is the highest position ever sent: after a timeout SND.NXT goes
back to SND.UNA to resend (go-back-N, as BSD does), and anything sent below ``snd_max``
is a retransmission. Positions start at the initial sequence number (ISS), which the SYN
occupies; data byte *i* is at ISS + 1 + *i*, and the FIN follows the last byte.

The send side implements, in order of appearance: Nagle's algorithm and sender silly
window avoidance (RFC 896, RFC 1122 §4.2.3.4), the retransmission timer (RFC 6298 §5)
with Karn's rule, congestion control (:mod:`.congestion`), and the persist timer for
zero windows (RFC 9293 §3.8.6.1). The receive side: segment acceptability and trimming
(RFC 9293 §3.10.7.4), reassembly of out-of-order data, delayed ACKs (RFC 1122 §4.2.3.2,
RFC 5681 §4.2) and receiver silly window avoidance (RFC 1122 §4.2.3.3).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from netsim.net.tcp.config import DEFAULT_MSS, TcpConfig
from netsim.net.tcp.congestion import RenoCongestionControl
from netsim.net.tcp.endpoint import Endpoint, FourTuple
from netsim.net.tcp.events import (
    Closed,
    Connected,
    DataReceived,
    EndOfStream,
    Reset,
    TcpEvent,
    TimedOut,
    Writable,
)
from netsim.net.tcp.rto import RtoEstimator
from netsim.net.tcp.segment import FLAGS_BY_VALUE, MAX_WINDOW, TcpFlags, TcpSegment
from netsim.net.tcp.seqnum import SEQ_MODULUS, unwrap, wrap
from netsim.net.tcp.states import (
    CAN_RECEIVE,
    CAN_SEND,
    SYNCHRONIZED,
    TcpState,
    TcpStateError,
    Trigger,
    next_state,
)

S = TcpState
"""Short alias of :class:`TcpState`: the state names recur on every other line."""
_SYN, _FIN, _PSH, _ACK = (int(f) for f in (TcpFlags.SYN, TcpFlags.FIN, TcpFlags.PSH, TcpFlags.ACK))
"""The control bits as plain ints, for building a segment's flags (see FLAGS_BY_VALUE)."""


@dataclass(slots=True)
class TcpStats:
    """What one connection did, for ``tcp.csv`` and for tests."""

    segments_sent: int = 0
    segments_received: int = 0
    bytes_sent: int = 0
    """Payload bytes sent for the first time."""
    bytes_retransmitted: int = 0
    retransmissions: int = 0
    """Segments sent again (timeouts, fast retransmits and partial-ACK repairs)."""
    timeouts: int = 0
    fast_retransmits: int = 0
    duplicate_acks: int = 0
    window_probes: int = 0
    bytes_received: int = 0
    """Payload bytes delivered in order to the receive buffer."""
    rtt_samples: list[float] = field(default_factory=list)
    """Every RTT measurement that reached the RTO estimator, in order."""


@dataclass(frozen=True, slots=True)
class TcpSample:
    """The sender's congestion state at one instant (recorded when ``config.trace``)."""

    time: float
    cwnd: int
    ssthresh: int
    flight_size: int
    snd_wnd: int
    """The peer's advertised window."""
    srtt: float | None
    rto: float


class TcpConnection:
    """One end of one TCP connection.

    Create it with :meth:`connect` (active open) or :meth:`accept` (passive open, from a
    SYN that a listener received); the constructor alone gives a CLOSED connection.
    """

    def __init__(
        self, local: Endpoint, remote: Endpoint, *, iss: int, config: TcpConfig | None = None
    ) -> None:
        self.local = local
        """Our address and port."""
        self.remote = remote
        """The peer's address and port."""
        self.config = config or TcpConfig()
        self.state = S.CLOSED
        """The current :class:`TcpState`."""
        self.stats = TcpStats()
        self.nagle = self.config.nagle
        """Nagle's algorithm on this connection; assign False for TCP_NODELAY."""
        self.delayed_ack = self.config.delayed_ack
        """Delayed ACKs on this connection; assign False to ACK every segment at once."""
        self.rto = RtoEstimator(
            self.config.initial_rto,
            self.config.min_rto,
            self.config.max_rto,
            self.config.clock_granularity,
        )
        """The RTO estimator (SRTT, RTTVAR, current RTO)."""
        self.smss = min(self.config.mss, DEFAULT_MSS)
        """The effective send MSS: ours capped by the peer's, known after the handshake."""
        self.cc = RenoCongestionControl(
            self.smss, self.config.initial_window, self.config.dupack_threshold
        )
        """Congestion control state (cwnd, ssthresh)."""
        self._events: deque[TcpEvent] = deque()
        self.trace: list[TcpSample] = []
        """Congestion-state samples, one per ACK or timeout, if ``config.trace`` is set."""
        self._outbox: list[TcpSegment] = []
        """One-off segments (a RST from :meth:`abort`) to emit with the next batch."""

        # Send side (RFC 9293 §3.3.1), positions as unbounded integers.
        self.iss = iss % SEQ_MODULUS
        self.snd_una = self.iss
        self.snd_nxt = self.iss
        self.snd_max = self.iss
        self.snd_wnd = 0
        """The window the peer last advertised."""
        self._snd_wl1 = 0
        self._snd_wl2 = 0
        self._max_snd_wnd = 0
        self._send_buf = bytearray()
        self._send_base = self.iss + 1
        """Position of ``_send_buf[0]``: data before it has been acknowledged."""
        self._fin_queued = False
        self._want_writable = False
        self._fast_retransmit_pending = False
        self._retries = 0
        self._last_send: float | None = None
        """When the last segment carrying data, SYN or FIN left (for the idle restart)."""
        self._rtt_probe: tuple[int, float] | None = None
        """(position whose ACK ends the measurement, time sent): one timed segment at a time."""

        # Receive side.
        self.irs = 0
        self.rcv_nxt = 0
        self._rcv_adv = 0
        """Right edge of the window we last advertised; it never moves left."""
        self._rcv_buf = bytearray()
        self._out_of_order: dict[int, bytes] = {}
        self._peer_fin: int | None = None
        """Position of the peer's FIN once seen, even out of order."""
        self._fin_received = False
        self._ack_now = False
        self._unacked_bytes = 0
        self._last_out_of_window_ack = -1.0

        # Timers: absolute deadlines in simulated seconds, None when not running.
        self._rtx_deadline: float | None = None
        self._delack_deadline: float | None = None
        self._persist_deadline: float | None = None
        self._persist_interval = 0.0
        self._time_wait_deadline: float | None = None

    # ------------------------------------------------------------------ opening

    @classmethod
    def connect(
        cls,
        local: Endpoint,
        remote: Endpoint,
        *,
        iss: int,
        now: float,
        config: TcpConfig | None = None,
    ) -> TcpConnection:
        """Active open: a connection in SYN-SENT whose SYN :meth:`segments_to_send` emits."""
        conn = cls(local, remote, iss=iss, config=config)
        conn._transition(Trigger.ACTIVE_OPEN, now)
        return conn

    @classmethod
    def accept(
        cls,
        syn: TcpSegment,
        local: Endpoint,
        remote: Endpoint,
        *,
        iss: int,
        now: float,
        config: TcpConfig | None = None,
    ) -> TcpConnection:
        """Passive open: a connection in SYN-RECEIVED answering ``syn`` with a SYN,ACK."""
        if not syn.has(TcpFlags.SYN) or syn.has(TcpFlags.ACK) or syn.has(TcpFlags.RST):
            raise ValueError(f"a passive open needs a bare SYN, got {syn}")
        conn = cls(local, remote, iss=iss, config=config)
        conn._transition(Trigger.PASSIVE_OPEN, now)
        conn.receive_segment(syn, now)
        return conn

    @property
    def four_tuple(self) -> FourTuple:
        """(local, remote): the key of this connection on its host."""
        return FourTuple(self.local, self.remote)

    # ------------------------------------------------------------------ application API

    def send(self, data: bytes) -> int:
        """Queue ``data`` for sending; return how many bytes fit in the send buffer.

        Fewer than ``len(data)`` means the buffer is full: a :class:`Writable` event
        follows when ACKs free space. Raises :class:`TcpStateError` after :meth:`close`.
        """
        if self.state not in CAN_SEND or self._fin_queued:
            raise TcpStateError(f"TCP: cannot send in state {self.state.value}")
        room = self.config.send_buffer - len(self._send_buf)
        accepted = data[: max(0, room)]
        self._send_buf += accepted
        if len(accepted) < len(data):
            self._want_writable = True
        return len(accepted)

    def read(self, max_bytes: int | None = None) -> bytes:
        """Take up to ``max_bytes`` (default all) received bytes out of the receive buffer.

        Returns ``b""`` when nothing is buffered (check :attr:`at_eof`). Reading frees
        buffer space; if that opens the window a lot, a window update is sent.
        """
        n = len(self._rcv_buf) if max_bytes is None else max(0, max_bytes)
        data = bytes(self._rcv_buf[:n])
        del self._rcv_buf[:n]
        if data and self.state in CAN_RECEIVE and self.state is not S.SYN_RECEIVED:
            self._maybe_window_update()
        return data

    @property
    def readable(self) -> int:
        """Bytes waiting in the receive buffer."""
        return len(self._rcv_buf)

    @property
    def at_eof(self) -> bool:
        """True when the peer has closed and every byte it sent has been read."""
        return self._fin_received and not self._rcv_buf

    @property
    def send_buffer_free(self) -> int:
        """Bytes :meth:`send` would accept now."""
        return max(0, self.config.send_buffer - len(self._send_buf))

    @property
    def unsent(self) -> int:
        """Queued bytes not yet sent once."""
        return max(0, self._send_base + len(self._send_buf) - max(self.snd_max, self._send_base))

    @property
    def flight_size(self) -> int:
        """FlightSize of RFC 5681: sequence space sent but not yet acknowledged."""
        return self.snd_max - self.snd_una

    def close(self) -> None:
        """Close our direction: a FIN follows the queued data (RFC 9293 §3.10.4).

        The peer may go on sending until it closes too. Closing again is a no-op.
        Closing before the handshake completes (SYN-SENT) abandons the connection and
        any queued data, as the RFC says.
        """
        # None of these transitions starts a timer, so they need no current time.
        if self.state in (S.LISTEN, S.SYN_SENT):
            self._transition(Trigger.CLOSE, 0.0)
        elif self.state in (S.SYN_RECEIVED, S.ESTABLISHED, S.CLOSE_WAIT):
            self._fin_queued = True
            self._transition(Trigger.CLOSE, 0.0)

    def abort(self) -> None:
        """Reset the connection at once: a RST goes out and queued data is dropped."""
        if self.state is S.CLOSED:
            return
        if self.state in SYNCHRONIZED or self.state is S.SYN_RECEIVED:
            self._outbox.append(self._segment(self.snd_max, TcpFlags.RST))
        self._transition(Trigger.ABORT, 0.0)

    def next_event(self) -> TcpEvent | None:
        """The oldest event not yet taken, or None."""
        return self._events.popleft() if self._events else None

    def events(self) -> list[TcpEvent]:
        """All pending events, oldest first (draining them)."""
        drained = list(self._events)
        self._events.clear()
        return drained

    # ------------------------------------------------------------------ state changes

    def _transition(self, trigger: Trigger, now: float) -> None:
        self.state = next_state(self.state, trigger)
        if self.state is S.ESTABLISHED:
            if self.rto.srtt is None and self.stats.timeouts > 0:
                # RFC 6298 §5.7: the SYN had to be resent, so no RTT is known (Karn);
                # start the data transfer with a conservative 3-second RTO.
                self.rto.rto = min(self.config.max_rto, max(self.rto.rto, 3.0))
            self._events.append(Connected())
        elif self.state is S.TIME_WAIT:
            # RFC 9293 §3.6: linger 2 MSL so a lost final ACK can be re-sent and old
            # duplicates of this connection die out before the 4-tuple is reused.
            self._time_wait_deadline = now + 2 * self.config.msl
            self._rtx_deadline = self._persist_deadline = self._delack_deadline = None
        elif self.state is S.CLOSED:
            self._rtx_deadline = self._persist_deadline = None
            self._delack_deadline = self._time_wait_deadline = None
            self._ack_now = False
            self._events.append(Closed())

    def _closed_by_peer_reset(self, now: float, refused: bool = False) -> None:
        self._events.append(Reset(refused=refused))
        self._transition(Trigger.RCV_RST, now)

    # ------------------------------------------------------------------ timers

    def next_timer(self) -> float | None:
        """When :meth:`on_timer` must next be called, or None if no timer runs."""
        # A plain loop rather than min() over a generator: a stack asks this of every
        # connection after each packet, and a mail server has hundreds of them.
        earliest = None
        for deadline in (
            self._rtx_deadline,
            self._delack_deadline,
            self._persist_deadline,
            self._time_wait_deadline,
        ):
            if deadline is not None and (earliest is None or deadline < earliest):
                earliest = deadline
        return earliest

    def on_timer(self, now: float) -> None:
        """Run every timer that is due at ``now``; call :meth:`segments_to_send` after."""
        if self._time_wait_deadline is not None and self._time_wait_deadline <= now:
            self._transition(Trigger.TIME_WAIT_EXPIRED, now)
            return
        if self._delack_deadline is not None and self._delack_deadline <= now:
            self._delack_deadline = None
            self._ack_now = True
        if self._rtx_deadline is not None and self._rtx_deadline <= now:
            self._on_retransmission_timeout(now)
        if self._persist_deadline is not None and self._persist_deadline <= now:
            self._on_persist_timeout(now)

    def _on_retransmission_timeout(self, now: float) -> None:
        """RFC 6298 §5.4–5.6 and RFC 5681 §3.1: resend the oldest segment, back off, slow start."""
        self._rtx_deadline = None
        if self.snd_una == self.snd_max:
            return
        self._retries += 1
        syn_outstanding = self.snd_una == self.iss
        limit = (
            self.config.max_syn_retransmissions
            if syn_outstanding
            else self.config.max_retransmissions
        )
        if self._retries > limit:
            self._events.append(TimedOut())
            self._transition(Trigger.GIVE_UP, now)
            return
        self.stats.timeouts += 1
        self.cc.on_timeout(self.flight_size, self.snd_max)
        self.rto.back_off()
        # Go back: everything from SND.UNA on is resent as the window allows. Karn's
        # rule: none of it may be timed, so drop any measurement in progress.
        self.snd_nxt = self.snd_una
        self._rtt_probe = None
        self._fast_retransmit_pending = False
        self._rtx_deadline = now + self.rto.rto
        self._record(now)

    def _record(self, now: float) -> None:
        if self.config.trace:
            self.trace.append(
                TcpSample(
                    now,
                    self.cc.cwnd,
                    self.cc.ssthresh,
                    self.flight_size,
                    self.snd_wnd,
                    self.rto.srtt,
                    self.rto.rto,
                )
            )

    def _on_persist_timeout(self, now: float) -> None:
        """The peer's window has stayed too small to send: probe it (RFC 9293 §3.8.6.1)."""
        self._persist_deadline = None
        usable = self.snd_una + min(self.snd_wnd, self.cc.cwnd) - self.snd_nxt
        if usable > 0 and self._unsent_from_nxt() > 0:
            # A small window that silly window avoidance refused to use: after the
            # override timeout, send what fits (RFC 1122 §4.2.3.4).
            self._outbox.append(self._emit(self.snd_nxt, min(usable, self.smss), now))
        else:
            # A zero window: send a segment with an old sequence number, which the peer
            # must answer with an ACK carrying its current window (as Linux does).
            self._outbox.append(self._segment(self.snd_una - 1, TcpFlags.ACK))
        self.stats.window_probes += 1
        self._persist_interval = min(self._persist_interval * 2, self.config.max_rto)

    # ------------------------------------------------------------------ output

    def segments_to_send(self, now: float) -> list[TcpSegment]:
        """The segments to transmit now, in order; call after every input."""
        out, self._outbox = self._outbox, []
        if self.state in (S.CLOSED, S.LISTEN):
            return out
        if self._fast_retransmit_pending:
            self._fast_retransmit_pending = False
            if self.snd_una < self.snd_max:
                out.append(self._emit(self.snd_una, self.smss, now))
        while (segment := self._next_segment(now)) is not None:
            out.append(segment)
        if self._ack_now:
            if self.state is S.SYN_RECEIVED:
                # Our SYN,ACK may have been lost: answer with it again (as Linux does).
                out.append(self._emit(self.iss, 0, now))
            else:
                # A bare ACK carries SND.MAX, not SND.NXT: while we go back to resend,
                # SND.NXT lies behind what the peer has, and it would find the ACK too
                # old to look at (BSD's tcp_output does the same).
                out.append(self._segment(self.snd_max, TcpFlags.ACK))
        self._update_persist_timer(now)
        return out

    def _unsent_from_nxt(self) -> int:
        return self._send_base + len(self._send_buf) - self.snd_nxt

    def _next_segment(self, now: float) -> TcpSegment | None:
        """The next segment the send rules allow at SND.NXT, or None."""
        if self.snd_nxt == self.iss:
            # Our SYN (or SYN,ACK) is next: first sent, or resent after a timeout.
            if self.state in (S.SYN_SENT, S.SYN_RECEIVED, S.FIN_WAIT_1):
                return self._emit(self.iss, 0, now)
            return None
        if self.state not in SYNCHRONIZED:
            return None  # no data before the handshake completes
        data_end = self._send_base + len(self._send_buf)
        available = data_end - self.snd_nxt
        if available <= 0:
            if self._fin_queued and self.snd_nxt == data_end:
                return self._emit(self.snd_nxt, 0, now)  # a FIN alone
            return None
        usable = self.snd_una + min(self.snd_wnd, self.cc.cwnd) - self.snd_nxt
        if usable <= 0 and self.snd_nxt == self.snd_una < self.snd_max:
            # Resending the oldest segment after a timeout: allowed even when the peer's
            # window seems closed (as Linux does), so it doubles as a window probe; the
            # window's last update may have been lost or overtaken by an older one.
            usable = self.smss
        n = min(available, self.smss, usable)
        if n <= 0:
            return None
        if n < self.smss and self.snd_nxt >= self.snd_max:  # new data only; resend at once
            if n < available:
                # Silly window avoidance (RFC 1122 §4.2.3.4): the window, not the data,
                # limits this segment; wait for a full one unless the window is at least
                # half the largest the peer ever offered.
                if n < self._max_snd_wnd // 2:
                    return None
            elif self.nagle and self.snd_max > self.snd_una and not self._fin_queued:
                # Nagle (RFC 896): a small segment waits while data is unacknowledged.
                # (A pending FIN flushes the tail, as Linux does.)
                return None
        return self._emit(self.snd_nxt, n, now)

    def _emit(self, seq: int, max_len: int, now: float) -> TcpSegment:
        """Build the segment starting at position ``seq`` and do the send-side bookkeeping."""
        if (
            self.config.slow_start_after_idle
            and self.snd_una == self.snd_max
            and self._last_send is not None
            and now - self._last_send > self.rto.rto
        ):
            self.cc.on_idle_restart()  # RFC 5681 §4.1
        self._last_send = now
        # The flags are summed as plain ints (IntFlag's | and & run enum code each time).
        bits = 0
        payload = b""
        mss = None
        if seq == self.iss:
            bits = _SYN
            mss = self.config.mss
        else:
            offset = seq - self._send_base
            payload = bytes(self._send_buf[offset : offset + max_len])
            data_end = self._send_base + len(self._send_buf)
            if seq + len(payload) == data_end:
                if payload:
                    bits |= _PSH  # the segment empties the send queue (BSD)
                if self._fin_queued:
                    bits |= _FIN
        if self.state is not S.SYN_SENT:
            bits |= _ACK
        end = seq + len(payload) + bool(bits & _SYN) + bool(bits & _FIN)
        if seq < self.snd_max:
            self.stats.retransmissions += 1
            self.stats.bytes_retransmitted += len(payload)
            # Karn's rule: an ACK after a retransmission cannot tell which copy it
            # answers, so no RTT sample is taken until new data is timed.
            self._rtt_probe = None
        else:
            self.stats.bytes_sent += len(payload)
            if self._rtt_probe is None:
                self._rtt_probe = (end, now)
        self.snd_max = max(self.snd_max, end)
        if seq == self.snd_nxt:
            self.snd_nxt = end
        if self._rtx_deadline is None:
            self._rtx_deadline = now + self.rto.rto  # RFC 6298 §5.1
        return self._segment(seq, FLAGS_BY_VALUE[bits], payload, mss)

    def _segment(
        self, seq: int, flags: TcpFlags, payload: bytes = b"", mss: int | None = None
    ) -> TcpSegment:
        """A segment from this connection; any ACK it carries settles what we owed."""
        ack = 0
        window = min(self.config.receive_buffer, MAX_WINDOW)
        if int.__and__(flags, _ACK):
            ack = wrap(self.rcv_nxt)
            window = self._advertised_window()
            self._ack_now = False
            self._delack_deadline = None
            self._unacked_bytes = 0
        self.stats.segments_sent += 1
        return TcpSegment(
            self.local.port, self.remote.port, wrap(seq), ack, flags, window, payload, mss
        )

    def _receive_window_edge(self) -> int:
        free = self.config.receive_buffer - len(self._rcv_buf)
        return self.rcv_nxt + max(0, min(free, MAX_WINDOW))

    def _sws_threshold(self) -> int:
        return min(self.config.receive_buffer // 2, self.smss)

    def _advertised_window(self) -> int:
        """The window to put in a segment (RFC 1122 §4.2.3.3, receiver SWS avoidance).

        The right edge moves right only by at least min(buffer / 2, MSS), so a slow
        reader does not invite a stream of tiny segments; it never moves left.
        """
        edge = self._receive_window_edge()
        if edge - self._rcv_adv >= self._sws_threshold():
            self._rcv_adv = edge
        return self._rcv_adv - self.rcv_nxt

    def _maybe_window_update(self) -> None:
        """After a read: ACK at once if the window we could offer is much larger.

        Like Linux: when the advertised window has fallen to half the buffer or less and
        the new one would be at least twice as big, tell the peer now rather than waiting
        for its next segment (which may never come if it is blocked on our window).
        """
        current = self._rcv_adv - self.rcv_nxt
        edge = self._receive_window_edge()
        if (
            2 * current <= self.config.receive_buffer
            and edge - self.rcv_nxt >= 2 * current
            and edge - self._rcv_adv >= self._sws_threshold()
        ):
            self._ack_now = True

    def _update_persist_timer(self, now: float) -> None:
        """Run the persist timer while data waits, nothing is in flight and we cannot send."""
        blocked = (
            self.state in SYNCHRONIZED
            and self.snd_max == self.snd_una
            and self._unsent_from_nxt() > 0
        )
        if not blocked:
            self._persist_deadline = None
            self._persist_interval = 0.0
        elif self._persist_deadline is None:
            if self._persist_interval == 0.0:
                self._persist_interval = self.rto.rto
            self._persist_deadline = now + self._persist_interval

    # ------------------------------------------------------------------ input

    def receive_segment(self, segment: TcpSegment, now: float) -> None:
        """Process one arriving segment (RFC 9293 §3.10.7); then call :meth:`segments_to_send`."""
        self.stats.segments_received += 1
        if self.state is S.CLOSED:
            return
        if self.state is S.LISTEN:
            self._receive_in_listen(segment)
        elif self.state is S.SYN_SENT:
            self._receive_in_syn_sent(segment, now)
        else:
            self._receive_synchronized(segment, now)

    def _learn_peer_syn(self, segment: TcpSegment) -> None:
        """Record the peer's ISN, MSS and window from its SYN."""
        self.irs = segment.seq
        self.rcv_nxt = self.irs + 1
        self._rcv_adv = self._receive_window_edge()
        peer_mss = segment.mss if segment.mss is not None else DEFAULT_MSS
        self.smss = min(self.config.mss, peer_mss)
        self.cc = RenoCongestionControl(
            self.smss, self.config.initial_window, self.config.dupack_threshold
        )
        self.snd_wnd = self._max_snd_wnd = segment.window
        self._snd_wl1 = self.irs
        self._snd_wl2 = self.snd_una

    def _receive_in_listen(self, segment: TcpSegment) -> None:
        if segment.has(TcpFlags.SYN) and not segment.has(TcpFlags.ACK | TcpFlags.RST):
            self._learn_peer_syn(segment)
            self._transition(Trigger.RCV_SYN, 0.0)

    def _receive_in_syn_sent(self, segment: TcpSegment, now: float) -> None:
        """RFC 9293 §3.10.7.3."""
        ack_ok = False
        if segment.has(TcpFlags.ACK):
            ack = unwrap(segment.ack, self.snd_una)
            if ack <= self.iss or ack > self.snd_max:
                if not segment.has(TcpFlags.RST):
                    self._outbox.append(self._bare_rst(segment.ack))
                return
            ack_ok = True
        if segment.has(TcpFlags.RST):
            if ack_ok:
                self._closed_by_peer_reset(now, refused=True)  # "connection refused"
            return
        if not segment.has(TcpFlags.SYN):
            return
        # Data on a SYN (TCP Fast Open, RFC 7413) is not supported: it is ignored and
        # the peer will resend it.
        self._learn_peer_syn(segment)
        if ack_ok:
            self._acknowledge(unwrap(segment.ack, self.snd_una), now)
            self._ack_now = True
            self._transition(Trigger.RCV_SYN_ACK, now)
        else:
            # Simultaneous open: both sides sent SYNs; answer with SYN,ACK.
            self.snd_nxt = self.iss
            self._transition(Trigger.RCV_SYN, now)

    def _bare_rst(self, wire_seq: int) -> TcpSegment:
        self.stats.segments_sent += 1
        return TcpSegment(self.local.port, self.remote.port, wire_seq, 0, TcpFlags.RST, 0)

    def _acceptable(self, seq: int, seg_len: int) -> bool:
        """The acceptability test of RFC 9293 §3.10.7.4, first check (its four cases).

        One deviation, shared with Linux: a segment without data may sit exactly at the
        window's right edge. It occupies no space, and it is what a sender whose whole
        window is in flight sends; rejecting it invites an endless exchange of ACKs.
        """
        window = self._rcv_adv - self.rcv_nxt
        if seg_len == 0:
            return self.rcv_nxt <= seq <= self.rcv_nxt + window
        if window == 0:
            return False
        last = seq + seg_len - 1
        return (self.rcv_nxt <= seq < self.rcv_nxt + window) or (
            self.rcv_nxt <= last < self.rcv_nxt + window
        )

    def _receive_synchronized(self, segment: TcpSegment, now: float) -> None:
        """RFC 9293 §3.10.7.4: the checks, in the RFC's order, for all other states."""
        seq = unwrap(segment.seq, self.rcv_nxt)
        if self.state is S.SYN_RECEIVED and segment.has(TcpFlags.SYN) and seq == self.irs:
            ack = unwrap(segment.ack, self.snd_una)
            if segment.has(TcpFlags.ACK) and self.snd_una < ack <= self.snd_max:
                # Simultaneous open: the peer's SYN,ACK acknowledges our SYN. Strictly
                # its old sequence number makes it unacceptable and only our ACK would
                # complete the handshake; accepting its ACK at once is equivalent.
                self._acknowledge(ack, now)
                self._transition(Trigger.RCV_ACK_OF_SYN, now)
            # Otherwise a retransmitted SYN: our SYN,ACK was lost, so send it again.
            self._ack_now = True
            return
        # First: is the sequence number acceptable?
        if not self._acceptable(seq, segment.seg_len):
            if segment.has(TcpFlags.RST):
                return
            if segment.seg_len > 0 or now - self._last_out_of_window_ack >= 0.5:
                # Answer with an ACK, but a bare ACK at most twice a second, as Linux
                # does (tcp_invalid_ratelimit): two confused peers must not ping-pong.
                self._ack_now = True
                if segment.seg_len == 0:
                    self._last_out_of_window_ack = now
            if self.state is S.TIME_WAIT and segment.has(TcpFlags.FIN):
                # The peer resent its FIN: our last ACK was lost. TIME-WAIT restarts.
                self._time_wait_deadline = now + 2 * self.config.msl
            # A zero window admits no data, but the ACK field of a segment that starts
            # right at RCV.NXT must still be processed (RFC 9293 §3.10.7.4).
            if seq != self.rcv_nxt or not segment.has(TcpFlags.ACK):
                return
            segment = TcpSegment(
                segment.src_port,
                segment.dst_port,
                segment.seq,
                segment.ack,
                segment.flags & ~(TcpFlags.FIN | TcpFlags.SYN),
                segment.window,
            )
        # Second: RST. Only an exact match resets; one merely in the window gets a
        # challenge ACK (RFC 5961 §3, adopted by RFC 9293), foiling blind resets.
        if segment.has(TcpFlags.RST):
            if seq == self.rcv_nxt:
                self._closed_by_peer_reset(now)
            else:
                self._ack_now = True
            return
        # Fourth: a SYN in a synchronized state gets a challenge ACK (RFC 5961 §4).
        if segment.has(TcpFlags.SYN):
            self._ack_now = True
            return
        # Fifth: the ACK field.
        if not segment.has(TcpFlags.ACK):
            return
        ack = unwrap(segment.ack, self.snd_una)
        if self.state is S.SYN_RECEIVED:
            if not self.snd_una < ack <= self.snd_max:
                self._outbox.append(self._bare_rst(segment.ack))
                return
            self._transition(Trigger.RCV_ACK_OF_SYN, now)
        if ack > self.snd_max:
            self._ack_now = True  # acknowledges something not yet sent
            return
        self._process_ack(segment, seq, ack, now)
        if self.state is S.CLOSED:
            return
        # Seventh and eighth: the segment text, then FIN.
        self._process_text(segment, seq, now)

    def _fin_acked(self, ack: int) -> bool:
        fin_position = self._send_base + len(self._send_buf)
        return self._fin_queued and ack > fin_position

    def _process_ack(self, segment: TcpSegment, seq: int, ack: int, now: float) -> None:
        """Fifth check: advance SND.UNA, detect duplicates, update the window."""
        if ack > self.snd_una:
            self._acknowledge(ack, now)
        elif (
            ack == self.snd_una
            and not segment.payload
            and not segment.has(TcpFlags.SYN | TcpFlags.FIN)
            and segment.window == self.snd_wnd
            and self.snd_max > self.snd_una
        ):
            # A duplicate ACK exactly as RFC 5681 §2 defines it.
            self.stats.duplicate_acks += 1
            if self.cc.on_duplicate_ack(self.flight_size, self.snd_una, self.snd_max):
                self.stats.fast_retransmits += 1
                self._fast_retransmit_pending = True
                self._rtt_probe = None
        # Window update, only from a segment newer than the last one used (SND.WL1/WL2).
        if self._snd_wl1 < seq or (self._snd_wl1 == seq and self._snd_wl2 <= ack):
            self.snd_wnd = segment.window
            self._snd_wl1, self._snd_wl2 = seq, ack
            self._max_snd_wnd = max(self._max_snd_wnd, self.snd_wnd)
        # The ACK may have covered our FIN.
        if self.state in SYNCHRONIZED:
            self._record(now)
        if self._fin_acked(ack) and self.state in (S.FIN_WAIT_1, S.CLOSING, S.LAST_ACK):
            self._transition(Trigger.RCV_ACK_OF_FIN, now)

    def _acknowledge(self, ack: int, now: float) -> None:
        """New data acknowledged up to ``ack``: RTT, buffer, congestion window, timer."""
        # The SYN occupies one position but is no data: it does not grow cwnd.
        acked = ack - self.snd_una - (1 if self.snd_una == self.iss else 0)
        if self._rtt_probe is not None and ack >= self._rtt_probe[0]:
            sample = now - self._rtt_probe[1]
            self.rto.sample(sample)
            self.stats.rtt_samples.append(sample)
            self._rtt_probe = None
        data_end = self._send_base + len(self._send_buf)
        done = min(ack, data_end) - self._send_base
        if done > 0:
            del self._send_buf[:done]
            self._send_base += done
        self.snd_una = ack
        self.snd_nxt = max(self.snd_nxt, ack)
        self._retries = 0
        if acked > 0 and self.state is not S.SYN_SENT and self.cc.on_new_ack(acked, ack):
            self._fast_retransmit_pending = True  # partial ACK: the next hole
        # RFC 6298 §5.2/5.3: stop the timer when all is acknowledged, else restart it.
        self._rtx_deadline = None if self.snd_una == self.snd_max else now + self.rto.rto
        if self._want_writable and self.send_buffer_free > 0:
            self._want_writable = False
            self._events.append(Writable())

    def _process_text(self, segment: TcpSegment, seq: int, now: float) -> None:
        """Seventh and eighth checks: place data in the buffer and process a FIN."""
        data = segment.payload
        fin = segment.has(TcpFlags.FIN)
        if self.state in CAN_RECEIVE and not self._fin_received:
            if seq < self.rcv_nxt:  # trim what we already have
                data = data[self.rcv_nxt - seq :]
                seq = self.rcv_nxt
            room = self._rcv_adv - seq
            if len(data) > room:  # trim what lies beyond the window
                data = data[: max(0, room)]
                fin = False
            if fin:
                self._peer_fin = seq + len(data)
            if data:
                self._place(seq, data, now)
        elif segment.payload:
            self._ack_now = True  # data after the peer's FIN: a retransmission, re-ACK it
        if self._peer_fin is not None and self._peer_fin == self.rcv_nxt:
            self._receive_fin(now)
        elif fin and self._fin_received:
            # A retransmitted FIN: our ACK was lost. ACK again; TIME-WAIT restarts.
            self._ack_now = True
            if self.state is S.TIME_WAIT:
                self._time_wait_deadline = now + 2 * self.config.msl

    def _place(self, seq: int, data: bytes, now: float) -> None:
        """Put in-window data into the receive buffer or the out-of-order store."""
        if seq > self.rcv_nxt:
            # Out of order: keep it and send a duplicate ACK at once (RFC 5681 §4.2),
            # which is what lets the sender fast-retransmit.
            if len(data) > len(self._out_of_order.get(seq, b"")):
                self._out_of_order[seq] = data
            self._ack_now = True
            return
        filled_hole = bool(self._out_of_order)
        before = self.rcv_nxt
        self._rcv_buf += data
        self.rcv_nxt += len(data)
        while self._out_of_order:
            ready = [p for p in self._out_of_order if p <= self.rcv_nxt]
            if not ready:
                break
            for position in sorted(ready):
                chunk = self._out_of_order.pop(position)
                fresh = chunk[self.rcv_nxt - position :] if position <= self.rcv_nxt else b""
                self._rcv_buf += fresh
                self.rcv_nxt += len(fresh)
        delivered = self.rcv_nxt - before
        self.stats.bytes_received += delivered
        self._events.append(DataReceived(delivered))
        # ACK policy (RFC 1122 §4.2.3.2, RFC 5681 §4.2): at once if this filled a hole,
        # if delayed ACKs are off, or for every second full-sized segment; else wait.
        self._unacked_bytes += delivered
        if filled_hole or not self.delayed_ack or self._unacked_bytes >= 2 * self.smss:
            self._ack_now = True
        elif self._delack_deadline is None:
            self._delack_deadline = now + self.config.delayed_ack_timeout

    def _receive_fin(self, now: float) -> None:
        """The peer's FIN is next in sequence: its direction is finished (RFC 9293 §3.10.7.4)."""
        self._fin_received = True
        self._peer_fin = None
        self.rcv_nxt += 1
        # The FIN may sit just past a full window; the window's edge must not trail it.
        self._rcv_adv = max(self._rcv_adv, self.rcv_nxt)
        self._ack_now = True
        self._events.append(EndOfStream())
        if self.state in (S.SYN_RECEIVED, S.ESTABLISHED, S.FIN_WAIT_1, S.FIN_WAIT_2):
            self._transition(Trigger.RCV_FIN, now)

    def __repr__(self) -> str:
        return f"<TcpConnection {self.local} -> {self.remote} {self.state.value}>"
