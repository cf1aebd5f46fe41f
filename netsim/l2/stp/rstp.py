"""802.1w rapid spanning tree (802.1D-2004 clause 17) as a sans-IO state machine.

RSTP elects the same tree as 802.1D from the same priority vectors (root ID, root path
cost, designated bridge ID, designated port ID), but it does not wait for timers to find
out whether a port may forward. What changes:

* **Roles, not just states.** Besides root and designated, a blocked port is *alternate*
  (another bridge's port is designated on its LAN: a spare way to the root) or *backup*
  (our own other port is). States are only discarding, learning and forwarding.
* **Every bridge says hello.** Each bridge sends BPDUs on its designated ports every hello
  time, not only relaying the root's. Information not refreshed for three hellos (6 s)
  is aged out; a bridge that sends worse information than before is believed at once.
* **Proposal/agreement.** On a point-to-point link, a designated port that is not yet
  forwarding *proposes*. The bridge on the other end *syncs*: it blocks its own non-edge
  designated ports (which then propose further down), and *agrees*. The agreement lets the
  proposing port forward at once, so the tree forms about one round trip per hop, instead
  of 2 x forward delay. Without an agreement (a shared link, an 802.1D neighbour), the port
  falls back to the 802.1D pace: forward delay discarding, forward delay learning.
* **Edge ports** (PortFast) forward at once and stop being edge ports if a BPDU arrives.
* **Failover.** An alternate port becomes root port and forwards at once when the root
  port fails.
* **Topology change** is detected only when a non-edge port starts forwarding. The bridge
  flushes the MAC entries learned on its other ports at once and sets the TC flag on its
  BPDUs for two hellos; a bridge that receives the flag does the same, passing it on.
* **Compatibility.** A port that hears an 802.1D BPDU speaks 802.1D on that link from then
  on (configuration and TCN BPDUs, timer-paced states) until :meth:`RstpBridge.mcheck`
  (Cisco's ``clear spanning-tree detected-protocols``) tries RSTP again.

The engine follows the standard's priority-vector rules (17.6, 17.21.25) exactly; the
port role transition machines are condensed into :meth:`RstpBridge._transitions`, one
function a reader can follow. See :mod:`netsim.l2.stp.engine` for the interface.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum

from netsim.l2.frame import MacAddress
from netsim.l2.stp.bpdu import (
    TICKS_PER_SECOND,
    Bpdu,
    BpduRole,
    BridgeId,
    ConfigBpdu,
    ProtocolVersion,
    TcnBpdu,
    port_id,
)
from netsim.l2.stp.engine import (
    DEFAULT_TIMERS,
    MESSAGE_AGE_INCREMENT,
    Action,
    EngineBase,
    Flush,
    PortConfig,
    PortRole,
    PortState,
    Timers,
    Transmit,
)

TX_HOLD_COUNT = 6
"""A port may send this many BPDUs in a burst; the allowance grows back by one a second
(802.1D-2004 17.13.12 TxHoldCount, 17.17.7 txCount)."""
TX_CREDIT_INTERVAL = 1.0
"""Seconds between two decrements of a port's transmit count."""
INFO_LIFETIME_HELLOS = 3
"""Received information is aged after three hellos without a refresh."""

PriorityVector = tuple[BridgeId, int, BridgeId, int]
"""(root bridge ID, root path cost, designated bridge ID, designated port ID): lower wins."""


class InfoIs(Enum):
    """Where a port's priority vector came from (17.19.10)."""

    DISABLED = "disabled"
    AGED = "aged"
    MINE = "mine"
    RECEIVED = "received"


_ROLE_FLAGS = {
    PortRole.ROOT: BpduRole.ROOT,
    PortRole.DESIGNATED: BpduRole.DESIGNATED,
    PortRole.ALTERNATE: BpduRole.ALTERNATE_OR_BACKUP,
    PortRole.BACKUP: BpduRole.ALTERNATE_OR_BACKUP,
    PortRole.DISABLED: BpduRole.UNKNOWN,
}


@dataclass(slots=True)
class _Port:
    """One port's RSTP variables (17.19) and timers (deadlines, or ``None``)."""

    number: int
    config: PortConfig
    port_id: int
    enabled: bool = False
    oper_edge: bool = False
    send_rstp: bool = True
    info_is: InfoIs = InfoIs.DISABLED
    priority: PriorityVector = field(default_factory=lambda: (BridgeId(), 0, BridgeId(), 0))
    message_age: float = 0.0
    received_timers: Timers = DEFAULT_TIMERS
    role: PortRole = PortRole.DISABLED
    state: PortState = PortState.DISABLED
    proposing: bool = False
    proposed: bool = False
    agreed: bool = False
    agree: bool = False
    tc_ack: bool = False
    new_info: bool = False
    tx_count: int = 0
    heard: ConfigBpdu | None = None
    """The BPDU the port's received information came from (what a repeat is checked by)."""
    sent: ConfigBpdu | None = None
    """The last RST BPDU built for this port, reused while nothing in it changes ..."""
    sent_from: tuple[object, ...] = ()
    """... which is what it was built from."""
    sending: Transmit | None = None
    """The action that sends :attr:`sent` (an action is immutable: it is reused too)."""
    fd_while: float | None = None
    rcvd_info_while: float | None = None
    tc_while: float | None = None


class RstpBridge(EngineBase[_Port]):
    """An 802.1w bridge's spanning-tree protocol entity (one instance).

    Built like :class:`~netsim.l2.stp.stp.StpBridge`: ``mac``, the port configurations,
    ``priority`` (a multiple of 4096) and ``instance`` (the VLAN id under rapid PVST+).
    """

    def __init__(
        self,
        mac: MacAddress,
        ports: Mapping[int, PortConfig],
        *,
        priority: int = 32768,
        instance: int = 0,
        timers: Timers = DEFAULT_TIMERS,
    ) -> None:
        self.bridge_id = BridgeId(priority, instance, mac)
        """This bridge's identifier."""
        self.timers = timers
        """The times this bridge announces when it is root."""
        self._ports = {
            number: _Port(number, config, port_id(number, config.priority))
            for number, config in sorted(ports.items())
        }
        self._root_vector: PriorityVector = (self.bridge_id, 0, self.bridge_id, 0)
        self._root_port: int | None = None
        self._root_times = timers
        self._root_message_age = 0.0
        self._hello_when: float | None = None  # starts with the first port that comes up
        self._tx_credit_when: float | None = None
        self._reselect = True
        self._at_rest = False
        """Would stepping every port's machines again change nothing? :meth:`_settle`
        says so when its pass moved nothing; :meth:`_send_news` takes it back when news
        waits for the transmit credit. At rest, a neighbour's repeated hello and this
        bridge's own hello only restart a timer and send BPDUs (:meth:`receive`,
        :meth:`tick`)."""
        self._deadline: float | None = None
        """What :meth:`next_deadline` found last, while :attr:`_deadline_known`."""
        self._deadline_known = False
        """Every input but a repeated hello forgets :attr:`_deadline`; a repeated hello
        only when the timer it restarts may have been the earliest."""
        self._actions: list[Action] = []

    # -- queries -----------------------------------------------------------------------

    @property
    def root_id(self) -> BridgeId:
        """The bridge this bridge believes is root."""
        return self._root_vector[0]

    @property
    def root_path_cost(self) -> int:
        """The cost of the best path from here to the root."""
        return self._root_vector[1]

    def speaks_rstp(self, port: int) -> bool:
        """False once the port has fallen back to 802.1D for a legacy neighbour."""
        return self._ports[port].send_rstp

    # -- inputs ------------------------------------------------------------------------

    def enable_port(self, port: int, now: float) -> list[Action]:
        """The link on ``port`` came up."""
        self._begin(now)
        p = self._ports[port]
        if self._hello_when is None:
            self._hello_when = now + self.timers.hello_time
        p.enabled = True
        p.oper_edge = p.config.edge
        p.send_rstp = True
        p.info_is = InfoIs.AGED
        p.proposing = p.proposed = p.agreed = p.agree = p.tc_ack = False
        p.fd_while = p.rcvd_info_while = p.tc_while = None
        self._set_state(p, PortState.DISCARDING)
        self._reselect = True
        return self._run(now)

    def disable_port(self, port: int, now: float) -> list[Action]:
        """The link on ``port`` went down."""
        self._begin(now)
        p = self._ports[port]
        p.enabled = False
        p.info_is = InfoIs.DISABLED
        p.proposing = p.proposed = p.agreed = p.agree = False
        p.fd_while = p.rcvd_info_while = p.tc_while = None
        self._set_state(p, PortState.DISABLED)
        self._reselect = True
        return self._run(now)

    def mcheck(self, port: int, now: float) -> list[Action]:
        """Try RSTP again on a port that fell back to 802.1D."""
        self._begin(now)
        self._ports[port].send_rstp = True
        self._ports[port].new_info = True
        return self._run(now)

    def set_port_cost(self, port: int, cost: int, now: float) -> list[Action]:
        """The path cost of ``port`` changed: roles are chosen again (17.13)."""
        self._begin(now)
        p = self._ports[port]
        if p.config.cost == cost:
            return []
        p.config = replace(p.config, cost=cost)
        self._reselect = True
        return self._run(now)

    def receive(self, port: int, bpdu: Bpdu, now: float) -> list[Action]:
        """A BPDU arrived on ``port``."""
        self._credit(now)
        p = self._ports[port]
        if (
            bpdu is p.heard
            and self._at_rest
            and p.info_is is InfoIs.RECEIVED  # (so the port is enabled)
            and not (p.oper_edge or p.proposed)
            and p.send_rstp
            and _is_plain_hello(bpdu)
        ):
            # The designated bridge repeats its hello, and nothing here is in motion: of
            # all that _receive_config and _settle would do, only the refresh of the
            # information's lifetime changes anything (17.21.8 RepeatedDesignatedInfo).
            # (The credit just caught up is no deadline either: at rest no news waits.)
            lifetime = p.rcvd_info_while
            p.rcvd_info_while = self._info_lifetime(bpdu, p, now)
            if lifetime is None or self._deadline is None or lifetime <= self._deadline:
                self._deadline_known = False  # it may have been the earliest timer
            return []
        self._deadline_known = False
        if not p.enabled:
            return []
        p.oper_edge = False  # an edge port that hears a BPDU leads to a bridge after all
        legacy = isinstance(bpdu, TcnBpdu) or not bpdu.is_rst
        if legacy and p.send_rstp:
            p.send_rstp = False  # a legacy 802.1D bridge is on this link: speak its language
            p.proposing = False
            p.new_info = True
        if isinstance(bpdu, TcnBpdu):
            if p.role is PortRole.DESIGNATED:
                p.tc_ack = True
                p.new_info = True
                self._propagate_topology_change(p, now)
        else:
            self._receive_config(p, bpdu, now)
        return self._run(now)

    def tick(self, now: float) -> list[Action]:
        """Run every timer due by ``now``, earliest first (ties: hello, then ports)."""
        # Each timer fires at most a few times per call; more means one re-armed itself
        # at or before ``now``, a bug that must not hang a run.
        budget = 8 * (3 * len(self._ports) + 2) + 64
        self._deadline_known = False
        # Whatever changes a port's timer below is followed by _settle and a new search.
        port_timer = self._next_port_timer()
        if self._at_rest and (port_timer is None or port_timer[0] > now):
            # The credit that comes before the hello and every port's timer held nothing
            # back (at rest no news waits): count it down before the loop would.
            hello, credit = self._hello_when, self._tx_credit_when
            while credit is not None and credit <= now and (hello is None or credit < hello):
                self._tx_credit(credit)
                credit = self._tx_credit_when
        while (due := self._next_due(port_timer)) is not None and due[0] <= now:
            budget -= 1
            if budget < 0:
                raise RuntimeError(f"{due[1]} timer keeps expiring at t = {now} s")
            when, name, p = due
            if p is None and name == "hello":
                self._hello(now)
                if self._at_rest:
                    self._send_news(now)  # a hello moves no machine: it only speaks
                    continue
            elif p is None:
                self._tx_credit(when)  # on its own schedule, even when caught up late
                if self._at_rest or not self._news_held():
                    continue  # nothing waited for the credit: nothing to settle
            elif name == "fd_while":
                p.fd_while = None
                self._advance_state(p, now)
            elif name == "rcvd_info_while":
                p.rcvd_info_while = None
                p.info_is = InfoIs.AGED  # three hellos missed: the sender is gone
                self._reselect = True
            elif name == "tc_while":
                p.tc_while = None
            self._settle(now)
            port_timer = self._next_port_timer()
        if self._at_rest:
            # No news is held, so the credit is no deadline: the next one is known.
            self._deadline = self._earliest(port_timer, credit_counts=False)
            self._deadline_known = True
        return self._flush_actions()

    def next_deadline(self, every_timer: bool = False) -> float | None:
        """When :meth:`tick` next has work, or ``None`` if no timer runs.

        The transmit credit counts down once a second while a port has sent BPDUs, but
        it needs a call of its own only when a BPDU is being held back for it. Otherwise
        it is caught up at the next call, whatever that is, exactly as if it had been
        ticked on time; ``every_timer=True`` names its deadline anyway (ticking there
        changes nothing, which a test checks). What was found is remembered until an
        input may move it (:attr:`_deadline_known`): it is asked after every BPDU.
        """
        if self._deadline_known and not every_timer:
            return self._deadline
        held = every_timer or self._news_held()
        best = self._earliest(self._next_port_timer(), credit_counts=held)
        if not every_timer:
            self._deadline, self._deadline_known = best, True
        return best

    # -- timers ------------------------------------------------------------------------

    def _next_due(
        self, port_timer: tuple[float, str, _Port] | None
    ) -> tuple[float, str, _Port | None] | None:
        """The earliest timer: the hello, the credit or ``port_timer``, the ports'
        earliest (ties: hello, then the credit, then ports in order)."""
        best: tuple[float, str, _Port | None] | None = None
        if self._hello_when is not None:
            best = (self._hello_when, "hello", None)
        credit_when = self._tx_credit_when
        if credit_when is not None and (best is None or credit_when < best[0]):
            best = (credit_when, "tx_credit", None)
        if port_timer is not None and (best is None or port_timer[0] < best[0]):
            best = port_timer
        return best

    def _earliest(
        self, port_timer: tuple[float, str, _Port] | None, credit_counts: bool
    ) -> float | None:
        """The earliest of the hello, ``port_timer`` (the ports' earliest) and, if
        ``credit_counts``, the transmit credit."""
        best = self._hello_when
        if port_timer is not None and (best is None or port_timer[0] < best):
            best = port_timer[0]
        credit = self._tx_credit_when
        if credit_counts and credit is not None and (best is None or credit < best):
            best = credit
        return best

    def _next_port_timer(self) -> tuple[float, str, _Port] | None:
        """The earliest timer of any port (ties: ports in order, then the order below)."""
        best: float | None = None
        name, port = "", None
        for p in self._ports.values():
            when = p.rcvd_info_while
            if when is not None and (best is None or when < best):
                best, name, port = when, "rcvd_info_while", p
            when = p.fd_while
            if when is not None and (best is None or when < best):
                best, name, port = when, "fd_while", p
            when = p.tc_while
            if when is not None and (best is None or when < best):
                best, name, port = when, "tc_while", p
        return None if best is None or port is None else (best, name, port)

    def _hello(self, now: float) -> None:
        """Every hello time: a BPDU on each designated port (and TCNs on a legacy root port
        while a topology change is being announced)."""
        self._hello_when = now + self.timers.hello_time
        for p in self._ports.values():
            if p.enabled and (
                p.role is PortRole.DESIGNATED or (p.role is PortRole.ROOT and p.tc_while)
            ):
                p.new_info = True

    def _tx_credit(self, when: float) -> None:
        """Once a second (at ``when``) every port may send one more BPDU; held-back news
        goes out with the settling that follows in :meth:`tick`."""
        busy = False
        for p in self._ports.values():
            if p.tx_count:
                p.tx_count -= 1
                busy = busy or p.tx_count > 0
        self._tx_credit_when = when + TX_CREDIT_INTERVAL if busy else None

    def _begin(self, now: float) -> None:
        """An input other than a BPDU arrives: catch up the credit, and forget the
        deadline found before (the input may move it)."""
        self._credit(now)
        self._deadline_known = False

    def _credit(self, now: float) -> None:
        """Catch up the credit due by ``now`` before an input is handled (see
        :meth:`next_deadline`: no news waited for it, so there is nothing to send)."""
        while self._tx_credit_when is not None and self._tx_credit_when <= now:
            self._tx_credit(self._tx_credit_when)

    def _news_held(self) -> bool:
        """Is a port holding back a BPDU until its transmit count comes down?"""
        return any(p.new_info and p.enabled for p in self._ports.values())

    # -- receiving ---------------------------------------------------------------------

    def _receive_config(self, p: _Port, bpdu: ConfigBpdu, now: float) -> None:
        message: PriorityVector = (bpdu.root, bpdu.root_path_cost, bpdu.bridge, bpdu.port)
        from_designated = not bpdu.is_rst or bpdu.role is BpduRole.DESIGNATED
        same_sender = message[2:] == p.priority[2:] and p.info_is is InfoIs.RECEIVED
        if from_designated and (message < p.priority or same_sender):
            # 17.21.8 SuperiorDesignatedInfo / RepeatedDesignatedInfo: record and refresh.
            # Information from the same designated port is believed even when worse.
            changed = message != p.priority or p.info_is is not InfoIs.RECEIVED
            p.priority = message
            p.message_age = bpdu.message_age
            p.received_timers = _received_timers(bpdu, p.received_timers)
            p.info_is = InfoIs.RECEIVED
            p.heard = bpdu
            p.rcvd_info_while = self._info_lifetime(bpdu, p, now)
            if changed:
                p.agree = False
                p.agreed = False
                p.proposing = False
                self._reselect = True
            p.proposed = bpdu.proposal and p.config.point_to_point
        elif (
            bpdu.is_rst
            and bpdu.agreement
            and p.config.point_to_point
            and p.role is PortRole.DESIGNATED
            and bpdu.root == self.root_id
        ):
            # 17.21.10 recordAgreement: the far end synced and agrees; we may forward.
            p.agreed = True
            p.proposing = False
        if bpdu.topology_change:
            self._propagate_topology_change(p, now)
        if bpdu.topology_change_ack and not p.send_rstp:
            p.tc_while = None  # the legacy designated bridge heard our TCN

    @staticmethod
    def _info_lifetime(bpdu: ConfigBpdu, p: _Port, now: float) -> float:
        """When information just received on ``p`` ages out (17.21.23 updtRcvdInfoWhile)."""
        if bpdu.message_age + MESSAGE_AGE_INCREMENT <= bpdu.max_age:
            return now + INFO_LIFETIME_HELLOS * p.received_timers.hello_time
        return now  # too old: ages out at once

    # -- the tree ----------------------------------------------------------------------

    def _update_roles(self) -> None:
        """17.21.25 updtRolesTree: the root priority vector, then each port's role."""
        best: tuple[PriorityVector, int] = ((self.bridge_id, 0, self.bridge_id, 0), 0)
        root_port: _Port | None = None
        for p in self._ports.values():
            if p.info_is is not InfoIs.RECEIVED or p.priority[2].mac == self.bridge_id.mac:
                continue
            root, cost, bridge, designated_port = p.priority
            candidate = ((root, cost + p.config.cost, bridge, designated_port), p.port_id)
            if candidate < best:
                best, root_port = candidate, p
        old_root_port = self._root_port
        self._root_vector = best[0]
        self._root_port = root_port.number if root_port else None
        if root_port is None:
            self._root_times, self._root_message_age = self.timers, 0.0
        else:
            self._root_times = root_port.received_timers
            age = root_port.message_age + MESSAGE_AGE_INCREMENT
            self._root_message_age = round(age * TICKS_PER_SECOND) / TICKS_PER_SECOND
        root, cost = best[0][0], best[0][1]
        for p in self._ports.values():
            designated: PriorityVector = (root, cost, self.bridge_id, p.port_id)
            if p.info_is is InfoIs.DISABLED:
                role = PortRole.DISABLED
            elif p.number == self._root_port:
                role = PortRole.ROOT
            elif p.info_is is InfoIs.RECEIVED and not designated < p.priority:
                mine = p.priority[2] == self.bridge_id
                role = PortRole.BACKUP if mine else PortRole.ALTERNATE
            else:
                role = PortRole.DESIGNATED
                if p.info_is is not InfoIs.MINE or p.priority != designated:
                    # 17.21.23 updtInfo: our own offer on this LAN changed; any agreement
                    # the far end gave was for the old one unless the new one is as good.
                    if not designated <= p.priority:
                        p.agreed = False
                    p.priority, p.info_is = designated, InfoIs.MINE
                    p.rcvd_info_while = None
                    p.proposing = p.proposed = False
                    p.new_info = True
            if role is not p.role:
                if (
                    p.role is PortRole.ROOT
                    and p.number == old_root_port
                    and (role is PortRole.DESIGNATED and p.state is not PortState.DISCARDING)
                ):
                    # A recent root port must not forward as designated before the far
                    # end has agreed again: that could close a loop (17.29.3 reRoot).
                    self._set_state(p, PortState.DISCARDING)
                    p.agreed = False
                self._set_role(p, role)
                p.agree = False
                p.fd_while = None
                p.new_info = p.new_info or role is not PortRole.DISABLED
        self._reselect = False

    def _transitions(self, p: _Port, now: float) -> bool:
        """The port role transition and state machines (17.29, 17.30), condensed.

        Returns whether the port's machines moved: False means that running them again
        would do nothing, until an input or a timer changes something they read.
        """
        role = p.role
        if role is PortRole.DISABLED:
            return False
        if role is PortRole.ALTERNATE or role is PortRole.BACKUP:
            moved = p.state is not PortState.DISCARDING or p.fd_while is not None
            self._set_state(p, PortState.DISCARDING)
            p.fd_while = None
            if p.proposed and not p.agree:
                # We are blocked anyway, hence in sync: agree at once (ALTERNATE_AGREED).
                p.proposed, p.agree, p.new_info = False, True, True
                moved = True
            return moved
        if role is PortRole.ROOT:
            moved = False
            if p.proposed and not p.agree:
                self._sync(p)
                p.proposed, p.agree, p.new_info = False, True, True
                moved = True
            if p.state is not PortState.FORWARDING:
                # Re-rooted (17.29.2 ROOT_FORWARD): no other port is a recent root port
                # still forwarding (_update_roles blocked it), so no loop can form. This
                # holds whatever protocol the designated bridge upstream speaks.
                self._forward(p, now)
                moved = True
            return moved
        # Designated.
        if p.state is PortState.FORWARDING:
            return False
        if p.oper_edge:
            self._forward(p, now, topology_change=False)
            return True
        if p.agreed and p.send_rstp:
            self._forward(p, now)
            return True
        moved = False
        if p.config.point_to_point and p.send_rstp and not p.proposing:
            p.proposing, p.new_info = True, True
            moved = True
        if p.fd_while is None:
            p.fd_while = now + self._root_times.forward_delay
            moved = True
        return moved  # waiting for an agreement or for forward delay to expire

    def _sync(self, root_port: _Port) -> None:
        """Block every designated port whose far end has not agreed to our current
        information, so agreeing cannot close a loop; those ports then propose further
        down. A port already agreed to is in sync as it is (17.29.3 DESIGNATED_SYNCED)."""
        for q in self._ports.values():
            if q is root_port or q.role is not PortRole.DESIGNATED or q.oper_edge:
                continue
            if q.state is not PortState.DISCARDING and not q.agreed:
                self._set_state(q, PortState.DISCARDING)
                q.fd_while = None

    def _advance_state(self, p: _Port, now: float) -> None:
        """Forward delay expired without an agreement: one step at the 802.1D pace."""
        if p.role not in (PortRole.ROOT, PortRole.DESIGNATED):
            return
        if p.state is PortState.DISCARDING:
            self._set_state(p, PortState.LEARNING)
            p.fd_while = now + self._root_times.forward_delay
        elif p.state is PortState.LEARNING:
            self._forward(p, now)

    def _forward(self, p: _Port, now: float, *, topology_change: bool = True) -> None:
        if p.state is PortState.DISCARDING:
            self._set_state(p, PortState.LEARNING)
        self._set_state(p, PortState.FORWARDING)
        p.fd_while = None
        p.new_info = True
        if topology_change and not p.oper_edge:
            self._detect_topology_change(p, now)

    # -- topology change ---------------------------------------------------------------

    def _tc_time(self, p: _Port) -> float:
        """How long a port announces a change: two hellos to an RSTP neighbour, max age +
        forward delay to a legacy one (17.21.7 newTcWhile)."""
        if p.send_rstp:
            return self._root_times.hello_time + 1
        return self._root_times.max_age + self._root_times.forward_delay

    def _detect_topology_change(self, p: _Port, now: float) -> None:
        """A non-edge port started forwarding: flush the others, announce on all."""
        for q in self._ports.values():
            if not q.enabled or q.oper_edge:
                continue
            if q is not p:
                self._actions.append(Flush(q.number))
            if q.role in (PortRole.ROOT, PortRole.DESIGNATED) and q.tc_while is None:
                q.tc_while = now + self._tc_time(q)
                q.new_info = True

    def _propagate_topology_change(self, p: _Port, now: float) -> None:
        """A TC flag or TCN arrived on ``p``: flush and pass it on everywhere else."""
        for q in self._ports.values():
            if q is p or not q.enabled or q.oper_edge:
                continue
            self._actions.append(Flush(q.number))
            if q.role in (PortRole.ROOT, PortRole.DESIGNATED) and q.tc_while is None:
                q.tc_while = now + self._tc_time(q)
                q.new_info = True

    # -- running and transmitting ------------------------------------------------------

    def _run(self, now: float) -> list[Action]:
        """Settle after an input, and hand over what was decided."""
        self._settle(now)
        return self._flush_actions()

    def _settle(self, now: float) -> None:
        """Choose roles, step every port's machines, and send what became news."""
        if self._reselect:
            self._update_roles()
        # One pass: a transition never asks for the roles to be chosen again, and what
        # one port's transition changes for another (a sync) the next input's pass sees.
        moved = False
        for p in self._ports.values():
            if self._transitions(p, now):
                moved = True
        self._at_rest = not moved
        self._send_news(now)

    def _send_news(self, now: float) -> None:
        """Send a BPDU on every port that has news. News held back for the transmit
        credit is a machine still in motion: the bridge is not at rest."""
        held = False
        for p in self._ports.values():
            if p.new_info and p.enabled:
                self._transmit(p, now)
                held = held or p.new_info
        if held:
            self._at_rest = False

    def _transmit(self, p: _Port, now: float) -> None:
        if p.tx_count >= TX_HOLD_COUNT:
            return  # rate limit: the news stays pending until the count comes down
        bpdu = self._rst_bpdu(p) if p.send_rstp else self._legacy_bpdu(p)
        p.new_info = False
        if bpdu is not None:
            p.tx_count += 1
            if self._tx_credit_when is None:
                self._tx_credit_when = now + TX_CREDIT_INTERVAL
            if p.sending is None or p.sending.bpdu is not bpdu:
                p.sending = Transmit(p.number, bpdu)
            self._actions.append(p.sending)

    def _rst_bpdu(self, p: _Port) -> ConfigBpdu:
        """The RST BPDU ``p`` sends now: the one it sent last if nothing in it changed
        (a hello repeats itself), so the switch can send the same frame again."""
        root, cost = self._root_vector[0], self._root_vector[1]
        times, age = self._root_times, self._root_message_age
        tc = p.tc_while is not None
        proposal = p.proposing and p.role is PortRole.DESIGNATED
        made_from = (root, cost, age, times, tc, proposal, p.role, p.state, p.agree)
        if p.sent is not None and made_from == p.sent_from:
            return p.sent
        p.sent_from = made_from
        p.sent = ConfigBpdu(
            root=root,
            root_path_cost=cost,
            bridge=self.bridge_id,
            port=p.port_id,
            message_age=age,
            max_age=times.max_age,
            hello_time=times.hello_time,
            forward_delay=times.forward_delay,
            topology_change=tc,
            version=ProtocolVersion.RSTP,
            proposal=proposal,
            role=_ROLE_FLAGS[p.role],
            learning=p.state.learns,
            forwarding=p.state.forwards,
            agreement=p.agree,
        )
        return p.sent

    def _legacy_bpdu(self, p: _Port) -> Bpdu | None:
        """What an 802.1D neighbour understands: configuration BPDUs on designated ports,
        TCNs on the root port while a change is announced."""
        if p.role is PortRole.ROOT:
            return TcnBpdu() if p.tc_while is not None else None
        if p.role is not PortRole.DESIGNATED or self._root_message_age >= self._root_times.max_age:
            return None
        bpdu = ConfigBpdu(
            root=self.root_id,
            root_path_cost=self.root_path_cost,
            bridge=self.bridge_id,
            port=p.port_id,
            message_age=self._root_message_age,
            max_age=self._root_times.max_age,
            hello_time=self._root_times.hello_time,
            forward_delay=self._root_times.forward_delay,
            topology_change=p.tc_while is not None,
            topology_change_ack=p.tc_ack,
        )
        p.tc_ack = False
        return bpdu


def _is_plain_hello(bpdu: Bpdu) -> bool:
    """An RST BPDU from a designated port that proposes nothing and announces no topology
    change: what a settled neighbour sends every hello time."""
    return (
        isinstance(bpdu, ConfigBpdu)
        and bpdu.role is BpduRole.DESIGNATED
        and bpdu.version is ProtocolVersion.RSTP
        and not (bpdu.proposal or bpdu.topology_change)
    )


def _received_timers(bpdu: ConfigBpdu, last: Timers) -> Timers:
    """The times ``bpdu`` announces (the defaults if they break 802.1D's rules); ``last``,
    what the port heard before, is kept when they are the same (the usual case)."""
    hello, max_age, delay = bpdu.hello_time, bpdu.max_age, bpdu.forward_delay
    if (hello, max_age, delay) == (last.hello_time, last.max_age, last.forward_delay):
        return last
    try:
        return Timers(hello, max_age, delay)
    except ValueError:
        return DEFAULT_TIMERS
