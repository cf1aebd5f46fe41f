"""FETCH data items: parsing what a client asks for, and rendering it for one message.

RFC 3501 section 6.4.5.  ``BODY[section]<origin.count>`` names part of a message:
section ``1.2`` is the second part of the first part; ``HEADER``, ``TEXT``,
``HEADER.FIELDS (..)`` and ``HEADER.FIELDS.NOT (..)`` apply to a message (the top-level
one or an encapsulated ``message/rfc822``); ``MIME`` is a part's own MIME header.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Set
from dataclasses import dataclass

from netsim.mail.imap import bodystructure
from netsim.mail.imap.dates import format_date_time
from netsim.mail.imap.parser import Atom, Value
from netsim.mail.imap.responses import flag_list, literal
from netsim.mail.mime import MimePart
from netsim.mail.store import Message

_SECTION_ITEM = re.compile(r"^(BODY|BODY\.PEEK)\[([^\]]*)\](?:<(\d+)\.(\d+)>)?$", re.IGNORECASE)
# A header field name: printable ASCII but the colon (RFC 5322 ftext), quotes excluded.
_FIELD_NAME = re.compile(r"[!#-9;-~]+")
_MACROS = {
    "ALL": ("FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"),
    "FAST": ("FLAGS", "INTERNALDATE", "RFC822.SIZE"),
    "FULL": ("FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"),
}
_SIMPLE = frozenset(
    {
        "FLAGS",
        "UID",
        "INTERNALDATE",
        "RFC822",
        "RFC822.HEADER",
        "RFC822.SIZE",
        "RFC822.TEXT",
        "ENVELOPE",
        "BODY",
        "BODYSTRUCTURE",
        "MODSEQ",
    }
)


class FetchError(ValueError):
    """A FETCH item list the server cannot understand."""


@dataclass(frozen=True, slots=True)
class Section:
    """A ``BODY[...]`` section: part numbers, then an optional text specifier."""

    parts: tuple[int, ...] = ()
    text: str = ""
    fields: tuple[str, ...] = ()

    def label(self) -> str:
        """The section as echoed in the response."""
        spec = ".".join(str(p) for p in self.parts)
        if self.text:
            spec = f"{spec}.{self.text}" if spec else self.text
        if self.fields:
            spec += " (" + " ".join(self.fields) + ")"
        return spec


@dataclass(frozen=True, slots=True)
class FetchItem:
    """One requested data item."""

    name: str
    section: Section | None = None
    peek: bool = False
    partial: tuple[int, int] | None = None

    @property
    def sets_seen(self) -> bool:
        """True if fetching this item marks the message ``\\Seen`` (RFC 3501 6.4.5)."""
        if self.name in ("RFC822", "RFC822.TEXT"):
            return True
        return self.section is not None and not self.peek


def parse_items(values: list[Value]) -> list[FetchItem]:
    """Parse the item argument of FETCH: an atom, a macro, or a parenthesized list."""
    if len(values) != 1:
        raise FetchError("expected one data item or a parenthesized list")
    arg = values[0]
    if isinstance(arg, Atom) and arg.upper() in _MACROS:
        return [FetchItem(n) for n in _MACROS[arg.upper()]]
    raw = list(arg) if isinstance(arg, tuple) else [arg]
    if not raw:
        raise FetchError("empty data item list")
    items = []
    for value in raw:
        if not isinstance(value, Atom):
            raise FetchError("data items must be atoms")
        items.append(parse_item(value))
    return items


def parse_item(text: str) -> FetchItem:
    """Parse one data item such as ``BODY.PEEK[1.MIME]<0.512>``."""
    upper = text.upper()
    if upper in _SIMPLE:
        return FetchItem(upper)
    m = _SECTION_ITEM.match(text)
    if m is None:
        raise FetchError(f"unknown data item {text[:40]}")
    section = parse_section(m.group(2))
    partial = None
    if m.group(3) is not None:
        count = int(m.group(4))
        if count == 0:
            raise FetchError("partial count must be positive")
        partial = (int(m.group(3)), count)
    return FetchItem("BODY", section, m.group(1).upper() == "BODY.PEEK", partial)


def parse_section(spec: str) -> Section:
    """Parse the text between the brackets of ``BODY[...]`` (RFC 3501 ``section-spec``).

    ::

        section-spec    = section-msgtext / (section-part ["." section-text])
        section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list / "TEXT"
        section-text    = section-msgtext / "MIME"

    so ``1.2``, ``1.HEADER``, ``1.TEXT``, ``1.MIME`` and ``1.HEADER.FIELDS (From)`` are
    all sections; ``MIME`` needs a part number and only ``HEADER.FIELDS`` a list.
    """
    head, space, field_list = spec.partition(" ")
    fields: tuple[str, ...] = ()
    if space:
        if not (field_list.startswith("(") and field_list.endswith(")")):
            raise FetchError("bad section: a header list is in parentheses")
        fields = _field_names(field_list[1:-1])
    elif "(" in spec:
        raise FetchError("bad section")
    words = head.split(".") if head else []
    parts: list[int] = []
    while words and words[0].isdigit():
        number = int(words.pop(0))
        if number == 0:
            raise FetchError("part numbers start at 1")
        parts.append(number)
    text = ".".join(words).upper()
    if text not in ("", "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "TEXT", "MIME"):
        raise FetchError(f"bad section text {text[:40]}")
    if text == "MIME" and not parts:
        raise FetchError("MIME needs a part number")
    if text.startswith("HEADER.FIELDS") and not space:
        raise FetchError("HEADER.FIELDS needs a field list")
    if space and not text.startswith("HEADER.FIELDS"):
        raise FetchError(f"only HEADER.FIELDS takes a field list, not {text[:40] or 'a part'}")
    return Section(tuple(parts), text, fields)


def _field_names(text: str) -> tuple[str, ...]:
    """The names of a ``header-list``: astrings, here atoms or simple quoted strings."""
    found = []
    for name in text.split(" "):
        if not name:
            continue
        if len(name) >= 2 and name[0] == name[-1] == '"':
            name = name[1:-1]
        if not _FIELD_NAME.fullmatch(name):
            raise FetchError(f"bad header field name {name[:40]}")
        found.append(name.upper())
    if not found:
        raise FetchError("empty header field list")
    return tuple(found)


def section_bytes(root: MimePart, section: Section) -> bytes | None:
    """The octets a section names, or ``None`` if the message has no such part."""
    part = root
    for depth, number in enumerate(section.parts):
        stepped = _step(part, number, depth == 0)
        if stepped is None:
            return None
        part = stepped
    if not section.text:
        return part.body if section.parts else root.header + root.body
    if section.text == "MIME":
        return part.header
    message = part if not section.parts else part.encapsulated
    if message is None:
        return None
    if section.text == "HEADER":
        return message.header
    if section.text == "TEXT":
        return message.body
    return message.header_fields(list(section.fields), section.text.endswith(".NOT"))


def _step(part: MimePart, number: int, at_root: bool) -> MimePart | None:
    """Part ``number`` inside ``part`` (RFC 3501's part numbering)."""
    if part.children:
        return part.children[number - 1] if number <= len(part.children) else None
    inner = part.encapsulated
    if inner is not None and not at_root:
        if inner.children:
            return inner.children[number - 1] if number <= len(inner.children) else None
        return inner if number == 1 else None
    return part if number == 1 else None


Renderer = Callable[[Message, Set[str], int], bytes]
"""Renders one item for (message, flags with ``\\Recent``, UID)."""

_SIMPLE_RENDERERS: dict[str, Renderer] = {
    "FLAGS": lambda msg, flags, uid: b"FLAGS " + flag_list(flags),
    "UID": lambda msg, flags, uid: b"UID %d" % uid,
    "INTERNALDATE": lambda msg, flags, uid: (
        b'INTERNALDATE "' + format_date_time(msg.internaldate).encode() + b'"'
    ),
    "RFC822.SIZE": lambda msg, flags, uid: b"RFC822.SIZE %d" % msg.size,
    "RFC822": lambda msg, flags, uid: b"RFC822 " + literal(msg.data),
    "RFC822.HEADER": lambda msg, flags, uid: b"RFC822.HEADER " + literal(msg.mime.header),
    "RFC822.TEXT": lambda msg, flags, uid: b"RFC822.TEXT " + literal(msg.mime.body),
    "ENVELOPE": lambda msg, flags, uid: b"ENVELOPE " + bodystructure.envelope(msg.mime),
    "BODYSTRUCTURE": lambda msg, flags, uid: (
        b"BODYSTRUCTURE " + bodystructure.body_structure(msg.mime, True)
    ),
    "BODY": lambda msg, flags, uid: b"BODY " + bodystructure.body_structure(msg.mime, False),
    "MODSEQ": lambda msg, flags, uid: b"MODSEQ (%d)" % msg.modseq,  # RFC 7162 3.1.4.1
}


def renderer(item: FetchItem) -> Renderer:
    """The function that renders ``item``, chosen once per FETCH rather than per message."""
    if item.section is None:
        return _SIMPLE_RENDERERS[item.name]
    section = item.section
    label = f"BODY[{section.label()}]"
    partial = item.partial
    if partial is not None:
        label += f"<{partial[0]}>"
    head = label.encode()

    def render_section(msg: Message, flags: Set[str], uid: int) -> bytes:
        data = section_bytes(msg.mime, section)
        if data is None:
            return head + b" NIL"
        if partial is not None:
            data = data[partial[0] : partial[0] + partial[1]]
        return head + b" " + literal(data)

    return render_section


def render(item: FetchItem, msg: Message, flags: Set[str], uid: int) -> bytes:
    """``NAME value`` for one item of one message; ``flags`` includes ``\\Recent``."""
    return renderer(item)(msg, flags, uid)
