"""RFC 5322 address lists as IMAP sees them: mailboxes, groups and source routes.

An ENVELOPE lists each address as ``(name adl mailbox host)``; a group is a start
marker with the group's name as mailbox and no host, its members, and an all-NIL end
marker (RFC 3501 7.4.2).  Comments disappear, but a bare ``user@host (Real Name)``
shows the comment as the name, as mail programs always have.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from netsim.mail.imap.addresses import GROUP_END, Address, parse
from netsim.mail.imap.bodystructure import addresses


def test_name_addr_and_addr_spec() -> None:
    """A display name before angle brackets; a quoted name loses its quotes."""
    assert parse('"Ann Example" <ann@example.org>, bob@example.org') == [
        Address("Ann Example", None, "ann", "example.org"),
        Address(None, None, "bob", "example.org"),
    ]
    assert parse("J. R. Smith <jrs@example.org>")[0].name == "J. R. Smith"


def test_comments_vanish_but_a_lone_comment_names_the_address() -> None:
    """Comments may sit anywhere, even inside the address, and change nothing."""
    assert parse("<ann (home) @ (the office) example.org>") == [
        Address(None, None, "ann", "example.org")
    ]
    assert parse("ann@example.org (Ann Example)") == [
        Address("Ann Example", None, "ann", "example.org")
    ]


def test_groups_are_marked_start_and_end() -> None:
    """``name: members;`` gives a start marker, the members, then the end marker."""
    assert parse("team: a@x.org, b@y.org;, solo: c@z.org;") == [
        Address(None, None, "team", None),
        Address(None, None, "a", "x.org"),
        Address(None, None, "b", "y.org"),
        GROUP_END,
        Address(None, None, "solo", None),
        Address(None, None, "c", "z.org"),
        GROUP_END,
    ]
    assert parse("undisclosed-recipients:;") == [
        Address(None, None, "undisclosed-recipients", None),
        GROUP_END,
    ]


def test_source_route_goes_in_adl() -> None:
    """The obsolete ``<@relay:user@host>`` keeps its route for ENVELOPE's adl field."""
    assert parse("<@relay.example,@hop.example:ann@example.org>") == [
        Address(None, "@relay.example,@hop.example", "ann", "example.org")
    ]


def test_envelope_rendering() -> None:
    """The IMAP list form, NIL for what is missing; an empty header is NIL."""
    assert (
        addresses("g: a@x.org;") == b'((NIL NIL "g" NIL) (NIL NIL "a" "x.org") (NIL NIL NIL NIL))'
    )
    assert addresses("") == b"NIL"
    assert addresses("<@r:u@d>") == b'((NIL "@r" "u" "d"))'


@settings(derandomize=True, max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('ab @.,;:<>()"\\[] \t')), max_size=40))
def test_any_header_text_parses(value: str) -> None:
    """Headers are data the server must show: any text parses without an exception,
    and renders as one balanced IMAP list (or NIL)."""
    found = parse(value)
    assert all(isinstance(a, Address) for a in found)
    rendered = addresses(value)
    depth = 0
    in_quote = False
    escaped = False
    i = 0
    while i < len(rendered):
        char = chr(rendered[i])
        i += 1
        literal = re.match(rb"\{(\d+)\}\r\n", rendered[i - 1 :]) if not in_quote else None
        if literal:  # a literal's octets are data, not structure
            i += literal.end() - 1 + int(literal.group(1))
            continue
        if in_quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_quote = False
        elif char == '"':
            in_quote = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            assert depth >= 0
    assert depth == 0 and not in_quote
