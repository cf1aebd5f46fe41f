"""A host's TCP layer: 4-tuple lookup, listeners and backlog, RSTs for strangers."""

from __future__ import annotations

import pytest

from netsim.net.addressing import IPv4Address
from netsim.net.ipv4 import IpProtocol, Ipv4Packet
from netsim.net.tcp.demux import EPHEMERAL_PORTS, TcpDemux
from netsim.net.tcp.endpoint import Endpoint
from netsim.net.tcp.segment import TcpFlags, TcpSegment
from netsim.net.tcp.states import TcpState

from .harness import A, B, Network

C = IPv4Address("10.0.0.3")


def test_rst_for_a_syn_to_a_closed_port() -> None:
    """RFC 9293 §3.10.7.1: no ACK in the offender, so <SEQ=0><ACK=SEG.SEQ+SEG.LEN><RST,ACK>."""
    demux = TcpDemux(B)
    syn = TcpSegment(40000, 25, 1000, 0, TcpFlags.SYN, 65535, mss=1460)
    assert demux.receive_segment(A, syn, 0.0) is None
    (out,) = demux.segments_to_send(0.0)
    assert (out.src, out.dst) == (B, A)
    rst = out.segment
    assert (rst.src_port, rst.dst_port, rst.seq, rst.ack) == (25, 40000, 0, 1001)
    assert rst.flags == TcpFlags.RST | TcpFlags.ACK
    assert demux.stats.resets_sent == 1


def test_rst_for_an_ack_to_nobody_takes_its_sequence_from_the_ack() -> None:
    """With an ACK in the offender, the RST is <SEQ=SEG.ACK><CTL=RST> so the peer accepts it."""
    demux = TcpDemux(B)
    demux.receive_segment(A, TcpSegment(40000, 143, 5, 777, TcpFlags.ACK, 100, b"x"), 0.0)
    (out,) = demux.segments_to_send(0.0)
    assert (out.segment.seq, out.segment.flags) == (777, TcpFlags.RST)


def test_never_a_rst_for_a_rst() -> None:
    """Answering RSTs with RSTs could loop forever between two confused hosts."""
    demux = TcpDemux(B)
    demux.receive_segment(A, TcpSegment(40000, 143, 5, 0, TcpFlags.RST, 0), 0.0)
    assert demux.segments_to_send(0.0) == []


def test_bad_checksum_is_dropped_and_counted() -> None:
    """A corrupted segment is not answered at all: it might not even be for us."""
    demux = TcpDemux(B)
    raw = bytearray(TcpSegment(40000, 143, 5, 0, TcpFlags.SYN, 0).to_bytes(A, B))
    raw[-1] ^= 0x40
    assert demux.receive(Ipv4Packet(A, B, IpProtocol.TCP, bytes(raw)), 0.0) is None
    assert demux.stats.bad_segments == 1
    assert demux.segments_to_send(0.0) == []


def test_listener_accepts_only_established_connections() -> None:
    """accept() returns nothing during the handshake and the connection once ESTABLISHED."""
    net = Network()
    net.add_host(A)
    listener = net.add_host(B).listen(143)
    net.hosts[A].connect(Endpoint(B, 143), 0.0)
    net.run(until=0.0006)  # the SYN has arrived, the SYN-ACK is on its way
    assert listener.queued == 1 and listener.accept() is None
    net.run(until=0.01)
    conn = listener.accept()
    assert conn is not None and conn.state is TcpState.ESTABLISHED
    assert conn.local == Endpoint(B, 143) and conn.remote.ip == A
    assert listener.accept() is None


def test_full_backlog_drops_syns_silently() -> None:
    """Beyond the backlog a SYN is dropped (Linux's behaviour); the client retries later."""
    demux = TcpDemux(B)
    listener = demux.listen(143, backlog=2)
    for port in (40001, 40002, 40003):
        demux.receive_segment(A, TcpSegment(port, 143, 1, 0, TcpFlags.SYN, 1000), 0.0)
    assert listener.queued == 2
    assert demux.stats.syns_dropped == 1
    assert len(demux.segments_to_send(0.0)) == 2, "two SYN-ACKs, no RST"


def test_connections_are_told_apart_by_the_whole_four_tuple() -> None:
    """Two clients on the same port number reach two distinct server connections."""
    net = Network()
    for ip in (A, C):
        net.add_host(ip)
    listener = net.add_host(B).listen(143)
    a = net.hosts[A].connect(Endpoint(B, 143), 0.0, local_port=50000)
    c = net.hosts[C].connect(Endpoint(B, 143), 0.0, local_port=50000)
    net.run(until=0.01)
    first, second = listener.accept(), listener.accept()
    assert first is not None and second is not None and first is not second
    a.send(b"from A")
    c.send(b"from C")
    net.pump(A)
    net.pump(C)
    net.run(until=0.1)
    assert {first.read(), second.read()} == {b"from A", b"from C"}


def test_ephemeral_ports_are_distinct_and_in_range() -> None:
    """connect() picks unused ports from RFC 6335's dynamic range."""
    demux = TcpDemux(A)
    ports = {demux.connect(Endpoint(B, 143), 0.0).local.port for _ in range(50)}
    assert len(ports) == 50 and all(p in EPHEMERAL_PORTS for p in ports)


def test_duplicate_listen_is_refused() -> None:
    """One listener per port, like bind() on a real host."""
    demux = TcpDemux(B)
    demux.listen(143)
    with pytest.raises(OSError, match="already listening"):
        demux.listen(143)


def test_closed_connections_are_forgotten() -> None:
    """After TIME-WAIT the 4-tuple is free again and the demux no longer holds it."""
    net = Network()
    net.add_host(A)
    net.add_host(B).listen(143)
    conn = net.hosts[A].connect(Endpoint(B, 143), 0.0)
    net.run(until=0.01)
    conn.close()
    net.pump(A)
    net.run(until=0.1)
    listener = net.hosts[B].listener(143)
    assert listener is not None
    server = listener.accept()
    assert server is not None
    server.close()
    net.pump(B)
    net.run(until=200.0)
    assert list(net.hosts[A].connections) == [] and list(net.hosts[B].connections) == []
    assert net.hosts[A].next_timer() is None
