"""What sessions share to protect the server: a literal budget and a login ledger.

Ten connections that each stay under the per-literal cap once took a server from 110 to
560 MB; 9,000 wrong passwords a second were answered at once.  The budget caps the
octets of literals being received, in total and per user; the ledger makes every
failed login cost a delay that doubles.  Both are plain counters, tested here through
sans-IO sessions, with a fake clock where time matters.
"""

from __future__ import annotations

import pytest

from netsim.mail.imap.commands import messages
from netsim.mail.imap.limits import MAX_LOGIN_DELAY, LiteralBudget, LoginThrottle
from netsim.mail.imap.server import ImapServer, ServerConfig
from netsim.mail.store import MailStore
from netsim.mail.users import Users

from .helpers import SIMPLE, USERS, Client, make_server, split_lines

BUDGET = ServerConfig(max_literal=1000, max_literal_total=1500, max_literal_per_user=1200)


def announce(client: Client, tag: str, size: int) -> bytes:
    """Start an APPEND with a synchronizing literal; the server's answer to ``{n}``."""
    return client.raw(f"{tag} APPEND INBOX {{{size}}}\r\n".encode())


def test_a_user_cannot_have_more_than_the_per_user_budget_in_flight() -> None:
    """Alice's second connection announces a literal while her first is receiving
    one: together they would exceed her 1200 octets, so NO [LIMIT] before any data."""
    server = make_server(BUDGET)
    first, second = Client(server, "alice"), Client(server, "alice")
    assert announce(first, "a1", 1000).startswith(b"+ ")
    refused = announce(second, "a2", 300)
    assert refused.startswith(b"a2 NO [LIMIT] ") and b"per user" in refused
    assert server.literals.used_by("alice") == 1000
    out = first.raw(b"x" * 1000 + b"\r\n")
    assert b"a1 OK [APPENDUID" in out
    assert server.literals.in_flight == 0  # released when the line was complete
    assert announce(second, "a3", 300).startswith(b"+ ")


def test_all_users_together_cannot_exceed_the_total() -> None:
    """Alice holds 1000 octets in flight; Bob's 600 would make 1600 > 1500."""
    server = make_server(BUDGET)
    alice, bob = Client(server, "alice"), Client(server, "bob")
    assert announce(alice, "a1", 1000).startswith(b"+ ")
    refused = announce(bob, "b1", 600)
    assert refused.startswith(b"b1 NO [LIMIT] server busy")
    assert announce(bob, "b2", 400).startswith(b"+ ")  # what fits is still taken


def test_a_non_synchronizing_literal_over_budget_is_read_and_dropped() -> None:
    """LITERAL+ data comes without waiting for us: it is discarded as it arrives, the
    command is refused, and the next command works."""
    server = make_server(BUDGET)
    holder, sender = Client(server, "alice"), Client(server, "bob")
    announce(holder, "a1", 1000)
    out = sender.raw(b"b1 APPEND INBOX {600+}\r\n" + b"y" * 600 + b"\r\nb2 NOOP\r\n")
    lines = split_lines(out)
    assert lines[0].startswith(b"b1 NO [LIMIT] ") and lines[1] == b"b2 OK NOOP completed"
    assert server.literals.in_flight == 1000


def test_a_session_closed_mid_literal_gives_its_budget_back() -> None:
    """A client that vanishes halfway through a literal must not leak the budget."""
    server = make_server(BUDGET)
    c = Client(server, "alice")
    announce(c, "a1", 1000)
    c.raw(b"x" * 10)
    assert server.literals.in_flight == 1000
    c.raw(b"")  # end of input
    assert c.session.closed and server.literals.in_flight == 0


def test_before_login_literals_count_in_the_total() -> None:
    """Anonymous literals (a user name, a password) are small, but they count too."""
    budget = LiteralBudget(total=100, per_user=50)
    gate = budget.gate(None)
    assert gate.admit(80) is None and budget.in_flight == 80
    assert gate.admit(30) is not None
    gate.release(80)
    assert budget.in_flight == 0


class FakeClock:
    """Seconds that pass only when a test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def throttled_server(clock: FakeClock, delay: float = 1.0) -> ImapServer:
    """A server whose login ledger runs on ``clock``."""
    config = ServerConfig(login_failure_delay=delay, debug=True)
    return ImapServer(MailStore(), Users(USERS), config, clock=clock)


def fail_login(client: Client, user: str = "alice") -> float:
    """One wrong password; the delay the session asks its owner to wait."""
    status, lines = client.cmd(f"LOGIN {user} wrong")
    assert status == "NO" and b"AUTHENTICATIONFAILED" in lines[-1]
    return client.session.hold


def test_each_failed_login_doubles_the_delay_up_to_a_cap() -> None:
    """1, 2, 4, 8 ... seconds on one connection, never more than the cap."""
    clock = FakeClock()
    c = Client(throttled_server(clock))
    delays = [fail_login(c) for _ in range(8)]
    assert delays[:5] == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert delays[5:] == [MAX_LOGIN_DELAY] * 3


def test_a_new_connection_inherits_the_users_failures() -> None:
    """Reconnecting after each guess does not reset the delay: it is kept per user,
    and forgotten after a quarter of an hour of quiet or the right password."""
    clock = FakeClock()
    server = throttled_server(clock)
    for expected in (1.0, 2.0, 4.0):
        assert fail_login(Client(server)) == expected
    assert fail_login(Client(server), "bob") == 1.0  # another user, another count
    clock.now += 901
    assert fail_login(Client(server)) == 1.0
    Client(server, "alice")  # the right password
    assert server.logins.failures("alice") == 0


def test_unknown_names_share_one_ledger_entry() -> None:
    """Guessing user names does not grow memory: every unknown name is one entry."""
    clock = FakeClock()
    server = throttled_server(clock)
    delays = [fail_login(Client(server), f"nobody{i}") for i in range(4)]
    assert delays == [1.0, 2.0, 4.0, 8.0]


def test_no_command_is_processed_while_a_failed_login_is_held() -> None:
    """A pipelined burst of guesses cannot skip the delay: after a failure the session
    stops, and handles the rest only when its owner calls it again."""
    clock = FakeClock()
    c = Client(throttled_server(clock))
    out = c.raw(b"a LOGIN alice x\r\nb LOGIN alice y\r\nc LOGIN alice wonderland\r\n")
    assert split_lines(out) == [b"a NO [AUTHENTICATIONFAILED] invalid user name or password"]
    assert c.session.hold == 1.0 and c.session.backlog
    out = c.session.resume()
    assert split_lines(out)[0].startswith(b"b NO") and c.session.hold == 2.0
    out = c.session.resume()
    assert split_lines(out)[0].startswith(b"c OK")


def test_throttling_can_be_turned_off() -> None:
    """A delay of 0 answers failures at once (a lab that tests wrong passwords)."""
    throttle = LoginThrottle(0.0)
    assert throttle.failed("alice", 5) == 0.0


def test_commands_can_be_taken_one_at_a_time() -> None:
    """With max_commands the owner decides how much work one call does; backlog says
    whether input is left, and resume() goes on."""
    server = make_server()
    c = Client(server, "alice")
    c.append("INBOX", SIMPLE)
    out = c.session.receive_data(b"a NOOP\r\nb NOOP\r\nc NOOP\r\n", max_commands=1)
    assert out == b"a OK NOOP completed\r\n" and c.session.backlog
    assert c.session.resume(max_commands=1) == b"b OK NOOP completed\r\n"
    assert c.session.resume(max_commands=1) == b"c OK NOOP completed\r\n"
    assert c.session.resume(max_commands=1) == b"" and not c.session.backlog


def _fetch_in_turns(c: Client, command: bytes) -> list[bytes]:
    """What each call hands the owner, taking one unit of work per call."""
    turns = [c.session.receive_data(command, max_commands=1)]
    while c.session.backlog:
        turns.append(c.session.resume(max_commands=1))
    return turns


@pytest.mark.parametrize(
    ("per_step", "octets", "sizes"),
    [
        (3, 1 << 20, [3, 3, 1]),  # three messages a step
        (500, 1, [1, 1, 1, 1, 1, 1, 1]),  # the octet bound: one message, then the check
        (7, 1 << 20, [7]),  # a step holds them all: answered in the same call
    ],
)
def test_a_big_fetch_is_answered_in_steps(
    monkeypatch: pytest.MonkeyPatch, per_step: int, octets: int, sizes: list[int]
) -> None:
    """A FETCH over a big mailbox is rendered a bounded step at a time, so one client
    cannot hold the server: each step's lines go out before the next is rendered, and
    the tagged OK comes with the last.  Together the steps say exactly what one call
    without bounds says."""
    server = make_server()
    c = Client(server, "alice")
    for _ in range(7):
        c.append("INBOX", SIMPLE)
    c.ok("SELECT INBOX")
    expected = c.raw(b"a FETCH 1:* (FLAGS UID RFC822.SIZE)\r\n")

    monkeypatch.setattr(messages, "FETCH_STEP_MESSAGES", per_step)
    monkeypatch.setattr(messages, "FETCH_STEP_OCTETS", octets)
    turns = _fetch_in_turns(c, b"a FETCH 1:* (FLAGS UID RFC822.SIZE)\r\n")

    assert [turn.count(b" FETCH (") for turn in turns] == sizes
    assert all(b"a OK" not in turn for turn in turns[:-1])
    assert turns[-1].endswith(b"a OK FETCH completed\r\n")
    assert b"".join(turns) == expected
