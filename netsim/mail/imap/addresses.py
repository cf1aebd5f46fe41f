"""RFC 5322 address lists, parsed the way IMAP's ENVELOPE and SEARCH need them.

An address header holds mailboxes and groups::

    From: "Ann Example" <ann@example.org>, bob@example.org (Bob)
    To: team: g1@d1.org, g2@d2.org;, <@relay.example:carol@example.org>

IMAP's ENVELOPE (RFC 3501 7.4.2) gives each mailbox as ``(name adl mailbox host)``
(``adl`` is the obsolete source route, ``@relay.example``) and each group as a start
marker ``(NIL NIL "team" NIL)``, its members, and an end marker ``(NIL NIL NIL NIL)``.
:func:`email.utils.getaddresses` loses both groups and routes, so this is a small
parser of its own: the header is cut into tokens (quoted strings, comments, angle
brackets, specials and atoms), then read as the grammar says.  Comments vanish, except
that ``user@host (Real Name)`` with no display name takes the comment as the name, as
mail programs have always shown it.  Whatever does not parse is kept as best it can
be, never refused: a header is data the server has to show, not a command.
"""

from __future__ import annotations

from dataclasses import dataclass

_SPECIALS = '()<>@,;:"[].'


@dataclass(frozen=True, slots=True)
class Address:
    """One ENVELOPE address; a group start has only ``mailbox``, a group end nothing."""

    name: str | None
    route: str | None
    mailbox: str | None
    host: str | None

    def searchable(self) -> str:
        """The address as ``name <mailbox@host>``, for SEARCH FROM/TO/CC/BCC."""
        spec = f"{self.mailbox or ''}@{self.host}" if self.host else self.mailbox or ""
        return f"{self.name} <{spec}>" if self.name else spec


#: A group's end marker.
GROUP_END = Address(None, None, None, None)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "atom", "quoted", "comment", "literal" (a [domain literal]) or a special
    text: str


def _tokens(value: str) -> list[_Token]:
    out: list[_Token] = []
    i = 0
    n = len(value)
    while i < n:
        char = value[i]
        if char in " \t\r\n":
            i += 1
        elif char == '"':
            j = i + 1
            text = []
            while j < n and value[j] != '"':
                if value[j] == "\\" and j + 1 < n:
                    j += 1
                text.append(value[j])
                j += 1
            out.append(_Token("quoted", "".join(text)))
            i = j + 1
        elif char == "(":
            depth, j = 1, i + 1
            while j < n and depth:
                if value[j] == "\\":
                    j += 1
                elif value[j] == "(":
                    depth += 1
                elif value[j] == ")":
                    depth -= 1
                j += 1
            out.append(_Token("comment", value[i + 1 : j - 1 if depth == 0 else j].strip()))
            i = j
        elif char == "[":
            j = value.find("]", i)
            j = n - 1 if j < 0 else j
            out.append(_Token("literal", value[i : j + 1]))
            i = j + 1
        elif char in _SPECIALS:
            out.append(_Token(char, char))
            i += 1
        else:
            j = i
            while j < n and value[j] not in _SPECIALS and value[j] not in " \t\r\n":
                j += 1
            out.append(_Token("atom", value[i:j]))
            i = j
    return out


class _Reader:
    """A cursor over the tokens, comments set aside as they are passed."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.comments: list[str] = []
        #: How many comments had been passed when the last token was taken.
        self.mark = 0

    def peek(self) -> str | None:
        while self.pos < len(self.tokens) and self.tokens[self.pos].kind == "comment":
            self.comments.append(self.tokens[self.pos].text)
            self.pos += 1
        return self.tokens[self.pos].kind if self.pos < len(self.tokens) else None

    def take(self) -> _Token:
        self.peek()
        token = self.tokens[self.pos]
        self.pos += 1
        self.mark = len(self.comments)
        return token

    def trailing_comment(self) -> str | None:
        """The last comment right after the token just taken, if any."""
        self.peek()
        after = self.comments[self.mark :]
        return after[-1] if after else None

    def phrase(self) -> list[_Token]:
        """Words (atoms, quoted strings, dots) up to the next other special."""
        words = []
        while self.peek() in ("atom", "quoted", "."):
            words.append(self.take())
        return words


def parse(value: str | None) -> list[Address]:
    """The addresses of one header value (unfolded or not), groups marked."""
    if not value:
        return []
    reader = _Reader(_tokens(value))
    found: list[Address] = []
    in_group = False
    while reader.peek() is not None:
        kind = reader.peek()
        if kind == ",":
            reader.take()
            continue
        if kind == ";":
            reader.take()
            if in_group:
                found.append(GROUP_END)
                in_group = False
            continue
        start = reader.pos
        reader.comments = []
        words = reader.phrase()
        if reader.peek() == ":" and not in_group:
            reader.take()
            found.append(Address(None, None, _join_phrase(words) or "", None))
            in_group = True
            continue
        reader.pos = start
        reader.comments = []
        address = _mailbox(reader)
        if address is not None:
            found.append(address)
        else:
            reader.take()  # a stray special: skip it
    if in_group:
        found.append(GROUP_END)  # a group left open still ends
    return found


def _mailbox(reader: _Reader) -> Address | None:
    """``[phrase] <[route:]addr-spec>`` or ``addr-spec``, with the comments around."""
    words = reader.phrase()
    if reader.peek() == "<":
        reader.take()
        route = _route(reader)
        mailbox, host = _addr_spec(reader)
        while reader.peek() not in (None, ">", ",", ";"):
            reader.take()
        if reader.peek() == ">":
            reader.take()
        name = _join_phrase(words) or reader.trailing_comment()
        return Address(name or None, route, mailbox, host)
    if not words and reader.peek() != "@":
        return None
    # addr-spec: the phrase read so far was its local part.
    local = "".join(w.text if w.kind != "quoted" else _quote_local(w.text) for w in words)
    host = None
    if reader.peek() == "@":
        reader.take()
        host = _domain(reader)
    return Address(reader.trailing_comment() or None, None, local or None, host)


def _route(reader: _Reader) -> str | None:
    """The obsolete source route ``@a,@b:`` before an addr-spec, if there is one."""
    if reader.peek() != "@":
        return None
    start = reader.pos
    hops = []
    while reader.peek() == "@":
        reader.take()
        hops.append("@" + _domain(reader))
        if reader.peek() == ",":
            reader.take()
    if reader.peek() != ":":
        reader.pos = start  # not a route after all
        return None
    reader.take()
    return ",".join(hops)


def _addr_spec(reader: _Reader) -> tuple[str | None, str | None]:
    local = []
    while reader.peek() in ("atom", "quoted", "."):
        token = reader.take()
        local.append(_quote_local(token.text) if token.kind == "quoted" else token.text)
    host = None
    if reader.peek() == "@":
        reader.take()
        host = _domain(reader)
    return ("".join(local) or None), host


def _domain(reader: _Reader) -> str:
    parts = []
    while reader.peek() in ("atom", ".", "literal"):
        parts.append(reader.take().text)
    return "".join(parts)


def _join_phrase(words: list[_Token]) -> str:
    """Display-name words with single spaces; a dot sticks to the word before it."""
    text = ""
    for word in words:
        if word.kind == ".":
            text += "."
        else:
            text += (" " if text else "") + word.text
    return text


def _quote_local(text: str) -> str:
    """A quoted local part keeps its quotes when it needs them (``"a b"@host``)."""
    if text and all(c not in _SPECIALS and c not in " \t\\" for c in text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
