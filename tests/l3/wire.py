"""Helpers for tests that put protocol messages in frames and ask tshark about them."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from netsim.l2.frame import ETHERTYPE_IPV4, Frame, MacAddress
from netsim.metrics.pcap import write_pcap
from netsim.net.addressing import IPv4Address
from netsim.net.ipv4 import Ipv4Packet

TSHARK = shutil.which("tshark")
"""The tshark binary, or None (tests that need it skip with the reason)."""
CHECKS = ["-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"]
"""Preferences that make tshark verify the IPv4 and UDP checksums (status 1 = good)."""


def multicast_mac(group: IPv4Address) -> MacAddress:
    """01:00:5e plus the low 23 bits of the group address (RFC 1112 §6.4)."""
    return 0x0100_5E00_0000 | (int(group) & 0x7F_FFFF)


def frame_bytes(dst: MacAddress, src: MacAddress, packet: Ipv4Packet) -> bytes:
    """An Ethernet frame carrying ``packet``, without the FCS (as pcap files hold it)."""
    return Frame.carrying(1, dst, src, ETHERTYPE_IPV4, packet.to_bytes()).to_bytes()[:-4]


def tshark_fields(path: Path, frames: Sequence[bytes], fields: Sequence[str]) -> list[list[str]]:
    """Write ``frames`` to ``path`` and return tshark's ``fields`` for each, as strings."""
    assert TSHARK is not None
    write_pcap(path, [(float(i), f) for i, f in enumerate(frames)])
    command = [TSHARK, "-n", "-r", str(path), *CHECKS, "-T", "fields", "-E", "separator=|"]
    for name in fields:
        command += ["-e", name]
    out = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout
    return [line.split("|") for line in out.strip().splitlines()]
