"""CONDSTORE and QRESYNC (RFC 7162): what changed since a client last looked.

Every change to a mailbox gets the next *mod-sequence* (the store keeps them: each
message the one of its last change, each expunged UID the one that removed it, and the
mailbox the highest, HIGHESTMODSEQ).  A client that remembers HIGHESTMODSEQ can then
ask for just what changed since:

* ``FETCH 1:* (FLAGS) (CHANGEDSINCE 7)``: messages whose flags changed after 7;
* ``STORE 3 (UNCHANGEDSINCE 7) +FLAGS (\\Seen)``: change a message only if nobody else
  did after 7; the ones that were changed come back in ``OK [MODIFIED 3]``;
* ``SEARCH MODSEQ 7``: messages changed at 7 or later;
* with QRESYNC, ``SELECT box (QRESYNC (uidvalidity modseq [known-uids]))``: the expunged
  UIDs (``VANISHED (EARLIER)``) and the changed flags, in the answer to the SELECT.

A session turns CONDSTORE on with its first *CONDSTORE-enabling command* (any of the
above, ``SELECT .. (CONDSTORE)``, ``STATUS .. (HIGHESTMODSEQ)``, FETCH of ``MODSEQ``) or
with ``ENABLE CONDSTORE``; QRESYNC only with ``ENABLE QRESYNC`` (which implies
CONDSTORE).  From then on every FETCH response that carries flags also carries MODSEQ,
and, with QRESYNC, expunges are told as ``VANISHED uid-set`` instead of ``EXPUNGE``.

This module parses the modifiers and parameters; the commands use them.
"""

from __future__ import annotations

from dataclasses import dataclass

from netsim.mail.imap.arguments import Bad
from netsim.mail.imap.parser import Atom, Value
from netsim.mail.imap.sequence import SequenceSet, SequenceSetError

#: The largest mod-sequence (RFC 7162: an unsigned 63-bit number).
MAX_MODSEQ = 2**63 - 1


def modseq_value(value: Value, what: str, allow_zero: bool = True) -> int:
    """A ``mod-sequence-value`` (or ``-valzer``) argument."""
    if not isinstance(value, Atom) or not value.isdigit() or not value.isascii():
        raise Bad(f"{what} must be a number")
    number = int(value)
    if number > MAX_MODSEQ or (number == 0 and not allow_zero):
        raise Bad(f"{what} is out of range")
    return number


def _pairs(values: tuple[Value, ...], what: str) -> list[tuple[str, Value]]:
    """A modifier list ``(NAME value NAME value ...)`` as (upper-case name, value) pairs."""
    pairs: list[tuple[str, Value]] = []
    i = 0
    while i < len(values):
        name = values[i]
        if not isinstance(name, Atom):
            raise Bad(f"{what} names must be atoms")
        upper = name.upper()
        if upper == "VANISHED":  # FETCH's one modifier without a value
            pairs.append((upper, Atom("")))
            i += 1
            continue
        if i + 1 >= len(values):
            raise Bad(f"{what} {upper[:40]} needs a value")
        pairs.append((upper, values[i + 1]))
        i += 2
    return pairs


@dataclass(frozen=True, slots=True)
class FetchModifiers:
    """``(CHANGEDSINCE n [VANISHED])`` after FETCH's items."""

    changed_since: int | None = None
    vanished: bool = False


def fetch_modifiers(values: tuple[Value, ...]) -> FetchModifiers:
    """Parse FETCH's modifier list (RFC 7162 sections 3.1.4 and 3.2.6)."""
    changed_since: int | None = None
    vanished = False
    for name, value in _pairs(values, "FETCH modifier"):
        if name == "CHANGEDSINCE" and changed_since is None:
            changed_since = modseq_value(value, "CHANGEDSINCE")
        elif name == "VANISHED" and not vanished:
            vanished = True
        else:
            raise Bad(f"unknown or repeated FETCH modifier {name[:40]}")
    if vanished and changed_since is None:
        raise Bad("VANISHED needs CHANGEDSINCE")
    return FetchModifiers(changed_since, vanished)


def store_unchanged_since(values: tuple[Value, ...]) -> int:
    """Parse STORE's modifier list, ``(UNCHANGEDSINCE n)`` (RFC 7162 section 3.1.3)."""
    pairs = _pairs(values, "STORE modifier")
    if len(pairs) != 1 or pairs[0][0] != "UNCHANGEDSINCE":
        raise Bad("the STORE modifier is UNCHANGEDSINCE")
    return modseq_value(pairs[0][1], "UNCHANGEDSINCE")


@dataclass(frozen=True, slots=True)
class Resync:
    """``QRESYNC (uidvalidity modseq [known-uids [(seqs uids)]])`` of SELECT/EXAMINE."""

    uidvalidity: int
    modseq: int
    known_uids: SequenceSet | None = None
    #: The client's sequence numbers and the UIDs it has for them, to narrow the
    #: expunges the server reports when it does not remember them all.
    match: tuple[SequenceSet, SequenceSet] | None = None


@dataclass(frozen=True, slots=True)
class SelectParameters:
    """What SELECT/EXAMINE's parameter list asked for."""

    condstore: bool = False
    resync: Resync | None = None


def _set(value: Value, what: str) -> SequenceSet:
    if not isinstance(value, Atom):
        raise Bad(f"{what} must be a sequence set")
    try:
        return SequenceSet.parse(value)
    except SequenceSetError as exc:
        raise Bad(f"bad {what}: {exc}") from exc


def select_parameters(values: tuple[Value, ...]) -> SelectParameters:
    """Parse ``(CONDSTORE)`` or ``(QRESYNC (...))`` after SELECT/EXAMINE's mailbox."""
    condstore = False
    resync: Resync | None = None
    i = 0
    while i < len(values):
        name = values[i]
        if not isinstance(name, Atom):
            raise Bad("SELECT parameter names must be atoms")
        upper = name.upper()
        if upper == "CONDSTORE" and not condstore:
            condstore = True
            i += 1
        elif upper == "QRESYNC" and resync is None and i + 1 < len(values):
            resync = _resync(values[i + 1])
            i += 2
        else:
            raise Bad(f"unknown or repeated SELECT parameter {upper[:40]}")
    return SelectParameters(condstore, resync)


def _resync(value: Value) -> Resync:
    if not isinstance(value, tuple) or not 2 <= len(value) <= 4:
        raise Bad("QRESYNC takes (uidvalidity modseq [known-uids [(seqs uids)]])")
    uidvalidity = value[0]
    if not isinstance(uidvalidity, Atom) or not uidvalidity.isdigit() or int(uidvalidity) == 0:
        raise Bad("QRESYNC's UIDVALIDITY must be a positive number")
    modseq = modseq_value(value[1], "QRESYNC's mod-sequence", allow_zero=False)
    known: SequenceSet | None = None
    match: tuple[SequenceSet, SequenceSet] | None = None
    rest = list(value[2:])
    if rest and not isinstance(rest[0], tuple):
        known = _set(rest.pop(0), "known UIDs")
    if rest:
        pair = rest.pop(0)
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise Bad("QRESYNC's sequence match data is (sequence-set uid-set)")
        match = (_set(pair[0], "sequence match set"), _set(pair[1], "UID match set"))
    if rest:
        raise Bad("unexpected extra QRESYNC data")
    return Resync(int(uidvalidity), modseq, known, match)
