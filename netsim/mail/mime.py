"""The MIME structure of a message, with every part's exact bytes (RFC 2045, RFC 2046).

IMAP serves parts of a message by number (``BODY[2.1.TEXT]``) and describes them with
sizes and line counts (``BODYSTRUCTURE``), so the parts must be located byte for byte in
the original message.  The standard library's :mod:`email` package parses header values
here (content-type parameters, including RFC 2231 continuations, and address lists), but
the splitting into parts is done on the raw bytes so that nothing is re-encoded.
"""

from __future__ import annotations

import email.message
import email.utils
import re
from dataclasses import dataclass, field
from functools import cached_property

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_FIELD_NAME = re.compile(rb"^([!-9;-~]+)[ \t]*:")


def _text(raw: bytes) -> str:
    """Header bytes as text; latin-1 so that every byte survives a round trip."""
    return raw.decode("latin-1")


@dataclass(eq=False)
class MimePart:
    """One entity: a message, a part of a multipart, or an encapsulated message.

    ``header`` is the header block including the blank line that ends it, ``body``
    everything after.  A multipart entity has ``children``; a ``message/rfc822``
    entity has ``encapsulated``, the message its body holds.
    """

    header: bytes
    body: bytes
    children: list[MimePart] = field(default_factory=list)
    encapsulated: MimePart | None = None

    @cached_property
    def fields(self) -> list[tuple[str, str, bytes]]:
        """Header fields in order as (lower-case name, unfolded value, raw lines)."""
        result: list[tuple[str, str, bytes]] = []
        lines = self.header.splitlines(keepends=True)
        current: list[bytes] = []
        for line in lines:
            if line[:1] in (b" ", b"\t") and current:
                current.append(line)
                continue
            if current:
                result.append(_field(current))
            current = [line] if _FIELD_NAME.match(line) else []
        if current:
            result.append(_field(current))
        return result

    def get(self, name: str) -> str | None:
        """The unfolded value of the first field called ``name`` (any case), if present."""
        name = name.lower()
        for fname, value, _ in self.fields:
            if fname == name:
                return value
        return None

    @cached_property
    def _content_type(self) -> email.message.Message:
        holder = email.message.Message()
        value = self.get("content-type")
        if value:
            holder["Content-Type"] = value
        return holder

    @property
    def maintype(self) -> str:
        """The main media type, lower case; ``text`` when the header is absent or broken."""
        return self.content_type.split("/")[0]

    @property
    def subtype(self) -> str:
        """The media subtype, lower case."""
        return self.content_type.split("/")[1]

    @cached_property
    def content_type(self) -> str:
        """``maintype/subtype`` with the RFC 2045 default of ``text/plain``."""
        ctype = self._content_type.get_content_type()
        if "/" not in ctype:
            return "text/plain"
        return ctype

    @cached_property
    def params(self) -> list[tuple[str, str]]:
        """Content-type parameters as (name, value), RFC 2231 continuations joined."""
        found = self._content_type.get_params()
        if not found:
            return [("charset", "us-ascii")] if self.maintype == "text" else []
        result: list[tuple[str, str]] = []
        for key, _ in found[1:]:
            value = self._content_type.get_param(key)
            if isinstance(value, tuple):
                value = email.utils.collapse_rfc2231_value(value)
            result.append((key, str(value)))
        return result

    @property
    def is_multipart(self) -> bool:
        """True for ``multipart/*`` entities."""
        return bool(self.children) or self.maintype == "multipart"

    def disposition(self) -> tuple[str, list[tuple[str, str]]] | None:
        """The Content-Disposition value and its parameters, if the header is present."""
        value = self.get("content-disposition")
        if not value:
            return None
        holder = email.message.Message()
        holder["Content-Disposition"] = value
        params = holder.get_params(header="content-disposition") or []
        if not params:
            return None
        return params[0][0], [(k, str(v)) for k, v in params[1:]]

    @property
    def line_count(self) -> int:
        """Number of lines in the body, a last unterminated line included."""
        count = self.body.count(b"\n")
        if self.body and not self.body.endswith(b"\n"):
            count += 1
        return count

    def header_fields(self, names: list[str], exclude: bool) -> bytes:
        """Raw lines of the named fields (or of all others), ended by a blank line."""
        wanted = {n.lower() for n in names}
        picked = [raw for fname, _, raw in self.fields if (fname in wanted) != exclude]
        return b"".join(picked) + b"\r\n"

    def walk(self) -> list[MimePart]:
        """This entity and all entities below it, depth first."""
        parts = [self]
        for child in self.children:
            parts.extend(child.walk())
        if self.encapsulated is not None:
            parts.extend(self.encapsulated.walk())
        return parts


def _field(lines: list[bytes]) -> tuple[str, str, bytes]:
    raw = b"".join(lines)
    text = _text(raw)
    name, _, value = text.partition(":")
    unfolded = re.sub(r"\r?\n(?=[ \t])", "", value).strip()
    return name.strip().lower(), unfolded, raw


def parse(data: bytes, default_type: str = "text/plain", depth: int = 0) -> MimePart:
    """Split ``data`` into its MIME tree; never fails, however malformed the input."""
    match = _HEADER_END.search(data)
    if data.startswith((b"\r\n", b"\n")):
        cut = 2 if data.startswith(b"\r\n") else 1
        header, body = data[:cut], data[cut:]
    elif match is None:
        header, body = data, b""
    else:
        header, body = data[: match.end()], data[match.end() :]
    part = MimePart(header, body)
    if part.get("content-type") is None and default_type != "text/plain":
        part.__dict__["content_type"] = default_type
    if depth > 20:  # nested beyond reason: treat the rest as opaque data
        return part
    if part.maintype == "multipart":
        boundary = part._content_type.get_param("boundary")
        if isinstance(boundary, str) and boundary:
            child_default = "message/rfc822" if part.subtype == "digest" else "text/plain"
            part.children = [
                parse(chunk, child_default, depth + 1)
                for chunk in split_multipart(body, boundary.encode("latin-1"))
            ]
    elif part.content_type == "message/rfc822":
        part.encapsulated = parse(body, "text/plain", depth + 1)
    return part


def split_multipart(body: bytes, boundary: bytes) -> list[bytes]:
    """The body parts between ``--boundary`` delimiter lines (RFC 2046 section 5.1.1).

    The line break before a delimiter belongs to the delimiter, not to the part.
    """
    delimiter = b"--" + boundary
    parts: list[bytes] = []
    start: int | None = None
    pos = 0
    while True:
        found = body.find(delimiter, pos)
        if found < 0:
            break
        at_line_start = found == 0 or body[found - 1 : found] == b"\n"
        if not at_line_start:
            pos = found + 1
            continue
        if start is not None:
            end = found
            if body[end - 2 : end] == b"\r\n":
                end -= 2
            elif body[end - 1 : end] == b"\n":
                end -= 1
            parts.append(body[start:end])
        after = found + len(delimiter)
        closing = body[after : after + 2] == b"--"
        line_end = body.find(b"\n", after)
        if closing:
            start = None
            break
        if line_end < 0:
            start = None
            break
        start = line_end + 1
        pos = start
    if start is not None:  # missing close delimiter: the last part runs to the end
        parts.append(body[start:])
    return parts
