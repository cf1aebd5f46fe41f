"""TLS in the simulation, sans-IO: two ends replay a real handshake's flights.

A TLS handshake is a conversation in *flights*: what one end writes before it must wait
for the other. TLS 1.3 (RFC 8446) needs one round trip before the client may send data
(ClientHello; ServerHello..Finished; the client's Finished goes out with its first data),
TLS 1.2 (RFC 5246) two. Each record has a 5-octet header (type, version, length); data
records add an AEAD tag (16 octets) and, in TLS 1.3, the real content type (1 octet) or,
in TLS 1.2 with AES-GCM, an 8-octet explicit nonce.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.net.tls import ApplicationData, Closed, HandshakeComplete, Role, TlsConnection, shape
from netsim.net.tls.connection import NEED_DATA, TlsError


def events(end: TlsConnection) -> list[object]:
    out = []
    while (ev := end.next_event()) is not NEED_DATA:
        out.append(ev)
    return out


def handshake(
    version: str, one_byte_at_a_time: bool = False
) -> tuple[TlsConnection, TlsConnection]:
    """Pass each end's flights to the other until neither has anything more to say."""
    client = TlsConnection(Role.CLIENT, shape(version))
    server = TlsConnection(Role.SERVER)  # it answers in the version the client offers
    sender, receiver = client, server
    while wire := sender.data_to_send():
        chunks = [wire[i : i + 1] for i in range(len(wire))] if one_byte_at_a_time else [wire]
        for chunk in chunks:
            receiver.receive_data(chunk)
            events(receiver)
        sender, receiver = receiver, sender
    return client, server


@pytest.mark.parametrize(("version", "round_trips"), [("1.3", 1), ("1.2", 2)])
def test_a_handshake_takes_the_versions_round_trips(version, round_trips):
    assert shape(version).round_trips == round_trips
    client, server = handshake(version)
    assert client.state.value == server.state.value == "connected"
    # The handshake octets both ends count are the measured flights' sizes.
    s = shape(version)
    total = sum(f.octets for f in s.handshake + s.post_handshake)
    assert client.octets_sent + server.octets_sent == total


@pytest.mark.parametrize(("version", "round_trips"), [("1.3", 1), ("1.2", 2)])
def test_the_client_may_speak_after_as_many_server_flights_as_round_trips(version, round_trips):
    client = TlsConnection(Role.CLIENT, shape(version))
    server = TlsConnection(Role.SERVER, shape(version))
    server_flights = 0
    while True:
        server.receive_data(client.data_to_send())
        events(server)
        server_flights += 1
        client.receive_data(server.data_to_send())
        if HandshakeComplete() in events(client):
            break
    assert server_flights == round_trips
    assert client.send(b"x")  # allowed now


@pytest.mark.parametrize("version", ["1.3", "1.2"])
def test_records_fed_one_byte_at_a_time_give_the_same_handshake(version):
    client, server = handshake(version, one_byte_at_a_time=True)
    assert client.state.value == server.state.value == "connected"


@pytest.mark.parametrize(("version", "overhead"), [("1.3", 5 + 1 + 16), ("1.2", 5 + 8 + 16)])
def test_a_data_record_adds_header_tag_and_type_or_nonce(version, overhead):
    """The framing matches what OpenSSL measured (benchmarks/tls_shapes.py)."""
    client, server = handshake(version)
    assert shape(version).record_overhead + 5 == overhead
    wire = client.send(b"a1 NOOP\r\n")
    assert len(wire) == 9 + overhead
    kind, ver, length = struct.unpack("!BHH", wire[:5])
    assert (kind, ver, length) == (23, 0x0303, 9 + overhead - 5)
    server.receive_data(wire)
    assert events(server) == [ApplicationData(b"a1 NOOP\r\n")]


@settings(derandomize=True, max_examples=50, deadline=None)
@given(data=st.binary(max_size=40000), version=st.sampled_from(["1.3", "1.2"]))
def test_any_data_comes_out_whole_in_records_of_at_most_16_kib(data, version):
    client, server = handshake(version)
    wire = server.send(data)
    records = -(-len(data) // 16384)
    assert len(wire) == len(data) + records * (5 + shape(version).record_overhead)
    client.receive_data(wire)
    got = b"".join(e.data for e in events(client) if isinstance(e, ApplicationData))
    assert got == data


def test_close_notify_closes_the_peer():
    client, server = handshake("1.3")
    server.receive_data(client.close())
    assert events(server) == [Closed()]
    with pytest.raises(TlsError):
        client.send(b"late")


def test_bytes_that_are_not_tls_are_a_clear_error():
    server = TlsConnection(Role.SERVER, shape("1.3"))
    server.receive_data(b"a1 LOGIN user pass\r\n")  # plain IMAP on the IMAPS port
    with pytest.raises(TlsError, match="content type 97"):
        server.next_event()


def test_end_of_stream_during_the_handshake_is_closed():
    server = TlsConnection(Role.SERVER, shape("1.2"))
    server.receive_data(b"")
    assert server.next_event() == Closed()


@pytest.mark.parametrize("version", ["1.3", "1.2"])
def test_a_server_answers_in_the_version_the_client_offers(version):
    _client, server = handshake(version)
    assert server.shape.version == version


@settings(derandomize=True, max_examples=200, deadline=None)
@given(
    data=st.binary(max_size=600),
    version=st.sampled_from(["1.3", "1.2", None]),
    connected=st.booleans(),
)
def test_any_bytes_give_events_need_data_or_a_tls_error(data, version, connected):
    """A peer's bytes, whatever they are, never raise anything but TlsError."""
    if connected:
        _client, end = handshake(version or "1.3")
    else:
        end = TlsConnection(Role.SERVER, shape(version) if version else None)
    end.receive_data(data)
    try:
        for _ in range(1000):
            if end.next_event() is NEED_DATA:
                break
    except TlsError:
        pass
