"""The user file of ``netsim serve-mail``: one ``name:password`` per line.

Blank lines and lines starting with ``#`` are ignored.  Errors name the file and line so
that a teacher with a typo gets one clear message.
"""

from __future__ import annotations

import hmac
from pathlib import Path


class UserFileError(ValueError):
    """The user file is missing or malformed."""


class Users:
    """Names and passwords that may log in."""

    def __init__(self, passwords: dict[str, str]) -> None:
        self._passwords = dict(passwords)

    @classmethod
    def load(cls, path: str | Path) -> Users:
        """Read a user file; raise :class:`UserFileError` naming the bad line."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserFileError(f"{path}: cannot read user file: {exc}") from exc
        passwords: dict[str, str] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            name, sep, password = stripped.partition(":")
            if not sep or not name or not password:
                raise UserFileError(f"{path}:{number}: expected 'name:password', got {stripped!r}")
            if any(c in name for c in ' "/\\%*(){') or not name.isprintable():
                raise UserFileError(f"{path}:{number}: user name {name!r} has forbidden characters")
            if name in passwords:
                raise UserFileError(f"{path}:{number}: user {name!r} listed twice")
            passwords[name] = password
        if not passwords:
            raise UserFileError(f"{path}: no users defined")
        return cls(passwords)

    def check(self, name: str, password: str) -> bool:
        """True if ``password`` is ``name``'s (compared in constant time)."""
        expected = self._passwords.get(name)
        if expected is None:
            hmac.compare_digest(password, password)
            return False
        return hmac.compare_digest(expected.encode(), password.encode())

    def __contains__(self, name: object) -> bool:
        return name in self._passwords

    def names(self) -> list[str]:
        """All user names, sorted."""
        return sorted(self._passwords)
