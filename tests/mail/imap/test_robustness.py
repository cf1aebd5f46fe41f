"""Hostile input: random bytes and plausible-but-wrong commands never break anything.

Whatever arrives, a session answers (BAD or NO with a reason) and carries on, the
server keeps serving other sessions, and the store's invariants hold.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netsim.mail.imap.states import COMMAND_STATES
from netsim.mail.store import MailStore

from .helpers import MULTIPART, SIMPLE, Client, make_server, split_lines


def check_store(store: MailStore) -> None:
    """UIDs ascend below UIDNEXT, indexes agree, no \\Recent stored, no orphan names."""
    for box in store.mailboxes():
        uids = [m.uid for m in box.messages]
        assert uids == sorted(set(uids))
        assert all(uid < box.uidnext for uid in uids)
        assert set(box.by_uid) == set(uids)
        assert all("\\Recent" not in m.flags for m in box.messages)
        parent = box.name.rpartition("/")[0]
        assert not parent or store.mailbox(box.owner, parent) is not None  # no orphans


def check_output(out: bytes) -> None:
    """Every response line is untagged, a continuation, or tagged."""
    for line in split_lines(out):
        assert line[:2] in (b"* ", b"+ ") or b" " in line, line


def fresh_session_works(client: Client) -> None:
    """Another user can still log in and select: the server as a whole is fine."""
    other = Client(client.session.server, "bob")
    assert other.status("SELECT INBOX") == "OK"


def populated() -> Client:
    """Alice logged in with two messages and a folder, INBOX selected."""
    c = Client(make_server(), "alice")
    c.append("INBOX", SIMPLE)
    c.append("INBOX", MULTIPART, "\\Seen")
    c.ok("CREATE a/b")
    c.ok("SELECT INBOX")
    return c


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    """Random bytes before and after login never raise."""
    for logged_in in (False, True):
        c = populated() if logged_in else Client(make_server())
        check_output(c.raw(data))
        check_output(c.raw(b"\r\n"))
        check_store(c.session.store)
        fresh_session_works(c)


ATOMS = [
    "1",
    "*",
    "1:*",
    "0",
    "2:1",
    "99",
    "INBOX",
    "NIL",
    "\\Seen",
    "\\Bogus",
    "FLAGS",
    "+FLAGS.SILENT",
    "BODY[]",
    "BODY.PEEK[1.MIME]",
    "BODY[HEADER.FIELDS ()]",
    "UID",
    "ALL",
    "OR",
    "NOT",
    "CHARSET",
    "user/bob/INBOX",
    "a/b",
    "&Jjo-",
    "x%y",
    "lrswipkxtea",
    "RFC822",
    "ENVELOPE",
    "1-Jan-2000",
    "(",
    ")",
    "[",
    "]",
]
VALUES = st.recursive(
    st.sampled_from(ATOMS)
    | st.text(alphabet='abc \\"/&%*', max_size=6).map(
        lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    )
    | st.binary(max_size=8).map(lambda b: f"{{{len(b)}+}}\r\n" + b.decode("latin-1")),
    lambda inner: st.lists(inner, max_size=3).map(lambda xs: "(" + " ".join(xs) + ")"),
    max_leaves=6,
)
NAMES = sorted(n for n in COMMAND_STATES if n not in ("LOGOUT", "IDLE", "AUTHENTICATE", "STARTTLS"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from(NAMES), st.lists(VALUES, max_size=4)), min_size=1, max_size=6
    )
)
def test_plausible_but_wrong_commands(commands: list[tuple[str, list[str]]]) -> None:
    """Real command names with random arguments: each gets a tagged answer."""
    c = populated()
    for i, (name, args) in enumerate(commands):
        tag = f"f{i}".encode()
        line = (name + " " + " ".join(args)).encode("latin-1")
        out = c.raw(tag + b" " + line + b"\r\n")
        lines = split_lines(out)
        check_output(out)
        assert any(x.startswith(tag + b" ") for x in lines), (line, out)
        check_store(c.session.store)
    fresh_session_works(c)


POOLS = {
    "seq": ["1", "2", "*", "1:*", "3", "2:4", "1,2", "5", "2:*"],
    "mbox": ["INBOX", "a", "a/b", "Trash", "user/bob/INBOX", "nosuch", '"x y"', "inbox/c", "Sent"],
    "flags": ["(\\Seen)", "(\\Deleted $X)", "()", "\\Flagged", "(\\Answered \\Draft)"],
    "op": ["FLAGS", "+FLAGS", "-FLAGS", "+FLAGS.SILENT", "FLAGS.SILENT"],
    "fetch": ["FLAGS", "(UID BODY[])", "BODY.PEEK[1]", "FULL", "(BODY[TEXT]<2.3> RFC822.SIZE)"],
    "search": ["ALL", "DELETED", "OR SEEN UNSEEN", "NOT UID 1", "TEXT x", "1:2 SEEN"],
    "pat": ["*", "%", "a/%", "INBOX*", '""'],
    "who": ["bob", "anyone", "alice"],
    "rights": ["lr", "+i", "-r", "lrswipkxtea"],
}
TEMPLATES = [
    "FETCH {seq} {fetch}",
    "UID FETCH {seq} {fetch}",
    "STORE {seq} {op} {flags}",
    "UID STORE {seq} {op} {flags}",
    "COPY {seq} {mbox}",
    "UID COPY {seq} {mbox}",
    "MOVE {seq} {mbox}",
    "UID MOVE {seq} {mbox}",
    "EXPUNGE",
    "UID EXPUNGE {seq}",
    "SEARCH {search}",
    "UID SEARCH {search}",
    "SELECT {mbox}",
    "EXAMINE {mbox}",
    "CREATE {mbox}",
    "DELETE {mbox}",
    "RENAME {mbox} {mbox}",
    "SUBSCRIBE {mbox}",
    "UNSUBSCRIBE {mbox}",
    "LIST {mbox} {pat}",
    'LSUB "" {pat}',
    "STATUS {mbox} (MESSAGES UNSEEN RECENT)",
    "APPEND {mbox} {flags} {{3+}}\r\nabc",
    "CLOSE",
    "UNSELECT",
    "CHECK",
    "NOOP",
    "SETACL {mbox} {who} {rights}",
    "DELETEACL {mbox} {who}",
    "GETACL {mbox}",
    "MYRIGHTS {mbox}",
    "LISTRIGHTS {mbox} {who}",
]


@st.composite
def sensible_command(draw: st.DrawFn) -> str:
    """A command with arguments of the right kinds but arbitrary values."""
    template = draw(st.sampled_from(TEMPLATES))
    out = template
    for key, pool in POOLS.items():
        while "{" + key + "}" in out:
            out = out.replace("{" + key + "}", draw(st.sampled_from(pool)), 1)
    return out.replace("{{", "{").replace("}}", "}")


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(sensible_command(), min_size=1, max_size=12))
def test_sensible_commands_keep_sessions_and_disk_consistent(
    tmp_path: Path, commands: list[str]
) -> None:
    """Two sessions, one durable store: random valid-looking commands in one session.

    Every command is answered, the other session's view converges to the mailbox after
    a NOOP, and reopening the store from disk gives exactly the same mail.
    """
    directory = tmp_path / str(abs(hash(tuple(commands))))
    store = MailStore(directory)
    server = make_server(store=store)
    c = Client(server, "alice")
    watcher = Client(server, "alice")
    c.append("INBOX", SIMPLE)
    c.append("INBOX", MULTIPART)
    c.ok("CREATE a/b")
    c.ok("SELECT INBOX")
    watcher.ok("SELECT INBOX")
    for i, command in enumerate(commands):
        tag = f"f{i}".encode()
        out = c.raw(tag + b" " + command.encode() + b"\r\n")
        assert any(x.startswith(tag + b" ") for x in split_lines(out)), (command, out)
        check_store(store)
    watcher.ok("NOOP")
    view = watcher.session.view
    assert view is not None
    assert view.uids == [m.uid for m in view.box.messages]

    def snapshot(s: MailStore) -> list[object]:
        return [
            (
                b.owner,
                b.name,
                b.uidvalidity,
                b.uidnext,
                b.noselect,
                sorted(b.acl.items()),
                [(m.uid, m.data, sorted(m.flags)) for m in b.messages],
            )
            for b in s.mailboxes()
        ]

    before = snapshot(store)
    store.close()
    reopened = MailStore(directory)
    assert snapshot(reopened) == before
    reopened.close()


def test_a_bare_line_feed_is_not_part_of_a_tag_or_a_literal() -> None:
    """A line ends at CRLF; a bare LF inside it is a control character, which no tag and
    no literal announcement may hold.  '{5}' followed by LF therefore announces nothing:
    the framer waits for no data and the parser agrees, so the command is refused as bad
    syntax.  (When the two disagreed, the command was refused for missing data, and
    the data the client then sent was read as commands.)"""
    c = Client(make_server(), "alice")
    assert c.raw(b"a\n NOOP\r\n") == b"* BAD invalid tag\r\n"
    assert c.raw(b"x APPEND INBOX {5}\n\r\n") == b"x BAD bad literal syntax\r\n"
    assert c.raw(b"y APPEND INBOX {5+}\n\r\n") == b"y BAD bad literal syntax\r\n"
    assert c.raw(b"z NOOP\r\n") == b"z OK NOOP completed\r\n"
    assert c.raw(b"w APPEND INBOX {5}\r\n") == b"+ Ready for literal data\r\n"
