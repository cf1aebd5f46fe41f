"""Reading a command's arguments, and the two ways a command can fail.

Handlers pull their arguments through :class:`Arguments`, which raises :class:`Bad` for
anything malformed; a handler raises :class:`No` for a well-formed request it refuses.
The session turns both into the tagged response, with an optional response code.
"""

from __future__ import annotations

from netsim.mail.imap import names
from netsim.mail.imap.parser import Atom, Value
from netsim.mail.imap.sequence import SequenceSet, SequenceSetError

_SYSTEM_FLAGS = frozenset({"\\ANSWERED", "\\FLAGGED", "\\DELETED", "\\SEEN", "\\DRAFT"})
_CANONICAL_FLAG = {
    f.upper(): f for f in ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft")
}

#: What a handler returns: the text of the tagged OK, or (text, response code); an
#: empty text means the handler has answered, or will answer later, by itself.
Result = str | tuple[str, str | None]


class Bad(Exception):
    """Raised by a handler: answer the command with BAD (it was malformed)."""

    def __init__(self, reason: str, code: str | None = None) -> None:
        super().__init__(reason)
        self.code = code


class No(Bad):
    """Raised by a handler: answer the command with NO (well-formed, but refused)."""


class Arguments:
    """A cursor over a command's arguments that raises BAD on anything unexpected."""

    def __init__(self, values: tuple[Value, ...]) -> None:
        self.values = values
        self.pos = 0

    def more(self) -> bool:
        """True while arguments remain."""
        return self.pos < len(self.values)

    def take(self, what: str) -> Value:
        """The next argument, whatever it is."""
        if not self.more():
            raise Bad(f"missing {what}")
        value = self.values[self.pos]
        self.pos += 1
        return value

    def atom(self, what: str) -> str:
        """An atom, upper-cased."""
        value = self.take(what)
        if not isinstance(value, Atom):
            raise Bad(f"{what} must be an atom")
        return value.upper()

    def astring(self, what: str) -> str:
        """An atom or a string, as text."""
        value = self.take(what)
        if isinstance(value, tuple):
            raise Bad(f"{what} must be a string")
        if isinstance(value, bytes):
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                raise Bad(f"{what} is not UTF-8") from None
        return str(value)

    def mailbox(self) -> str:
        """A mailbox name, decoded from modified UTF-7."""
        try:
            return names.decode_name(self.astring("mailbox name"))
        except names.NameError_ as exc:
            raise Bad(str(exc)) from exc

    def plist(self, what: str) -> tuple[Value, ...]:
        """A parenthesized list."""
        value = self.take(what)
        if not isinstance(value, tuple):
            raise Bad(f"{what} must be a parenthesized list")
        return value

    def sequence(self) -> SequenceSet:
        """A sequence set."""
        value = self.take("sequence set")
        if not isinstance(value, Atom):
            raise Bad("sequence set must be an atom")
        try:
            return SequenceSet.parse(value)
        except SequenceSetError as exc:
            raise Bad(f"bad sequence set: {exc}") from exc

    def rest(self) -> list[Value]:
        """All remaining arguments."""
        rest = list(self.values[self.pos :])
        self.pos = len(self.values)
        return rest

    def end(self) -> None:
        """Insist there is nothing more."""
        if self.pos < len(self.values):
            raise Bad("unexpected extra arguments")


def parse_flags(values: list[Value] | tuple[Value, ...], allow_recent: bool = False) -> set[str]:
    """Flags from a flag list: system flags canonically capitalized, keywords as given."""
    flags: set[str] = set()
    for value in values:
        if not isinstance(value, Atom) or not value:
            raise Bad("flags must be atoms")
        if value.startswith("\\"):
            upper = value.upper()
            if upper == "\\RECENT" and allow_recent:
                continue
            if upper not in _SYSTEM_FLAGS:
                raise Bad(f"unknown system flag {value[:40]}")
            flags.add(_CANONICAL_FLAG[upper])
        else:
            if any(c in value for c in '(){%*"\\]'):
                raise Bad(f"bad keyword {value[:40]}")
            flags.add(str(value))
    return flags
