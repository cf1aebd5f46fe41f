"""The IMAP value syntax: atoms, strings, literals and parenthesized lists.

Commands and responses share one syntax (RFC 3501 section 4), so one tokenizer turns a
logical :class:`~netsim.mail.imap.framing.Line` into Python values:

- an *atom* becomes :class:`Atom` (a ``str``), e.g. ``FLAGS``, ``\\Seen``, ``1:*`` and
  ``BODY[HEADER.FIELDS (From)]<0.100>`` (a bracketed section is part of its atom);
- a quoted string or a literal becomes ``bytes``, because literals may be binary;
- a parenthesized list becomes a ``tuple``.

Errors raise :class:`ParseError` with a reason fit for a ``BAD`` response.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Union

from netsim.mail.imap.framing import Line


class Atom(str):
    """An unquoted token; compare with ``.upper()`` since keywords ignore case."""

    __slots__ = ()


class LiteralBytes(bytes):
    """Bytes that arrived as a literal rather than a quoted string (APPEND needs one)."""

    __slots__ = ()


Value = Union[Atom, bytes, tuple["Value", ...]]  # noqa: UP007 - recursive alias needs Union


class ParseError(ValueError):
    """Bytes that do not follow the IMAP syntax."""


#: Deepest parenthesis nesting accepted.  Nothing in IMAP needs more than a few
#: levels (a BODYSTRUCTURE a few dozen), and values are later walked recursively.
MAX_DEPTH = 100

# \Z, not $: "$" would also match before a final LF, which the framer does not.
_LITERAL_AT_END = re.compile(rb"\{\d+\+?\}\Z")
# ASTRING-CHAR: no SP, CTL, parentheses, "{", quotes, backslash, "%" or "*" (a "+" is
# refused at the start of a tag, where it would read as a continuation).
_TAG_CHARS = bytes(sorted(set(range(0x21, 0x7F)) - set(b'%(){*"\\')))
# Everything an atom may contain except "[", which opens a section (handled apart).
_ATOM_RUN = re.compile(rb'[^ ()"\[\x00-\x1f\x7f]+')


def split_tag(head: bytes) -> str | None:
    """The tag at the start of a command line, if it looks like one."""
    tag = head.split(b" ", 1)[0]
    # translate() deletes every tag character: a tag leaves nothing (no regex engine
    # is woken for the one check every command line gets).
    if tag and not tag.translate(None, _TAG_CHARS) and not tag.startswith(b"+"):
        return tag.decode("ascii")
    return None


def parse_command(line: Line) -> tuple[str, str, list[Value]]:
    """Split a command line into (tag, upper-case command name, arguments).

    ``UID FETCH`` and the other UID forms come back as one two-word name.
    """
    first = line.parts[0]
    tag_end = first.find(b" ")
    if tag_end <= 0:
        raise ParseError("missing command")
    tag = split_tag(first)
    if tag is None:
        raise ParseError("invalid tag")
    if len(line.parts) == 1 and len(first) <= _CACHED_LINE:
        # No literals: the text after the tag says everything, and clients send the
        # same few short commands again and again (NOOP, FETCH 1:* FLAGS ...).
        name, cached = _parse_text(first[tag_end + 1 :])
        return tag, name, list(cached)
    name, rest = _name_and_arguments(tokenize(line, tag_end + 1))
    return tag, name, rest


#: Longest command line whose parse is remembered (so the cache stays small).
_CACHED_LINE = 256


@lru_cache(maxsize=512)
def _parse_text(text: bytes) -> tuple[str, tuple[Value, ...]]:
    """Command name and arguments of a literal-free command (values are immutable,
    so a parse can be shared; a malformed one raises each time, uncached)."""
    name, rest = _name_and_arguments(tokenize(Line((text,)), 0))
    return name, tuple(rest)


def _name_and_arguments(values: list[Value]) -> tuple[str, list[Value]]:
    if not values or not isinstance(values[0], Atom):
        raise ParseError("missing command name")
    name = values[0].upper()
    rest = values[1:]
    if name == "UID":
        if not rest or not isinstance(rest[0], Atom):
            raise ParseError("UID needs a command")
        name = f"UID {rest[0].upper()}"
        rest = rest[1:]
    return name, rest


def tokenize(line: Line, start: int = 0) -> list[Value]:
    """Every value on ``line`` from byte ``start`` of its first text part."""
    stack: list[list[Value]] = [[]]
    parts = line.parts
    index = 0
    text = parts[0]
    pos = start
    while True:
        if pos >= len(text):
            break
        char = text[pos]
        if char == 0x20:  # SP separates values
            pos += 1
            continue
        if char == 0x28:  # (
            if len(stack) > MAX_DEPTH:
                raise ParseError(f"parentheses nested more than {MAX_DEPTH} levels deep")
            stack.append([])
            pos += 1
            continue
        if char == 0x29:  # )
            if len(stack) == 1:
                raise ParseError("unbalanced ')'")
            done = tuple(stack.pop())
            stack[-1].append(done)
            pos += 1
            continue
        if char == 0x22:  # "
            value, pos = _quoted(text, pos)
            stack[-1].append(value)
            continue
        if char == 0x7B or (char == 0x7E and text[pos + 1 : pos + 2] == b"{"):  # { or ~{
            mark = _LITERAL_AT_END.search(text, pos + (char == 0x7E))
            if mark is None or mark.start() != pos + (char == 0x7E):
                raise ParseError("bad literal syntax")
            if index + 2 >= len(parts):
                raise ParseError("missing literal data")
            stack[-1].append(LiteralBytes(parts[index + 1]))
            index += 2
            text = parts[index]
            pos = 0
            continue
        value_atom, pos = _atom(text, pos)
        stack[-1].append(value_atom)
    if len(stack) != 1:
        raise ParseError("unbalanced '('")
    return stack[0]


def _quoted(text: bytes, pos: int) -> tuple[bytes, int]:
    out = bytearray()
    i = pos + 1
    while i < len(text):
        char = text[i]
        if char == 0x5C:  # backslash escapes only quote and backslash
            nxt = text[i + 1 : i + 2]
            if nxt not in (b'"', b"\\"):
                raise ParseError("bad escape in quoted string")
            out += nxt
            i += 2
            continue
        if char == 0x22:
            return bytes(out), i + 1
        out.append(char)
        i += 1
    raise ParseError("unterminated quoted string")


def _atom(text: bytes, pos: int) -> tuple[Atom, int]:
    i = pos
    while True:
        run = _ATOM_RUN.match(text, i)
        if run is not None:
            i = run.end()
        if i < len(text) and text[i] == 0x5B:
            # "[" may be part of any atom (RFC 3501 excludes only "]").  In a FETCH
            # section, BODY[HEADER.FIELDS (A B)], it runs to its "]", spaces included.
            close = text.find(b"]", i)
            i = i + 1 if close < 0 else close + 1
            continue
        break
    if i < len(text):
        char = text[i]
        if char == 0x22:
            raise ParseError("quote inside atom")
        if char < 0x20 or char == 0x7F:
            raise ParseError("control character in atom")
    if i == pos:
        raise ParseError("empty atom")
    try:
        return Atom(text[pos:i].decode("ascii")), i
    except UnicodeDecodeError:
        raise ParseError("8-bit character in atom") from None
