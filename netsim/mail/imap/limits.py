"""What one server shares among its sessions to stay up under abuse.

A session alone cannot defend the server: ten sessions that each stay under the
per-literal cap can still fill memory, and a password guesser simply opens another
connection.  So the :class:`~netsim.mail.imap.server.ImapServer` keeps two ledgers:

- :class:`LiteralBudget`: octets of literal data being received right now, in total and
  per user.  A literal is reserved when announced and released when its command line is
  complete (or abandoned); one that does not fit is refused with ``NO [LIMIT]`` before
  its data is buffered.
- :class:`LoginThrottle`: failed logins per user name.  Each failure earns a delay that
  doubles with the failures of the connection and of the user, so guessing is slow
  however many connections the guesser opens.  The delay is only a number here (this
  package does no I/O and has no timers); the owner of the socket waits it out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


class LiteralBudget:
    """Octets of literal data in flight, across all connections and per user."""

    def __init__(self, total: int, per_user: int) -> None:
        #: Most octets all connections together may be receiving at once.
        self.total = total
        #: Most octets one user's connections together may be receiving at once.
        self.per_user = per_user
        #: Octets reserved now, all connections together.
        self.in_flight = 0
        self._by_user: dict[str, int] = {}

    def gate(self, user: str | None) -> BudgetGate:
        """The gate one connection's framer asks (``None``: not logged in yet)."""
        return BudgetGate(self, user)

    def reserve(self, user: str | None, size: int) -> str | None:
        """Reserve ``size`` octets; ``None`` if granted, else why not."""
        if self.in_flight + size > self.total:
            return (
                f"server busy: {self.in_flight} octets of literals in flight, "
                f"the limit is {self.total}; try again later"
            )
        if user is not None:
            mine = self._by_user.get(user, 0)
            if mine + size > self.per_user:
                return (
                    f"your sessions already send {mine} octets of literals, "
                    f"the limit per user is {self.per_user}"
                )
            self._by_user[user] = mine + size
        self.in_flight += size
        return None

    def release(self, user: str | None, size: int) -> None:
        """Give back octets reserved for ``user``."""
        self.in_flight -= size
        if user is not None:
            left = self._by_user.get(user, 0) - size
            if left > 0:
                self._by_user[user] = left
            else:
                self._by_user.pop(user, None)

    def used_by(self, user: str) -> int:
        """Octets ``user``'s connections are receiving now."""
        return self._by_user.get(user, 0)


@dataclass(frozen=True, slots=True)
class BudgetGate:
    """One connection's door to the budget, for one user (the framer's literal gate)."""

    budget: LiteralBudget
    user: str | None

    def admit(self, size: int) -> str | None:
        """Reserve ``size`` octets; ``None`` if granted, else why not."""
        return self.budget.reserve(self.user, size)

    def release(self, size: int) -> None:
        """Give back ``size`` reserved octets."""
        self.budget.release(self.user, size)


#: The longest delay after a failed login, in seconds (unless the base delay is longer).
MAX_LOGIN_DELAY = 30.0
#: The user name that stands for every name that is not a user's: guessing names must
#: not grow the ledger without bound.
UNKNOWN_USER = ""


class LoginThrottle:
    """Failed logins per user name, and the delay each new failure earns."""

    def __init__(
        self,
        base_delay: float,
        forget_after: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        #: Delay after a first failure, in seconds; 0 turns throttling off.
        self.base_delay = base_delay
        #: A user's failures are forgotten after this many quiet seconds.
        self.forget_after = forget_after
        self.clock = clock
        self._failures: dict[str, tuple[int, float]] = {}

    def failed(self, user: str, connection_failures: int) -> float:
        """Record a failure for ``user``; returns the delay before answering it.

        ``connection_failures`` counts this connection's failures, this one included.
        The delay doubles with whichever count is larger: the guesser who reconnects
        after each try meets the user's count, the one who tries many names the
        connection's.
        """
        now = self.clock()
        count, last = self._failures.get(user, (0, now))
        if now - last > self.forget_after:
            count = 0
        count += 1
        self._failures[user] = (count, now)
        if self.base_delay <= 0:
            return 0.0
        doublings = min(max(count, connection_failures) - 1, 16)
        delay: float = self.base_delay * 2.0**doublings
        return min(delay, max(MAX_LOGIN_DELAY, self.base_delay))

    def succeeded(self, user: str) -> None:
        """The right password: forget the user's failures."""
        self._failures.pop(user, None)

    def failures(self, user: str) -> int:
        """Failures recorded for ``user`` and not yet forgotten."""
        count, last = self._failures.get(user, (0, 0.0))
        return count if self.clock() - last <= self.forget_after else 0
