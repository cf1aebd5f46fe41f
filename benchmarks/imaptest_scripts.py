"""Run Dovecot imaptest's scripted tests against our IMAP server, without imaptest.

imaptest (github.com/dovecot/imaptest) is not packaged by Debian and cannot be built
here, but its scripted tests (``src/tests/``) are plain text.  This driver reads that
format and plays it against netsim's IMAP server, in process (a fresh sans-IO server
per test, so runs are deterministic) or over TCP (``netsim serve-mail``, or any IMAP
server such as Dovecot, to check the driver itself)::

    python benchmarks/imaptest_scripts.py --dir DIR [TEST ...] [-v]
    python benchmarks/imaptest_scripts.py --dir DIR --serve-mail
    python benchmarks/imaptest_scripts.py --dir DIR --host H --port P --user U --password PW

``DIR`` (or ``$NETSIM_IMAPTEST_DIR``) holds the script files and their ``.mbox``
fixtures; none of them is part of this repository.

The script format, as imaptest reads it:

* A header of ``key: value`` lines, ended by an empty line: ``capabilities:`` (the test
  is skipped unless the server announces them all), ``connections:``, ``state:``
  (``nonauth``, ``auth``, ``created``, ``appended`` or ``selected``, the default),
  ``messages:`` (how many messages of the test's mbox to append; ``all`` by default),
  ``user N:`` and ``ignore_extra_untagged:``.
* Then command groups.  A command line may start with the connection number (when
  there are several), then an expected reply (``ok``, ``no``, ``bad`` or ``""`` for
  any), then the command.  With explicit tags (``tag1 select x``) several commands are
  pipelined and their replies follow as ``tag1 ok``.  ``append`` without a message
  appends the next message of the mbox.
* ``* reply`` lines must arrive before the tagged reply, ``! reply`` must not, and
  ``? reply`` may.  ``$name`` captures a value the first time and must equal it after;
  ``$`` alone matches anything; ``$N`` is the current number of the message that was
  number N when the group started.  ``$!unordered``, ``$!noextra``, ``$!ignore=X`` and
  ``$!ban=X`` at the start of a list say how to compare it; FETCH, STATUS, LIST and
  FLAGS lists are unordered by default.  ``!ordered`` makes the untagged replies of a
  group ordered.
* ``{{{`` ends a line whose value goes on until a line starting ``}}}``: a literal.

Each test counts its command groups like imaptest does, as base protocol or extension
commands, and a group fails when its tagged reply, a required untagged reply, or a
forbidden one says so.  The exit status is 1 when any test fails, 2 when the scripts
are missing.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from netsim.mail.imap.server import ImapServer, ServerConfig, ServerSession  # noqa: E402
from netsim.mail.store import MailStore  # noqa: E402
from netsim.mail.users import Users  # noqa: E402

#: Environment variable naming the directory of scripts when ``--dir`` is not given.
DIR_VARIABLE = "NETSIM_IMAPTEST_DIR"
#: A match that consumed every argument (counts below it say how far a match got).
FULL = sys.maxsize

# -- IMAP arguments: one tokenizer for the scripts' expectations and the server's replies


class Kind(enum.Enum):
    """The kinds of IMAP argument the comparison tells apart."""

    ATOM = "atom"
    STRING = "string"  # quoted or literal
    NIL = "nil"
    LIST = "list"


@dataclass
class Arg:
    """One IMAP argument: an atom, a string, NIL, or a parenthesised list."""

    kind: Kind
    text: str = ""
    items: list[Arg] = field(default_factory=list)

    def astring(self) -> str | None:
        """The text of an atom or string; ``None`` for NIL and lists."""
        return self.text if self.kind in (Kind.ATOM, Kind.STRING) else None

    def __str__(self) -> str:
        if self.kind is Kind.LIST:
            return "(" + " ".join(str(item) for item in self.items) + ")"
        if self.kind is Kind.NIL:
            return "NIL"
        if self.kind is Kind.STRING:
            return '"' + self.text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return self.text


def args_text(args: Sequence[Arg]) -> str:
    """Arguments written back as one line, for messages."""
    return " ".join(str(arg) for arg in args)


_LITERAL = re.compile(r"~?\{(\d+)\+?\}\r\n")


def tokenize(text: str) -> list[Arg]:
    """Split one IMAP line (literals inline as ``{n}\\r\\n`` + n octets) into arguments.

    Like Dovecot's parser with "atoms may hold any character": an atom ends at a space,
    or at ``)`` inside a list; ``BODY[HEADER.FIELDS (FROM)]`` is therefore an atom, a
    list and the atom ``]``.  Replies and expectations go through the same function,
    so they split alike.  Unbalanced quotes or parentheses in human-readable text are
    taken as they come rather than refused.
    """
    stack: list[list[Arg]] = [[]]
    pos, end = 0, len(text)
    while pos < end:
        char = text[pos]
        if char == " ":
            pos += 1
        elif char == "(":
            stack.append([])
            pos += 1
        elif char == ")" and len(stack) > 1:
            items = stack.pop()
            stack[-1].append(Arg(Kind.LIST, items=items))
            pos += 1
        elif char == '"':
            value, pos = _quoted(text, pos + 1)
            stack[-1].append(Arg(Kind.STRING, value))
        elif (found := _LITERAL.match(text, pos)) is not None:
            start = found.end()
            pos = start + int(found.group(1))
            stack[-1].append(Arg(Kind.STRING, text[start:pos]))
        else:
            stop = pos
            while stop < end and text[stop] != " " and not (text[stop] == ")" and len(stack) > 1):
                stop += 1
            atom = text[pos:stop]
            stack[-1].append(Arg(Kind.NIL) if atom.upper() == "NIL" else Arg(Kind.ATOM, atom))
            pos = stop
    while len(stack) > 1:
        items = stack.pop()
        stack[-1].append(Arg(Kind.LIST, items=items))
    return stack[0]


def _quoted(text: str, pos: int) -> tuple[str, int]:
    """A quoted string's value from just after its opening quote; and where it ends."""
    value: list[str] = []
    while pos < len(text):
        char = text[pos]
        if char == "\\" and pos + 1 < len(text):
            value.append(text[pos + 1])
            pos += 2
        elif char == '"':
            return "".join(value), pos + 1
        else:
            value.append(char)
            pos += 1
    return "".join(value), pos


# -- The script format -----------------------------------------------------------------


class Existence(enum.Enum):
    """What an expected untagged reply line says about its reply."""

    MUST = "*"
    MUST_NOT = "!"
    MAY = "?"


class State(enum.IntEnum):
    """How far the driver sets the test up before its first command (in this order)."""

    NONAUTH = 0
    AUTH = 1  # logged in, the test mailbox deleted
    CREATED = 2
    APPENDED = 3
    SELECTED = 4


_STATES = {
    "nonauth": State.NONAUTH,
    "auth": State.AUTH,
    "created": State.CREATED,
    "appended": State.APPENDED,
    "selected": State.SELECTED,
}
_REPLIES = {"ok", "no", "bad", '""'}


@dataclass
class Untagged:
    """An expected untagged reply: ``* 1 FETCH (...)``, ``!`` or ``?``."""

    existence: Existence
    args: list[Arg]


@dataclass
class Command:
    """One command of a group and the tagged reply expected for it."""

    line: int
    text: str
    reply: list[Arg] | None  # None until a "tagN ok" line gives it
    tag: int = 0  # the script's tag number for pipelined commands


@dataclass
class Group:
    """Commands sent together on one connection, and the replies they must bring."""

    connection: int
    commands: list[Command] = field(default_factory=list)
    untagged: list[Untagged] = field(default_factory=list)
    ordered: bool = False
    expects_bye: bool = False

    @property
    def line(self) -> int:
        """Where the group starts in its script."""
        return self.commands[0].line if self.commands else 0


@dataclass
class Script:
    """One test file, parsed."""

    path: Path
    capabilities: list[str] = field(default_factory=list)
    connections: int = 1
    state: State = State.SELECTED
    messages: int | None = None  # None: every message of the mbox once
    users: dict[int, str] = field(default_factory=dict)
    ignore_extra_untagged: bool = True
    groups: list[Group] = field(default_factory=list)
    banner_check: bool = False

    @property
    def name(self) -> str:
        """The test's name: its file name."""
        return self.path.name

    @property
    def mbox(self) -> Path:
        """The messages the test appends: its own ``NAME.mbox`` or ``default.mbox``."""
        own = self.path.with_name(self.path.name + ".mbox")
        return own if own.exists() else self.path.with_name("default.mbox")


class ScriptError(ValueError):
    """A script the driver cannot read; the message names the file and line."""


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """The script's lines with ``{{{`` ... ``}}}`` blocks joined into literals.

    The block's lines are joined with CRLF (with a bare LF after ``~{{{``, a binary
    literal); the line break before ``}}}`` is not part of the value.
    """
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    index = 0
    while index < len(lines):
        number, line = index + 1, lines[index]
        index += 1
        while line.endswith("{{{"):
            binary = line.endswith("~{{{")
            head = line[: -4 if binary else -3]
            body: list[str] = []
            while True:
                if index >= len(lines):
                    raise ScriptError(f"line {number}: the block started here does not end")
                part = lines[index]
                index += 1
                if part.startswith("}}}"):
                    break
                body.append(part if binary else part.rstrip("\r"))
            value = ("\n" if binary else "\r\n").join(body)
            marker = f"{'~' if binary else ''}{{{len(value.encode('latin-1'))}}}\r\n"
            line = head + marker + value + part[3:]
        yield number, line


def parse_script(path: Path) -> Script:
    """Read one imaptest script; :class:`ScriptError` names what is wrong and where."""
    script = Script(path)
    text = path.read_bytes().decode("latin-1")
    header = True
    group: Group | None = None
    skipping: list[tuple[bool, bool]] = []  # (skip before, else seen) per !ifenv
    skip = False
    for number, line in logical_lines(text):
        try:
            if header:
                if line.strip() == "":
                    header = False
                elif not line.startswith("#"):
                    _header_line(script, line)
                continue
            if line == "" or line.startswith("#"):
                continue
            if line.startswith(("!ifenv ", "!ifnenv ")):
                name = line.split(" ", 1)[1]
                present = name in os.environ
                wanted = present if line.startswith("!ifenv") else not present
                skipping.append((skip, False))
                skip = skip or not wanted
                continue
            if line in ("!else", "!endif"):
                if not skipping:
                    raise ScriptError(f"{line} without !ifenv")
                before, else_seen = skipping.pop()
                if line == "!else":
                    if else_seen:
                        raise ScriptError("!else seen twice")
                    skipping.append((before, True))
                    skip = before or not skip
                else:
                    skip = before
                continue
            if skip:
                continue
            group = _command_line(script, group, number, line)
        except ScriptError as error:
            raise ScriptError(f"{path} line {number}: {error}") from None
    if skipping:
        raise ScriptError(f"{path}: !ifenv without !endif")
    if not script.groups:
        raise ScriptError(f"{path}: no commands")
    if any(command.reply is None for command in script.groups[-1].commands):
        raise ScriptError(f"{path}: a command has no reply")
    has_logout = any(
        group.expects_bye or any(c.text.lower() == "logout" for c in group.commands)
        for group in script.groups
    )
    if not has_logout:
        ending = Group(0, [Command(0, "logout", [Arg(Kind.ATOM, "ok")])])
        script.groups.append(ending)
    return script


def _header_line(script: Script, line: str) -> None:
    key, colon, value = line.partition(":")
    if not colon:
        raise ScriptError("a header line needs ':'")
    key, value = key.strip().lower(), value.strip()
    if key == "capabilities":
        script.capabilities = value.split()
    elif key == "connections":
        if not value.isdigit() or not 0 < int(value) <= 100:
            raise ScriptError("connections: expects 1 to 100")
        script.connections = int(value)
    elif key == "ignore_extra_untagged":
        script.ignore_extra_untagged = value.startswith("y")
    elif key.startswith("user ") and key[5:].isdigit():
        script.users[int(key[5:])] = value
    elif key == "messages":
        script.messages = None if value == "all" else int(value)
    elif key == "state":
        if value.lower() not in _STATES:
            raise ScriptError(f"unknown state {value!r}")
        script.state = _STATES[value.lower()]
    else:
        raise ScriptError(f"unknown setting {key!r}")


def _split_reply(text: str) -> tuple[int, list[Arg] | None, str]:
    """``[tagN] [ok|no|bad|""] rest``: the tag number, the expected reply, the rest."""
    tag = 0
    word, _, rest = text.partition(" ")
    if word.lower().startswith("tag") and word[3:].isdigit() and int(word[3:]) > 0 and rest:
        tag, text = int(word[3:]), rest
        word, _, rest = text.partition(" ")
    if word.lower() in _REPLIES:
        reply = [Arg(Kind.ATOM, "" if word == '""' else word.lower())]
        return tag, reply, rest
    return tag, None, text


def _untagged(line: str) -> Existence | None:
    for existence in Existence:
        if line.startswith(existence.value + " "):
            return existence
    return None


def _command_line(script: Script, group: Group | None, number: int, line: str) -> Group:
    if group is not None:
        if line == "!ordered":
            group.ordered = True
            return group
        if line.startswith(("!sleep ", "!output ")):
            return group
        existence = _untagged(line)
        if existence is not None:
            _add_untagged(group, existence, line[2:])
            return group
        pending = [c for c in group.commands if c.reply is None]
        if pending:
            body = line
            if script.connections > 1:
                word, _, rest = line.partition(" ")
                if word.isdigit():
                    if int(word) - 1 != group.connection:
                        raise ScriptError("a reply for another connection")
                    body = rest
            tag, reply, rest = _split_reply(body)
            if reply is not None:
                owner = next((c for c in group.commands if c.tag == tag), None)
                if owner is None:
                    raise ScriptError(f"a reply for tag{tag}, which was not sent")
                if owner.reply is not None:
                    raise ScriptError(f"tag{tag} already has its reply")
                owner.reply = [*reply, *tokenize(rest)]
                return group
    if group is None or all(c.reply is not None for c in group.commands):
        group = None
    connection = 0
    if script.connections > 1:
        word, _, rest = line.partition(" ")
        if not word.isdigit() or int(word) == 0:
            raise ScriptError("the connection number is missing")
        connection, line = int(word) - 1, rest
    tag, reply, text = _split_reply(line)
    if group is None:
        group = Group(connection)
        script.groups.append(group)
    elif group.connection != connection:
        raise ScriptError("pipelined commands must use one connection")
    if tag == 0 and group.commands:
        raise ScriptError("the previous command has no reply")
    if tag and any(c.tag == tag for c in group.commands):
        raise ScriptError(f"tag{tag} used twice in one group")
    existence = _untagged(text)
    if not group.commands and existence is not None:
        script.banner_check = True
        _add_untagged(group, existence, text[2:])
        return group
    command = Command(number, text, reply, tag)
    group.commands.append(command)
    return group


def _add_untagged(group: Group, existence: Existence, text: str) -> None:
    args = tokenize(text)
    name = ""
    if args and args[0].kind is Kind.ATOM:
        name = args[0].text
        if name[:1] == "$" or name[:1].isdigit():
            name = args[1].text if len(args) > 1 and args[1].kind is Kind.ATOM else ""
    add_default_directives(args, name.lower())
    if name.upper() == "BYE":
        if existence is Existence.MAY:
            raise ScriptError("'? BYE' is not supported")
        if existence is Existence.MUST:
            group.expects_bye = True
    group.untagged.append(Untagged(existence, args))


def _has_directives(items: list[Arg]) -> bool:
    return bool(items) and items[0].kind is Kind.ATOM and items[0].text.startswith("$!")


def add_default_directives(args: list[Arg], reply: str) -> None:
    """Make the lists whose order the protocol leaves free unordered, as imaptest does.

    ``LIST (flags)``, ``STATUS box (items)`` and ``n FETCH (items)`` (compared by
    pairs), and in a FETCH the ``FLAGS (...)`` list, which must also hold nothing more
    than expected but for ``\\Recent`` and the attachment keywords.  A list that
    already starts with directives is left as written.
    """
    for index, arg in enumerate(args):
        if arg.kind is not Kind.LIST or _has_directives(arg.items):
            continue
        if reply in ("list", "lsub") and index == 1:
            arg.items.insert(0, Arg(Kind.ATOM, "$!unordered"))
        elif reply in ("status", "fetch") and index == 2:
            arg.items.insert(0, Arg(Kind.ATOM, "$!unordered=2"))  # compared by pairs
    if reply != "fetch" or len(args) < 3 or args[2].kind is not Kind.LIST:
        return
    previous = ""
    for arg in args[2].items:
        if arg.kind is Kind.ATOM:
            previous = arg.text.lower()
        elif arg.kind is Kind.LIST and previous == "flags" and not _has_directives(arg.items):
            arg.items[:0] = [
                Arg(Kind.ATOM, word)
                for word in (
                    "$!unordered",
                    "$!noextra",
                    "$!ignore=\\recent",
                    "$!ignore=$HasAttachment",
                    "$!ignore=$HasNoAttachment",
                )
            ]


# -- Comparing replies with expectations -------------------------------------------------


def _is_var_char(char: str) -> bool:
    return char.isalnum() or char == "_"


class Matcher:
    """Compares replies with expectations, capturing ``$variables`` as it goes."""

    def __init__(self, variables: dict[str, str]) -> None:
        self.variables = variables
        #: Message numbers at the start of the group, by position: ``$N`` (0: expunged).
        self.seqmap: list[int] = []
        #: Variables captured since the last :meth:`forget_added`/:meth:`keep_added`.
        self.added: list[str] = []
        #: The highest ``$modseqN`` captured so far: its N and its value.
        self.modseq_index = 0
        self.modseq_value = 0

    def _next_modseq(self, index: int, value: str) -> str:
        """``$modseqN`` must grow with N: at least the last one seen plus the gap.

        A value that breaks the rule is replaced by a note that matches nothing.
        """
        if not value.isdigit():
            return "$modseq-not-number"
        if index < self.modseq_index:
            return "$modseq-order-mismatch"
        least = self.modseq_value + (index - self.modseq_index)
        number = int(value)
        if number < least:
            value, number = f"$modseq-at-least-{least}", least
        self.modseq_index, self.modseq_value = index, number
        return value

    def forget_added(self) -> None:
        """Undo the captures of a comparison that failed."""
        for name in self.added:
            self.variables.pop(name, None)
        self.added.clear()

    def keep_added(self) -> None:
        """Keep the captures of a comparison that succeeded."""
        self.added.clear()

    def relative(self, number: int) -> str:
        """``$N``: what message N (at the start of the group) is numbered now."""
        if number == 0:
            return "<zero seq>"
        if number > len(self.seqmap):
            return "<out of range>"
        current = self.seqmap[number - 1]
        return str(current) if current else "<expunged>"

    def expunged(self, number: int) -> None:
        """Message ``number`` is gone: the ones after it move down."""
        for index, current in enumerate(self.seqmap):
            if current == number:
                self.seqmap[index] = 0
            elif current > number:
                self.seqmap[index] = current - 1

    def expand(self, text: str) -> str:
        """A command with its variables replaced; :class:`KeyError` names a missing one."""
        out: list[str] = []
        pos = 0
        while pos < len(text):
            char = text[pos]
            if char != "$" or pos + 1 == len(text):
                out.append(char)
                pos += 1
                continue
            pos += 1
            if text[pos] == "$":
                out.append("$")
                pos += 1
                continue
            if text[pos] == "{":
                close = text.find("}", pos)
                if close < 0:
                    raise KeyError("a '${' without '}'")
                name, pos = text[pos + 1 : close], close + 1
            else:
                stop = pos
                while stop < len(text) and _is_var_char(text[stop]):
                    stop += 1
                name, pos = text[pos:stop], stop
            if name.isdigit():
                out.append(self.relative(int(name)))
            elif name in self.variables:
                out.append(self.variables[name])
            else:
                raise KeyError(f"uninitialized variable ${name}")
        return "".join(out)

    def expand_input(self, pattern: str, text: str) -> tuple[str | None, bool]:
        """Expand ``pattern`` along ``text``, capturing unset variables from ``text``.

        Returns the expansion (``None`` once it cannot match) and whether the final
        comparison ignores case (``${case:X}`` asks for exact case).  An unset variable
        takes ``text`` up to the first character equal to the one that follows it in
        the pattern.
        """
        icase = True
        out: list[str] = []
        i = j = 0
        while i < len(pattern):
            char = pattern[i]
            if char != "$" or pattern[i + 1 : i + 2] == "$":
                if char == "$":
                    i += 1
                    char = pattern[i]
                if j >= len(text) or text[j].upper() != char.upper():
                    return None, icase
                out.append(char)
                i += 1
                j += 1
                continue
            i += 1
            if pattern[i : i + 1] == "{":
                close = pattern.find("}", i + 1)
                if close < 0:
                    return "", icase
                name, i = pattern[i + 1 : close], close + 1
            else:
                stop = i
                while stop < len(pattern) and _is_var_char(pattern[stop]):
                    stop += 1
                name, i = pattern[i:stop], stop
            value: str | None
            if name.isdigit():
                value = self.relative(int(name))
            elif name.startswith("case:"):
                icase = False
                value = name[5:]
            else:
                value = self.variables.get(name) if name else None
                if value is None:
                    rest = pattern[i:]
                    follow: str | None = rest
                    if rest.startswith("$"):
                        follow, _ = self.expand_input(rest, text[j:])
                    stop_at = (follow or "")[:1].upper()
                    stop = j
                    while stop < len(text) and (not stop_at or text[stop].upper() != stop_at):
                        stop += 1
                    value = text[j:stop]
                    modseq = re.fullmatch(r"modseq(\d+)", name)
                    if modseq is not None:
                        # Kept even if the comparison fails, so the message can tell.
                        value = self._next_modseq(int(modseq.group(1)), value)
                        self.variables[name] = value
                    elif name:
                        self.variables[name] = value
                        self.added.append(name)
            out.append(value)
            for expected in value:
                if j >= len(text) or text[j] != expected:
                    return None, icase
                j += 1
        return "".join(out), icase

    def match_args(
        self,
        expected: Sequence[Arg],
        actual: Sequence[Arg],
        limit: int = FULL,
        prefix: bool = False,
    ) -> int:
        """How many of ``expected`` match ``actual`` in order; :data:`FULL` for all.

        With ``prefix`` (tagged and status replies, whose human-readable text goes on),
        the last expected word need only begin the reply's word, and the reply may be
        longer.
        """
        count = 0
        index = 0
        for position, want in enumerate(expected):
            if limit <= 0:
                break
            if index >= len(actual):
                return count
            got = actual[index]
            if want.kind is Kind.NIL:
                if got.kind is not Kind.NIL:
                    return count
            elif want.kind is Kind.LIST:
                if got.kind is not Kind.LIST:
                    return count
                inner = self.match_list(want.items, got.items)
                if inner != FULL:
                    return count + inner
            else:
                if want.text == "$" and got.kind is Kind.LIST:
                    pass  # "$" stands for a whole list too
                elif want.text == "$]":
                    # "[CAPABILITY $]": skip words up to the one closing the bracket.
                    while got.kind is Kind.ATOM and "]" not in got.text:
                        index += 1
                        if index >= len(actual):
                            return count
                        got = actual[index]
                else:
                    text = got.astring()
                    if text is None:
                        return count
                    value, icase = self.expand_input(want.text, text)
                    if value is None:
                        return count
                    a, b = (text.lower(), value.lower()) if icase else (text, value)
                    last = position == len(expected) - 1
                    if not (a.startswith(b) if prefix and last else a == b):
                        return count
            count += 1
            index += 1
            limit -= 1
        if prefix or index >= len(actual) or limit <= 0:
            return FULL
        return count

    def match_list(self, expected: Sequence[Arg], actual: Sequence[Arg]) -> int:
        """Compare a list's contents, honouring its ``$!`` directives."""
        unordered, chain, noextra = False, 1, None
        ignores: list[str] = []
        bans: list[str] = []
        start = 0
        while start < len(expected):
            arg = expected[start]
            if arg.kind is not Kind.ATOM or not arg.text.startswith("$!"):
                break
            word = arg.text[2:]
            if word.startswith("unordered"):
                unordered = True
                noextra = False if noextra is None else noextra
                if word.startswith("unordered="):
                    chain = int(word[10:])
            elif word == "ordered":
                unordered = False
            elif word == "extra":
                noextra = False
            elif word == "noextra":
                noextra = True
            elif word.startswith("ignore="):
                ignores.append(word[7:].lower())
            elif word.startswith("ban="):
                bans.append(word[4:].lower())
            start += 1
        wanted = expected[start:]
        if not unordered:
            return self.match_args(wanted, actual)
        if len(actual) % chain:
            return 0
        matched = [False] * len(actual)
        count = 0
        for first in range(0, len(wanted), chain):
            for at in range(0, len(actual), chain):
                if self.match_args(wanted[first : first + chain], actual[at:], chain) == FULL:
                    matched[at] = True
                    break
            else:
                return count
            count += 1
        for at in range(0, len(actual), chain):
            text = actual[at].astring()
            if matched[at] or text is None:
                continue
            if noextra is not False and text.lower() not in ignores:
                return count
            if noextra is False and text.lower() in bans:
                return count
        return FULL


# -- Talking to a server -----------------------------------------------------------------


class Closed(Exception):
    """The server closed the connection."""


class Wire(Protocol):
    """A byte pipe to one IMAP connection."""

    def send(self, data: bytes) -> None:
        """Write bytes to the server."""

    def receive(self) -> bytes:
        """Bytes from the server (raises :class:`Closed` at the end)."""

    def close(self) -> None:
        """Hang up."""


class SessionWire:
    """A connection to an in-process sans-IO :class:`ServerSession`."""

    def __init__(self, session: ServerSession) -> None:
        self.session = session
        self.pending = bytearray(session.greeting())

    def send(self, data: bytes) -> None:
        out = self.session.receive_data(data)
        while self.session.backlog:
            out += self.session.resume()
        self.pending += out

    def receive(self) -> bytes:
        if not self.pending:
            if self.session.closed:
                raise Closed
            raise TimeoutError("the server is waiting for more input")
        data = bytes(self.pending)
        self.pending.clear()
        return data

    def close(self) -> None:
        if not self.session.closed:
            self.session.receive_data(b"")


class SocketWire:
    """A TCP connection to a real server."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def receive(self) -> bytes:
        data = self.sock.recv(65536)
        if not data:
            raise Closed
        return data

    def close(self) -> None:
        self.sock.close()


@dataclass
class Reply:
    """One response from the server."""

    kind: str  # "*", "+" or "tagged"
    tag: str
    args: list[Arg]
    raw: str


class Connection:
    """One IMAP client connection: sends commands, parses responses, follows the mailbox.

    Like imaptest's state tracking, it checks what every untagged reply implies about
    the selected mailbox, whatever the script expects: EXISTS never shrinks (only
    EXPUNGE removes), FETCH and EXPUNGE name existing messages, a message keeps its UID,
    a keyword appears in FETCH only after ``* FLAGS`` announced it (RFC 3501 7.2.6), and
    a message is ``\\Recent`` in one session only (RFC 3501 2.3.2).  What breaks a rule
    goes to :attr:`errors`.
    """

    def __init__(self, wire: Wire, name: int, recent: dict[tuple[str, str, str], int]) -> None:
        self.wire = wire
        self.name = name  # tags are "name.n", as imaptest writes them
        self.buffer = bytearray()
        self.counter = 0
        self.closed = False
        self.capabilities: list[str] = []
        #: The UID of each message of the selected mailbox by position (None: not seen).
        self.uids: list[str | None] = []
        self.mailbox = ""
        self.uidvalidity = ""
        #: The flags and keywords the last ``* FLAGS`` announced, in lower case.
        self.keywords: set[str] = set()
        #: Which connection saw each (mailbox, UIDVALIDITY, UID) as \Recent; shared.
        self.recent = recent
        #: Replies that broke a rule of the protocol, not yet reported.
        self.errors: list[str] = []

    @property
    def exists(self) -> int:
        """How many messages the selected mailbox holds, as the server has told."""
        return len(self.uids)

    def next_tag(self) -> str:
        self.counter += 1
        return f"{self.name}.{self.counter}"

    def read(self) -> Reply:
        """The next complete response (a line with its literals)."""
        while True:
            reply = self._parse()
            if reply is not None:
                return reply
            if self.closed:
                raise Closed
            try:
                self.buffer += self.wire.receive()
            except Closed:
                self.closed = True
                raise

    def _parse(self) -> Reply | None:
        pos = 0
        while True:
            end = self.buffer.find(b"\r\n", pos)
            if end < 0:
                return None
            found = re.search(rb"~?\{(\d+)\}$", self.buffer[pos:end])
            if found is None:
                break
            pos = end + 2 + int(found.group(1))
            if pos > len(self.buffer):
                return None
        raw = bytes(self.buffer[:end]).decode("latin-1")
        del self.buffer[: end + 2]
        head, _, rest = raw.partition(" ")
        if head == "*":
            reply = Reply("*", "", tokenize(rest), raw)
            self._track(reply.args)
            return reply
        if head == "+":
            return Reply("+", "", [], raw)
        return Reply("tagged", head, tokenize(rest), raw)

    def _track(self, args: list[Arg]) -> None:
        """Follow the mailbox and the announced capabilities."""
        if len(args) >= 2 and args[0].kind is Kind.ATOM and args[0].text.isdigit():
            number = int(args[0].text)
            what = args[1].text.upper() if args[1].kind is Kind.ATOM else ""
            if what == "EXISTS":
                if number < self.exists:
                    self.errors.append(f"EXISTS went down from {self.exists} to {number}")
                    del self.uids[number:]
                self.uids += [None] * (number - self.exists)
            elif what == "EXPUNGE":
                if not 0 < number <= self.exists:
                    self.errors.append(f"EXPUNGE {number}, but {self.exists} messages exist")
                else:
                    del self.uids[number - 1]
            elif what == "FETCH" and len(args) >= 3 and args[2].kind is Kind.LIST:
                self._fetched(number, args[2].items)
        if len(args) >= 2 and args[0].text.upper() == "FLAGS" and args[1].kind is Kind.LIST:
            self.keywords = {f.text.lower() for f in args[1].items}
        if len(args) >= 2 and args[1].text.upper() == "[UIDVALIDITY":
            self.uidvalidity = args[2].text.rstrip("]") if len(args) > 2 else ""
        if args and args[0].kind is Kind.ATOM and args[0].text.upper() == "CAPABILITY":
            self.capabilities = [a.text for a in args[1:] if a.kind is Kind.ATOM]
        self.capability_code(args)

    def _fetched(self, number: int, items: list[Arg]) -> None:
        if not 0 < number <= self.exists:
            self.errors.append(f"FETCH for message {number}, but {self.exists} messages exist")
            return
        pairs = dict(zip((a.text.upper() for a in items[::2]), items[1::2], strict=False))
        uid = pairs.get("UID")
        if uid is not None:
            known = self.uids[number - 1]
            if known is not None and known != uid.text:
                self.errors.append(f"message {number} was UID {known}, now UID {uid.text}")
            self.uids[number - 1] = uid.text
        flags = pairs.get("FLAGS")
        if flags is not None and self.mailbox:
            unknown = [
                f.text
                for f in flags.items
                if not f.text.startswith("\\") and f.text.lower() not in self.keywords
            ]
            if unknown:
                self.errors.append(f"keyword {unknown[0]} in FETCH before FLAGS announced it")
        uid_text = self.uids[number - 1]
        if flags is None or uid_text is None:
            return
        if any(f.text.lower() == "\\recent" for f in flags.items):
            key = (self.mailbox.lower(), self.uidvalidity, uid_text)
            owner = self.recent.setdefault(key, self.name)
            if owner != self.name:
                self.errors.append(
                    f"UID {uid_text} is \\Recent in connection {self.name} and in {owner}"
                )

    def selecting(self, text: str) -> None:
        """Note a command that changes the selected mailbox, before it is sent."""
        words = tokenize(text)
        verb = words[0].text.upper() if words and words[0].kind is Kind.ATOM else ""
        if verb in ("SELECT", "EXAMINE", "CLOSE", "UNSELECT"):
            self.uids = []
            self.uidvalidity = ""
            self.keywords = set()
            name = words[1].astring() if len(words) > 1 else None
            self.mailbox = name or "" if verb in ("SELECT", "EXAMINE") else ""

    def capability_code(self, args: list[Arg]) -> None:
        """``OK [CAPABILITY ...]`` in a greeting or a tagged reply."""
        if len(args) >= 2 and args[1].kind is Kind.ATOM and args[1].text.upper() == "[CAPABILITY":
            words: list[str] = []
            for arg in args[2:]:
                words.append(arg.text.rstrip("]"))
                if arg.text.endswith("]"):
                    break
            self.capabilities = [w for w in words if w]

    def send_command(self, tag: str, text: str) -> list[Reply]:
        """Send ``tag text``, waiting for ``+`` before each synchronizing literal.

        Returns the replies read while waiting (they belong to the group).  If the
        server answers the command instead of asking for the literal, the rest of the
        command is not sent.
        """
        self.selecting(text)
        data = f"{tag} {text}\r\n".encode("latin-1")
        seen: list[Reply] = []
        pos = 0
        for found in re.finditer(rb"~?\{(\d+)(\+?)\}\r\n", data):
            if found.start() < pos:
                continue
            if found.group(2):  # LITERAL+: no need to wait
                continue
            self.wire.send(data[pos : found.end()])
            pos = found.end()
            while True:
                reply = self.read()
                if reply.kind == "+":
                    break
                seen.append(reply)
                if reply.kind == "tagged" and reply.tag == tag:
                    return seen
            # the literal's octets follow, whatever they contain
            next_pos = found.end() + int(found.group(1))
            self.wire.send(data[pos:next_pos])
            pos = next_pos
        self.wire.send(data[pos:])
        return seen


# -- Running a test ----------------------------------------------------------------------


@dataclass
class GroupResult:
    """How one command group went."""

    line: int
    command: str
    failures: list[str]


@dataclass
class TestResult:
    """How one script went."""

    name: str
    extension: bool
    skipped: str = ""  # why, when skipped
    error: str = ""  # why the test could not run to the end
    groups: list[GroupResult] = field(default_factory=list)

    @property
    def failed_groups(self) -> list[GroupResult]:
        return [g for g in self.groups if g.failures]

    @property
    def outcome(self) -> str:
        if self.skipped:
            return "skip"
        return "fail" if self.error or self.failed_groups else "pass"


@dataclass
class Target:
    """Where the tests run: an in-process server, or host and port of a real one."""

    host: str | None = None
    port: int = 0
    users: tuple[tuple[str, str], ...] = (("imaptest1", "pass1"), ("imaptest2", "pass2"))
    mailbox: str = "imaptest"
    timeout: float = 30.0
    #: Run tests even when the server lacks the capabilities they name (a diagnosis:
    #: imaptest itself always skips them).
    ignore_capabilities: bool = False

    def open(
        self, server: ImapServer | None, index: int, recent: dict[tuple[str, str, str], int]
    ) -> Connection:
        if server is not None:
            return Connection(SessionWire(server.open_session()), index, recent)
        assert self.host is not None
        return Connection(SocketWire(self.host, self.port, self.timeout), index, recent)

    def fresh_server(self) -> ImapServer | None:
        """A new in-process server for one test, or ``None`` to use host and port."""
        if self.host is not None:
            return None
        config = ServerConfig(login_failure_delay=0.0)
        return ImapServer(MailStore(), Users(dict(self.users)), config)


def read_mbox(path: Path) -> list[tuple[bytes, str]]:
    """The messages of an mbox (CRLF line ends) and their internal dates from "From ".

    As imaptest reads it: a message is every line after its ``From `` line up to the
    next one, the blank line before it included.
    """
    messages: list[tuple[bytes, str]] = []
    lines = path.read_bytes().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    current: list[bytes] | None = None
    date = ""
    for line in lines:
        if line.startswith(b"From ") and (stamp := _from_date(line)) is not None:
            if current is not None and current:
                messages.append((b"".join(current), date))
            if current is None or current:
                current, date = [], stamp
            continue
        if current is not None:
            current.append(line.rstrip(b"\r") + b"\r\n")
    if current:
        messages.append((b"".join(current), date))
    return messages


def _from_date(line: bytes) -> str | None:
    """The IMAP date-time of an mbox ``From sender  Fri Feb 22 17:06:23 2008`` line."""
    found = re.search(
        rb"\w{3} +(\w{3}) +(\d{1,2}) (\d\d:\d\d:\d\d)(?: ([+-]\d{4}))? (\d{4})(?: ([+-]\d{4}))?",
        line,
    )
    if found is None:
        return None
    month, day, clock, zone, year, zone_after = (g.decode() if g else "" for g in found.groups())
    return f'"{int(day):02d}-{month}-{year} {clock} {zone or zone_after or "+0000"}"'


class TestRun:
    """Executes one script against a target, as imaptest would."""

    def __init__(self, script: Script, target: Target) -> None:
        self.script = script
        self.target = target
        self.result = TestResult(script.name, bool(script.capabilities))
        self.messages = read_mbox(script.mbox)
        self.next_message = 0
        self.variables: dict[str, str] = {}
        self.matcher = Matcher(self.variables)
        self.connections: list[Connection] = []

    # The steps of a test, in order.

    def run(self) -> TestResult:
        server = self.target.fresh_server()
        try:
            recent: dict[tuple[str, str, str], int] = {}
            for index in range(self.script.connections):
                self.connections.append(self.target.open(server, index + 1, recent))
            self._setup()
            errors = self._state_errors()
            if errors:
                self.result.groups.append(GroupResult(0, "(setup)", errors))
            if not self.result.skipped:
                for group in self.script.groups[1 if self.script.banner_check else 0 :]:
                    self._run_group(group)
        except _Abort as abort:
            self.result.error = str(abort)
        except (OSError, TimeoutError) as error:
            self.result.error = f"connection failed: {error}"
        finally:
            for connection in self.connections:
                connection.wire.close()
        return self.result

    def _setup(self) -> None:
        script, target = self.script, self.target
        first = self.connections[0]
        greeting = first.read()
        if script.banner_check:
            group = script.groups[0]
            failures = self._check_untagged(group, [greeting], first)
            self.result.groups.append(GroupResult(0, "(greeting)", failures))
        for connection in self.connections[1:]:
            connection.read()
        for index in range(len(self.connections)):
            user, password = target.users[0]
            if script.users.get(index + 1, "").strip("${}") == "user2":
                user, password = target.users[1]
            number = "" if index == 0 else str(index + 1)
            self.variables[f"user{number}"] = user
            self.variables[f"username{number}"] = user.split("@")[0]
            self.variables[f"domain{number}"] = user.split("@")[1] if "@" in user else "localhost"
            self.variables[f"password{number}"] = password
        self.variables["mailbox"] = target.mailbox
        self.variables["mailbox_url"] = target.mailbox
        if script.state is State.NONAUTH:
            self._check_capabilities(first)
            return
        for index, connection in enumerate(self.connections):
            number = "" if index == 0 else str(index + 1)
            user, password = self.variables[f"user{number}"], self.variables[f"password{number}"]
            self._init(connection, f'LOGIN "{user}" "{password}"')
        if not first.capabilities or all(c.upper() != "IMAP4REV1" for c in first.capabilities):
            self._init(first, "CAPABILITY")
        if not self._check_capabilities(first):
            return
        self._clean(first)
        if script.state >= State.CREATED and target.mailbox.upper() != "INBOX":
            self._init(first, f"CREATE {quote(target.mailbox)}")
        if script.state >= State.APPENDED:
            count = len(self.messages) if script.messages is None else script.messages
            for _ in range(count):
                self._init(first, self._append_text(quote(target.mailbox), with_date=True))
        if script.state >= State.SELECTED:
            for connection in self.connections:
                self._init(connection, f"SELECT {quote(target.mailbox)}")

    def _state_errors(self) -> list[str]:
        """What the replies so far broke of the protocol's rules (then forgotten)."""
        errors = [f"connection {c.name}: {e}" for c in self.connections for e in c.errors]
        for connection in self.connections:
            connection.errors.clear()
        return errors

    def _check_capabilities(self, connection: Connection) -> bool:
        if self.target.ignore_capabilities:
            return True
        have = {c.upper() for c in connection.capabilities}
        missing = [c for c in self.script.capabilities if c.upper() not in have]
        if missing:
            self.result.skipped = "missing capabilities: " + " ".join(missing)
            return False
        return True

    def _clean(self, connection: Connection) -> None:
        """Delete and unsubscribe the test mailbox and its children, as imaptest does."""
        pattern = quote(self.target.mailbox + "*")
        listed = self._init(connection, f'LIST "" {pattern}')
        subscribed = self._init(connection, f'LSUB "" {pattern}')

        def names(replies: list[Reply], word: str) -> list[str]:
            found = []
            for reply in replies:
                args = reply.args
                if len(args) >= 4 and args[0].text.upper() == word:
                    name = args[3].astring()
                    if name is not None:
                        found.append(name)
            return sorted(found, key=str.lower, reverse=True)

        for name in names(listed, "LIST"):
            self._init(connection, f"DELETE {quote(name)}", may_fail=True)
        for name in names(subscribed, "LSUB"):
            self._init(connection, f"UNSUBSCRIBE {quote(name)}", may_fail=True)

    def _init(self, connection: Connection, text: str, may_fail: bool = False) -> list[Reply]:
        """A setup command; anything but OK ends the test (NO is fine with ``may_fail``)."""
        tag = connection.next_tag()
        replies = connection.send_command(tag, text)
        while not replies or replies[-1].kind != "tagged" or replies[-1].tag != tag:
            replies.append(connection.read())
        status = replies[-1].args[0].text.upper() if replies[-1].args else ""
        connection.capability_code(replies[-1].args)
        if status != "OK" and not (may_fail and status == "NO"):
            raise _Abort(f"initialization failed: {text.splitlines()[0]}: {replies[-1].raw}")
        return replies[:-1]

    def _append_text(self, arguments: str, with_date: bool = False) -> str:
        """APPEND of the next message of the test's mbox (round and round)."""
        if not self.messages:
            raise _Abort(f"{self.script.mbox} holds no messages")
        message, date = self.messages[self.next_message % len(self.messages)]
        self.next_message += 1
        body = message.decode("latin-1")
        dated = f" {date}" if with_date and date else ""
        return f"APPEND {arguments}{dated} {{{len(message)}}}\r\n{body}"

    def _command_text(self, text: str) -> str:
        """The command to send: variables expanded, bare APPENDs given a message."""
        text = self.matcher.expand(text)
        lower = text.lower()
        if lower == "append":
            return self._append_text(quote(self.target.mailbox), with_date=True)
        if lower.startswith("append ") and not _has_message(text[7:]):
            return self._append_text(text[7:])
        return text

    def _run_group(self, group: Group) -> None:
        if group.connection >= len(self.connections):
            raise _Abort(f"line {group.line}: no connection {group.connection + 1}")
        connection = self.connections[group.connection]
        self.matcher.seqmap = list(range(1, connection.exists + 1))
        failures: list[str] = []
        tags: dict[str, Command] = {}
        replies: list[Reply] = []
        answered: dict[str, Reply] = {}
        try:
            for command in group.commands:
                text = self._command_text(command.text)
                tag = connection.next_tag()
                tags[tag] = command
                replies += connection.send_command(tag, text)
            answered = {r.tag: r for r in replies if r.kind == "tagged" and r.tag in tags}
            while len(answered) < len(tags):
                reply = connection.read()
                replies.append(reply)
                if reply.kind == "tagged" and reply.tag in tags:
                    answered[reply.tag] = reply
        except KeyError as error:
            failures.append(str(error).strip("'\""))
            self.result.groups.append(GroupResult(group.line, group.commands[0].text, failures))
            return
        except Closed:
            if not group.expects_bye:
                failures.append("unexpected disconnection")
            elif any(c.reply and c.reply[0].text != "" for c in group.commands):
                failures.append('only "" may be expected as tagged reply when BYE happens')
            answered = {}
        except TimeoutError as error:
            failures.append(f"no reply: {error}")
            answered = {}
        untagged = [r for r in replies if r.kind == "*"]
        failures += self._check_untagged(group, untagged, connection, tags)
        failures += self._state_errors()
        for tag, reply in answered.items():
            want = tags[tag].reply or []
            self.variables["tag"] = tag
            got = self.matcher.match_args(want, reply.args, prefix=True)
            self.variables.pop("tag", None)
            self.matcher.keep_added()
            if got != FULL:
                failures.append(f"expected tagged reply '{args_text(want)}', got '{reply.raw}'")
        self.result.groups.append(GroupResult(group.line, group.commands[0].text, failures))
        if failures and connection.closed and not group.expects_bye:
            raise _Abort(f"line {group.line}: the connection is gone")

    def _check_untagged(
        self,
        group: Group,
        replies: list[Reply],
        connection: Connection,
        tags: dict[str, Command] | None = None,
    ) -> list[str]:
        """Match each untagged reply of a group against its expected ones, in turn."""
        failures: list[str] = []
        expected = group.untagged
        found = [False] * len(expected)
        best: list[tuple[int, str]] = [(-1, "")] * len(expected)
        mismatches = 0
        first_extra = ""
        first_tag = next(iter(tags)) if tags else None
        for reply in replies:
            args = reply.args
            logout = any(c.text.lower() == "logout" for c in group.commands)
            if not expected and (self.script.ignore_extra_untagged or group.expects_bye or logout):
                self._note_expunge(args)
                continue
            head = args[0].text.lower() if args and args[0].kind is Kind.ATOM else ""
            prefix = head in ("ok", "no", "bad", "bye")
            some = False
            for index, want in enumerate(expected):
                if found[index]:
                    continue
                if first_tag is not None:
                    self.variables["tag"] = first_tag
                got = self.matcher.match_args(want.args, args, prefix=prefix)
                self.variables.pop("tag", None)
                if got == FULL:
                    if want.existence is Existence.MUST_NOT:
                        failures.append(
                            f"unexpected untagged match:\n   match: {args_text(want.args)}"
                            f"\n   reply: {reply.raw}"
                        )
                        self.matcher.keep_added()
                        break
                    found[index] = some = True
                    self.matcher.keep_added()
                    if group.ordered:
                        break
                    continue
                if got > best[index][0]:
                    best[index] = (got, reply.raw)
                self.matcher.forget_added()
                if group.ordered and want.existence is Existence.MUST:
                    break
            if not some:
                mismatches += 1
                if not self.script.ignore_extra_untagged and not first_extra:
                    first_extra = reply.raw
            self._note_expunge(args)
        missing = [
            i
            for i, want in enumerate(expected)
            if want.existence is Existence.MUST and not found[i]
        ]
        if missing:
            first = expected[missing[0]]
            failures.append(
                f"missing {len(missing)} untagged replies ({mismatches} mismatches)\n"
                f"   first expected: * {args_text(first.args)}\n"
                f"   best match: {best[missing[0]][1]}"
            )
        if first_extra:
            failures.append(f"{mismatches} unexpected untagged replies, first: {first_extra}")
        return failures

    def _note_expunge(self, args: list[Arg]) -> None:
        if (
            len(args) >= 2
            and args[0].text.isdigit()
            and args[1].kind is Kind.ATOM
            and args[1].text.upper() == "EXPUNGE"
        ):
            self.matcher.expunged(int(args[0].text))


class _Abort(Exception):
    """The test cannot go on (setup failed, the connection is gone)."""


def quote(text: str) -> str:
    """An IMAP quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _has_message(arguments: str) -> bool:
    """Whether APPEND's arguments already carry the message (a literal or CATENATE)."""
    args = tokenize(arguments)
    index = 1
    if index < len(args) and args[index].kind is Kind.LIST:
        index += 1
    if index < len(args) and args[index].kind is Kind.STRING and "\r\n" not in arguments:
        index += 1
    if index >= len(args):
        return False
    arg = args[index]
    return (arg.kind is Kind.ATOM and arg.text.upper() == "CATENATE") or bool(
        _LITERAL.search(arguments)
    )


# -- Whole runs and the report -----------------------------------------------------------


def script_paths(directory: Path, names: Sequence[str] = ()) -> list[Path]:
    """The test files of ``directory`` (``.mbox`` fixtures and dot files excluded)."""
    if names:
        return [directory / name for name in names]
    return sorted(
        p
        for p in directory.iterdir()
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith(".mbox")
    )


def run_tests(directory: Path, target: Target, names: Sequence[str] = ()) -> list[TestResult]:
    """Parse and run every script; a script that cannot be read fails with the reason."""
    results = []
    for path in script_paths(directory, names):
        try:
            script = parse_script(path)
        except (ScriptError, OSError, ValueError) as error:
            results.append(TestResult(path.name, False, error=f"unreadable: {error}"))
            continue
        results.append(TestRun(script, target).run())
    return results


def summary(results: Sequence[TestResult]) -> dict[str, int]:
    """Counts as imaptest prints them: tests, and command groups by base/extension."""
    counts = {
        "tests": len(results),
        "passed": sum(r.outcome == "pass" for r in results),
        "failed": sum(r.outcome == "fail" for r in results),
        "skipped": sum(r.outcome == "skip" for r in results),
        "base_commands": 0,
        "base_failed": 0,
        "ext_commands": 0,
        "ext_failed": 0,
    }
    for result in results:
        kind = "ext" if result.extension else "base"
        counts[f"{kind}_commands"] += len(result.groups)
        counts[f"{kind}_failed"] += len(result.failed_groups) + bool(result.error)
    return counts


def report(results: Sequence[TestResult], verbose: bool = False) -> str:
    """A table of every test, the failures in detail, and imaptest's summary lines."""
    lines = [f"{'test':32} {'kind':5} {'result':6} commands (failed)"]
    for result in results:
        kind = "ext" if result.extension else "base"
        detail = result.skipped or result.error
        failed = len(result.failed_groups)
        lines.append(
            f"{result.name:32} {kind:5} {result.outcome:6} {len(result.groups)} ({failed})"
            + (f"  {detail}" if detail else "")
        )
    for result in results:
        for group in result.failed_groups:
            lines.append(f"\n*** {result.name} line {group.line}: {group.command.splitlines()[0]}")
            lines += ["  - " + failure for failure in group.failures]
    counts = summary(results)
    lines.append("")
    lines.append(
        f"{counts['tests']} test groups: {counts['failed']} failed, "
        f"{counts['skipped']} skipped due to missing capabilities"
    )
    lines.append(
        f"base protocol: {counts['base_failed']}/{counts['base_commands']} "
        "individual commands failed"
    )
    lines.append(
        f"extensions: {counts['ext_failed']}/{counts['ext_commands']} individual commands failed"
    )
    if verbose:
        lines.append(f"passed: {counts['passed']}")
    return "\n".join(lines)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_serve_mail(
    lab: Path, users: Sequence[tuple[str, str]]
) -> tuple[subprocess.Popen[bytes], int]:
    """``netsim serve-mail`` in memory on a free loopback port, with the test users."""
    port = _free_port()
    path = lab / "users"
    path.write_text("".join(f"{user}:{password}\n" for user, password in users))
    argv = [sys.executable, "-m", "netsim.apps.serve_mail", "--imap", str(port)]
    argv += ["--host", "127.0.0.1", "--users", str(path), "--allow-plaintext-login"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, env=env)
    for _ in range(400):
        if proc.poll() is not None:
            raise SystemExit(f"serve-mail exited with status {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, port
        except OSError:
            time.sleep(0.05)
    proc.terminate()
    raise SystemExit("serve-mail did not start listening")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tests", nargs="*", help="test file names (default: all in --dir)")
    parser.add_argument("--dir", type=Path, default=os.environ.get(DIR_VARIABLE))
    parser.add_argument("--serve-mail", action="store_true", help="run netsim serve-mail over TCP")
    parser.add_argument("--host", help="a running IMAP server (default: in process)")
    parser.add_argument("--port", type=int, default=143)
    parser.add_argument("--user", default="imaptest1")
    parser.add_argument("--password", default="pass1")
    parser.add_argument("--user2", default="imaptest2")
    parser.add_argument("--password2", default="pass2")
    parser.add_argument("--mailbox", default="imaptest", help="the mailbox tests use")
    parser.add_argument(
        "--ignore-capabilities",
        action="store_true",
        help="run tests whose capabilities the server lacks (imaptest skips them)",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    options = parser.parse_args(argv)
    if options.dir is None or not Path(options.dir).is_dir():
        print(
            f"imaptest scripts not found: give --dir or set {DIR_VARIABLE} "
            "(the src/tests directory of github.com/dovecot/imaptest)",
            file=sys.stderr,
        )
        return 2
    users = ((options.user, options.password), (options.user2, options.password2))
    target = Target(
        users=users, mailbox=options.mailbox, ignore_capabilities=options.ignore_capabilities
    )
    proc = None
    with tempfile.TemporaryDirectory() as lab:
        if options.serve_mail:
            proc, port = start_serve_mail(Path(lab), users)
            target = dataclasses.replace(target, host="127.0.0.1", port=port)
        elif options.host:
            target = dataclasses.replace(target, host=options.host, port=options.port)
        try:
            results = run_tests(Path(options.dir), target, options.tests)
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait()
    print(report(results, options.verbose))
    return 1 if any(r.outcome == "fail" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
