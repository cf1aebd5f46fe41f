"""Modified UTF-7, the encoding of international mailbox names (RFC 3501 section 5.1.3).

IMAP mailbox names travel as 7-bit text.  Printable ASCII stands for itself, except ``&``
which is written ``&-``; any other run of characters is written as ``&``, the modified
BASE64 of its UTF-16BE bytes (``,`` instead of ``/``, no ``=`` padding), and ``-``.
"""

from __future__ import annotations

import base64
import binascii


class Utf7Error(ValueError):
    """A mailbox name is not valid modified UTF-7."""


def _is_direct(char: str) -> bool:
    """True for characters that represent themselves: printable US-ASCII except ``&``."""
    return 0x20 <= ord(char) <= 0x7E and char != "&"


def encode(name: str) -> str:
    """Encode a Unicode mailbox name as modified UTF-7."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            raw = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(raw).decode("ascii").rstrip("=").replace("/", ","))
            out.append("-")
            pending.clear()

    for char in name:
        if _is_direct(char):
            flush()
            out.append("&-" if char == "&" else char)
        elif char == "&":
            flush()
            out.append("&-")
        else:
            pending.append(char)
    flush()
    return "".join(out)


def decode(text: str) -> str:
    """Decode a modified UTF-7 mailbox name, rejecting anything RFC 3501 forbids.

    Being strict matters: two spellings of one name would let a client create
    mailboxes that look identical, so only the canonical encoding is accepted.
    """
    out: list[str] = []
    i = 0
    after_shift = False  # two shifted runs in a row should have been one
    while i < len(text):
        char = text[i]
        if char != "&":
            if not (0x20 <= ord(char) <= 0x7E):
                raise Utf7Error(f"character {char!r} must be encoded")
            out.append(char)
            i += 1
            after_shift = False
            continue
        end = text.find("-", i + 1)
        if end < 0:
            raise Utf7Error("unterminated '&' shift sequence")
        chunk = text[i + 1 : end]
        if not chunk:
            out.append("&")
            after_shift = False
        else:
            if after_shift:
                raise Utf7Error("adjacent shift sequences")
            after_shift = True
            padded = chunk.replace(",", "/") + "=" * (-len(chunk) % 4)
            try:
                raw = base64.b64decode(padded, validate=True)
                decoded = raw.decode("utf-16-be")
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise Utf7Error(f"bad shift sequence &{chunk}-") from exc
            if any(_is_direct(c) for c in decoded) or encode(decoded) != f"&{chunk}-":
                raise Utf7Error(f"non-canonical shift sequence &{chunk}-")
            out.append(decoded)
        i = end + 1
    return "".join(out)
