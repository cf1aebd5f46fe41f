"""Mail that arrives during a run: SMTP submission, IDLE push, polling, and server cost.

A message submitted with SMTP is in the store once the server has read the end of its
DATA (and, with a cost model, spent the CPU time and the fsyncs of taking it); an IMAP
session in IDLE is told at that moment (``* n EXISTS``), so the push reaches the client
one fabric crossing later. The ``250`` that tells the sender its mail is safe leaves at
the same moment, on the same server uplink, just behind the push.

On an idle store-and-forward path a frame of W octets (preamble included) takes
W*8/R + d per link; back-to-back frames on one transmitter are 12 octets of inter-frame
gap apart. A TCP segment's frame is 14 + 20 + 20 + payload + 4 octets, 64 at least.
"""

from __future__ import annotations

import pytest

import netsim
from netsim.apps.server_cost import measured

SCENARIO = """
name: delivery
duration: 2s
topology:
  defaults:
    link: {{speed: 100M, delay: 2us}}
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
  - kind: imap
    server: mail1
    clients: [h1]
    session: [wait-for-mail]
    idle: 1s
    think: 0s
    mailbox: {{messages: 5}}
  - kind: smtp
    server: mail1
    clients: [h2]
    to: [h1]
    schedule: [100ms]
{more}
"""

R, D, LINKS = 100e6, 2e-6, 2


def wire(payload: int) -> int:
    """Octets a segment with ``payload`` octets occupies on the wire, preamble included."""
    return max(64, 14 + 20 + 20 + payload + 4) + 8


def one_way(payload: int) -> float:
    return LINKS * (wire(payload) * 8 / R + D)


def run(more: str = "") -> netsim.Results:
    return netsim.run(netsim.loads(SCENARIO.format(more=more)))


def test_an_idle_push_arrives_one_fabric_crossing_after_the_message_is_stored():
    res = run()
    (row,) = res.extra["delivery"].itertuples()
    assert (row.client, row.via, row.recipient) == ("h1", "imap-idle", "h1")
    smtp = res.extra["smtp"].set_index("command")
    assert row.t_submitted == smtp.loc["MAIL", "t_start"]  # the envelope's first byte
    push = len(b"* 6 EXISTS\r\n* 1 RECENT\r\n")
    assert row.t_seen - row.t_stored == pytest.approx(one_way(push), abs=1e-9)
    assert row.push_latency == pytest.approx(one_way(push), abs=1e-9)
    # The 250 leaves the server's port right behind the push (and its inter-frame gap).
    reply = int(smtp.loc["MESSAGE", "bytes_in"])
    behind = (wire(push) + 12) * 8 / R
    assert row.t_accepted - row.t_stored == pytest.approx(behind + one_way(reply), abs=1e-9)
    assert row.latency == pytest.approx(row.t_seen - row.t_submitted, abs=1e-12)


def test_the_server_cost_model_adds_its_cpu_time_and_fsyncs_before_the_message_is_stored():
    plain = run()
    costed = run("mail_servers: {mail1: {cores: 2, cpu_speed: 0.5, fsync: 3ms}}")
    model = measured("smtp")
    smtp = costed.extra["smtp"].set_index("command")
    message = smtp.loc["MESSAGE"]
    octets = int(message["bytes_out"]) + int(message["bytes_in"])
    expected = model.cpu_seconds("MESSAGE", octets) / 0.5 + model.cost("MESSAGE").fsyncs * 3e-3
    assert model.cost("MESSAGE").fsyncs >= 1  # a durable store syncs the message
    base = plain.extra["smtp"].set_index("command").loc["MESSAGE", "latency"]
    assert message["latency"] - base == pytest.approx(expected, abs=1e-9)
    # Every other command costs its CPU time too, and nothing else.
    for verb in ("EHLO", "AUTH", "QUIT"):
        extra = (
            smtp.loc[verb, "latency"]
            - plain.extra["smtp"].set_index("command").loc[verb, "latency"]
        )
        octets = int(smtp.loc[verb, "bytes_out"]) + int(smtp.loc[verb, "bytes_in"])
        assert extra == pytest.approx(model.cpu_seconds(verb, octets) / 0.5, abs=1e-9)
    # The push still follows the store by one crossing: the store is when the disk is done.
    (row,) = costed.extra["delivery"].itertuples()
    push = len(b"* 6 EXISTS\r\n* 1 RECENT\r\n")
    assert row.t_seen - row.t_stored == pytest.approx(one_way(push), abs=1e-9)


def test_an_imap_poll_sees_new_mail_in_the_reply_to_the_next_noop():
    more = """  - kind: imap
    server: mail1
    clients: [h2]
    session: [check-new-mail]
    repeat: 3
    think: 400ms
    mailbox: {messages: 5}"""
    text = SCENARIO.format(more=more).replace("to: [h1]", "to: [h1, h2]\n    count: 2")
    text = text.replace("    schedule: [100ms]\n", "    start: 100ms\n    interval: 10ms\n")
    res = netsim.run(netsim.loads(text))
    delivery = res.extra["delivery"].set_index("recipient")
    assert delivery.loc["h1", "via"] == "imap-idle"
    assert delivery.loc["h2", "via"] == "imap-poll"
    imap = res.extra["imap"]
    noops = imap[(imap["client"] == "h2") & (imap["command"] == "NOOP")]
    # The first NOOP after the delivery (at about 110 ms) is the second poll, at 400 ms.
    after = noops[noops["t_start"] > delivery.loc["h2", "t_stored"]]
    assert delivery.loc["h2", "t_seen"] == after["t_end"].iloc[0]
    assert delivery.loc["h2", "latency"] > 0.25  # polling waited; the push did not
    assert delivery.loc["h1", "latency"] < 0.01


def test_pop3_download_and_delete_empties_the_maildrop_and_keep_leaves_it():
    def pop3(keep: bool) -> netsim.Results:
        more = f"""  - kind: pop3
    server: mail1
    clients: [h2]
    poll: 500ms
    polls: 2
    keep: {str(keep).lower()}
    mailbox: {{messages: 3}}"""
        text = SCENARIO.format(more=more).replace("to: [h1]", "to: [h1]\n    count: 1")
        return netsim.run(netsim.loads(text))

    deleting = pop3(keep=False).extra["pop3"]
    keeping = pop3(keep=True).extra["pop3"]
    for table in (deleting, keeping):
        assert (table["status"] == "+OK").all()
    first, second = (deleting[deleting["session"].str.endswith(f":{n}")] for n in (1, 2))
    assert (first["command"] == "RETR").sum() == 3 and (first["command"] == "DELE").sum() == 3
    # DELE took effect at QUIT: the second poll finds an empty maildrop.
    assert second.set_index("command").loc["STAT", "reply"].startswith("0 ")
    assert (second["command"] == "RETR").sum() == 0
    first, second = (keeping[keeping["session"].str.endswith(f":{n}")] for n in (1, 2))
    assert (first["command"] == "RETR").sum() == 3 and (first["command"] == "DELE").sum() == 0
    # Kept on the server: still three, and UIDL tells the client it has them all.
    assert second.set_index("command").loc["STAT", "reply"].startswith("3 ")
    assert (second["command"] == "RETR").sum() == 0


def test_pop3_sees_mail_delivered_between_polls_at_the_next_poll():
    more = """  - kind: pop3
    server: mail1
    clients: [h2]
    poll: 500ms
    polls: 2
    mailbox: {messages: 0}"""
    text = SCENARIO.format(more=more).replace("to: [h1]", "to: [h1, h2]\n    count: 2")
    text = text.replace("    schedule: [100ms]\n", "    start: 100ms\n    interval: 10ms\n")
    res = netsim.run(netsim.loads(text))
    delivery = res.extra["delivery"].set_index("recipient")
    assert delivery.loc["h2", "via"] == "pop3"
    pop3 = res.extra["pop3"]
    second_uidl = pop3[(pop3["session"].str.endswith(":2")) & (pop3["command"] == "UIDL")]
    assert delivery.loc["h2", "t_seen"] == second_uidl["t_end"].iloc[0]
    assert delivery.loc["h2", "t_seen"] > 0.5  # it waited for the poll at 500 ms


def test_a_recipient_who_reads_no_mail_there_is_a_clear_error():
    text = SCENARIO.format(more="").replace("to: [h1]", "to: [h1, h9]")
    with pytest.raises(netsim.ScenarioError) as caught:
        netsim.loads(text)
    (problem,) = caught.value.problems
    assert problem.path == "traffic[1].to[1]"
    assert "h9 reads no mail on mail1" in problem.message


def test_the_same_scenario_and_seed_give_the_same_tables():
    a, b = run(), run()
    for name in ("smtp", "imap", "delivery"):
        assert a.extra[name].equals(b.extra[name])


def test_summary_json_has_latency_by_command_and_by_delivery_path():
    res = run()
    assert set(res.summary["smtp"]["by_command"]) >= {"MAIL", "RCPT", "DATA", "MESSAGE"}
    assert res.summary["delivery"]["by_via"]["imap-idle"]["max"] < 1e-3
