"""802.1D spanning tree (the 1998 algorithm, clause 8) as a sans-IO state machine.

One :class:`StpBridge` is one bridge's protocol entity for one spanning-tree instance. It
elects the root, chooses a root port and designated ports, and blocks the rest, from
nothing but the configuration BPDUs its ports hear:

* **Root election.** Every bridge starts out believing it is root and says so on every
  port. A BPDU that names a better (lower) root, or the same root more cheaply, or the same
  root at the same cost from a lower bridge ID, or from a lower port ID, *supersedes* what
  a port had recorded. The port with the best such information plus its own path cost is
  the root port.
* **Designated ports.** On each LAN the bridge offering the best path to the root is
  designated; its port forwards, and relays the root's BPDU there.
* **States.** A port that is to forward first *listens* for a forward delay (15 s), then
  *learns* addresses for another forward delay, then *forwards*: 30 s from link-up. Ports
  neither root nor designated *block*.
* **Ageing.** Recorded information lives max age (20 s) minus the message age it arrived
  with; when a bridge upstream dies, its BPDUs stop, the information expires and the
  tree is rebuilt (indirect failure: about 50 s until a blocked port forwards).
* **Topology change.** A bridge whose port starts or stops forwarding sends TCN BPDUs on its
  root port every hello until the next bridge up acknowledges (TCA flag). Each bridge passes
  it on; the root then sets the TC flag in its BPDUs for max age + forward delay (35 s),
  and every bridge that sees it ages MAC entries after forward delay (15 s), not 300 s.

Timers are kept as absolute deadlines; :meth:`StpBridge.tick` runs those that are due, in a
fixed order, so a run is deterministic. See :mod:`netsim.l2.stp.engine` for the interface.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from netsim.l2.frame import MacAddress
from netsim.l2.stp.bpdu import TICKS_PER_SECOND, Bpdu, BridgeId, ConfigBpdu, TcnBpdu, port_id
from netsim.l2.stp.engine import (
    DEFAULT_TIMERS,
    HOLD_TIME,
    MESSAGE_AGE_INCREMENT,
    Action,
    AgeFast,
    EngineBase,
    PortConfig,
    PortRole,
    PortState,
    Timers,
    Transmit,
)


@dataclass(slots=True)
class _Port:
    """One port's variables (802.1D-1998 8.5.5) and timers (deadlines, or ``None``)."""

    number: int
    config: PortConfig
    port_id: int
    state: PortState = PortState.DISABLED
    role: PortRole = PortRole.DISABLED
    designated_root: BridgeId = field(default_factory=BridgeId)
    designated_cost: int = 0
    designated_bridge: BridgeId = field(default_factory=BridgeId)
    designated_port: int = 0
    topology_change_ack: bool = False
    config_pending: bool = False
    received_age: float = 0.0
    received_at: float = 0.0
    message_age_timer: float | None = None
    forward_delay_timer: float | None = None
    hold_timer: float | None = None
    sent: ConfigBpdu | None = None
    """The last configuration BPDU built for this port, reused while nothing in it
    changes ..."""
    sent_from: tuple[object, ...] = ()
    """... which is what it was built from."""


class StpBridge(EngineBase[_Port]):
    """An 802.1D bridge's spanning-tree protocol entity (one instance).

    ``mac`` is the bridge's address, ``priority`` a multiple of 4096 and ``instance`` the
    12-bit system id extension (the VLAN id under PVST+, 0 otherwise). ``ports`` maps port
    numbers to their configuration; all start disabled until :meth:`enable_port`.
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
        self._current = timers  # learned from the root's BPDUs
        self._designated_root = self.bridge_id
        self._root_path_cost = 0
        self._root_port: int | None = None
        self._topology_change_detected = False
        self._topology_change = False
        self._hello_timer: float | None = 0.0
        self._tcn_timer: float | None = None
        self._topology_change_timer: float | None = None
        self._actions: list[Action] = []
        for port in self._ports.values():
            self._become_designated(port)

    # -- queries -----------------------------------------------------------------------

    @property
    def root_id(self) -> BridgeId:
        """The bridge this bridge believes is root."""
        return self._designated_root

    @property
    def root_path_cost(self) -> int:
        """The cost of the best path from here to the root."""
        return self._root_path_cost

    @property
    def topology_change(self) -> bool:
        """True while the root announces a topology change (short aging is in force)."""
        return self._topology_change

    # -- inputs ------------------------------------------------------------------------

    def enable_port(self, port: int, now: float) -> list[Action]:
        """The link on ``port`` came up (802.1D-1998 8.8.1)."""
        p = self._ports[port]
        self._initialize_port(p)
        if p.config.edge:
            self._set_state(p, PortState.FORWARDING)
        else:
            self._set_state(p, PortState.BLOCKING)
        self._port_state_selection(now)
        if self._designated(p):
            self._transmit_config(p, now)
        return self._flush_actions()

    def disable_port(self, port: int, now: float) -> list[Action]:
        """The link on ``port`` went down (802.1D-1998 8.8.2)."""
        p = self._ports[port]
        was_root = self.is_root()
        was_active = p.state in (PortState.LEARNING, PortState.FORWARDING)
        self._initialize_port(p)
        self._set_state(p, PortState.DISABLED)
        self._configuration_update()
        self._port_state_selection(now)
        if self.is_root() and not was_root:
            self._become_root(now)
        elif was_active and not p.config.edge:
            # A forwarding port lost: tell the root, on the root port we have now.
            self._topology_change_detection(now)
        return self._flush_actions()

    def set_port_cost(self, port: int, cost: int, now: float) -> list[Action]:
        """The path cost of ``port`` changed (8.8.6: the tree is worked out again)."""
        p = self._ports[port]
        if p.config.cost == cost:
            return []
        p.config = replace(p.config, cost=cost)
        self._configuration_update()
        self._port_state_selection(now)
        return self._flush_actions()

    def receive(self, port: int, bpdu: Bpdu, now: float) -> list[Action]:
        """A BPDU arrived on ``port`` (8.7.1 and 8.7.2)."""
        p = self._ports[port]
        if p.state is PortState.DISABLED:
            return []
        if isinstance(bpdu, TcnBpdu):
            if self._designated(p):
                self._topology_change_detection(now)
                p.topology_change_ack = True
                self._transmit_config(p, now)
        else:
            self._received_config(p, bpdu, now)
        return self._flush_actions()

    def tick(self, now: float) -> list[Action]:
        """Run every timer due by ``now``, earliest first (ties: bridge timers, then ports)."""
        # Each timer fires at most a few times per call; more means one re-armed itself
        # at or before ``now``, a bug that must not hang a run.
        budget = 8 * (3 * len(self._ports) + 3) + 64
        while (due := self._next_due()) is not None and due[0] <= now:
            budget -= 1
            if budget < 0:
                raise RuntimeError(f"{due[1]} timer keeps expiring at t = {now} s")
            _, name, port = due
            self._expire(name, port, now)
        return self._flush_actions()

    def next_deadline(self, every_timer: bool = False) -> float | None:
        """When :meth:`tick` next has work, or ``None`` if no timer runs.

        A port's hold timer (one configuration BPDU a second) needs a call of its own only
        when a BPDU waits for it; otherwise it simply runs out, and the next BPDU to send
        finds it expired. ``every_timer=True`` names its deadline anyway (ticking there
        changes nothing, which a test checks).
        """
        due = self._next_due(every_timer)
        return None if due is None else due[0]

    # -- timers ------------------------------------------------------------------------

    def _next_due(self, every_timer: bool = True) -> tuple[float, str, _Port | None] | None:
        """The earliest timer (ties: bridge timers, then ports in order); with
        ``every_timer=False``, hold timers with no BPDU waiting for them are left out."""
        best: tuple[float, str, _Port | None] | None = None
        for deadline, name in (
            (self._hello_timer, "hello"),
            (self._tcn_timer, "tcn"),
            (self._topology_change_timer, "topology_change"),
        ):
            if deadline is not None and (best is None or deadline < best[0]):
                best = (deadline, name, None)
        for p in self._ports.values():
            if p.message_age_timer is not None and (best is None or p.message_age_timer < best[0]):
                best = (p.message_age_timer, "message_age", p)
            if p.forward_delay_timer is not None and (
                best is None or p.forward_delay_timer < best[0]
            ):
                best = (p.forward_delay_timer, "forward_delay", p)
            hold = p.hold_timer
            if (
                hold is not None
                and (every_timer or p.config_pending)
                and (best is None or hold < best[0])
            ):
                best = (hold, "hold", p)
        return best

    def _expire(self, name: str, p: _Port | None, now: float) -> None:
        if name == "hello":
            self._config_bpdu_generation(now)
            self._hello_timer = now + self.timers.hello_time
        elif name == "tcn":
            self._transmit_tcn()
            self._tcn_timer = now + self._current.hello_time
        elif name == "topology_change":
            self._topology_change_timer = None
            self._topology_change_detected = False
            self._set_topology_change(False)
        elif p is not None and name == "message_age":
            self._message_age_expiry(p, now)
        elif p is not None and name == "forward_delay":
            self._forward_delay_expiry(p, now)
        elif p is not None and name == "hold":
            p.hold_timer = None
            if p.config_pending:
                self._transmit_config(p, now)

    def _message_age_expiry(self, p: _Port, now: float) -> None:
        """The root's information on ``p`` went stale: nobody upstream speaks any more."""
        p.message_age_timer = None
        was_root = self.is_root()
        self._become_designated(p)
        self._configuration_update()
        self._port_state_selection(now)
        if self.is_root() and not was_root:
            self._become_root(now)

    def _forward_delay_expiry(self, p: _Port, now: float) -> None:
        if p.state is PortState.LISTENING:
            self._set_state(p, PortState.LEARNING)
            p.forward_delay_timer = now + self._current.forward_delay
        elif p.state is PortState.LEARNING:
            self._set_state(p, PortState.FORWARDING)
            p.forward_delay_timer = None
            if any(self._designated(q) for q in self._ports.values()):
                self._topology_change_detection(now)

    # -- the 802.1D procedures ---------------------------------------------------------

    def _received_config(self, p: _Port, bpdu: ConfigBpdu, now: float) -> None:
        if self._supersedes(p, bpdu):
            was_root = self.is_root()
            refresh = (bpdu.root, bpdu.root_path_cost, bpdu.bridge, bpdu.port) == (
                p.designated_root,
                p.designated_cost,
                p.designated_bridge,
                p.designated_port,
            )
            self._record_config(p, bpdu, now)
            if not refresh:  # the same information again selects the same tree
                self._configuration_update()
                self._port_state_selection(now)
            if was_root and not self.is_root():
                self._hello_timer = None
                if self._topology_change_detected:
                    self._topology_change_timer = None
                    self._transmit_tcn()
                    self._tcn_timer = now + self._current.hello_time
            if p.number == self._root_port:
                times = (bpdu.hello_time, bpdu.max_age, bpdu.forward_delay)
                current = self._current
                if times != (current.hello_time, current.max_age, current.forward_delay):
                    self._current = Timers(*times)
                self._set_topology_change(bpdu.topology_change)
                self._config_bpdu_generation(now)
                if bpdu.topology_change_ack:
                    self._topology_change_detected = False
                    self._tcn_timer = None
        elif self._designated(p):
            # A worse BPDU on a LAN we are designated for: correct the sender at once.
            self._transmit_config(p, now)

    def _supersedes(self, p: _Port, bpdu: ConfigBpdu) -> bool:
        """8.6.2.2: does ``bpdu`` carry better (or refreshed) information than ``p`` holds?"""
        if bpdu.root != p.designated_root:
            return bpdu.root < p.designated_root
        if bpdu.root_path_cost != p.designated_cost:
            return bpdu.root_path_cost < p.designated_cost
        if bpdu.bridge != p.designated_bridge:
            return bpdu.bridge < p.designated_bridge
        return bpdu.bridge != self.bridge_id or bpdu.port <= p.designated_port

    def _record_config(self, p: _Port, bpdu: ConfigBpdu, now: float) -> None:
        p.designated_root = bpdu.root
        p.designated_cost = bpdu.root_path_cost
        p.designated_bridge = bpdu.bridge
        p.designated_port = bpdu.port
        p.received_age = bpdu.message_age
        p.received_at = now
        p.message_age_timer = now + max(0.0, bpdu.max_age - bpdu.message_age)

    def _configuration_update(self) -> None:
        self._root_selection()
        self._designated_port_selection()

    def _root_selection(self) -> None:
        """8.6.8: the port whose recorded information plus its cost is best is root port."""
        best: tuple[BridgeId, int, BridgeId, int, int] | None = None
        root_port: _Port | None = None
        for p in self._ports.values():
            if p.state is PortState.DISABLED or self._designated(p):
                continue
            if not p.designated_root < self.bridge_id:
                continue
            vector = (
                p.designated_root,
                p.designated_cost + p.config.cost,
                p.designated_bridge,
                p.designated_port,
                p.port_id,
            )
            if best is None or vector < best:
                best, root_port = vector, p
        if root_port is None or best is None:
            self._root_port = None
            self._designated_root = self.bridge_id
            self._root_path_cost = 0
        else:
            self._root_port = root_port.number
            self._designated_root = best[0]
            self._root_path_cost = best[1]

    def _designated_port_selection(self) -> None:
        """8.6.9: take over every LAN where our offer beats what the port has recorded."""
        for p in self._ports.values():
            if p.number == self._root_port:
                continue
            if (
                self._designated(p)
                or p.designated_root != self._designated_root
                or self._root_path_cost < p.designated_cost
                or (
                    self._root_path_cost == p.designated_cost
                    and (
                        self.bridge_id < p.designated_bridge
                        or (
                            self.bridge_id == p.designated_bridge and p.port_id <= p.designated_port
                        )
                    )
                )
            ):
                self._become_designated(p)

    def _become_designated(self, p: _Port) -> None:
        p.designated_root = self._designated_root
        p.designated_cost = self._root_path_cost
        p.designated_bridge = self.bridge_id
        p.designated_port = p.port_id

    def _designated(self, p: _Port) -> bool:
        return p.designated_bridge == self.bridge_id and p.designated_port == p.port_id

    def _port_state_selection(self, now: float) -> None:
        """8.6.11: root and designated ports head for forwarding, the others block."""
        for p in self._ports.values():
            if p.state is PortState.DISABLED:
                self._set_role(p, PortRole.DISABLED)
                continue
            if p.number == self._root_port:
                self._set_role(p, PortRole.ROOT)
                p.config_pending = False
                p.topology_change_ack = False
                self._make_forwarding(p, now)
            elif self._designated(p):
                self._set_role(p, PortRole.DESIGNATED)
                p.message_age_timer = None
                self._make_forwarding(p, now)
            else:
                backup = p.designated_bridge == self.bridge_id
                self._set_role(p, PortRole.BACKUP if backup else PortRole.ALTERNATE)
                p.config_pending = False
                p.topology_change_ack = False
                self._make_blocking(p, now)

    def _make_forwarding(self, p: _Port, now: float) -> None:
        if p.state is PortState.BLOCKING:
            self._set_state(p, PortState.LISTENING)
            p.forward_delay_timer = now + self._current.forward_delay

    def _make_blocking(self, p: _Port, now: float) -> None:
        if p.state in (PortState.DISABLED, PortState.BLOCKING):
            return
        if p.state in (PortState.FORWARDING, PortState.LEARNING) and not p.config.edge:
            self._topology_change_detection(now)
        self._set_state(p, PortState.BLOCKING)
        p.forward_delay_timer = None

    def _become_root(self, now: float) -> None:
        """We just became root: announce our own times, and the change, on every port."""
        self._current = self.timers
        self._topology_change_detection(now)
        self._tcn_timer = None
        self._config_bpdu_generation(now)
        self._hello_timer = now + self.timers.hello_time

    def _topology_change_detection(self, now: float) -> None:
        """8.6.14: the root announces the change; anyone else tells the root (TCN)."""
        if self.is_root():
            self._set_topology_change(True)
            self._topology_change_timer = now + self.timers.max_age + self.timers.forward_delay
        elif not self._topology_change_detected:
            self._transmit_tcn()
            self._tcn_timer = now + self._current.hello_time
        self._topology_change_detected = True

    def _set_topology_change(self, value: bool) -> None:
        if value != self._topology_change:
            self._topology_change = value
            self._actions.append(AgeFast(self._current.forward_delay if value else None))

    def _config_bpdu_generation(self, now: float) -> None:
        for p in self._ports.values():
            if p.state is not PortState.DISABLED and self._designated(p):
                self._transmit_config(p, now)

    def _transmit_config(self, p: _Port, now: float) -> None:
        """8.6.1: send our view on ``p`` unless we sent one less than a second ago."""
        if p.hold_timer is not None and p.hold_timer > now:
            p.config_pending = True
            return
        if self.is_root() or self._root_port is None:
            age = 0.0
        else:
            root = self._ports[self._root_port]
            elapsed = now - root.received_at
            age = root.received_age + elapsed + MESSAGE_AGE_INCREMENT
            age = round(age * TICKS_PER_SECOND) / TICKS_PER_SECOND
        if age >= self._current.max_age:
            return
        root_id, cost, times = self._designated_root, self._root_path_cost, self._current
        tc, tca = self._topology_change, p.topology_change_ack
        made_from = (root_id, cost, age, times, tc, tca)
        if p.sent is None or made_from != p.sent_from:
            # Something changed since the last one: build it (else a hello repeats itself,
            # and the switch can send the same frame again).
            p.sent_from = made_from
            p.sent = ConfigBpdu(
                root=root_id,
                root_path_cost=cost,
                bridge=self.bridge_id,
                port=p.port_id,
                message_age=age,
                max_age=times.max_age,
                hello_time=times.hello_time,
                forward_delay=times.forward_delay,
                topology_change=tc,
                topology_change_ack=tca,
            )
        self._actions.append(Transmit(p.number, p.sent))
        p.topology_change_ack = False
        p.config_pending = False
        p.hold_timer = now + HOLD_TIME

    def _transmit_tcn(self) -> None:
        if self._root_port is not None:
            self._actions.append(Transmit(self._root_port, TcnBpdu()))

    def _initialize_port(self, p: _Port) -> None:
        self._become_designated(p)
        p.topology_change_ack = False
        p.config_pending = False
        p.message_age_timer = None
        p.forward_delay_timer = None
        p.hold_timer = None
