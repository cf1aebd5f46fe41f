"""Coming back online: RFC 4549's resynchronisation, and CONDSTORE/QRESYNC (RFC 7162).

A laptop's mail program goes offline at 1 s and comes back at 3 s. Meanwhile the same
user's phone (a second IMAP session) flags, unflags, deletes and expunges messages, and
new mail arrives. Back online the laptop must end up with exactly the server's mailbox:
every UID, every flag, nothing expunged left behind. The three methods get there at
different costs:

- ``plain`` asks for the flags of every message it knows: its cost grows with the mailbox;
- ``condstore`` asks only for the flags changed since the HIGHESTMODSEQ it remembers,
  but must list the UIDs still there to learn what was expunged;
- ``qresync`` gets both in the answer to its SELECT: its cost grows with the changes.

The laptop's own changes (messages marked read offline) are replayed with
``UNCHANGEDSINCE``: one the phone changed meanwhile is refused (``MODIFIED``), and the
server's state wins.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import netsim
from netsim.apps import imap_offline
from netsim.apps.imap_offline import METHODS, OfflineImapClient
from netsim.engine.sim import Simulation
from netsim.mail.store import Mailbox
from netsim.traffic import mail_hosts


def scenario(
    method: str = "auto",
    messages: int = 20,
    phone: list[str] | None = None,
    mail_at: list[str] | None = None,
) -> dict[str, Any]:
    """The laptop (offline from 1 s to 3 s), its user's phone at 1.5 s, mail at ``mail_at``."""
    traffic: list[dict[str, Any]] = [
        {
            "kind": "imap",
            "server": "mail1",
            "clients": ["laptop"],
            "session": ["disconnected"],
            "resync": method,
            "think": "500ms",
            "mailbox": {"messages": messages},
        }
    ]
    if phone:
        traffic.append(
            {
                "kind": "imap",
                "name": "phone",
                "server": "mail1",
                "clients": ["laptop"],
                "start": "1500ms",
                "session": phone,
            }
        )
    if mail_at:
        traffic.append(
            {"kind": "smtp", "server": "mail1", "clients": ["h2"], "to": ["laptop"],
             "schedule": mail_at}
        )  # fmt: skip
    return {
        "name": "resync",
        "duration": "5s",
        "topology": {
            "defaults": {"link": {"speed": "100M", "delay": "2us"}},
            "nodes": {
                "laptop": {"kind": "host"},
                "h2": {"kind": "host"},
                "sw1": {"kind": "switch", "ports": 4},
                "mail1": {"kind": "host"},
            },
            "links": [
                {"endpoints": ["laptop", "sw1"]},
                {"endpoints": ["h2", "sw1"]},
                {"endpoints": ["sw1", "mail1"]},
            ],
        },
        "traffic": traffic,
        "events": [
            {"at": "1s", "action": "mail-offline", "host": "laptop"},
            {"at": "3s", "action": "mail-online", "host": "laptop"},
        ],
    }


class Run:
    """A finished run with the laptop's client and the server's INBOX still at hand."""

    def __init__(
        self, spec: dict[str, Any], during: Callable[[Simulation, Mailbox], None] | None = None
    ) -> None:
        gc.collect()  # earlier runs' simulations leave the registry of clients
        before = set(imap_offline._CLIENTS)
        found: list[Simulation] = []

        def grab() -> None:
            (sim,) = (s for s in list(imap_offline._CLIENTS) if s not in before)
            found.append(sim)
            if during is not None:
                during(sim, self.inbox_of(sim))

        self.results = netsim.run(netsim.loads(yaml.safe_dump(spec)), on_start=grab)
        (self.sim,) = found
        client = imap_offline.client_on(self.sim, "laptop")
        assert client is not None
        self.client: OfflineImapClient = client
        self.inbox = self.inbox_of(self.sim)

    @staticmethod
    def inbox_of(sim: Simulation) -> Mailbox:
        host = mail_hosts._HOSTS[sim]["mail1"]
        box = host.store.mailbox("laptop", "INBOX")
        assert box is not None
        return box

    def server_flags(self) -> dict[int, frozenset[str]]:
        return {m.uid: frozenset(m.flags) for m in self.inbox.messages}

    def resyncs(self) -> Any:
        imap = self.results.imap
        return imap[(imap["command"] == "RESYNC") & (imap["session"] == "imap1:laptop")]

    def rows(self, after: float, commands: list[str]) -> Any:
        imap = self.results.imap
        laptop = imap[(imap["session"] == "imap1:laptop") & (imap["t_start"] >= after)]
        return laptop[laptop["command"].isin(commands)]


PHONE_EDITS = st.sampled_from(
    ["+FLAGS (\\Flagged)", "-FLAGS (\\Seen)", "+FLAGS (\\Seen)", "+FLAGS (\\Deleted)",
     "-FLAGS (\\Flagged)", "FLAGS (\\Answered)"]
)  # fmt: skip
UID_SETS = st.tuples(st.integers(1, 14), st.integers(0, 3)).map(
    lambda t: f"{t[0]}:{t[0] + t[1]}" if t[1] else str(t[0])
)
EDIT = st.tuples(UID_SETS, PHONE_EDITS).map(lambda t: [f"UID STORE {t[0]} {t[1]}"])
DELETE = UID_SETS.map(lambda uids: [f"UID STORE {uids} +FLAGS (\\Deleted)", "EXPUNGE"])
PHONE_STEPS = st.lists(st.one_of(EDIT, DELETE), min_size=1, max_size=4).map(
    lambda steps: [command for step in steps for command in step]
)


@pytest.mark.parametrize("method", METHODS)
@settings(derandomize=True, max_examples=8, deadline=None)
@given(phone=PHONE_STEPS, mails=st.integers(0, 2))
def test_after_the_resync_the_cache_is_the_servers_mailbox(
    method: str, phone: list[str], mails: int
) -> None:
    """Whatever the phone did offline and whatever mail came, the laptop's cache (UIDs,
    flags, UIDNEXT; with CONDSTORE each message's MODSEQ too) equals the server's INBOX
    once it has resynchronised and replayed its own changes."""
    mail_at = ["2s", "2200ms"][:mails]
    run = Run(scenario(method, messages=12, phone=phone, mail_at=mail_at))
    imap = run.results.imap
    assert imap["status"].isin(["OK", "+", "server-wins"]).all(), imap[["command", "status"]]
    assert list(run.resyncs()["resync"]) == [method, method]
    cache = run.client.cache
    assert cache.flags == run.server_flags()
    assert cache.uidnext == run.inbox.uidnext
    if method != "plain":
        assert cache.modseqs == {m.uid: m.modseq for m in run.inbox.messages}


def test_qresync_costs_fewer_bytes_than_condstore_and_plain_in_a_large_mailbox() -> None:
    """One flag changed in 2000 messages: QRESYNC hears of that one message; CONDSTORE
    of that one too, but lists the 2000 UIDs to find expunges; plain refetches all."""
    cost = {}
    for method in METHODS:
        run = Run(scenario(method, messages=2000, phone=["UID STORE 7 +FLAGS (\\Flagged)"]))
        back = run.resyncs().iloc[1]
        cost[method] = (back["bytes_in"], back["round_trips"])
        assert run.client.cache.flags == run.server_flags()
    assert cost["qresync"][0] < cost["condstore"][0] < cost["plain"][0]
    assert cost["qresync"][0] * 50 < cost["plain"][0]
    # ENABLE, SELECT, new mail; SELECT, FETCH CHANGEDSINCE, SEARCH, new; SELECT, FETCH, new.
    assert (cost["qresync"][1], cost["condstore"][1], cost["plain"][1]) == (3, 4, 3)


def test_nothing_changed_costs_condstore_no_fetch_at_all() -> None:
    """An unchanged HIGHESTMODSEQ means no flag changed and nothing was expunged."""
    run = Run(scenario("condstore", messages=50))
    back = run.rows(3.0, ["UID FETCH", "UID SEARCH"])
    # The only fetch before the replay asks for new mail (1 FETCH of UIDNEXT:*).
    first_store = run.rows(3.0, ["UID STORE"])["t_start"].min()
    assert list(back[back["t_start"] < first_store]["command"]) == ["UID FETCH"]


def test_a_change_made_offline_to_a_message_changed_elsewhere_loses_to_the_server() -> None:
    """The phone flags every message at 1.5 s. The laptop's messages marked read after
    1 s carry the mod-sequences of before: the server refuses them (MODIFIED), the laptop
    fetches their flags again and records a CONFLICT; the server's state wins."""
    run = Run(scenario("qresync", phone=["UID STORE 1:* +FLAGS (\\Flagged)"]))
    conflicts = run.rows(3.0, ["CONFLICT"])
    assert len(conflicts) >= 2
    assert (conflicts["status"] == "server-wins").all()
    lost = [int(uid) for uid in conflicts["uids"]]
    for uid in lost:
        assert "\\Seen" not in run.server_flags()[uid]
        assert "\\Seen" not in run.client.cache.flags[uid]
    assert run.client.cache.flags == run.server_flags()


def test_without_condstore_the_last_writer_wins_and_nothing_conflicts() -> None:
    run = Run(scenario("plain", phone=["UID STORE 1:* +FLAGS (\\Flagged)"]))
    assert run.rows(3.0, ["CONFLICT"]).empty
    stores = run.rows(3.0, ["UID STORE"])
    assert len(stores) == 4
    assert run.client.cache.flags == run.server_flags()


@pytest.mark.parametrize("method", METHODS)
def test_a_new_uidvalidity_drops_the_cache_and_the_queued_flag_changes(method: str) -> None:
    """The server rebuilt the INBOX's index at 2 s (a new UIDVALIDITY): the cached UIDs
    and the UIDs in the queue name nothing any more (RFC 4549 4.1). The client fetches
    everything again, as the first time, and sends none of its queued flag changes."""

    def rebuild(sim: Simulation, inbox: Mailbox) -> None:
        def renumber() -> None:
            inbox.uidvalidity += 1000

        sim.call_at(2.0, renumber)

    run = Run(scenario(method, messages=30), during=rebuild)
    first, back = run.resyncs()["bytes_in"]
    assert back >= first * 0.9  # everything again, not the changes
    assert run.rows(3.0, ["UID STORE"]).empty
    assert len(run.rows(3.0, ["APPEND"])) == 1  # a note filed offline still goes out
    assert run.client.cache.uidvalidity == run.inbox.uidvalidity
    assert run.client.cache.flags == run.server_flags()


def test_the_resync_rows_say_which_method_was_used() -> None:
    """imap.csv's RESYNC row and delivery.csv's imap-resync row name the method, so a lab
    can compare methods from the tables alone."""
    run = Run(scenario("auto", mail_at=["2s"]))
    assert list(run.resyncs()["resync"]) == ["qresync", "qresync"]
    delivery = run.results.extra["delivery"]
    assert list(delivery[delivery["via"] == "imap-resync"]["resync"]) == ["qresync"]


def test_a_server_without_qresync_gets_the_next_method_down() -> None:
    class Probe:
        def __init__(self, resync: str, offered: set[str]) -> None:
            self.resync = resync
            self.conn = type("Conn", (), {"capabilities": offered})()

    choose = OfflineImapClient.choose_method
    both = {"IMAP4REV1", "ENABLE", "CONDSTORE", "QRESYNC"}
    assert choose(Probe("auto", both)) == "qresync"
    assert choose(Probe("auto", {"IMAP4REV1", "CONDSTORE"})) == "condstore"
    assert choose(Probe("qresync", {"IMAP4REV1"})) == "plain"
    assert choose(Probe("condstore", both)) == "condstore"
    assert choose(Probe("plain", both)) == "plain"


def test_resync_without_a_disconnected_session_is_a_clear_error() -> None:
    spec = scenario("qresync")
    spec["traffic"][0]["session"] = ["check-new-mail"]
    with pytest.raises(netsim.ScenarioError) as caught:
        netsim.loads(yaml.safe_dump(spec))
    (problem,) = caught.value.problems
    assert problem.path.startswith("traffic[0]")
    assert "session: [disconnected]" in problem.message
