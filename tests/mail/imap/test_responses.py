"""Writing values: quoted strings when possible, literals when needed."""

from netsim.mail.imap.events import Continuation, Tagged, Untagged, UntaggedStatus
from netsim.mail.imap.responses import astring, flag_list, nstring, render, string


def test_strings_are_quoted_or_sent_as_literals() -> None:
    """Quotes and backslashes are escaped; CR, LF and 8-bit force a literal."""
    assert string('say "hi"') == b'"say \\"hi\\""'
    assert string("two\r\nlines") == b"{10}\r\ntwo\r\nlines"
    assert string("caf\u00e9") == b"{5}\r\ncaf\xc3\xa9"
    assert nstring(None) == b"NIL"


def test_atoms_when_safe() -> None:
    """Mailbox names without specials go out bare; others are quoted."""
    assert astring("INBOX") == b"INBOX"
    assert astring("Sent Items") == b'"Sent Items"'


def test_flag_lists_put_system_flags_first() -> None:
    """Clients read '(\\Seen $Label)' more happily than the reverse."""
    assert flag_list({"$Label", "\\Seen", "\\Answered"}) == b"(\\Answered \\Seen $Label)"
    assert flag_list(set()) == b"()"


def test_render_each_kind_of_response() -> None:
    """Tagged, untagged status, untagged data and continuation lines."""
    assert render(Tagged("a1", "OK", "done", "READ-WRITE")) == b"a1 OK [READ-WRITE] done\r\n"
    assert render(UntaggedStatus("BYE", "bye")) == b"* BYE bye\r\n"
    assert render(Untagged(b"3 EXISTS")) == b"* 3 EXISTS\r\n"
    assert render(Continuation("go")) == b"+ go\r\n"
