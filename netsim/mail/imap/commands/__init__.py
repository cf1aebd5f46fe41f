"""What each IMAP command means: one module per group of commands.

Every handler is a function ``do_<name>(session, tag, args)`` (``UID FETCH`` is
``do_uid_fetch``); :data:`HANDLERS` finds them by that convention for every command the
state table (:data:`netsim.mail.imap.states.COMMAND_STATES`) knows, so a command cannot
be admitted by the state machine yet lack a handler.

A handler returns its :data:`~netsim.mail.imap.arguments.Result`, or, when its work
grows with the mailbox, :data:`Steps`: a generator that yields after each bounded piece
of work and returns the result at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from types import ModuleType
from typing import TYPE_CHECKING

from netsim.mail.imap.arguments import Arguments, Result
from netsim.mail.imap.commands import acl, any_state, auth, idle, mailboxes, messages
from netsim.mail.imap.states import COMMAND_STATES

if TYPE_CHECKING:
    from netsim.mail.imap.server import ServerSession

#: A long command's work, in pieces: ``next()`` does one, ``StopIteration`` carries the result.
Steps = Generator[None, None, Result]
#: What a handler returns.
Outcome = Result | Steps
Handler = Callable[["ServerSession", str, Arguments], Outcome]

_MODULES: tuple[ModuleType, ...] = (any_state, auth, mailboxes, idle, acl, messages)


def _handlers() -> dict[str, Handler]:
    table: dict[str, Handler] = {}
    for name in COMMAND_STATES:
        function_name = "do_" + name.lower().replace(" ", "_")
        found = [getattr(m, function_name) for m in _MODULES if hasattr(m, function_name)]
        if len(found) != 1:
            raise RuntimeError(f"command {name} needs exactly one handler, found {len(found)}")
        table[name] = found[0]
    return table


#: Command name -> handler.
HANDLERS: dict[str, Handler] = _handlers()
