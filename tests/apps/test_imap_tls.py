"""IMAPS (993) against IMAP (143) in the simulation: what TLS costs a session.

A server-first protocol's greeting leaves as soon as TCP is up; over TLS it waits for
the handshake. TLS 1.3 needs the client's hello, the server's flight and the client's
Finished before the server may speak: one round trip more than clear text. TLS 1.2 has
one more flight, but the server sends the greeting with its own Finished: also one round
trip, for a server-first protocol. On long links the difference is that many round
trips, plus the time to serialize the handshake's octets.
"""

from __future__ import annotations

import pytest

import netsim
from netsim.net.tls import shape

SCENARIO = """
name: imaps
duration: 1s
topology:
  defaults:
    link: {{speed: 10G, delay: {delay}}}
  nodes:
    h1: {{kind: host}}
    h2: {{kind: host}}
    sw1: {{kind: switch, ports: 4}}
    sw2: {{kind: switch, ports: 4}}
    mail1: {{kind: host}}
  links:
    - endpoints: [h1, sw1]
    - endpoints: [h2, sw1]
    - endpoints: [sw1, sw2]
    - endpoints: [sw2, mail1]
traffic:
  - kind: imap
    server: mail1
    clients: [h1]
    session: [NOOP]
  - kind: imap
    server: mail1
    clients: [h2]
    port: 993
    tls_version: {version}
    session: [NOOP]
{extra}
"""

LINKS, RATE = 3, 10e9


def run(version: str = "1.3", delay: str = "1ms", extra: str = ""):
    text = SCENARIO.format(version=version, delay=delay, extra=extra)
    return netsim.run(netsim.loads(text)).imap


@pytest.mark.parametrize("version", ["1.3", "1.2"])
def test_993_costs_the_handshake_round_trips_more_than_143(version):
    imap = run(version).set_index(["client", "command"])
    assert (imap["status"] == "OK").all()
    plain, tls = imap.loc[("h1", "CONNECT")], imap.loc[("h2", "CONNECT")]
    rtt = 2 * LINKS * 1e-3
    extra = tls["latency"] - plain["latency"]
    # What the extra octets take to serialize, hop by hop, with generous per-frame headers.
    octets = tls["bytes_in"] + tls["bytes_out"] + 20 * (14 + 20 + 20 + 4 + 8 + 12)
    serialization = LINKS * octets * 8 / RATE
    trips = shape(version).round_trips_server_first
    assert trips == 1
    assert trips * rtt <= extra <= trips * rtt + serialization


@pytest.mark.parametrize("version", ["1.3", "1.2"])
def test_the_connect_row_counts_the_handshake_octets(version):
    imap = run(version).set_index(["client", "command"])
    s = shape(version)
    client_flights = sum(f.octets for f in s.handshake if f.sender == "client")
    server_flights = sum(f.octets for f in s.handshake + s.post_handshake if f.sender == "server")
    plain, tls = imap.loc[("h1", "CONNECT")], imap.loc[("h2", "CONNECT")]
    assert tls["bytes_out"] == client_flights
    # The greeting, in one record: header, plaintext, and the version's overhead.
    assert tls["bytes_in"] == server_flights + plain["bytes_in"] + 5 + s.record_overhead


def test_every_command_over_tls_carries_one_record_more_of_overhead_each_way():
    imap = run("1.3").set_index(["client", "command"])
    plain, tls = imap.loc[("h1", "NOOP")], imap.loc[("h2", "NOOP")]
    overhead = 5 + shape("1.3").record_overhead
    assert tls["bytes_out"] == plain["bytes_out"] + overhead
    assert tls["bytes_in"] == plain["bytes_in"] + overhead


def test_starttls_upgrades_a_clear_text_session_after_its_greeting():
    extra = """  - kind: imap
    server: mail1
    clients: [h3]
    port: 144
    tls: starttls
    session: [NOOP]"""
    text = (
        SCENARIO.format(version="1.3", delay="1ms", extra=extra)
        .replace("    h2: {kind: host}", "    h2: {kind: host}\n    h3: {kind: host}")
        .replace(
            "    - endpoints: [h2, sw1]", "    - endpoints: [h2, sw1]\n    - endpoints: [h3, sw1]"
        )
    )
    imap = netsim.run(netsim.loads(text)).imap
    h3 = imap[imap["client"] == "h3"]
    assert list(h3["command"]) == [
        "CONNECT",
        "STARTTLS",
        "TLS",
        "LOGIN",
        "SELECT",
        "NOOP",
        "LOGOUT",
    ]
    assert (h3["status"] == "OK").all()
    rtt = 2 * LINKS * 1e-3
    tls_row = h3.set_index("command").loc["TLS"]
    assert rtt <= tls_row["latency"] < 2 * rtt  # TLS 1.3: one round trip before the client talks
    noop = imap.set_index(["client", "command"])["bytes_out"]
    assert noop[("h3", "NOOP")] == noop[("h2", "NOOP")]  # now inside records as on 993


def test_implicit_tls_on_one_port_and_clear_text_on_the_same_port_is_an_error():
    text = SCENARIO.format(version="1.3", delay="1ms", extra="").replace(
        "port: 993", "port: 143\n    tls: implicit"
    )
    with pytest.raises(netsim.ScenarioError) as caught:
        netsim.loads(text)
    assert "already serves mail1:143 without TLS" in str(caught.value)
