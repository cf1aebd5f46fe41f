"""A frame's octets, decoded layer by layer the way a protocol analyser shows them.

Ethernet II (and an 802.1Q tag), then ARP, or IPv4 with ICMP or TCP, and the first line
of an IMAP exchange a segment carries. Each layer is a name and (field, value) pairs;
the frame also gets a protocol (for colours and filters), a one-line summary (for the
event list) and a conversation (the two ends, to follow one exchange). The decoding
reuses netsim's own parsers, which the protocol tests check against tshark.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from netsim.l2.frame import ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_VLAN, mac_to_str
from netsim.net.arp import ArpOp, ArpPacket
from netsim.net.errors import DecodeError
from netsim.net.icmp import IcmpEcho, decode_icmp
from netsim.net.ipv4 import IpProtocol, Ipv4Packet
from netsim.net.tcp.segment import TcpSegment, flags_str

IMAP_PORTS = frozenset({143, 993})
PROTOCOLS = ("ARP", "IMAP", "TCP", "ICMP", "IPv4", "Ethernet")
"""Every protocol a frame can be labelled with, outermost last."""
LINE_LIMIT = 120
"""Characters of an IMAP line shown before it is cut with an ellipsis."""

Fields = list[tuple[str, str]]


@dataclass
class Decoded:
    """What the replay shows of one frame."""

    protocol: str
    summary: str
    conversation: str
    layers: list[tuple[str, Fields]] = field(default_factory=list)


def decode_frame(octets: bytes) -> Decoded:
    """Decode ``octets`` (destination address to the end of the payload, no FCS)."""
    if len(octets) < 14:
        return Decoded("Ethernet", f"fragment of {len(octets)} bytes", "fragments")
    dst, src = octets[0:6], octets[6:12]
    fields: Fields = [
        ("Destination", mac_to_str(int.from_bytes(dst, "big"))),
        ("Source", mac_to_str(int.from_bytes(src, "big"))),
    ]
    layers: list[tuple[str, Fields]] = [("Ethernet II", fields)]
    (ethertype,) = struct.unpack_from("!H", octets, 12)
    body = octets[14:]
    if ethertype == ETHERTYPE_VLAN and len(body) >= 4:
        tci, ethertype = struct.unpack_from("!HH", body)
        layers.append(
            (
                "802.1Q",
                [
                    ("Priority (PCP)", str(tci >> 13)),
                    ("DEI", str((tci >> 12) & 1)),
                    ("VLAN ID", str(tci & 0x0FFF)),
                ],
            )
        )
        body = body[4:]
    fields.append(("Type", f"0x{ethertype:04x}"))
    ends = f"{fields[1][1]} ↔ {fields[0][1]}"
    try:
        if ethertype == ETHERTYPE_ARP:
            return _arp(body, layers)
        if ethertype == ETHERTYPE_IPV4:
            return _ipv4(body, layers)
    except DecodeError as e:
        return Decoded("Ethernet", f"undecodable: {e}", ends, layers)
    layers.append(("Data", [("Length", f"{len(body)} bytes")]))
    return Decoded("Ethernet", f"Ethernet frame, type 0x{ethertype:04x}", ends, layers)


def _arp(body: bytes, layers: list[tuple[str, Fields]]) -> Decoded:
    arp = ArpPacket.from_bytes(body)
    request = arp.op is ArpOp.REQUEST
    layers.append(
        (
            "ARP",
            [
                ("Operation", "request (1)" if request else "reply (2)"),
                ("Sender MAC", mac_to_str(arp.sender_mac)),
                ("Sender IP", str(arp.sender_ip)),
                ("Target MAC", mac_to_str(arp.target_mac)),
                ("Target IP", str(arp.target_ip)),
            ],
        )
    )
    if request:
        summary = f"Who has {arp.target_ip}? Tell {arp.sender_ip}"
    else:
        summary = f"{arp.sender_ip} is at {mac_to_str(arp.sender_mac)}"
    pair = sorted((str(arp.sender_ip), str(arp.target_ip)))
    return Decoded("ARP", summary, f"ARP {pair[0]} ↔ {pair[1]}", layers)


def _ipv4(body: bytes, layers: list[tuple[str, Fields]]) -> Decoded:
    ip = Ipv4Packet.from_bytes(body, verify_checksum=False)
    flags = ("DF " if ip.dont_fragment else "") + ("MF" if ip.more_fragments else "")
    layers.append(
        (
            "IPv4",
            [
                ("Source", str(ip.src)),
                ("Destination", str(ip.dst)),
                ("Protocol", _protocol_name(ip.protocol)),
                ("Total length", str(ip.total_length)),
                ("Identification", f"0x{ip.identification:04x}"),
                ("Flags", flags.strip() or "none"),
                ("TTL", str(ip.ttl)),
            ],
        )
    )
    pair = sorted((str(ip.src), str(ip.dst)))
    if ip.protocol == IpProtocol.TCP:
        return _tcp(ip, layers)
    if ip.protocol == IpProtocol.ICMP:
        message = decode_icmp(ip.payload)
        if isinstance(message, IcmpEcho):
            kind = "Echo request" if message.is_request else "Echo reply"
            fields = [
                ("Type", kind),
                ("Identifier", str(message.identifier)),
                ("Sequence", str(message.sequence)),
                ("Data", f"{len(message.data)} bytes"),
            ]
            summary = f"{kind} id={message.identifier} seq={message.sequence}"
        else:
            fields = [("Type", str(message.type)), ("Code", str(message.code))]
            summary = f"ICMP type {message.type} code {message.code}"
        layers.append(("ICMP", fields))
        return Decoded("ICMP", summary, f"ICMP {pair[0]} ↔ {pair[1]}", layers)
    return Decoded(
        "IPv4", f"{ip.src} → {ip.dst} protocol {ip.protocol}", f"{pair[0]} ↔ {pair[1]}", layers
    )


def _protocol_name(number: int) -> str:
    try:
        return f"{IpProtocol(number).name} ({number})"
    except ValueError:
        return str(number)


def _tcp(ip: Ipv4Packet, layers: list[tuple[str, Fields]]) -> Decoded:
    seg = TcpSegment.from_bytes(ip.payload, ip.src, ip.dst, verify_checksum=False)
    flags = flags_str(seg.flags)
    layers.append(
        (
            "TCP",
            [
                ("Source port", str(seg.src_port)),
                ("Destination port", str(seg.dst_port)),
                ("Sequence number", str(seg.seq)),
                ("Acknowledgment number", str(seg.ack)),
                ("Flags", flags),
                ("Window", str(seg.window)),
                ("Payload", f"{len(seg.payload)} bytes"),
            ],
        )
    )
    a, b = sorted([(str(ip.src), seg.src_port), (str(ip.dst), seg.dst_port)])
    conversation = f"TCP {a[0]}:{a[1]} ↔ {b[0]}:{b[1]}"
    summary = f"{seg.src_port} → {seg.dst_port} [{flags}] seq={seg.seq} ack={seg.ack}"
    summary += f" len={len(seg.payload)}"
    imap = {seg.src_port, seg.dst_port} & IMAP_PORTS
    if imap and seg.payload:
        line = imap_line(seg.payload)
        side = "server" if seg.src_port in imap else "client"
        layers.append(("IMAP", [("From", side), ("Line", line)]))
        return Decoded("IMAP", f"IMAP {side}: {line}", conversation, layers)
    return Decoded("IMAP" if imap else "TCP", summary, conversation, layers)


def imap_line(payload: bytes) -> str:
    """The first line of ``payload`` as text (cut at :data:`LINE_LIMIT` characters)."""
    line = payload.split(b"\r\n", 1)[0]
    text = line.decode("utf-8", errors="replace")
    if len(text) > LINE_LIMIT:
        text = text[:LINE_LIMIT] + "…"
    if b"\r\n" not in payload:
        text += " …"  # the line continues in the next segment (a literal, say)
    return text
