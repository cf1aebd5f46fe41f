"""HSRP, Cisco's Hot Standby Router Protocol (RFC 2281, and version 2), sans-IO.

**On the wire.** Hellos are UDP datagrams from port 1985 to port 1985, IP TTL 1.

- Version 1 (RFC 2281 §5.1) goes to 224.0.0.2 and is 20 bytes: version 0, opcode
  (hello, coup, resign), state, hello time and hold time in seconds, priority, group
  (0..255), a reserved byte, 8 bytes of authentication ("cisco" by default) and the
  virtual IP. Virtual MAC 0000.0c07.acXX (XX the group).
- Version 2 goes to 224.0.0.102 and is a group-state TLV (type 1, 40 bytes): version 2,
  opcode, state (numbered 1..6 from init to active, not v1's bit values), IP version 4,
  group (0..4095), the sender's MAC as identifier, priority
  (32 bits), hello and hold time in milliseconds, and the virtual IP in a 16-byte field.
  Virtual MAC 0000.0c9f.fXXX.

**The election.** Each router of a group has a priority (default 100; the higher IP
address breaks ties). The best router is *active*: it owns the virtual IP and MAC and
sends hellos from the virtual MAC every hello time (3 s). The second best is *standby*;
the others *listen*. A router *speaks* (sends hellos) while it bids to be standby. When
no hello from the active arrives for the hold time (10 s), the standby takes over. So
if the active dies just after a hello the gap is the full hold time, and if it dies just
before its next hello, hold − hello: failover takes between 7 s and 10 s at the defaults.

**Preemption** is off by default: a better router that comes up later stays standby.
With ``preempt`` it sends a *coup* and takes over at once; the old active steps down to
speak. A router that is shut down gracefully sends a *resign*, and the standby takes
over without waiting for the hold time.

States are :class:`HsrpState` (the RFC's values), inputs :class:`HsrpInput`, and every
legal move is one row of :data:`TRANSITIONS`; what happens on entering a state is in
:meth:`HsrpGroup._enter`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import Enum, IntEnum

from netsim.l2.frame import MacAddress
from netsim.l3.fhrp.common import FhrpEvent, Forward, Send, StateChanged, StopForwarding
from netsim.net.addressing import IPv4Address, IPv4Interface
from netsim.net.errors import DecodeError
from netsim.net.ipv4 import IpProtocol
from netsim.net.udp import UdpDatagram

PORT = 1985
"""HSRP's UDP port (both source and destination)."""
GROUP_V1 = IPv4Address("224.0.0.2")
"""Version 1 hellos go to all-routers."""
GROUP_V2 = IPv4Address("224.0.0.102")
"""Version 2 hellos go to the HSRP v2 group address."""
DEFAULT_AUTH = b"cisco\x00\x00\x00"
"""Version 1 plain-text authentication, IOS's default string padded to 8 bytes."""
V1_BYTES = 20
"""A version 1 message."""
V2_TLV_GROUP_STATE = 1
"""The version 2 TLV type that carries a group's state."""
V2_TLV_BYTES = 40
"""The version 2 group-state TLV's value length."""

_V1 = struct.Struct("!BBBBBBBB8s4s")
_V2 = struct.Struct("!BBBBBBH6sIII16s")


class HsrpOpcode(IntEnum):
    """What a message says (RFC 2281 §5.1)."""

    HELLO = 0
    COUP = 1
    RESIGN = 2


class HsrpState(IntEnum):
    """A router's state in a group; the values are those sent on the wire."""

    INITIAL = 0
    LEARN = 1
    LISTEN = 2
    SPEAK = 4
    STANDBY = 8
    ACTIVE = 16

    @property
    def v2_code(self) -> int:
        """The same state as version 2 numbers it (0 disabled, 1 init, ... 6 active)."""
        return _V2_STATE_CODES[self]


_V2_STATE_CODES = {
    HsrpState.INITIAL: 1,
    HsrpState.LEARN: 2,
    HsrpState.LISTEN: 3,
    HsrpState.SPEAK: 4,
    HsrpState.STANDBY: 5,
    HsrpState.ACTIVE: 6,
}
_V2_STATES = {code: state for state, code in _V2_STATE_CODES.items()}


def virtual_mac(group: int, version: int = 2) -> MacAddress:
    """The group's virtual MAC: 0000.0c07.acXX (v1) or 0000.0c9f.fXXX (v2)."""
    if version == 1:
        return 0x0000_0C07_AC00 | (group & 0xFF)
    return 0x0000_0C9F_F000 | (group & 0xFFF)


@dataclass(frozen=True, slots=True)
class HsrpMessage:
    """One HSRP message (either version): who sends, in what state, for which group.

    Times are in seconds. ``identifier`` (the sender's MAC) is carried by version 2 only.
    """

    version: int
    opcode: HsrpOpcode
    state: HsrpState
    group: int
    priority: int
    virtual_ip: IPv4Address
    hello_time: float = 3.0
    hold_time: float = 10.0
    identifier: MacAddress = 0
    authentication: bytes = DEFAULT_AUTH

    @property
    def destination(self) -> IPv4Address:
        """The multicast group this version is sent to."""
        return GROUP_V1 if self.version == 1 else GROUP_V2

    def to_bytes(self) -> bytes:
        """The UDP payload; raises ``ValueError`` for a field that does not fit."""
        if self.version == 1:
            if not 0 <= self.group <= 0xFF or not 0 <= self.priority <= 0xFF:
                raise ValueError("HSRP v1: group and priority are 0..255")
            hello, hold = round(self.hello_time), round(self.hold_time)
            if not 0 <= hello <= 0xFF or not 0 <= hold <= 0xFF:
                raise ValueError("HSRP v1: hello and hold times are 0..255 s")
            auth = self.authentication[:8].ljust(8, b"\x00")
            return _V1.pack(
                0, self.opcode, self.state, hello, hold, self.priority, self.group, 0, auth,
                self.virtual_ip.packed,
            )  # fmt: skip
        if self.version != 2:
            raise ValueError(f"HSRP version {self.version}: only 1 and 2 exist")
        if not 0 <= self.group <= 0xFFF or not 0 <= self.priority <= 0xFFFF_FFFF:
            raise ValueError("HSRP v2: group is 0..4095 and priority 32 bits")
        return _V2.pack(
            V2_TLV_GROUP_STATE, V2_TLV_BYTES, 2, self.opcode, self.state.v2_code, 4, self.group,
            self.identifier.to_bytes(6, "big"), self.priority, round(self.hello_time * 1000),
            round(self.hold_time * 1000), self.virtual_ip.packed + bytes(12),
        )  # fmt: skip

    @classmethod
    def from_bytes(cls, data: bytes) -> HsrpMessage:
        """Decode a UDP payload of either version; :class:`DecodeError` says what is wrong."""
        if len(data) < 2:
            raise DecodeError(f"HSRP: {len(data)} bytes, too short for any version")
        if data[0] == 0:
            return cls._v1(data)
        if data[0] == V2_TLV_GROUP_STATE:
            return cls._v2(data)
        raise DecodeError(f"HSRP: first byte {data[0]} is neither version 0 nor a v2 TLV")

    @classmethod
    def _v1(cls, data: bytes) -> HsrpMessage:
        if len(data) < V1_BYTES:
            raise DecodeError(f"HSRP v1: {len(data)} bytes, need {V1_BYTES}")
        _v, op, state, hello, hold, priority, group, _r, auth, vip = _V1.unpack_from(data)
        return cls(
            1, _opcode(op), _state(state), group, priority, IPv4Address(vip),
            float(hello), float(hold), 0, auth,
        )  # fmt: skip

    @classmethod
    def _v2(cls, data: bytes) -> HsrpMessage:
        if data[1] != V2_TLV_BYTES:
            raise DecodeError(f"HSRP v2: group-state TLV of length {data[1]}, expected 40")
        if len(data) < 2 + V2_TLV_BYTES:
            raise DecodeError(f"HSRP v2: {len(data)} bytes, need {2 + V2_TLV_BYTES}")
        fields = _V2.unpack_from(data)
        _t, _l, version, op, state, ipver, group, ident, prio, hello, hold, vip = fields
        if version != 2:
            raise DecodeError(f"HSRP v2: version field {version}, expected 2")
        if ipver != 4:
            raise DecodeError(f"HSRP v2: IP version {ipver}; netsim runs HSRP for IPv4 only")
        if group > 0xFFF:
            raise DecodeError(f"HSRP v2: group {group} above 4095")
        if state not in _V2_STATES:
            raise DecodeError(f"HSRP v2: unknown state {state}")
        return cls(
            2, _opcode(op), _V2_STATES[state], group, prio, IPv4Address(vip[:4]),
            hello / 1000, hold / 1000, int.from_bytes(ident, "big"),
        )  # fmt: skip


def _opcode(value: int) -> HsrpOpcode:
    try:
        return HsrpOpcode(value)
    except ValueError:
        raise DecodeError(f"HSRP: unknown opcode {value}") from None


def _state(value: int) -> HsrpState:
    try:
        return HsrpState(value)
    except ValueError:
        raise DecodeError(f"HSRP: unknown state {value}") from None


@dataclass(frozen=True, slots=True)
class HsrpConfig:
    """``standby GROUP ip ADDRESS``, ``priority``, ``preempt``, ``timers``, ``version``."""

    group: int
    virtual_ip: IPv4Address
    priority: int = 100
    preempt: bool = False
    version: int = 2
    hello_time: float = 3.0
    hold_time: float = 10.0

    @property
    def virtual_mac(self) -> MacAddress:
        """The group's virtual MAC for this version."""
        return virtual_mac(self.group, self.version)


class HsrpInput(Enum):
    """What can move a router between states (RFC 2281 §5.6, events a-j)."""

    ENABLE = "enable"
    ACTIVE_TIMER = "active timer expired"
    STANDBY_TIMER = "standby timer expired"
    NO_ACTIVE = "standby with no active router"
    HIGHER_ACTIVE = "hello from a higher-priority active router"
    PREEMPT = "preempting a lower-priority active router"
    HIGHER_STANDBY = "hello from a higher-priority standby router"
    LOWER_STANDBY = "hello from a lower-priority standby router"
    HIGHER_SPEAK = "hello from a higher-priority speaking router"
    COUP = "coup from a higher-priority router"
    RESIGN = "resign from the active router"


_St, _In = HsrpState, HsrpInput
TRANSITIONS: dict[tuple[HsrpState, HsrpInput], HsrpState] = {
    (_St.INITIAL, _In.ENABLE): _St.LISTEN,
    (_St.LISTEN, _In.ACTIVE_TIMER): _St.SPEAK,
    (_St.LISTEN, _In.STANDBY_TIMER): _St.SPEAK,
    (_St.LISTEN, _In.LOWER_STANDBY): _St.SPEAK,
    (_St.LISTEN, _In.RESIGN): _St.SPEAK,
    (_St.LISTEN, _In.PREEMPT): _St.ACTIVE,
    (_St.SPEAK, _In.STANDBY_TIMER): _St.STANDBY,
    (_St.SPEAK, _In.LOWER_STANDBY): _St.STANDBY,
    (_St.SPEAK, _In.HIGHER_SPEAK): _St.LISTEN,
    (_St.SPEAK, _In.HIGHER_STANDBY): _St.LISTEN,
    (_St.SPEAK, _In.PREEMPT): _St.ACTIVE,
    (_St.STANDBY, _In.ACTIVE_TIMER): _St.ACTIVE,
    (_St.STANDBY, _In.NO_ACTIVE): _St.ACTIVE,
    (_St.STANDBY, _In.RESIGN): _St.ACTIVE,
    (_St.STANDBY, _In.HIGHER_STANDBY): _St.LISTEN,
    (_St.STANDBY, _In.PREEMPT): _St.ACTIVE,
    (_St.ACTIVE, _In.HIGHER_ACTIVE): _St.SPEAK,
    (_St.ACTIVE, _In.COUP): _St.SPEAK,
}
"""Every legal move; any other (state, input) pair changes nothing."""

_SPEAKING = frozenset({HsrpState.SPEAK, HsrpState.STANDBY, HsrpState.ACTIVE})


class HsrpGroup:
    """One router interface's membership of one HSRP group.

    ``interface`` is the router's own address on the subnet (it breaks priority ties and
    must be inside the virtual IP's subnet); ``mac`` its burned-in MAC, sent as the v2
    identifier and used as the hello source when the router is not active.
    """

    def __init__(self, config: HsrpConfig, interface: IPv4Interface, mac: MacAddress) -> None:
        if config.virtual_ip not in interface.network:
            raise ValueError(
                f"HSRP group {config.group}: virtual IP {config.virtual_ip} is outside "
                f"the interface's subnet {interface.network}"
            )
        self.config = config
        self.interface = interface
        self.mac = mac
        self.state = HsrpState.INITIAL
        """Where this router stands in the group."""
        self.active_router: IPv4Address | None = None
        """The active router as last heard (this router's address when it is active)."""
        self.standby_router: IPv4Address | None = None
        """The standby router as last heard."""
        self.mismatches = 0
        """Hellos of this group announcing another virtual IP (IOS logs them)."""
        self._active_timer: float | None = None
        self._standby_timer: float | None = None
        self._hello_at: float | None = None
        self._events: list[FhrpEvent] = []

    # -- inputs --------------------------------------------------------------------------

    def start(self, now: float) -> None:
        """The interface comes up with HSRP configured: listen for the hold time first."""
        self._active_timer = now + self.config.hold_time
        self._standby_timer = now + self.config.hold_time
        self._apply(HsrpInput.ENABLE, now)

    def resign(self, now: float) -> None:
        """Leave the group gracefully (``no standby``): an active router says so first."""
        if self.state is HsrpState.ACTIVE:
            self._send(HsrpOpcode.RESIGN)
            self._events.append(StopForwarding(self.config.virtual_ip, self.config.virtual_mac))
        self._change(HsrpState.INITIAL, now, "resigned")
        self._active_timer = self._standby_timer = self._hello_at = None

    def receive(self, message: HsrpMessage, sender: IPv4Address, now: float) -> None:
        """A message of any group arrived from ``sender``; act on those of this group."""
        config = self.config
        if message.group != config.group or message.version != config.version:
            return
        if sender == self.interface.ip or self.state is HsrpState.INITIAL:
            return
        if message.virtual_ip != config.virtual_ip:
            self.mismatches += 1
        higher = (message.priority, int(sender)) > (config.priority, int(self.interface.ip))
        if message.opcode is HsrpOpcode.RESIGN:
            if message.state is HsrpState.ACTIVE and sender == self.active_router:
                self._active_timer = None
                self.active_router = None
                self._apply(HsrpInput.RESIGN, now)
            return
        if message.opcode is HsrpOpcode.COUP:
            if higher:
                self.active_router = sender
                self._active_timer = now + message.hold_time
                self._apply(HsrpInput.COUP, now)
            return
        if message.state is HsrpState.ACTIVE:
            self.active_router = sender
            self._active_timer = now + message.hold_time
            if higher:
                self._apply(HsrpInput.HIGHER_ACTIVE, now)
            elif config.preempt and self.state is not HsrpState.ACTIVE:
                self._apply(HsrpInput.PREEMPT, now)
        elif message.state is HsrpState.STANDBY:
            self.standby_router = sender
            self._standby_timer = now + message.hold_time
            self._apply(HsrpInput.HIGHER_STANDBY if higher else HsrpInput.LOWER_STANDBY, now)
        elif message.state is HsrpState.SPEAK and higher:
            self._apply(HsrpInput.HIGHER_SPEAK, now)

    def tick(self, now: float) -> None:
        """Run the timers due at ``now``: hold timers first (they change the state), then hello."""
        if self._active_timer is not None and self._active_timer <= now:
            self._active_timer = None
            self.active_router = None
            self._apply(HsrpInput.ACTIVE_TIMER, now)
        if self._standby_timer is not None and self._standby_timer <= now:
            self._standby_timer = None
            self.standby_router = None
            self._apply(HsrpInput.STANDBY_TIMER, now)
        if self._hello_at is not None and self._hello_at <= now:
            self._hello(now)

    def next_timer(self) -> float | None:
        """When :meth:`tick` next has work, or None."""
        times = [
            t for t in (self._active_timer, self._standby_timer, self._hello_at) if t is not None
        ]
        return min(times) if times else None

    def events(self) -> list[FhrpEvent]:
        """What the router must do, in order, since the last call (the list is drained)."""
        out, self._events = self._events, []
        return out

    # -- machinery -----------------------------------------------------------------------

    def _apply(self, event: HsrpInput, now: float) -> None:
        new = TRANSITIONS.get((self.state, event))
        if new is not None and new is not self.state:
            self._enter(new, now, event)

    def _enter(self, new: HsrpState, now: float, cause: HsrpInput) -> None:
        old = self.state
        config = self.config
        if old is HsrpState.ACTIVE:
            self._events.append(StopForwarding(config.virtual_ip, config.virtual_mac))
        self._change(new, now, cause.value)
        if new is HsrpState.LISTEN:
            self._hello_at = None
            if self._standby_timer is None:
                self._standby_timer = now + config.hold_time
        elif new is HsrpState.SPEAK:
            self._standby_timer = now + config.hold_time
        elif new is HsrpState.STANDBY:
            self._standby_timer = None
            self.standby_router = self.interface.ip
        elif new is HsrpState.ACTIVE:
            if cause is HsrpInput.PREEMPT:
                self._send(HsrpOpcode.COUP)
            self._active_timer = None
            self.active_router = self.interface.ip
            if self.standby_router == self.interface.ip:
                self.standby_router = None
            self._events.append(Forward(config.virtual_ip, config.virtual_mac))
        if new in _SPEAKING:
            self._hello(now)  # announce the new state at once
        if new is HsrpState.STANDBY and self._active_timer is None:
            self._apply(HsrpInput.NO_ACTIVE, now)

    def _change(self, new: HsrpState, now: float, reason: str) -> None:
        old, self.state = self.state, new
        self._events.append(
            StateChanged(now, "hsrp", self.config.group, old.name.lower(), new.name.lower(), reason)
        )

    def _hello(self, now: float) -> None:
        self._send(HsrpOpcode.HELLO)
        self._hello_at = now + self.config.hello_time

    def _send(self, opcode: HsrpOpcode) -> None:
        config = self.config
        message = HsrpMessage(
            config.version, opcode, self.state, config.group, config.priority,
            config.virtual_ip, config.hello_time, config.hold_time, self.mac,
        )  # fmt: skip
        datagram = UdpDatagram(PORT, PORT, message.to_bytes())
        dst = message.destination
        active = self.state is HsrpState.ACTIVE
        self._events.append(
            Send(
                datagram.to_bytes(self.interface.ip, dst),
                dst,
                IpProtocol.UDP,
                1,
                config.virtual_mac if active else None,
            )
        )
