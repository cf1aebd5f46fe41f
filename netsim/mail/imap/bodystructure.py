"""ENVELOPE and BODYSTRUCTURE: a message's headers and MIME tree as IMAP lists.

RFC 3501 section 7.4.2 fixes the field order.  Header values go out unchanged (encoded
words stay encoded: decoding is the client's business), and addresses are split by
:mod:`netsim.mail.imap.addresses` (groups and source routes included).
"""

from __future__ import annotations

from netsim.mail.imap.addresses import parse as parse_addresses
from netsim.mail.imap.responses import nstring, plist, string
from netsim.mail.mime import MimePart


def _raw(value: str | None) -> bytes | None:
    return None if value is None else value.encode("latin-1", "replace")


def addresses(value: str | None) -> bytes:
    """An address list: ``((name adl mailbox host) ...)`` or ``NIL``.

    Groups come as a start ``(NIL NIL "name" NIL)``, their members and an end
    ``(NIL NIL NIL NIL)``; an obsolete source route goes in ``adl`` (RFC 3501 7.4.2).
    """
    items = [
        plist(
            [
                nstring(_raw(address.name)),
                nstring(_raw(address.route)),
                nstring(_raw(address.mailbox)),
                nstring(_raw(address.host)),
            ]
        )
        for address in parse_addresses(value)
    ]
    return plist(items) if items else b"NIL"


def envelope(part: MimePart) -> bytes:
    """The ENVELOPE of a message (its top-level header)."""
    sender = part.get("from")
    return plist(
        [
            nstring(_raw(part.get("date"))),
            nstring(_raw(part.get("subject"))),
            addresses(sender),
            addresses(part.get("sender") or sender),
            addresses(part.get("reply-to") or sender),
            addresses(part.get("to")),
            addresses(part.get("cc")),
            addresses(part.get("bcc")),
            nstring(_raw(part.get("in-reply-to"))),
            nstring(_raw(part.get("message-id"))),
        ]
    )


def _params(pairs: list[tuple[str, str]]) -> bytes:
    if not pairs:
        return b"NIL"
    return plist([string(item.encode("utf-8")) for pair in pairs for item in pair])


def _disposition(part: MimePart) -> bytes:
    found = part.disposition()
    if found is None:
        return b"NIL"
    kind, params = found
    return plist([string(kind), _params(params)])


def _language(part: MimePart) -> bytes:
    value = part.get("content-language")
    if not value:
        return b"NIL"
    tags = [t.strip() for t in value.split(",") if t.strip()]
    if len(tags) == 1:
        return string(tags[0])
    return plist([string(t) for t in tags])


def body_structure(part: MimePart, extensible: bool = True) -> bytes:
    """BODYSTRUCTURE (``extensible``) or BODY (without extension data) of ``part``."""
    if part.is_multipart and part.children:
        items = [body_structure(child, extensible) for child in part.children]
        fields = [string(part.subtype.upper())]
        if extensible:
            fields += [
                _params([(k, v) for k, v in part.params]),
                _disposition(part),
                _language(part),
                nstring(_raw(part.get("content-location"))),
            ]
        return b"(" + b"".join(items) + b" " + b" ".join(fields) + b")"
    maintype, subtype = part.maintype, part.subtype
    if part.is_multipart:  # multipart without parts: describe it as opaque text
        maintype, subtype = "text", "plain"
    encoding = (part.get("content-transfer-encoding") or "7BIT").upper()
    fields = [
        string(maintype.upper()),
        string(subtype.upper()),
        _params(part.params),
        nstring(_raw(part.get("content-id"))),
        nstring(_raw(part.get("content-description"))),
        string(encoding),
        str(len(part.body)).encode(),
    ]
    if part.encapsulated is not None:
        fields += [
            envelope(part.encapsulated),
            body_structure(part.encapsulated, extensible),
            str(part.line_count).encode(),
        ]
    elif maintype == "text":
        fields.append(str(part.line_count).encode())
    if extensible:
        fields += [
            nstring(_raw(part.get("content-md5"))),
            _disposition(part),
            _language(part),
            nstring(_raw(part.get("content-location"))),
        ]
    return plist(fields)
