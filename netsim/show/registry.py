"""The set of ``show`` commands, and how typed text finds one of them.

A command is a few keywords (``mac address-table``) and a function that renders it. As on
a Cisco switch, every keyword may be shortened to any unambiguous prefix (``sh mac add``
is ``show mac address-table``), and the words after the keywords are the command's
arguments (``vlan 10``). A module adds a command with :func:`register`; nothing central
grows a branch per command.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from netsim.show.state import DeviceAt

Renderer = Callable[["DeviceAt", list[str]], str]


class ShowError(ValueError):
    """A show command that cannot be answered: the message says why, in one line."""


@dataclass(frozen=True)
class ShowCommand:
    """One command: its keywords, what it says, and the function that renders it."""

    keywords: tuple[str, ...]
    summary: str
    render: Renderer
    kinds: frozenset[str] | None = None
    """Device kinds it applies to (None: every kind)."""

    @property
    def name(self) -> str:
        """``mac address-table``."""
        return " ".join(self.keywords)


COMMANDS: dict[str, ShowCommand] = {}
"""Every registered command by name."""


def register(
    name: str, summary: str, kinds: frozenset[str] | None = None
) -> Callable[[Renderer], Renderer]:
    """Decorator: make ``render(device, args)`` the command ``show NAME``."""

    def add(render: Renderer) -> Renderer:
        if name in COMMANDS:
            raise ValueError(f"show {name}: registered twice")
        COMMANDS[name] = ShowCommand(tuple(name.split()), summary, render, kinds)
        return render

    return add


def resolve(text: str) -> tuple[ShowCommand, list[str]]:
    """The command ``text`` names (keywords may be abbreviated) and its arguments.

    Of several commands that match, the one with the most keywords wins, so ``interfaces
    counters`` is not read as ``interfaces`` with the argument ``counters``.
    """
    words = text.split()
    if words[:1] and "show".startswith(words[0].lower()) and len(words[0]) >= 2:
        words = words[1:]  # "show mac address-table" as well as "mac address-table"
    matches: list[tuple[ShowCommand, list[str]]] = []
    for command in COMMANDS.values():
        n = len(command.keywords)
        if len(words) >= n and all(
            k.startswith(w.lower()) for k, w in zip(command.keywords, words, strict=False)
        ):
            matches.append((command, words[n:]))
    if not matches:
        known = "; ".join(sorted(COMMANDS))
        raise ShowError(f"unknown show command {text!r} (known: {known})")
    longest = max(len(c.keywords) for c, _ in matches)
    best = [(c, a) for c, a in matches if len(c.keywords) == longest]
    if len(best) > 1:
        names = ", ".join(sorted(c.name for c, _ in best))
        raise ShowError(f"ambiguous show command {text!r}: {names}")
    return best[0]
