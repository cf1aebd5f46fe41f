"""A protocol fuzzer: random IMAP command lines, driven the way a real client drives them.

Each generated command is a tag, a name (real or not) and arguments built from atoms,
quoted strings, synchronizing literals ``{n}``, LITERAL+ literals ``{n+}``, sequence
sets, LIST wildcards, other users' mailbox names and parentheses nested from zero to
well past the parser's limit.  The client side follows the protocol even when the
content is hostile: after ``{n}`` it sends the data only if the server said ``+``, it
ends an IDLE with DONE and cancels an AUTHENTICATE with ``*``.  Bytes go in one at a
time, or in random chunks, or all at once.

Whatever comes, the server must not raise (bugs are not hidden: ``debug=True``), must
answer every command with its tagged response, must keep the store consistent, and must
never show Alice a byte of Bob's mail.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netsim.mail.imap.server import ImapServer
from netsim.mail.imap.states import COMMAND_STATES

from .helpers import SIMPLE, Client, make_server
from .test_robustness import check_store

#: Words in Bob's mail that Alice must never see.
SECRET = b"SECRET-OF-BOB-7f3a"


@dataclass(frozen=True)
class Literal:
    """Literal data inside a generated command; ``sync`` waits for the server's ``+``."""

    data: bytes
    sync: bool


Piece = bytes | Literal

ATOMS = [
    b"1",
    b"*",
    b"1:*",
    b"2:1",
    b"0",
    b"4294967296",
    b"1,2,3:*,*:1",
    b"INBOX",
    b"inbox",
    b"NIL",
    b"ALL",
    b"OR",
    b"NOT",
    b"UID",
    b"SEEN",
    b"TEXT",
    b"HEADER",
    b"CHARSET",
    b"UTF-8",
    b"FLAGS",
    b"+FLAGS.SILENT",
    b"\\Seen",
    b"\\Deleted",
    b"$kw",
    b"BODY[]",
    b"BODY.PEEK[1.HEADER.FIELDS (Subject From)]",
    b"BODY[3.MIME]<0.10>",
    b"BODYSTRUCTURE",
    b"ENVELOPE",
    b"RFC822",
    b"user/bob/INBOX",
    b"user/bob/Private",
    b"user/bob/*",
    b"user/%",
    b"*%*%*b",
    b"Trash",
    b"a/b",
    b"&Jjo-",
    b"&Jjo",
    b"bob",
    b"anyone",
    b"lrswipkxtea",
    b"-r",
    b"1-Feb-1994",
    b"PLAIN",
    b"SPECIAL-USE",
    b"RETURN",
    b"MESSAGES",
    b"DONE",
]
NAMES = [*sorted(COMMAND_STATES), "FROB", "UID FROB", "LOGIN alice wonderland", "LOGIN bob x"]


def leaf() -> st.SearchStrategy[list[Piece]]:
    """One value: an atom, a quoted string, a literal of either kind."""
    quoted = st.text(alphabet='ab \\"%*/', max_size=8).map(
        lambda s: b'"' + s.replace("\\", "\\\\").replace('"', '\\"').encode() + b'"'
    )
    literal = st.builds(Literal, st.binary(max_size=12), st.booleans())
    return st.one_of(
        st.sampled_from(ATOMS).map(lambda a: [a]),
        quoted.map(lambda q: [q]),
        literal.map(lambda lit: [lit]),
        st.binary(min_size=1, max_size=6).map(lambda b: [b.replace(b"\r\n", b"")]),
    )


def join(values: list[list[Piece]]) -> list[Piece]:
    """Values separated by spaces."""
    out: list[Piece] = []
    for i, value in enumerate(values):
        if i:
            out.append(b" ")
        out.extend(value)
    return out


VALUES = st.recursive(
    leaf(),
    lambda inner: st.lists(inner, max_size=4).map(lambda xs: [b"(", *join(xs), b")"]),
    max_leaves=10,
)
DEEP = st.integers(min_value=60, max_value=160).map(lambda k: [b"(" * k + b"ALL" + b")" * k])


MAILBOXES = [b"INBOX", b"user/bob/INBOX", b"user/bob/Private", b"a/b", b"Trash", b"new/x"]
SEARCH_KEYS = [b"ALL", b"SEEN", b"UNSEEN", b"DELETED", b"1:*", b"UID 1:*", b"LARGER 10"]
STRING_KEYS = [b"TEXT", b"BODY", b"SUBJECT", b"FROM", b"HEADER Subject"]
FETCH_ITEMS = [b"FLAGS", b"UID", b"BODY[]", b"BODY.PEEK[1.MIME]", b"RFC822.SIZE", b"ENVELOPE"]


def mailbox() -> st.SearchStrategy[list[Piece]]:
    """A mailbox name as an atom, a quoted string or a literal of either kind."""
    name = st.sampled_from(MAILBOXES)
    return st.one_of(
        name.map(lambda n: [n]),
        name.map(lambda n: [b'"' + n + b'"']),
        st.builds(lambda n, sync: [Literal(n, sync)], name, st.booleans()),
    )


@st.composite
def search_key(draw: st.DrawFn, depth: int = 0) -> list[Piece]:
    """A search key, nested with OR, NOT and parentheses, strings sometimes literals."""
    kind = draw(st.integers(0, 4 if depth < 4 else 1))
    if kind == 0:
        return [draw(st.sampled_from(SEARCH_KEYS))]
    if kind == 1:
        needle = draw(st.sampled_from([b"Lunch", b"SECRET", b"noon", b""]))
        string: Piece = (
            Literal(needle, draw(st.booleans())) if draw(st.booleans()) else b'"' + needle + b'"'
        )
        return [draw(st.sampled_from(STRING_KEYS)), b" ", string]
    if kind == 2:
        return [b"NOT ", *draw(search_key(depth + 1))]
    if kind == 3:
        return [b"OR ", *draw(search_key(depth + 1)), b" ", *draw(search_key(depth + 1))]
    return [b"(", *join(draw(st.lists(search_key(depth + 1), min_size=1, max_size=3))), b")"]


@st.composite
def structured(draw: st.DrawFn) -> tuple[bytes, list[Piece]]:
    """A command whose arguments have the right shapes and hostile values."""
    seqset = draw(st.sampled_from([b"1", b"1:*", b"*", b"2:4", b"1,1:*,*", b"99"]))
    uid = draw(st.sampled_from([b"", b"UID "]))
    choices: list[tuple[bytes, list[Piece]]] = [
        (uid + b"SEARCH", draw(search_key())),
        (
            uid + b"FETCH",
            [
                seqset,
                b" (",
                b" ".join(draw(st.lists(st.sampled_from(FETCH_ITEMS), min_size=1, max_size=3))),
                b")",
            ],
        ),
        (uid + b"STORE", [seqset, b" +FLAGS (\\Deleted $x)"]),
        (uid + b"COPY", [seqset, b" ", *draw(mailbox())]),
        (uid + b"MOVE", [seqset, b" ", *draw(mailbox())]),
        (b"UID EXPUNGE", [seqset]),
        (
            b"LIST",
            [
                b'"" ',
                *draw(st.sampled_from([[b"*"], [b'"user/*"'], [Literal(b"*%*b", True)], [b"%"]])),
            ],
        ),
        (b"SELECT", draw(mailbox())),
        (b"EXAMINE", draw(mailbox())),
        (b"STATUS", [*draw(mailbox()), b" (MESSAGES UNSEEN)"]),
        (b"DELETE", draw(mailbox())),
        (b"CREATE", draw(mailbox())),
        (b"RENAME", [*draw(mailbox()), b" ", *draw(mailbox())]),
        (b"GETACL", draw(mailbox())),
        (b"SETACL", [*draw(mailbox()), b" alice lrswi"]),
        (b"APPEND", [*draw(mailbox()), b" (\\Seen) ", Literal(SIMPLE, draw(st.booleans()))]),
    ]
    return draw(st.sampled_from(choices))


@st.composite
def command(draw: st.DrawFn, tag: bytes) -> list[Piece]:
    """A tagged command: a real one with well-shaped arguments, or anything at all."""
    if draw(st.booleans()):
        name, args = draw(structured())
        return [tag, b" ", name, b" ", *args]
    name = draw(st.sampled_from(NAMES)).encode()
    args = draw(st.lists(st.one_of(VALUES, DEEP) if draw(st.booleans()) else VALUES, max_size=5))
    return [tag, b" ", name, *([b" "] if args else []), *join(args)]


def send(client: Client, data: bytes, chunking: str, rng: st.DataObject) -> bytes:
    """Feed ``data`` byte by byte, in random chunks, or whole; return the output."""
    if chunking == "whole":
        return client.raw(data)
    out = []
    pos = 0
    while pos < len(data):
        size = 1 if chunking == "bytes" else rng.draw(st.integers(1, 16))
        out.append(client.raw(data[pos : pos + size]))
        pos += size
    return b"".join(out)


def drive(
    client: Client, tag: bytes, pieces: list[Piece], chunking: str, rng: st.DataObject
) -> bytes:
    """Send one command as a well-behaved client would; return every response byte."""
    out = b""
    pending = b""
    for piece in pieces:
        if isinstance(piece, bytes):
            pending += piece
            continue
        marker = b"{%d%s}\r\n" % (len(piece.data), b"" if piece.sync else b"+")
        if not piece.sync:
            pending += marker + piece.data
            continue
        out += send(client, pending + marker, chunking, rng)
        pending = b""
        if not out.rstrip(b"\r\n").split(b"\r\n")[-1].startswith(b"+"):
            return out  # refused (or answered): a client must not send the data
        pending = piece.data
    out += send(client, pending + b"\r\n", chunking, rng)
    last = out.rstrip(b"\r\n").split(b"\r\n")[-1]
    if last.startswith(b"+") and not client.session.closed:
        # IDLE waits for DONE, AUTHENTICATE for a response: end them.
        out += client.raw(b"DONE\r\n" if client.session.idling else b"*\r\n")
    return out


def answered(out: bytes, tag: bytes, client: Client) -> bool:
    """True if ``out`` completes the command: its tagged response, or a goodbye."""
    lines = out.split(b"\r\n")
    return any(line.startswith(tag + b" ") for line in lines) or client.session.closed


def fresh_server() -> ImapServer:
    """Alice with a little mail; Bob with secrets Alice has no right to."""
    server = make_server()
    bob = Client(server, "bob")
    bob.append("INBOX", SIMPLE.replace(b"noon?", SECRET))
    bob.ok("CREATE Private")
    bob.append("Private", SIMPLE.replace(b"Lunch", SECRET))
    alice = Client(server, "alice")
    alice.append("INBOX", SIMPLE)
    alice.ok("CREATE a/b")
    return server


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    st.data(),
    st.sampled_from(["bytes", "chunks", "whole"]),
    st.sampled_from(["not authenticated", "authenticated", "selected", "selected"]),
    st.integers(min_value=1, max_value=6),
)
def test_random_commands_are_all_answered_and_leak_nothing(
    data: st.DataObject, chunking: str, state: str, count: int
) -> None:
    """Random commands, byte at a time or not: each gets its answer, nothing breaks,
    and no response to Alice carries Bob's secret."""
    server = fresh_server()
    alice = Client(server, None if state == "not authenticated" else "alice")
    if state == "selected":
        # Most often her own INBOX; sometimes she tries Bob's, which must fail.
        target = data.draw(
            st.sampled_from(["INBOX", "INBOX", "user/bob/INBOX", "user/bob/Private"])
        )
        out = alice.raw(b"s SELECT " + target.encode() + b"\r\n")
        assert (b"s OK" in out) == (target == "INBOX"), out
    for i in range(count):
        if alice.session.closed:
            break
        tag = b"z%d" % i
        pieces = data.draw(command(tag))
        out = drive(alice, tag, pieces, chunking, data)
        assert answered(out, tag, alice), (pieces, out)
        assert SECRET not in out, (pieces, out)
        check_store(server.store)
    other = Client(server, "carol")
    assert other.status("SELECT INBOX") == "OK"


def completes(out: bytes) -> bool:
    """True if ``out`` holds a completion: a tagged line, or an untagged BAD."""
    for line in out.split(b"\r\n"):
        if line.startswith(b"* BAD") or (line and line[:1] not in (b"*", b"+")):
            return True
    return False


RANDOM_LINES = st.lists(
    st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
    min_size=1,
    max_size=8,
)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(RANDOM_LINES, st.sampled_from(["bytes", "chunks", "whole"]), st.booleans(), st.data())
def test_random_lines_each_get_an_answer(
    lines: list[bytes], chunking: str, logged_in: bool, rng: st.DataObject
) -> None:
    """Arbitrary bytes, line by line: each line is answered (tagged, or ``* BAD`` when
    no tag can be read), until one starts an exchange of its own (IDLE, AUTHENTICATE,
    a literal) or ends the session."""
    server = fresh_server()
    alice = Client(server, "alice" if logged_in else None)
    for line in lines:
        out = send(alice, line + b"\r\n", chunking, rng)
        assert SECRET not in out
        if alice.session.closed or b"+ " in out or b"{" in line:
            break
        assert completes(out), (line, out)
    check_store(server.store)
