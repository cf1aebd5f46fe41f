"""Durable storage for :class:`netsim.mail.store.MailStore`: an append-only journal.

A mutation is one JSON line in ``journal.log``, written and fsync'ed before the store
applies it, so a crash at any instant loses nothing that was acknowledged: at worst the
last line is torn (it has no newline), and a torn line was never acknowledged.  Message
bytes live in content-addressed blob files (``blobs/ab/ab12....eml``, named by their
SHA-256) written with write, fsync and atomic rename *before* the journal line that refers
to them, and checked against their name whenever they are read.

The journal hands every line to the store as it is, numbered, so that a damaged line can
be reported by file and line instead of ending the replay.  Opening a healthy store
compacts the journal by writing the current state to a fresh file and renaming it over
the old one (atomic too), then deletes the blobs nothing refers to.  A store whose journal
has damaged lines is not compacted at all: those lines may refer to blobs, and nobody can
tell which until a person has repaired or removed them.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netsim.mail.records import BLOB_NAME

#: The journal's file name inside a store directory.
JOURNAL_NAME = "journal.log"


class StoreLocked(OSError):
    """Another open store already uses the directory."""


class BlobError(OSError):
    """A blob that cannot be used: missing, unreadable, or not matching its name."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a store's files, located precisely enough to fix by hand.

    ``damage`` is false for the normal artefacts of a crash, which opening the store
    repairs without losing anything acknowledged (a torn last line, a half-written blob).
    """

    where: str
    what: str
    damage: bool = True

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass(frozen=True)
class JournalLine:
    """One complete line of the journal: its 1-based number and raw bytes."""

    number: int
    text: bytes

    def parse(self) -> Any:
        """The JSON value of the line; raises :class:`ValueError` if it is not JSON."""
        try:
            return json.loads(self.text)
        except RecursionError:  # absurd nesting, which only damage produces
            raise ValueError("nested too deeply") from None


class Journal:
    """The files of one durable store under ``directory``.

    With ``read_only`` nothing is created, locked or changed: that is how
    ``netsim serve-mail --check`` looks at a store, even one a server has open.
    """

    def __init__(self, directory: Path, read_only: bool = False) -> None:
        self.directory = directory
        self.blob_dir = directory / "blobs"
        self.path = directory / JOURNAL_NAME
        self.read_only = read_only
        #: The torn last line found by :meth:`replay`, if any.
        self.torn: JournalLine | None = None
        #: A last line that is complete JSON but lacks its newline (a hand edit).
        self.unterminated: JournalLine | None = None
        self._fd: int | None = None
        self._lock = None
        #: Bytes of the journal that hold complete lines (all of it, unless torn).
        self._complete_size = 0
        #: An earlier write failed and could not be undone: start the next on a new line.
        self._broken = False
        if read_only:
            return
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        # Two writers would interleave journal lines and each compact away the other's
        # work, so the directory is locked for as long as the store is open.
        self._lock = open(directory / "lock", "ab")  # noqa: SIM115 - held while open
        try:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            raise StoreLocked(f"{directory} is in use by another process") from None

    def replay(self) -> Iterator[JournalLine]:
        """Every complete line of the journal, oldest first; sets :attr:`torn`."""
        self.torn = self.unterminated = None
        self._complete_size = 0
        if not self.path.exists():
            return
        with open(self.path, "rb") as f:
            for number, text in enumerate(f, start=1):
                line = JournalLine(number, text.rstrip(b"\n"))
                if not text.endswith(b"\n"):
                    try:
                        line.parse()
                    except ValueError:
                        # Torn by a crash mid-write: the fsync (and so the OK) never came.
                        self.torn = line
                        return
                    # A crash cannot cut a record exactly before its newline and leave
                    # valid JSON behind, but a text editor saving a repaired journal can.
                    self.unterminated = line
                self._complete_size += len(text)
                yield line

    def has_blobs(self) -> bool:
        """True if any message blob is on disk."""
        return any(True for _ in self.blob_names())

    def blob_names(self) -> Iterator[str]:
        """The names of the blobs on disk (files named like a SHA-256, in their place)."""
        if not self.blob_dir.is_dir():
            return
        for sub in sorted(self.blob_dir.iterdir()):
            if not sub.is_dir():
                continue
            for blob in sorted(sub.iterdir()):
                key = blob.name[:-4]
                if blob.name.endswith(".eml") and BLOB_NAME.fullmatch(key) and key[:2] == sub.name:
                    yield key

    def start_writing(self) -> None:
        """Cut off a torn last line, then open the journal for appending."""
        assert not self.read_only, "a read-only journal is never written"
        if self.torn is not None:
            # Nothing may be glued onto the torn bytes: cut them off first.
            os.truncate(self.path, self._complete_size)
            self.torn = None
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if self.unterminated is not None:
            os.write(self._fd, b"\n")  # so that the next record starts on its own line
            self.unterminated = None

    def append(self, record: dict[str, Any], sync: bool = True) -> None:
        """Write one record and (unless ``sync`` is false) force it to stable storage.

        If the write fails (a full disk), the partial line is cut off again, so that the
        next record does not land on the same line as the remains of this one.
        """
        assert self._fd is not None, "start_writing() first"
        line = json.dumps(record, separators=(",", ":")).encode() + b"\n"
        if self._broken:
            line = b"\n" + line  # isolate whatever the failed write left behind
        size = os.fstat(self._fd).st_size
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(self._fd, view) :]
            if sync:
                os.fsync(self._fd)
        except OSError:
            try:
                os.ftruncate(self._fd, size)
                self._broken = False
            except OSError:
                self._broken = True
            raise
        self._broken = False

    def write_blob(self, key: str, data: bytes) -> None:
        """Store message bytes under their hash, atomically and durably.

        An existing blob is kept only if it still matches its name: a damaged copy is
        replaced, which repairs every message that refers to it.
        """
        path = self._blob_path(key)
        if path.exists():
            try:
                self.read_blob(key)
                return
            except BlobError:
                pass
        path.parent.mkdir(exist_ok=True)
        _atomic_write(path, data)

    def read_blob(self, key: str) -> bytes:
        """The message bytes stored under ``key``, checked against their SHA-256."""
        path = self._blob_path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise BlobError(errno.ENOENT, "missing") from None
        except OSError as exc:
            raise BlobError(exc.errno, f"unreadable ({exc.strerror or exc})") from None
        actual = hashlib.sha256(data).hexdigest()
        if actual != key:
            raise BlobError(
                errno.EIO, f"corrupt: its {len(data)} bytes hash to {actual[:12]}..., not its name"
            )
        return data

    def blob_file(self, key: str) -> str:
        """Where blob ``key`` lives, relative to the store directory (for reports)."""
        return str(self._blob_path(key).relative_to(self.directory))

    def compact(self, records: list[dict[str, Any]], keep_blobs: set[str]) -> None:
        """Replace the journal by ``records`` and delete blobs nothing refers to.

        Only the store knows when this is safe: never while the journal holds lines it
        could not read, since those might refer to any blob.
        """
        assert not self.read_only, "a read-only journal is never compacted"
        data = b"".join(json.dumps(r, separators=(",", ":")).encode() + b"\n" for r in records)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        _atomic_write(self.path, data)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        for key in list(self.blob_names()):
            if key not in keep_blobs:
                self._blob_path(key).unlink()
        for leftover in self.blob_dir.glob("*/*.eml.tmp"):
            leftover.unlink()  # a blob write a crash interrupted; its record never came

    def close(self) -> None:
        """Close the journal file and release the directory."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _blob_path(self, key: str) -> Path:
        # Records are checked before use, so a name here is always 64 hex digits and
        # cannot point outside the blob directory.
        assert BLOB_NAME.fullmatch(key), key
        return self.blob_dir / key[:2] / f"{key}.eml"


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either old or new content."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)  # make the rename itself durable
    finally:
        os.close(fd)
