"""``session: [disconnected]``: an IMAP client for disconnected use (RFC 4549).

A laptop's mail program keeps a local cache of the INBOX (:mod:`netsim.apps.imap_cache`:
each message's UID and flags, and with CONDSTORE its mod-sequence). Online, it holds a
connection open in IDLE. When the user goes offline (the scenario event ``mail-offline``)
it logs out, and what the user does meanwhile is queued: every ``think`` seconds a
message is marked read, and the first thing done offline is a note filed in Archive (an
APPEND). Back online (``mail-online``) it reconnects and resynchronises as RFC 4549
describes, by the best method the server offers (or the one ``resync`` asks for):

- ``qresync`` (RFC 7162 3.2.5): ``ENABLE QRESYNC``, then
  ``SELECT INBOX (QRESYNC (uidvalidity highestmodseq known-uids))``: the SELECT's own
  answer lists what was expunged (``VANISHED (EARLIER)``) and the flags that changed
  since the cached HIGHESTMODSEQ. One round trip more than a plain SELECT, whatever the
  mailbox's size.
- ``condstore`` (RFC 7162 3.1): ``SELECT INBOX (CONDSTORE)``; if HIGHESTMODSEQ moved,
  ``UID FETCH 1:n (FLAGS) (CHANGEDSINCE m)`` for the changed flags and ``UID SEARCH UID
  1:n`` to learn, from the UIDs still there, which messages were expunged.
- ``plain`` (RFC 4549 4.3): SELECT, and ``UID FETCH 1:n (FLAGS)`` of every known message.

Each method starts by comparing UIDVALIDITY with the cache's: a different one means the
cached UIDs name nothing any more, so the cache is dropped and everything fetched. Then
all fetch the messages from the cached UIDNEXT on (new mail, with their Message-IDs for
the ``delivery`` table, ``via: imap-resync``).

The queue is replayed next: each note as an APPEND, each flag change as a UID STORE,
guarded with ``(UNCHANGEDSINCE modseq)`` (the mod-sequence the message had when the user
changed it) if the server has CONDSTORE. A message another client changed meanwhile
comes back in ``OK [MODIFIED uid]``: the server's state wins (RFC 7162 3.1.3: the
client fetches the message's flags again, and its change is dropped), and a
``CONFLICT`` row records it.

Every command is a row in imap.csv, so the cost of coming back online is measured like
any other; one ``RESYNC`` row adds it up (the method, bytes each way, round trips).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import simpy

from netsim.apps.imap import ImapClient, Process, _is_tagged
from netsim.apps.imap_cache import FetchedState, MailboxCache, parse_fetch, parse_vanished
from netsim.apps.mailclient import SessionEnded
from netsim.apps.mailhost import PASSWORD, message_id
from netsim.engine.sim import Simulation
from netsim.mail.imap.events import (
    Continuation,
    Literal,
    Request,
    SendDone,
    Tagged,
    Untagged,
    UntaggedStatus,
)
from netsim.mail.imap.parser import Atom
from netsim.mail.imap.sequence import format_set

#: The resynchronisation methods, best first (a server offering none gets ``plain``).
METHODS = ("qresync", "condstore", "plain")
_RESYNC_ITEMS = (Atom("UID"), Atom("FLAGS"), Atom("BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"))
_SEEN = (Atom("\\Seen"),)

_CLIENTS: weakref.WeakKeyDictionary[Simulation, dict[str, OfflineImapClient]] = (
    weakref.WeakKeyDictionary()
)


def client_on(sim: Simulation, host: str) -> OfflineImapClient | None:
    """The disconnected-use client running on ``host`` in this run, if there is one."""
    return _CLIENTS.get(sim, {}).get(host)


@dataclass(frozen=True, slots=True)
class FlagChange:
    """A message marked read offline, with the mod-sequence it had then (if known).

    The UID means something only under the UIDVALIDITY it was cached with.
    """

    uid: int
    modseq: int | None
    uidvalidity: int | None


class OfflineImapClient(ImapClient):
    """A disconnected-use IMAP client: a cache, a queue, and a resynchronisation."""

    def __init__(self, sim: Simulation, *args: Any, resync: str = "auto", **kwargs: Any) -> None:
        #: The local copy of the INBOX.
        self.cache = MailboxCache()
        #: ``auto`` (the best the server offers) or one of :data:`METHODS`.
        self.resync = resync
        #: The method the last resynchronisation used.
        self.method = "plain"
        #: Changes made offline, waiting to be sent.
        self.queue: list[Request | FlagChange] = []
        self.online = True
        self._went_offline: simpy.Event = sim.env.event()
        self._came_online: simpy.Event = sim.env.event()
        self._mailbox: dict[str, int] = {}
        self._round_trips = 0
        super().__init__(sim, *args, **kwargs)
        _CLIENTS.setdefault(sim, {})[self.user] = self

    # The scenario's events ---------------------------------------------------------------

    def go_offline(self) -> None:
        """The user pulls the plug: log out, and queue what is done meanwhile."""
        if self.online:
            self.online = False
            self._went_offline.succeed()
            self._came_online = self.sim.env.event()

    def go_online(self) -> None:
        """The user is back: reconnect and resynchronise."""
        if not self.online:
            self.online = True
            self._came_online.succeed()
            self._went_offline = self.sim.env.event()

    # The client's life -------------------------------------------------------------------

    def _run(self, start: float) -> Process:
        env = self.sim.env
        yield env.timeout(max(0.0, start - env.now))
        while env.now < self.stop_at:
            if self.online:
                yield from self._session()
            else:
                yield from self._work_offline()

    def _session(self) -> Process:
        """Connect, resynchronise, replay the queue, IDLE until the user goes offline."""
        env = self.sim.env
        t0 = env.now
        try:
            yield from self._connect(t0)
            yield from self.command(Request("LOGIN", (self.user, PASSWORD)))
            yield from self._resync()
            while self.queue and self.online:
                change = self.queue.pop(0)
                if isinstance(change, FlagChange):
                    yield from self._replay(change)
                else:
                    yield from self.command(change)
            while self.online and env.now < self.stop_at:
                yield from self._idle_until(self._went_offline)
            yield from self.command(Request("LOGOUT"))
        except (OSError, SessionEnded) as e:
            self._row("", "SESSION", t0, 0, 0, f"failed: {e}")
            yield env.any_of([self._went_offline, env.timeout(max(0.0, self.stop_at - env.now))])
        finally:
            if self.channel is not None:
                self.channel.close()
                self.channel = None

    # Resynchronisation -------------------------------------------------------------------

    def choose_method(self) -> str:
        """The method to use: the one asked for (``auto``: the best) if the server
        offers it (its CAPABILITY, as the LOGIN reply told it), else the next one down."""
        offered = self.conn.capabilities
        first = 0 if self.resync == "auto" else METHODS.index(self.resync)
        for method in METHODS[first:]:
            if method == "qresync" and {"QRESYNC", "ENABLE"} <= offered:
                return method
            if method == "condstore" and "CONDSTORE" in offered:
                return method
        return "plain"

    def _ask(self, request: Request, watch: Callable[[object], None] | None = None) -> Process:
        """One command of the resynchronisation (counted as one round trip)."""
        self._round_trips += 1
        return (yield from self.command(request, watch))

    def _resync(self) -> Process:
        """RFC 4549 4.3 by the chosen method; one RESYNC row sums up its cost."""
        env = self.sim.env
        t0, mark = env.now, self._octets()
        self._round_trips = 0
        self.method = method = self.choose_method()
        cache = self.cache
        if method == "qresync":
            enabled: list[bytes] = []

            def note_enabled(event: object) -> None:
                if isinstance(event, Untagged) and event.payload[:8].upper() == b"ENABLED ":
                    enabled.extend(event.payload[8:].upper().split())

            yield from self._ask(Request("ENABLE", (Atom("QRESYNC"),)), note_enabled)
            if b"QRESYNC" not in enabled:
                self.method = method = "condstore"  # refused after all: the next one down
        # What the SELECT itself says changed (QRESYNC): applied once UIDVALIDITY is known
        # to be the cache's (the server ignores a QRESYNC of another UIDVALIDITY).
        fetched: list[FetchedState] = []
        vanished: list[int] = []

        def note(event: object) -> None:
            self._note_status(event)
            state = parse_fetch(event)
            if state is not None:
                fetched.append(state)
            gone = parse_vanished(event)
            if gone is not None:
                vanished.extend(gone)

        args: tuple[Any, ...] = ("INBOX",)
        quick = cache.highestmodseq is not None and cache.uidvalidity is not None
        if method == "qresync" and quick:
            assert cache.uidvalidity is not None and cache.highestmodseq is not None
            known: tuple[Any, ...] = (cache.uidvalidity, cache.highestmodseq)
            if cache.flags:
                known += (Atom(format_set(cache.flags)),)
            args = ("INBOX", (Atom("QRESYNC"), known))
        elif method == "condstore":
            args = ("INBOX", (Atom("CONDSTORE"),))
        self._mailbox = {}
        yield from self._ask(Request("SELECT", args), note)
        validity = self._mailbox.get("UIDVALIDITY")
        if validity != cache.uidvalidity:
            cache.reset(validity)  # the cached UIDs name nothing any more: start over
        elif cache.flags:
            if method == "qresync" and quick:
                cache.forget(vanished)
                for state in fetched:
                    if state.uid in cache.flags:
                        cache.apply(state)
            elif method == "condstore" and quick:
                if self._mailbox.get("HIGHESTMODSEQ") != cache.highestmodseq:
                    yield from self._changed_since()
            else:
                yield from self._refresh_flags()
        cache.highestmodseq = self._mailbox.get("HIGHESTMODSEQ") if method != "plain" else None
        yield from self._fetch_new("imap-resync")
        out, got = self._since(mark)
        self._row("", "RESYNC", t0, out, got, "OK", resync=method, round_trips=self._round_trips)

    def _refresh_flags(self) -> Process:
        """RFC 4549's way: the flags of every known message; one not listed is gone."""
        cache = self.cache
        seen: dict[int, FetchedState] = {}

        def note(event: object) -> None:
            state = parse_fetch(event)
            if state is not None and state.flags is not None:
                seen[state.uid] = state

        fetch = (Atom("FETCH"), Atom(cache.known_range()), (Atom("UID"), Atom("FLAGS")))
        yield from self._ask(Request("UID", fetch), note)
        cache.forget([uid for uid in cache.flags if uid not in seen])  # expunged meanwhile
        for state in seen.values():
            if state.uid in cache.flags:
                cache.apply(state)

    def _changed_since(self) -> Process:
        """CONDSTORE's way: the flags changed since HIGHESTMODSEQ, and the UIDs still
        there (what is not among them was expunged)."""
        cache = self.cache
        assert cache.highestmodseq is not None
        changed: list[FetchedState] = []
        present: set[int] = set()

        def note_fetch(event: object) -> None:
            state = parse_fetch(event)
            if state is not None:
                changed.append(state)

        def note_search(event: object) -> None:
            if isinstance(event, Untagged) and event.payload[:7].upper() == b"SEARCH ":
                present.update(int(n) for n in event.payload[7:].split() if n.isdigit())

        since = (Atom("CHANGEDSINCE"), cache.highestmodseq)
        uids = Atom(cache.known_range())
        fetch = (Atom("FETCH"), uids, (Atom("FLAGS"),), since)
        yield from self._ask(Request("UID", fetch), note_fetch)
        yield from self._ask(Request("UID", (Atom("SEARCH"), Atom("UID"), uids)), note_search)
        cache.forget([uid for uid in cache.flags if uid not in present])
        for state in changed:
            if state.uid in cache.flags:
                cache.apply(state)

    def _fetch_new(self, via: str, seen_at: float | None = None) -> Process:
        """Fetch UID, flags and Message-ID of the messages at or above the cached UIDNEXT.

        They were seen at ``seen_at`` (a push's arrival), or, after a resynchronisation,
        when this fetch has told the client about them.
        """
        cache = self.cache
        first = cache.uidnext
        found: dict[int, FetchedState] = {}
        ids: dict[int, str] = {}

        def note(event: object) -> None:
            state = parse_fetch(event)
            if state is not None and state.flags is not None:
                found[state.uid] = state
                assert isinstance(event, Untagged)
                mid = message_id(event.payload.split(b"\r\n", 1)[-1])
                if mid is not None:
                    ids[state.uid] = mid

        request = Request("UID", (Atom("FETCH"), Atom(f"{first}:*"), _RESYNC_ITEMS))
        if via == "imap-resync":
            yield from self._ask(request, note)
        else:
            yield from self.command(request, note)
        fresh = sorted(uid for uid in found if uid >= first)
        for uid in fresh:
            cache.apply(found[uid])
        cache.uidnext = max(self._mailbox.get("UIDNEXT", 1), max(cache.flags, default=0) + 1)
        if self.deliveries is not None and first > 1:
            extra = {"resync": self.method} if via == "imap-resync" else {}
            for uid in fresh:
                if uid in ids:
                    self.deliveries.seen(ids[uid], self.user, via, at=seen_at, **extra)

    # The queue ---------------------------------------------------------------------------

    def _replay(self, change: FlagChange) -> Process:
        """Mark a message read as the user did offline, unless someone else changed it
        meanwhile (CONDSTORE): then the server's state wins, and a CONFLICT row says so."""
        cache = self.cache
        if change.uidvalidity != cache.uidvalidity or change.uid not in cache.flags:
            # The UID names another message now (RFC 4549 4.1), or none: expunged.
            return
        guard: tuple[Any, ...] = ()
        if self.method != "plain" and change.modseq is not None:
            guard = ((Atom("UNCHANGEDSINCE"), change.modseq),)
        store = (Atom("STORE"), Atom(str(change.uid)), *guard, Atom("+FLAGS.SILENT"), _SEEN)
        reply = yield from self.command(Request("UID", store), self._note_fetch)
        code = (reply.code or "").split()
        if reply.status != "OK":
            return
        if code and code[0].upper() == "MODIFIED":
            t0, mark = self.sim.env.now, self._octets()
            items = (Atom("UID"), Atom("FLAGS"))
            fetch = Request("UID", (Atom("FETCH"), Atom(code[1]), items))
            yield from self.command(fetch, self._note_fetch)
            out, got = self._since(mark)
            self._row("", "CONFLICT", t0, out, got, "server-wins", uids=code[1])
        else:
            cache.flags[change.uid] = cache.flags[change.uid] | {"\\Seen"}

    def _note_fetch(self, event: object) -> None:
        state = parse_fetch(event)
        if state is not None and state.uid in self.cache.flags:
            self.cache.apply(state)

    # Online, waiting ---------------------------------------------------------------------

    def _idle_until(self, offline: simpy.Event) -> Process:
        """IDLE until the user goes offline (or the run ends); then fetch what was pushed."""
        data = self.conn.send(Request("IDLE"))
        tag = self.conn.last_tag
        t0, mark = self.sim.env.now, self._octets()
        yield self._send(data)
        yield from self._until(lambda ev: isinstance(ev, Continuation))
        self._row(tag, "IDLE", t0, *self._since(mark), "+")
        limit = self.sim.env.timeout(max(0.0, self.stop_at - self.sim.env.now))
        had = self.exists
        pushed: list[float] = []

        def news(event: object) -> bool:
            if self.exists > had and not pushed:
                pushed.append(self.sim.env.now)  # when the first EXISTS arrived
            return False

        # A plain event, not an AnyOf: SimPy unhooks a condition nested in another once
        # the outer one fires (here, at each push), and it would never wake us.
        wake = self.sim.env.event()

        def ring(_event: simpy.Event) -> None:
            if not wake.triggered:
                wake.succeed()

        for event in (offline, limit):
            event.callbacks.append(ring)
        yield from self._until(news, wake)
        done = self.conn.send(SendDone())
        t1, mark = self.sim.env.now, self._octets()
        yield self._send(done)
        result: list[Tagged] = []
        yield from self._until(lambda ev: _is_tagged(ev, tag, result))
        self._row(tag, "DONE", t1, *self._since(mark), result[0].status)
        if pushed:
            yield from self._fetch_new("imap-idle", pushed[0])

    def _work_offline(self) -> Process:
        """Queue the user's changes until the network is back."""
        env = self.sim.env
        cache = self.cache
        if not any(isinstance(r, Request) and r.name == "APPEND" for r in self.queue):
            note = (
                f"From: {self.user}\r\nSubject: written offline\r\n\r\n"
                f"Filed at {env.now:.3f} s while offline.\r\n"
            ).encode()
            self.queue.append(Request("APPEND", ("Archive", Literal(note))))
        while not self.online and env.now < self.stop_at:
            unread = sorted(u for u, f in cache.flags.items() if "\\Seen" not in f)
            if unread:
                uid = unread[0]
                cache.flags[uid] = cache.flags[uid] | {"\\Seen"}
                self.queue.append(FlagChange(uid, cache.modseqs.get(uid), cache.uidvalidity))
            pause = env.timeout(self.think if self.think > 0 else self.stop_at - env.now)
            yield env.any_of([self._came_online, pause])

    def _note_status(self, event: object) -> None:
        if isinstance(event, UntaggedStatus) and event.code:
            parts = event.code.split()
            if len(parts) == 2 and parts[1].isdigit():
                self._mailbox[parts[0].upper()] = int(parts[1])
