"""A DHCP client (RFC 2131 §4.4) as a sans-IO state machine: how a host gets its address.

A host with ``address: dhcp`` starts without an address and walks the states of RFC 2131
figure 5::

    INIT --send DISCOVER--> SELECTING --OFFER, send REQUEST--> REQUESTING --ACK--> BOUND
                                                                   |NAK -> INIT
    BOUND --T1 (half the lease), unicast REQUEST--> RENEWING --ACK--> BOUND
    RENEWING --T2 (7/8 of the lease), broadcast REQUEST--> REBINDING --ACK--> BOUND
    RENEWING/REBINDING --lease expires--> INIT (the address is given up)

It takes the first offer it hears (what most stacks do). Unanswered messages are sent
again after 4 s, 8 s, 16 s, ... up to 64 s (RFC 2131 §4.1), each delay moved by a jitter
the caller supplies (uniform in -1..+1 s in the RFC; zero by default, so a test knows the
times). After four unanswered REQUESTs the client starts over from INIT.

The object does no I/O and reads no clock: :meth:`DhcpClient.start`,
:meth:`DhcpClient.receive` and :meth:`DhcpClient.tick` take ``now``; what it wants done
comes out of :meth:`DhcpClient.events` as :class:`Transmit`, :class:`Configured` and
:class:`Unconfigured` events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from netsim.l2.frame import MacAddress
from netsim.net.addressing import IPv4Address, IPv4Interface
from netsim.net.dhcp_message import (
    FLAG_BROADCAST,
    ZERO,
    BootpOp,
    DhcpMessage,
    DhcpMessageType,
    DhcpOption,
    address_option,
)

FIRST_RETRANSMIT = 4.0
"""RFC 2131 §4.1: wait 4 s before the first retransmission, then double."""
MAX_RETRANSMIT = 64.0
"""The backoff stops doubling at 64 s."""
REQUEST_ATTEMPTS = 4
"""REQUESTs sent in REQUESTING before the client gives up on the offer and starts over."""
PARAMETERS = bytes([DhcpOption.SUBNET_MASK, DhcpOption.ROUTER, DhcpOption.DNS_SERVERS])
"""Option 55: the options the client asks for."""


class DhcpClientState(Enum):
    """RFC 2131 figure 5 (INIT-REBOOT and REBOOTING are not modelled: hosts boot fresh)."""

    INIT = "init"
    SELECTING = "selecting"
    REQUESTING = "requesting"
    BOUND = "bound"
    RENEWING = "renewing"
    REBINDING = "rebinding"


class _Input(Enum):
    START = "start"
    OFFER = "offer"
    ACK = "ack"
    NAK = "nak"
    GIVE_UP = "give up"
    T1 = "t1"
    T2 = "t2"
    EXPIRY = "lease expiry"


_S = DhcpClientState
TRANSITIONS: dict[tuple[DhcpClientState, _Input], DhcpClientState] = {
    (_S.INIT, _Input.START): _S.SELECTING,
    (_S.SELECTING, _Input.OFFER): _S.REQUESTING,
    (_S.REQUESTING, _Input.ACK): _S.BOUND,
    (_S.REQUESTING, _Input.NAK): _S.SELECTING,  # via INIT: a fresh DISCOVER at once
    (_S.REQUESTING, _Input.GIVE_UP): _S.SELECTING,
    (_S.BOUND, _Input.T1): _S.RENEWING,
    (_S.RENEWING, _Input.ACK): _S.BOUND,
    (_S.RENEWING, _Input.NAK): _S.SELECTING,
    (_S.RENEWING, _Input.T2): _S.REBINDING,
    (_S.REBINDING, _Input.ACK): _S.BOUND,
    (_S.REBINDING, _Input.NAK): _S.SELECTING,
    (_S.REBINDING, _Input.EXPIRY): _S.SELECTING,
}
"""Every legal transition; any other (state, input) pair leaves the state unchanged."""


@dataclass(frozen=True, slots=True)
class Lease:
    """What an ACK gave the client: its interface, gateway, DNS servers and lease times."""

    interface: IPv4Interface
    gateway: IPv4Address | None
    server: IPv4Address
    dns: tuple[IPv4Address, ...]
    granted_at: float
    lease_time: float

    @property
    def renew_at(self) -> float:
        """T1: half the lease (RFC 2131 §4.4.5)."""
        return self.granted_at + 0.5 * self.lease_time

    @property
    def rebind_at(self) -> float:
        """T2: seven eighths of the lease."""
        return self.granted_at + 0.875 * self.lease_time

    @property
    def expires_at(self) -> float:
        """When the address must no longer be used."""
        return self.granted_at + self.lease_time


@dataclass(frozen=True, slots=True)
class Transmit:
    """Send ``message`` from port 68 to port 67: to ``server`` by unicast, else broadcast."""

    message: DhcpMessage
    server: IPv4Address | None = None


@dataclass(frozen=True, slots=True)
class Configured:
    """The host may use this lease's address from now on (entering BOUND)."""

    lease: Lease


@dataclass(frozen=True, slots=True)
class Unconfigured:
    """The host must stop using its address (a NAK, or the lease ran out)."""

    reason: str


ClientEvent = Transmit | Configured | Unconfigured


class DhcpClient:
    """One interface's DHCP client.

    ``mac`` goes into ``chaddr``; ``xid_source`` draws each exchange's transaction id and
    ``jitter`` each retransmission's offset in seconds (both from the simulation's seeded
    RNG, so a run is reproducible).
    """

    def __init__(
        self,
        mac: MacAddress,
        xid_source: Callable[[], int],
        *,
        jitter: Callable[[], float] = lambda: 0.0,
        host_name: str | None = None,
    ) -> None:
        self.mac = mac
        self.state = DhcpClientState.INIT
        """Where the client is in RFC 2131 figure 5."""
        self.lease: Lease | None = None
        """The lease in force (BOUND, RENEWING, REBINDING), else None."""
        self.discovers_sent = 0
        """DISCOVERs sent so far (a client of an exhausted pool keeps counting)."""
        self._xid_source = xid_source
        self._jitter = jitter
        self._host_name = host_name
        self._xid = 0
        self._offer: DhcpMessage | None = None
        self._pending: Transmit | None = None
        self._attempts = 0
        self._backoff = FIRST_RETRANSMIT
        self._retransmit_at: float | None = None
        self._started_at = 0.0
        self._events: list[ClientEvent] = []

    # -- inputs --------------------------------------------------------------------------

    def start(self, now: float) -> None:
        """Begin: broadcast a DISCOVER."""
        self._move(_Input.START)
        self._discover(now)

    def receive(self, message: DhcpMessage, now: float) -> None:
        """A DHCP message arrived on port 68; ignore it unless it answers our exchange."""
        if message.op is not BootpOp.BOOTREPLY or message.xid != self._xid:
            return
        if message.chaddr != self.mac:
            return
        kind = message.message_type
        if kind is DhcpMessageType.OFFER and self.state is DhcpClientState.SELECTING:
            self._move(_Input.OFFER)
            self._offer = message
            self._request(now, server=None)
        elif kind is DhcpMessageType.ACK and self.state in _WAITING_FOR_ACK:
            self._bind(message, now)
        elif kind is DhcpMessageType.NAK and self.state in _WAITING_FOR_ACK:
            self._unbind("DHCPNAK from the server")
            self._move(_Input.NAK)
            self._discover(now)

    def tick(self, now: float) -> None:
        """Run whatever timer is due at ``now``: a retransmission, T1, T2 or expiry."""
        lease = self.lease
        if lease is not None and self.state in _LEASED:
            if now >= lease.expires_at:
                self._unbind("the lease expired with no answer from any server")
                self._move(_Input.EXPIRY)
                self._discover(now)
                return
            if self.state is DhcpClientState.RENEWING and now >= lease.rebind_at:
                self._move(_Input.T2)
                self._request(now, server=None)
                return
            if self.state is DhcpClientState.BOUND and now >= lease.renew_at:
                self._move(_Input.T1)
                self._request(now, server=lease.server)
                return
        if self._retransmit_at is not None and now >= self._retransmit_at:
            self._retransmit(now)

    def next_timer(self) -> float | None:
        """The earliest time :meth:`tick` has work to do, or None."""
        times: list[float] = []
        if self._retransmit_at is not None:
            times.append(self._retransmit_at)
        lease = self.lease
        if lease is not None:
            if self.state is DhcpClientState.BOUND:
                times.append(lease.renew_at)
            elif self.state is DhcpClientState.RENEWING:
                times.append(lease.rebind_at)
            if self.state in _LEASED:
                times.append(lease.expires_at)
        return min(times) if times else None

    def events(self) -> list[ClientEvent]:
        """What the client wants done since the last call, in order (the list is drained)."""
        out, self._events = self._events, []
        return out

    # -- machinery -----------------------------------------------------------------------

    def _move(self, event: _Input) -> None:
        self.state = TRANSITIONS.get((self.state, event), self.state)

    def _message(
        self,
        kind: DhcpMessageType,
        now: float,
        *,
        flags: int = 0,
        ciaddr: IPv4Address = ZERO,
        extra: dict[int, bytes] | None = None,
    ) -> DhcpMessage:
        options: dict[int, bytes] = {DhcpOption.CLIENT_ID: b"\x01" + self.mac.to_bytes(6, "big")}
        options.update(extra or {})
        if self._host_name:
            options[DhcpOption.HOST_NAME] = self._host_name.encode("ascii", "replace")[:255]
        options[DhcpOption.PARAMETER_REQUEST_LIST] = PARAMETERS
        secs = min(0xFFFF, int(now - self._started_at))
        return DhcpMessage(
            BootpOp.BOOTREQUEST,
            kind,
            self._xid,
            self.mac,
            ciaddr=ciaddr,
            secs=secs,
            flags=flags,
            options=options,
        )

    def _discover(self, now: float) -> None:
        self._xid = self._xid_source() & 0xFFFF_FFFF
        self._offer = None
        self._started_at = now
        self.discovers_sent += 1
        discover = self._message(DhcpMessageType.DISCOVER, now, flags=FLAG_BROADCAST)
        self._send(Transmit(discover), now)

    def _request(self, now: float, server: IPv4Address | None) -> None:
        if self.state is DhcpClientState.REQUESTING and self._offer is not None:
            offer = self._offer
            options: dict[int, bytes] = {DhcpOption.REQUESTED_ADDRESS: address_option(offer.yiaddr)}
            if offer.server_id is not None:
                options[DhcpOption.SERVER_ID] = address_option(offer.server_id)
            request = self._message(
                DhcpMessageType.REQUEST, now, flags=FLAG_BROADCAST, extra=options
            )
        else:
            # RENEWING (unicast to the server) or REBINDING (broadcast): ciaddr is ours.
            assert self.lease is not None
            self._xid = self._xid_source() & 0xFFFF_FFFF
            request = self._message(DhcpMessageType.REQUEST, now, ciaddr=self.lease.interface.ip)
        self._send(Transmit(request, server), now)

    def _send(self, transmit: Transmit, now: float) -> None:
        self._pending = transmit
        self._attempts = 1
        self._backoff = FIRST_RETRANSMIT
        self._retransmit_at = now + self._backoff + self._jitter()
        self._events.append(transmit)

    def _retransmit(self, now: float) -> None:
        pending = self._pending
        assert pending is not None
        if self.state is DhcpClientState.REQUESTING and self._attempts >= REQUEST_ATTEMPTS:
            self._move(_Input.GIVE_UP)
            self._discover(now)
            return
        self._attempts += 1
        if pending.message.message_type is DhcpMessageType.DISCOVER:
            self.discovers_sent += 1
        self._backoff = min(MAX_RETRANSMIT, self._backoff * 2)
        self._retransmit_at = now + self._backoff + self._jitter()
        self._events.append(pending)

    def _bind(self, ack: DhcpMessage, now: float) -> None:
        mask = ack.subnet_mask
        prefix = IPv4Interface(f"{ack.yiaddr}/{mask}").network.prefixlen if mask else 24
        dns_value = ack.options.get(DhcpOption.DNS_SERVERS, b"")
        dns = tuple(IPv4Address(dns_value[i : i + 4]) for i in range(0, len(dns_value) // 4 * 4, 4))
        server = ack.server_id
        if server is None and self.lease is not None:
            server = self.lease.server
        lease = Lease(
            interface=IPv4Interface(f"{ack.yiaddr}/{prefix}"),
            gateway=ack.router,
            server=server if server is not None else IPv4Address(0),
            dns=dns,
            granted_at=now,
            lease_time=float(ack.lease_time if ack.lease_time is not None else 86400),
        )
        renewed = self.lease is not None and self.lease.interface == lease.interface
        self.lease = lease
        self._pending = None
        self._retransmit_at = None
        self._move(_Input.ACK)
        if not renewed:
            self._events.append(Configured(lease))

    def _unbind(self, reason: str) -> None:
        if self.lease is not None:
            self.lease = None
            self._events.append(Unconfigured(reason))


_WAITING_FOR_ACK = frozenset(
    {DhcpClientState.REQUESTING, DhcpClientState.RENEWING, DhcpClientState.REBINDING}
)
_LEASED = frozenset({DhcpClientState.BOUND, DhcpClientState.RENEWING, DhcpClientState.REBINDING})
