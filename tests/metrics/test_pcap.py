"""pcap files (nanosecond magic, Ethernet link type) read back by dpkt, an independent parser."""

from __future__ import annotations

import io
import struct
from decimal import Decimal
from pathlib import Path

import dpkt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.l2.frame import BROADCAST, ETHERTYPE_ARP, ETHERTYPE_IPV4, Frame
from netsim.metrics.pcap import (
    LINKTYPE_ETHERNET,
    MAGIC_NANOSECONDS,
    PcapWriter,
    timestamp_parts,
    write_pcap,
)
from netsim.net.addressing import IPv4Address
from netsim.net.arp import ArpPacket
from netsim.net.ipv4 import IpProtocol, Ipv4Packet
from netsim.net.tcp.segment import TcpFlags, TcpSegment

H1, H2 = 0x020000000001, 0x020000000002
IP1, IP2 = IPv4Address("10.0.0.1"), IPv4Address("10.0.0.2")


def _frames() -> list[tuple[float, bytes]]:
    """An ARP request and a TCP SYN as they would appear on a captured port."""
    arp = Frame.carrying(
        1, BROADCAST, H1, ETHERTYPE_ARP, ArpPacket.request(H1, IP1, IP2).to_bytes()
    )
    syn = TcpSegment(49152, 143, 1000, 0, TcpFlags.SYN, 65535, mss=1460).to_bytes(IP1, IP2)
    ip = Frame.carrying(
        2, H2, H1, ETHERTYPE_IPV4, Ipv4Packet(IP1, IP2, IpProtocol.TCP, syn).to_bytes()
    )
    return [(0.000_001_234, arp.to_bytes()), (1.500_000_007, ip.to_bytes())]


def test_global_header_says_nanoseconds_and_ethernet() -> None:
    """The 24-byte header: magic a1b23c4d, version 2.4, snaplen, LINKTYPE_ETHERNET."""
    stream = io.BytesIO()
    PcapWriter(stream).close()
    magic, major, minor, _tz, _acc, snaplen, linktype = struct.unpack("<IHHiIII", stream.getvalue())
    assert (magic, major, minor, snaplen, linktype) == (MAGIC_NANOSECONDS, 2, 4, 65535, 1)


def test_dpkt_reads_frames_and_exact_timestamps(tmp_path: Path) -> None:
    """dpkt decodes each record to the same bytes, at the same nanosecond, as Ethernet."""
    path = tmp_path / "captures" / "sw1-Gi0_1.pcap"
    records = _frames()
    assert write_pcap(path, records) == 2
    with path.open("rb") as f:
        reader = dpkt.pcap.Reader(f)
        assert reader.datalink() == LINKTYPE_ETHERNET
        read = list(reader)
    assert [frame for _, frame in read] == [frame for _, frame in records]
    assert [ts for ts, _ in read] == [Decimal("0.000001234"), Decimal("1.500000007")]
    eth = dpkt.ethernet.Ethernet(read[1][1][:-4])  # dpkt expects no FCS
    assert isinstance(eth.data, dpkt.ip.IP) and isinstance(eth.data.data, dpkt.tcp.TCP)
    assert eth.data.data.dport == 143


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 4e6), st.binary(min_size=1, max_size=100)), max_size=8))
def test_any_records_read_back(records: list[tuple[float, bytes]]) -> None:
    """Whatever we write, dpkt reads back in order with timestamps to the nanosecond."""
    stream = io.BytesIO()
    with PcapWriter(stream) as pcap:
        pcap.write_all(records)
    stream.seek(0)
    read = list(dpkt.pcap.Reader(stream))
    assert [frame for _, frame in read] == [frame for _, frame in records]
    for (ts, _), (t, _) in zip(read, records, strict=True):
        assert abs(float(ts) - t) <= 1e-9 + abs(t) * 1e-15


def test_snaplen_cuts_records_but_keeps_the_original_length() -> None:
    """A record longer than snaplen is truncated; its header still tells the real length."""
    stream = io.BytesIO()
    with PcapWriter(stream, snaplen=10) as pcap:
        pcap.write(0.5, bytes(range(64)))
    data = stream.getvalue()
    _sec, _ns, incl, orig = struct.unpack_from("<IIII", data, 24)
    assert (incl, orig) == (10, 64)
    assert data[40:] == bytes(range(10))


def test_timestamps_round_to_the_nearest_nanosecond() -> None:
    """Float seconds split into whole seconds and nanoseconds without drift."""
    assert timestamp_parts(0.0) == (0, 0)
    assert timestamp_parts(1.999_999_999_6) == (2, 0)
    assert timestamp_parts(12.000_000_672) == (12, 672)
    with pytest.raises(ValueError, match="negative"):
        timestamp_parts(-1.0)
