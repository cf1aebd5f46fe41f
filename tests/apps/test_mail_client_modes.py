"""How mail clients save round trips and octets: pipelining, header-only fetch, and what
TLS from the first byte costs SMTP (465 against 587) and POP3 (995 against 110).

Pipelining (RFC 3501 5.5, RFC 2920, RFC 2449) sends commands that do not depend on each
other's results back to back: three commands then cost about one round trip instead of
three. A client on a slow link that fetches only headers moves a fraction of the octets.
"""

from __future__ import annotations

import pytest

import netsim
from netsim.net.tls import shape

SCENARIO = """
name: modes
duration: 5s
topology:
  defaults:
    link: {{speed: {speed}, delay: {delay}}}
  nodes:
    h1: {{kind: host}}
    h2: {{kind: host}}
    sw1: {{kind: switch, ports: 4}}
    mail1: {{kind: host}}
  links:
    - endpoints: [h1, sw1]
    - endpoints: [h2, sw1]
    - endpoints: [sw1, mail1]
traffic:
{traffic}
"""


def run(traffic: str, speed: str = "100M", delay: str = "1ms") -> netsim.Results:
    return netsim.run(netsim.loads(SCENARIO.format(traffic=traffic, speed=speed, delay=delay)))


def test_pipelined_commands_share_one_round_trip():
    imap = """  - kind: imap
    server: mail1
    clients: [h1]
    session: [check-new-mail]
    pipelining: {flag}"""
    rtt = 2 * 2 * 1e-3
    for flag, most_rtts in (("false", None), ("true", 1.5)):
        rows = run(imap.format(flag=flag)).imap
        work = rows[rows["command"].isin(["NOOP", "UID SEARCH", "UID FETCH"])]
        assert (work["status"] == "OK").all() and len(work) == 3
        span = work["t_end"].max() - work["t_start"].min()
        if most_rtts is None:
            assert span >= 3 * rtt  # one round trip each
            assert work["t_start"].nunique() == 3
        else:
            assert rtt <= span < most_rtts * rtt
            assert work["t_start"].nunique() == 1  # all three left together
            assert list(work["tag"]) == sorted(work["tag"])  # replies in order


def test_header_only_fetch_on_a_64k_link_moves_a_fraction_of_the_octets():
    imap = """  - kind: imap
    server: mail1
    clients: [h1]
    session: [read-a-message]
    fetch: {mode}
    mailbox: {{messages: 3, mean_size: 20KB, multipart: 0}}"""
    rows = {}
    for mode in ("full", "headers"):
        table = run(imap.format(mode=mode), speed="64k", delay="0s").imap
        fetches = table[table["command"] == "FETCH"]
        assert (fetches["status"] == "OK").all()
        rows[mode] = fetches.iloc[-1]  # the third FETCH: the body, or only the header
    assert rows["headers"]["bytes_in"] < 1500 < 4000 < rows["full"]["bytes_in"]
    # On 64 kb/s the time follows the octets: at least 8 bits each at 64,000 per second.
    assert rows["full"]["latency"] >= rows["full"]["bytes_in"] * 8 / 64e3
    assert rows["headers"]["latency"] < rows["full"]["latency"] / 3


SMTP_PAIR = """  - {kind: pop3, server: mail1, clients: [h1], polls: 1}
  - {kind: smtp, server: mail1, clients: [h2], to: [h1], port: 587}
  - {kind: smtp, server: mail1, clients: [h2], to: [h1], port: 465}"""
POP3_PAIR = """  - {kind: pop3, server: mail1, clients: [h1], port: 110, polls: 1}
  - {kind: pop3, server: mail1, clients: [h2], port: 995, polls: 1}"""


@pytest.mark.parametrize(("traffic", "table"), [(SMTP_PAIR, "smtp"), (POP3_PAIR, "pop3")])
def test_tls_from_the_first_byte_costs_one_round_trip_before_the_greeting(traffic, table):
    rows = netsim.run(netsim.loads(SCENARIO.format(traffic=traffic, speed="10G", delay="1ms")))
    rows = rows.extra[table]
    assert not rows["status"].str.startswith(("-", "4", "5", "failed")).any(), rows
    connects = rows[rows["command"] == "CONNECT"]
    clear = connects[connects["bytes_out"] == 0]["latency"].iloc[0]
    tls = connects[connects["bytes_out"] > 0]["latency"].iloc[0]  # the client's flights
    rtt = 2 * 2 * 1e-3
    assert shape("1.3").round_trips_server_first * rtt <= tls - clear < 1.01 * rtt


def test_pop3_stls_and_smtp_starttls_upgrade_the_session():
    traffic = """  - kind: pop3
    server: mail1
    clients: [h1]
    tls: starttls
    polls: 1
    mailbox: {messages: 2}
  - kind: smtp
    server: mail1
    clients: [h2]
    to: [h1]
    tls: starttls"""
    res = run(traffic)
    pop3 = res.extra["pop3"]
    assert list(pop3["command"][:5]) == ["CONNECT", "STLS", "TLS", "USER", "PASS"]
    assert (pop3["status"].isin(["+OK", "OK"])).all()
    smtp = res.extra["smtp"]
    assert list(smtp["command"][:5]) == ["CONNECT", "EHLO", "STARTTLS", "TLS", "EHLO"]
    assert smtp.set_index("command").loc["MESSAGE", "status"] == "250"
