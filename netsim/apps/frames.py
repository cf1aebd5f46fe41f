"""The raw frame generator: ``traffic: kind: frames``.

A source sends frames from one host to another host (or to broadcast) at a constant
interval or as a Poisson process, with a fixed size or sizes drawn from a list. A rate
given as a share of the link is converted to an interval counting preamble and gap, so
``rate: 100%`` of constant 64-byte frames is wire speed: 148,809.5 frames/s at 100 Mb/s.
"""

from __future__ import annotations

from collections.abc import Sequence

from netsim.engine.sim import Simulation
from netsim.l2.frame import (
    ETHERTYPE_IPV4,
    ETHERTYPE_LOCAL_EXPERIMENTAL,
    FCS_BYTES,
    HEADER_BYTES,
    INTERFRAME_GAP_BYTES,
    PREAMBLE_SFD_BYTES,
    VLAN_TAG_BYTES,
    Frame,
    MacAddress,
)
from netsim.l2.host import Host
from netsim.net.addressing import IPv4Address
from netsim.net.ipv4 import HEADER_BYTES as IPV4_HEADER_BYTES
from netsim.net.ipv4 import Ipv4Packet

IP_PROTOCOL_EXPERIMENT = 253
"""RFC 3692: an IP protocol number for experimentation and testing (what marked raw
frames carry: an IPv4 header for the DSCP, and the frame id)."""


class FrameSource:
    """Sends frames from ``host`` until ``count`` are sent or time ``stop_at`` is reached."""

    def __init__(
        self,
        sim: Simulation,
        name: str,
        host: Host,
        dst_mac: MacAddress,
        dst_name: str,
        sizes: Sequence[int],
        *,
        count: int | None,
        start: float,
        stop_at: float,
        interval: float | None = None,
        rate: float | None = None,
        poisson: bool = False,
        vlan: int | None = None,
        cos: int | None = None,
        dscp: int | None = None,
        addresses: tuple[IPv4Address, IPv4Address] | None = None,
    ) -> None:
        """``cos`` tags the frames (priority-tagged, VID 0, without ``vlan``); ``dscp``
        makes them IPv4 packets from and to ``addresses`` with that DSCP."""
        if interval is None:
            if rate is None:
                interval = 1.0  # only one frame will be sent (validated upstream)
            else:
                mean = sum(sizes) / len(sizes) + PREAMBLE_SFD_BYTES + INTERFRAME_GAP_BYTES
                interval = mean * 8 / (rate * host.port.rate)
        self.sim = sim
        self.name = name
        self.host = host
        self.dst_mac = dst_mac
        self.dst_name = dst_name
        self.sizes = list(sizes)
        self.count = count
        self.stop_at = stop_at
        self.interval = interval
        self.poisson = poisson
        self.vlan = 0 if cos is not None and vlan is None else vlan
        self.pcp = cos or 0
        self.dscp = dscp
        self.addresses = addresses
        if dscp is not None and addresses is None:
            raise ValueError("a DSCP needs IPv4 addresses for the header")
        self.sent = 0
        self._rng = sim.rng(f"traffic:{name}")
        first = start + (self._rng.expovariate(1.0 / interval) if poisson else 0.0)
        sim.call_at(first, self._emit)

    def _emit(self) -> None:
        sim = self.sim
        now = sim.now
        if now >= self.stop_at:
            return
        sizes = self.sizes
        size = sizes[0] if len(sizes) == 1 else self._rng.choice(sizes)
        frame_id = sim.next_frame_id()
        if self.dscp is None:
            ethertype, payload = ETHERTYPE_LOCAL_EXPERIMENTAL, None
        else:
            ethertype, payload = ETHERTYPE_IPV4, self._ip_packet(frame_id, size)
        frame = Frame(
            frame_id,
            self.dst_mac,
            self.host.mac,
            size,
            ethertype,
            payload,
            vlan=self.vlan,
            pcp=self.pcp,
        )
        self.host.send(frame, self.dst_name, self.name)
        self.sent += 1
        if self.count is not None and self.sent >= self.count:
            return
        gap = self._rng.expovariate(1.0 / self.interval) if self.poisson else self.interval
        sim.call_at(now + gap, self._emit)

    def _ip_packet(self, frame_id: int, size: int) -> bytes:
        """An IPv4 packet that fills a ``size``-byte frame, marked with the DSCP."""
        assert self.addresses is not None and self.dscp is not None
        overhead = HEADER_BYTES + FCS_BYTES + (VLAN_TAG_BYTES if self.vlan is not None else 0)
        data_bytes = max(8, size - overhead - IPV4_HEADER_BYTES)
        data = frame_id.to_bytes(8, "big") + bytes(data_bytes - 8)
        src, dst = self.addresses
        packet = Ipv4Packet(src, dst, IP_PROTOCOL_EXPERIMENT, data, tos=self.dscp << 2)
        return packet.to_bytes()
