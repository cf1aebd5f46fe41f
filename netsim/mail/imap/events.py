"""Events: what the protocol objects hand to their owner, and what the owner sends.

Events are frozen dataclasses, as in h11: a server's connection turns bytes into
:class:`Command`, :class:`LiteralRequest` ... and turns :class:`Tagged`,
:class:`Untagged` ... into bytes; the client does the mirror image.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from netsim.mail.imap.parser import Value


class Sentinel(Enum):
    """Markers returned by ``next_event()`` when there is no event."""

    #: More bytes must arrive before another event can be produced.
    NEED_DATA = "NEED_DATA"
    #: An earlier command is still waiting for its response; answer it first.
    PAUSED = "PAUSED"


NEED_DATA = Sentinel.NEED_DATA
PAUSED = Sentinel.PAUSED


# -- client to server -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Command:
    """A complete, well-formed command valid in the current state."""

    tag: str
    name: str
    args: tuple[Value, ...]


@dataclass(frozen=True, slots=True)
class BadCommand:
    """A command line the server must answer with ``BAD`` (``tag`` None: untagged)."""

    tag: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class LiteralTooLarge:
    """A literal refused: answer ``NO [code]``.

    ``code`` is ``TOOBIG`` for a literal over the size limit (RFC 7889) and ``LIMIT``
    (RFC 5530) when the server's budget for literals in flight has no room for it.
    The connection has already refused a synchronizing literal's data, or read and
    discarded a non-synchronizing one, and dropped the command.
    """

    tag: str | None
    reason: str
    code: str = "TOOBIG"


@dataclass(frozen=True, slots=True)
class LiteralRequest:
    """The client announced a synchronizing literal and waits for ``+`` to send it.

    Answer with :class:`Continuation` to accept, or with a :class:`Tagged` ``NO`` or
    ``BAD`` for ``tag`` to refuse the whole command.
    """

    tag: str
    name: str
    size: int


@dataclass(frozen=True, slots=True)
class IdleDone:
    """The line that ended an IDLE; anything but ``DONE`` is a client error."""

    tag: str
    line: bytes


@dataclass(frozen=True, slots=True)
class SaslResponse:
    """One line of an AUTHENTICATE exchange (base64, or ``*`` to cancel)."""

    tag: str
    line: bytes


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """The peer closed its side of the connection."""


# -- server to client (also what a client receives) -------------------------------------


@dataclass(frozen=True, slots=True)
class Tagged:
    """The tagged status response that completes command ``tag``."""

    tag: str
    status: str
    text: str
    code: str | None = None


@dataclass(frozen=True, slots=True)
class UntaggedStatus:
    """``* OK/NO/BAD/PREAUTH/BYE [code] text``: the greeting, warnings and goodbye."""

    status: str
    text: str
    code: str | None = None


@dataclass(frozen=True, slots=True)
class Untagged:
    """Untagged data such as ``3 EXISTS``; ``payload`` is rendered without ``* `` and CRLF.

    On the client side ``values`` holds the payload tokenized.
    """

    payload: bytes
    values: tuple[Value, ...] = ()


@dataclass(frozen=True, slots=True)
class Continuation:
    """A ``+`` continuation request: go on sending (literal, IDLE, SASL)."""

    text: str = ""


# -- what a client application sends --------------------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    """A command to send; the client protocol picks the tag when ``tag`` is None.

    Arguments are :class:`~netsim.mail.imap.parser.Atom` (sent verbatim), ``str`` or
    ``bytes`` (sent quoted, or as a literal when they must be), :class:`Literal`, or a
    tuple (a parenthesized list).
    """

    name: str
    args: tuple[object, ...] = ()
    tag: str | None = None


@dataclass(frozen=True, slots=True)
class Literal:
    """Bytes a client always sends as a literal (APPEND's message)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class SendContinuation:
    """Ask the client protocol for the rest of a command after the server's ``+``."""


@dataclass(frozen=True, slots=True)
class SendDone:
    """End an IDLE (``DONE``)."""


@dataclass(frozen=True, slots=True)
class SendRaw:
    """One raw line for AUTHENTICATE exchanges (base64 data, without CRLF)."""

    line: bytes


ServerInput = (
    Command
    | BadCommand
    | LiteralTooLarge
    | LiteralRequest
    | IdleDone
    | SaslResponse
    | ConnectionClosed
)
ServerOutput = Tagged | UntaggedStatus | Untagged | Continuation
