"""Dovecot's imaptest scripts, played by ``benchmarks/imaptest_scripts.py``.

imaptest describes a compliance test as a script: commands, the replies they must bring
(``*``), must not bring (``!``) or may bring (``?``), and ``$variables`` that capture a
value once and must agree after.  The driver here reads that format and plays it against
our server.  These tests first check the driver itself (a judge must be able to say
"fail"), with scripts of our own, then run imaptest's own scripts when
``$NETSIM_IMAPTEST_DIR`` points at them (``src/tests`` of github.com/dovecot/imaptest):
every test of the base protocol and of each extension the server announces must pass.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.imaptest_scripts import (
    DIR_VARIABLE,
    FULL,
    Arg,
    Connection,
    Kind,
    Matcher,
    Target,
    add_default_directives,
    logical_lines,
    parse_script,
    run_tests,
    summary,
    tokenize,
)

MBOX = (
    "From user@domain  Fri Feb 22 17:06:23 2008\n"
    "From: Ann <ann@example.org>\n"
    "Subject: first\n"
    "\n"
    "one\n"
    "\n"
    "From user@domain  Sat Feb 23 17:06:23 2008\n"
    "Subject: second\n"
    "\n"
    "two\n"
)


def write_test(directory: Path, name: str, text: str, mbox: str = MBOX) -> Path:
    """A script and the default mbox it appends from, in ``directory``."""
    (directory / "default.mbox").write_text(mbox)
    path = directory / name
    path.write_text(text)
    return path


# -- the script format -------------------------------------------------------------------


def test_a_block_between_braces_becomes_one_literal() -> None:
    """``{{{`` ... ``}}}`` spans lines; the value is the lines joined by CRLF, without the
    line end just before ``}}}``, announced as an IMAP literal of its octet count."""
    text = "* 1 fetch (body[] {{{\nHello\n\n}}})\nok noop\n"
    lines = list(logical_lines(text))
    assert lines == [(1, "* 1 fetch (body[] {7}\r\nHello\r\n)"), (5, "ok noop")]
    [arg] = tokenize(lines[0][1])[3].items[1:]
    assert arg == Arg(Kind.STRING, "Hello\r\n")


def test_pipelined_commands_take_their_replies_by_tag(tmp_path: Path) -> None:
    """``tagN`` lines send commands together; ``tagN ok`` lines name whose reply is whose.
    A script without LOGOUT gets one, as imaptest adds it."""
    path = write_test(
        tmp_path,
        "pipe",
        "state: auth\n\ntag1 create $mailbox\ntag2 status $mailbox (messages)\n"
        "* status $mailbox (messages 0)\ntag2 ok\ntag1 ok\n",
    )
    script = parse_script(path)
    first, logout = script.groups
    assert [(c.tag, c.text, str(c.reply[0])) for c in first.commands if c.reply] == [
        (1, "create $mailbox", "ok"),
        (2, "status $mailbox (messages)", "ok"),
    ]
    assert logout.commands[0].text == "logout"


def test_fetch_lists_compare_by_pairs_and_flags_ignore_recent() -> None:
    """A FETCH reply may list its items in any order; FLAGS may add ``\\Recent`` but no
    other flag the script did not name."""
    expected = tokenize("1 fetch (uid 7 flags (\\seen))")
    add_default_directives(expected, "fetch")
    matcher = Matcher({})
    good = tokenize("1 FETCH (FLAGS (\\Recent \\Seen) UID 7)")
    extra = tokenize("1 FETCH (FLAGS (\\Seen \\Draft) UID 7)")
    assert matcher.match_args(expected, good) == FULL
    assert matcher.match_args(expected, extra) != FULL


def test_a_variable_captures_once_and_must_agree_after() -> None:
    """``$uid`` takes the reply's value the first time; later it is that value."""
    matcher = Matcher({})
    want = tokenize("* search $uid")[1:]
    assert matcher.match_args(want, tokenize("SEARCH 42")) == FULL
    assert matcher.variables["uid"] == "42"
    assert matcher.match_args(want, tokenize("SEARCH 43")) != FULL
    assert matcher.expand("uid fetch $uid:* ($$flag)") == "uid fetch 42:* ($flag)"


def test_modseq_variables_must_grow_with_their_number() -> None:
    """``$modseq2`` then ``$modseq5``: the second must be at least the first plus 3."""
    matcher = Matcher({})
    want2, want5 = tokenize("$modseq2"), tokenize("$modseq5")
    assert matcher.match_args(want2, tokenize("10")) == FULL
    assert matcher.match_args(want5, tokenize("12")) != FULL
    assert matcher.variables["modseq5"] == "$modseq-at-least-13"


def test_relative_numbers_follow_expunges() -> None:
    """``$3`` is the message that was number 3 when the group began."""
    matcher = Matcher({})
    matcher.seqmap = [1, 2, 3, 4]
    matcher.expunged(1)
    assert [matcher.relative(n) for n in (1, 2, 3, 4)] == ["<expunged>", "1", "2", "3"]


class _Trickle:
    """A wire that hands the driver one octet at a time."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def send(self, data: bytes) -> None:
        pass

    def receive(self) -> bytes:
        if not self.data:
            raise TimeoutError
        octet, self.data = self.data[:1], self.data[1:]
        return octet

    def close(self) -> None:
        pass


def test_replies_read_one_octet_at_a_time() -> None:
    """A reply with a literal holding CRLF and parentheses arrives whole however it is
    cut, and the message count follows EXISTS and EXPUNGE."""
    data = (
        b"* 2 EXISTS\r\n* 1 FETCH (BODY[] {9}\r\n(a)\r\nb) c UID 5)\r\n"
        b"* 1 EXPUNGE\r\nt1 OK done\r\n"
    )
    connection = Connection(_Trickle(data), 1, {})
    replies = [connection.read() for _ in range(4)]
    assert replies[1].args[2].items == [
        Arg(Kind.ATOM, "BODY[]"),
        Arg(Kind.STRING, "(a)\r\nb) c"),
        Arg(Kind.ATOM, "UID"),
        Arg(Kind.ATOM, "5"),
    ]
    assert (replies[3].kind, replies[3].tag) == ("tagged", "t1")
    assert connection.exists == 1


def test_replies_that_break_the_protocol_are_caught() -> None:
    """Whatever the script expects, some replies are wrong in themselves: a message
    ``\\Recent`` in two sessions, a message changing its UID, a keyword shown before
    FLAGS announced it, an EXPUNGE of a message that is not there."""
    recent: dict[tuple[str, str, str], int] = {}
    told = (
        b"* FLAGS (\\Seen $Known)\r\n* 2 EXISTS\r\n* OK [UIDVALIDITY 9] x\r\n"
        b"* 1 FETCH (UID 4 FLAGS (\\Recent $Known))\r\n"
    )
    wrong = b"* 1 FETCH (UID 5)\r\n* 2 FETCH (FLAGS ($Junk))\r\n* 3 EXPUNGE\r\n"
    first = Connection(_Trickle(told), 1, recent)
    second = Connection(_Trickle(told + wrong), 2, recent)
    for connection in (first, second):
        connection.selecting("SELECT box")
    for _ in range(4):
        first.read()
    for _ in range(7):
        second.read()
    assert first.errors == []
    assert second.errors == [
        "UID 4 is \\Recent in connection 2 and in 1",
        "message 1 was UID 4, now UID 5",
        "keyword $Junk in FETCH before FLAGS announced it",
        "EXPUNGE 3, but 2 messages exist",
    ]


_ATOMS = st.text(alphabet="abcXYZ019\\$.-", min_size=1, max_size=6).filter(
    lambda s: s.upper() != "NIL"
)


def _lists_of(inner: st.SearchStrategy[Arg]) -> st.SearchStrategy[Arg]:
    return st.builds(lambda items: Arg(Kind.LIST, items=items), st.lists(inner, max_size=4))


_ARGS = st.recursive(
    st.one_of(
        _ATOMS.map(lambda s: Arg(Kind.ATOM, s)),
        st.text(alphabet='ab "\\()', max_size=6).map(lambda s: Arg(Kind.STRING, s)),
        st.just(Arg(Kind.NIL)),
    ),
    _lists_of,
    max_leaves=12,
)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.lists(_ARGS, max_size=5))
def test_arguments_written_back_tokenize_alike(args: list[Arg]) -> None:
    """Atoms, quoted strings (quotes and backslashes escaped), NIL and nested lists come
    back from their IMAP text unchanged."""
    assert tokenize(" ".join(str(arg) for arg in args)) == args


# -- playing scripts against the server -----------------------------------------------------


SCRIPT = """\
messages: all

ok fetch 1:* (uid flags)
* 1 fetch (uid $uid1 flags ())
* 2 fetch (uid $uid2 flags ())

ok store 1 +flags ($$Urgent)
* 1 fetch (flags ($$Urgent))
! 2 fetch (flags ($$Urgent))

ok search subject second
* search 2

ok uid fetch $uid2 (body.peek[text])
* 2 fetch (uid $uid2 body[text] {{{
two

}}})
"""


def test_a_script_that_holds_passes(tmp_path: Path) -> None:
    """Setup (delete, create, append from the mbox, select) then every group passes."""
    write_test(tmp_path, "holds", SCRIPT)
    [result] = run_tests(tmp_path, Target())
    assert result.outcome == "pass", [g.failures for g in result.groups]
    assert len(result.groups) == 5  # four groups and the LOGOUT added at the end


def test_a_wrong_expectation_fails_at_its_line(tmp_path: Path) -> None:
    """The judge can say no: a reply that is not there, a forbidden one that is, and a
    wrong tagged status each fail their own group, and only that one."""
    text = (
        "\nok search subject first\n* search 2\n\n"
        "ok store 2 +flags (\\seen)\n! 2 fetch (flags (\\seen))\n\n"
        "no noop\n\nok noop\n"
    )
    write_test(tmp_path, "wrong", text)
    [result] = run_tests(tmp_path, Target())
    failed = {group.line: group.failures[0] for group in result.failed_groups}
    assert sorted(failed) == [2, 5, 8]
    assert failed[2].startswith("missing 1 untagged replies")
    assert failed[5].startswith("unexpected untagged match")
    assert failed[8].startswith("expected tagged reply 'no'")
    assert summary([result])["base_failed"] == 3


def test_a_test_needing_an_unannounced_extension_is_skipped(tmp_path: Path) -> None:
    """``capabilities:`` names what the test needs; without it the test does not run."""
    write_test(tmp_path, "sorting", "capabilities: SORT MOVE\n\nok sort (arrival) us-ascii all\n")
    [result] = run_tests(tmp_path, Target())
    assert (result.outcome, result.skipped) == ("skip", "missing capabilities: SORT")


def test_several_connections_see_each_others_changes(tmp_path: Path) -> None:
    """Numbered lines go to numbered connections; news reaches the other one at NOOP."""
    text = (
        "connections: 2\n\n"
        "1 ok store 1 +flags \\deleted\n1 ok expunge\n* 1 expunge\n\n"
        "2 ok fetch 1 uid\n* 1 fetch (uid $uid)\n"
        "2 ok noop\n* 1 expunge\n"
    )
    write_test(tmp_path, "two", text)
    [result] = run_tests(tmp_path, Target())
    assert result.outcome == "pass", [g.failures for g in result.groups]


def test_the_driver_agrees_with_dovecot(tmp_path: Path) -> None:
    """The reference server passes the same script: the driver's setup and comparisons
    are imaptest's, not tailored to our server."""
    from tests.mail import dovecot_lab

    reason = dovecot_lab.missing()
    if reason:
        pytest.skip(reason)
    write_test(tmp_path, "holds", SCRIPT)
    users = {"imaptest1": "pass1", "imaptest2": "pass2"}
    with dovecot_lab.dovecot(users) as reference:
        target = Target(host="127.0.0.1", port=reference.imap, users=tuple(users.items()))
        [result] = run_tests(tmp_path, target)
    assert result.outcome == "pass", [g.failures for g in result.groups]


# -- imaptest's own scripts ---------------------------------------------------------------


def test_imaptest_scripts_pass() -> None:
    """Every script for the base protocol and for the extensions the server announces
    passes; the others are skipped by their ``capabilities:`` line."""
    directory = os.environ.get(DIR_VARIABLE)
    if not directory or not Path(directory).is_dir():
        pytest.skip(f"set {DIR_VARIABLE} to imaptest's src/tests to run its scripts")
    results = run_tests(Path(directory), Target())
    failures = {
        r.name: r.error or [(g.line, g.failures) for g in r.failed_groups]
        for r in results
        if r.outcome == "fail"
    }
    assert not failures
