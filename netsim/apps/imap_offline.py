"""``session: [disconnected]``: an IMAP client for disconnected use (RFC 4549).

A laptop's mail program keeps a local cache of the INBOX (each message's UID and flags).
Online, it holds a connection open in IDLE. When the user goes offline (the scenario
event ``mail-offline``) it logs out, and what the user does meanwhile is queued: every
``think`` seconds a message is marked read, and the first thing done offline is a note
filed in Archive (an APPEND). Back online (``mail-online``) it reconnects and
resynchronises as RFC 4549 describes:

1. SELECT, and compare the mailbox's UIDVALIDITY with the cache's. Different (or no
   cache yet): the cached UIDs mean nothing now, so fetch every message's UID and flags.
2. Same: fetch only the messages at or above the cached UIDNEXT (new mail, with their
   Message-IDs for the ``delivery`` table, ``via: imap-resync``), and the flags of the
   ones it knew, which other clients may have changed.
3. Replay the queue: each flag change as a UID STORE, each note as an APPEND.

Every command is a row in imap.csv, so the cost of coming back online (and of each
queued change) is measured like any other.
"""

from __future__ import annotations

import re
import weakref
from typing import Any

import simpy

from netsim.apps.imap import ImapClient, Process, SessionEnded, _is_tagged
from netsim.apps.mailhost import PASSWORD, message_id
from netsim.engine.sim import Simulation
from netsim.mail.imap.client import ClientConnection
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
from netsim.net.sockets import connect

_FETCH = re.compile(rb"^\d+ FETCH \(.*?UID (\d+).*?FLAGS \(([^)]*)\)", re.IGNORECASE)
_FETCH_FLAGS_FIRST = re.compile(rb"^\d+ FETCH \(.*?FLAGS \(([^)]*)\).*?UID (\d+)", re.IGNORECASE)
_RESYNC_ITEMS = (Atom("UID"), Atom("FLAGS"), Atom("BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"))

_CLIENTS: weakref.WeakKeyDictionary[Simulation, dict[str, OfflineImapClient]] = (
    weakref.WeakKeyDictionary()
)


def client_on(sim: Simulation, host: str) -> OfflineImapClient | None:
    """The disconnected-use client running on ``host`` in this run, if there is one."""
    return _CLIENTS.get(sim, {}).get(host)


class OfflineImapClient(ImapClient):
    """A disconnected-use IMAP client: a cache, a queue, and a resynchronisation."""

    def __init__(self, sim: Simulation, *args: Any, **kwargs: Any) -> None:
        #: The local cache: UID -> flags, and the mailbox's UIDVALIDITY and UIDNEXT.
        self.cache: dict[int, frozenset[str]] = {}
        self.uidvalidity: int | None = None
        self.uidnext = 1
        #: Changes made offline, waiting to be sent.
        self.queue: list[Request] = []
        self.online = True
        self._went_offline: simpy.Event = sim.env.event()
        self._came_online: simpy.Event = sim.env.event()
        self._mailbox: dict[str, int] = {}
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
        self.conn = ClientConnection()
        self._tls = None
        self._pending_read = None
        self._clear_out = self._clear_in = 0
        try:
            self._tcp = yield connect(self.stack, self.server.address, self.port)
            self.sock = self._tcp
            if self.tls_mode == "implicit":
                yield from self._start_tls()
            yield from self._until(lambda ev: not isinstance(ev, Untagged))
            self._row("", "CONNECT", t0, *self._octets(), "OK")
            yield from self.command(Request("LOGIN", (self.user, PASSWORD)))
            self._mailbox = {}
            yield from self.command(Request("SELECT", ("INBOX",)), self._note_status)
            yield from self._resync()
            while self.queue and self.online:
                yield from self.command(self.queue.pop(0))
            while self.online and env.now < self.stop_at:
                yield from self._idle_until(self._went_offline)
            yield from self.command(Request("LOGOUT"))
        except (OSError, SessionEnded) as e:
            self._row("", "SESSION", t0, 0, 0, f"failed: {e}")
            yield env.any_of([self._went_offline, env.timeout(max(0.0, self.stop_at - env.now))])
        finally:
            if self.sock is not None:
                self.sock.close()
                self.sock = None

    def _resync(self) -> Process:
        """RFC 4549 4.3: check UIDVALIDITY, refresh the known flags, fetch what is new."""
        validity = self._mailbox.get("UIDVALIDITY")
        if validity != self.uidvalidity:
            self.cache.clear()  # the cached UIDs name nothing any more: start over
            self.uidnext = 1
        self.uidvalidity = validity
        if self.cache:
            seen: dict[int, frozenset[str]] = {}
            known = (Atom("UID"), Atom("FLAGS"))
            last = Atom(f"1:{self.uidnext - 1}")

            def note(event: object) -> None:
                _collect(event, seen)

            yield from self.command(Request("UID", (Atom("FETCH"), last, known)), note)
            for uid in [u for u in self.cache if u not in seen]:
                del self.cache[uid]  # expunged elsewhere meanwhile
            self.cache.update(seen)
        yield from self._fetch_new("imap-resync")

    def _fetch_new(self, via: str, seen_at: float | None = None) -> Process:
        """Fetch UID, flags and Message-ID of the messages at or above the cached UIDNEXT.

        They were seen at ``seen_at`` (a push's arrival), or, after a resynchronisation,
        when this fetch has told the client about them.
        """
        first = self.uidnext
        found: dict[int, frozenset[str]] = {}
        ids: dict[int, str] = {}

        def note(event: object) -> None:
            if _collect(event, found) is not None:
                assert isinstance(event, Untagged)
                mid = message_id(event.payload.split(b"\r\n", 1)[-1])
                if mid is not None:
                    ids[max(found)] = mid

        yield from self.command(
            Request("UID", (Atom("FETCH"), Atom(f"{first}:*"), _RESYNC_ITEMS)), note
        )
        fresh = {uid: flags for uid, flags in found.items() if uid >= first}
        self.cache.update(fresh)
        self.uidnext = max(self._mailbox.get("UIDNEXT", 1), max(self.cache, default=0) + 1)
        if self.deliveries is not None and first > 1:
            for uid in sorted(fresh):
                if uid in ids:
                    self.deliveries.seen(ids[uid], self.user, via, at=seen_at)

    def _idle_until(self, offline: simpy.Event) -> Process:
        """IDLE until the user goes offline (or the run ends); then fetch what was pushed."""
        assert self.sock is not None
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
        if not any(r.name == "APPEND" for r in self.queue):
            note = (
                f"From: {self.user}\r\nSubject: written offline\r\n\r\n"
                f"Filed at {env.now:.3f} s while offline.\r\n"
            ).encode()
            self.queue.append(Request("APPEND", ("Archive", Literal(note))))
        while not self.online and env.now < self.stop_at:
            unread = sorted(u for u, f in self.cache.items() if "\\Seen" not in f)
            if unread:
                uid = unread[0]
                self.cache[uid] = self.cache[uid] | {"\\Seen"}
                self.queue.append(
                    Request(
                        "UID",
                        (Atom("STORE"), Atom(str(uid)), Atom("+FLAGS.SILENT"), (Atom("\\Seen"),)),
                    )
                )
            pause = env.timeout(self.think if self.think > 0 else self.stop_at - env.now)
            yield env.any_of([self._came_online, pause])

    def _note_status(self, event: object) -> None:
        if isinstance(event, UntaggedStatus) and event.code:
            parts = event.code.split()
            if len(parts) == 2 and parts[1].isdigit():
                self._mailbox[parts[0].upper()] = int(parts[1])


def _collect(event: object, into: dict[int, frozenset[str]]) -> int | None:
    """Put the UID and FLAGS of an untagged FETCH response in ``into``; return the UID."""
    if not isinstance(event, Untagged):
        return None
    first_line = event.payload.split(b"\r\n", 1)[0]
    match = _FETCH.match(first_line)
    if match is not None:
        uid, flags = match.group(1), match.group(2)
    else:
        match = _FETCH_FLAGS_FIRST.match(first_line)
        if match is None:
            return None
        flags, uid = match.group(1), match.group(2)
    into[int(uid)] = frozenset(flags.decode("ascii", "replace").split())
    return int(uid)
