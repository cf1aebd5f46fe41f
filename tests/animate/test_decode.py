"""Decoding a frame's octets for the replay's detail view, layer by layer.

Frames are built with netsim's own encoders (the ones the protocol tests check against
tshark), then decoded: every field shown must be the one that was encoded.
"""

from __future__ import annotations

from ipaddress import IPv4Address

from netsim.animate.decode import LINE_LIMIT, decode_frame, imap_line
from netsim.l2.frame import BROADCAST, ETHERTYPE_ARP, ETHERTYPE_IPV4, Frame
from netsim.net.arp import ArpPacket
from netsim.net.icmp import IcmpEcho
from netsim.net.ipv4 import IpProtocol, Ipv4Packet
from netsim.net.tcp.segment import TcpFlags, TcpSegment

H1, H2 = 0x0200_0000_0001, 0x0200_0000_0019
IP1, IP2 = IPv4Address("10.0.0.1"), IPv4Address("10.0.0.25")


def octets(frame: Frame) -> bytes:
    return frame.to_bytes()[:-4]  # as captured: no FCS


def layer(decoded, name):
    return dict(next(fields for layer_name, fields in decoded.layers if layer_name == name))


def test_arp_request_and_its_ethernet_header():
    arp = ArpPacket.request(H1, IP1, IP2)
    d = decode_frame(octets(Frame.carrying(1, BROADCAST, H1, ETHERTYPE_ARP, arp.to_bytes())))
    assert d.protocol == "ARP"
    assert d.summary == "Who has 10.0.0.25? Tell 10.0.0.1"
    assert layer(d, "Ethernet II") == {
        "Destination": "ff:ff:ff:ff:ff:ff",
        "Source": "02:00:00:00:00:01",
        "Type": "0x0806",
    }
    assert layer(d, "ARP")["Target IP"] == "10.0.0.25"
    assert d.conversation == "ARP 10.0.0.1 ↔ 10.0.0.25"


def test_an_802_1q_tag_is_its_own_layer():
    frame = Frame.carrying(
        2, H2, H1, ETHERTYPE_ARP, ArpPacket.request(H1, IP1, IP2).to_bytes(), vlan=30
    )
    d = decode_frame(octets(frame))
    assert layer(d, "802.1Q")["VLAN ID"] == "30"
    assert d.protocol == "ARP"


def tcp_frame(payload: bytes, src_port: int = 49152, dst_port: int = 143) -> bytes:
    seg = TcpSegment(src_port, dst_port, 1000, 2000, TcpFlags.PSH | TcpFlags.ACK, 65535, payload)
    ip = Ipv4Packet(IP1, IP2, IpProtocol.TCP, seg.to_bytes(IP1, IP2), identification=7)
    return octets(Frame.carrying(3, H2, H1, ETHERTYPE_IPV4, ip.to_bytes()))


def test_tcp_segment_carrying_an_imap_command():
    d = decode_frame(tcp_frame(b'A0001 LOGIN "pc1" "netsim"\r\n'))
    assert d.protocol == "IMAP"
    assert d.summary == 'IMAP client: A0001 LOGIN "pc1" "netsim"'
    tcp = layer(d, "TCP")
    assert (tcp["Source port"], tcp["Destination port"], tcp["Flags"]) == ("49152", "143", "P.")
    assert (tcp["Sequence number"], tcp["Acknowledgment number"]) == ("1000", "2000")
    assert layer(d, "IPv4")["Identification"] == "0x0007"
    assert d.conversation == "TCP 10.0.0.1:49152 ↔ 10.0.0.25:143"


def test_the_reply_is_the_same_conversation():
    seg = TcpSegment(143, 49152, 2000, 1026, TcpFlags.ACK, 65535, b"* OK ready\r\n")
    ip = Ipv4Packet(IP2, IP1, IpProtocol.TCP, seg.to_bytes(IP2, IP1))
    d = decode_frame(octets(Frame.carrying(4, H1, H2, ETHERTYPE_IPV4, ip.to_bytes())))
    assert d.summary == "IMAP server: * OK ready"
    assert d.conversation == "TCP 10.0.0.1:49152 ↔ 10.0.0.25:143"


def test_other_tcp_is_tcp():
    d = decode_frame(tcp_frame(b"x" * 10, 40000, 5001))
    assert d.protocol == "TCP"
    assert d.summary == "40000 → 5001 [P.] seq=1000 ack=2000 len=10"


def test_icmp_echo():
    echo = IcmpEcho.request(9, 3, b"abc")
    ip = Ipv4Packet(IP1, IP2, IpProtocol.ICMP, echo.to_bytes())
    d = decode_frame(octets(Frame.carrying(5, H2, H1, ETHERTYPE_IPV4, ip.to_bytes())))
    assert d.protocol == "ICMP"
    assert d.summary == "Echo request id=9 seq=3"


def test_raw_test_frames_and_fragments():
    d = decode_frame(octets(Frame(6, H2, H1, 100)))
    assert d.protocol == "Ethernet"
    assert layer(d, "Data") == {"Length": "82 bytes"}  # 100 - 14 header - 4 FCS
    assert decode_frame(b"\x01\x02").summary == "fragment of 2 bytes"
    cut = tcp_frame(b"A1 NOOP\r\n")[:30]  # a collision fragment: the IPv4 header is cut
    assert decode_frame(cut).summary.startswith("undecodable")


def test_long_and_unfinished_imap_lines_are_marked():
    assert imap_line(b"a" * 500 + b"\r\n") == "a" * LINE_LIMIT + "…"
    assert imap_line(b"* 1 FETCH (BODY[] {120}") == "* 1 FETCH (BODY[] {120} …"
