"""Durable storage for :class:`netsim.mail.store.MailStore`: an append-only journal.

A mutation is one JSON line in ``journal.log``, written and fsync'ed before the store
applies it, so a crash at any instant loses nothing that was acknowledged: at worst the
last line is torn, and replay ignores a line that does not parse.  Message bytes live in
content-addressed blob files written with write, fsync and atomic rename *before* the
journal line that refers to them.  Opening the store compacts the journal by writing the
current state to a fresh file and renaming it over the old one (atomic too).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class StoreLocked(OSError):
    """Another open store already uses the directory."""


class Journal:
    """The files of one durable store under ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.blob_dir = directory / "blobs"
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        # Two writers would interleave journal lines and each compact away the other's
        # work, so the directory is locked for as long as the store is open.
        self._lock = open(directory / "lock", "ab")  # noqa: SIM115 - held while open
        try:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            raise StoreLocked(f"{directory} is in use by another process") from None
        self.path = directory / "journal.log"
        self._file = open(self.path, "ab")  # noqa: SIM115 - held open for the store's life

    def replay(self) -> Iterator[dict[str, Any]]:
        """Every complete record in the journal, oldest first."""
        with open(self.path, "rb") as f:
            for line in f:
                if not line.endswith(b"\n"):
                    break  # torn by a crash mid-write: never acknowledged
                try:
                    yield json.loads(line)
                except ValueError:
                    break

    def append(self, record: dict[str, Any], sync: bool = True) -> None:
        """Write one record and (unless ``sync`` is false) force it to stable storage."""
        line = json.dumps(record, separators=(",", ":")).encode() + b"\n"
        self._file.write(line)
        self._file.flush()
        if sync:
            os.fsync(self._file.fileno())

    def write_blob(self, key: str, data: bytes) -> None:
        """Store message bytes under their hash, atomically and durably."""
        path = self._blob_path(key)
        if path.exists():
            return
        path.parent.mkdir(exist_ok=True)
        _atomic_write(path, data)

    def read_blob(self, key: str) -> bytes:
        """The message bytes stored under ``key``."""
        return self._blob_path(key).read_bytes()

    def compact(self, records: list[dict[str, Any]], keep_blobs: set[str]) -> None:
        """Replace the journal by ``records`` and delete blobs nothing refers to."""
        data = b"".join(json.dumps(r, separators=(",", ":")).encode() + b"\n" for r in records)
        self._file.close()
        _atomic_write(self.path, data)
        self._file = open(self.path, "ab")  # noqa: SIM115
        for sub in self.blob_dir.iterdir():
            if not sub.is_dir():
                continue
            for blob in sub.iterdir():
                if blob.name.endswith(".eml") and blob.name[:-4] not in keep_blobs:
                    blob.unlink()

    def close(self) -> None:
        """Close the journal file and release the directory."""
        self._file.close()
        self._lock.close()

    def _blob_path(self, key: str) -> Path:
        return self.blob_dir / key[:2] / f"{key}.eml"


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either old or new content."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)  # make the rename itself durable
    finally:
        os.close(fd)
