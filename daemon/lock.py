"""One daemon per district: a file lock beside a SQLite store, an advisory lock on PostgreSQL.

Both locks belong to the process (an open file, a session): when the process dies, even by
``kill -9``, the operating system or the database releases them, so a crash never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import stat
from pathlib import Path
from types import TracebackType
from typing import IO

from sqlalchemy import Connection, Engine, text

from truancy.daemon.store import StoreError


class LockHeldError(RuntimeError):
    """Another process already syncs this district."""


def _advisory_key(district_id: str) -> int:
    """A signed 64-bit key for ``pg_try_advisory_lock``, stable for the district id."""
    digest = hashlib.sha256(f"truancy-sync:{district_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _open_lock_file(path: Path) -> IO[str]:
    """The lock file, with the store's own permissions (as SQLite gives its journal): it names the
    store's holder, and a file others can open could also be flock()ed by them to stall the daemon."""
    try:
        mode = stat.S_IMODE(os.stat(path.with_suffix("")).st_mode) & 0o660
    except FileNotFoundError:
        mode = 0o600
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, mode or 0o600)
    os.fchmod(fd, mode or 0o600)
    return os.fdopen(fd, "a+", encoding="utf-8")


class DistrictLock:
    """Held from ``acquire()`` until ``release()`` (or the ``with`` block ends)."""

    def __init__(self, engine: Engine, district_id: str) -> None:
        self.engine = engine
        self.district_id = district_id
        self._file: IO[str] | None = None
        self._connection: Connection | None = None

    def acquire(self) -> None:
        if self.engine.dialect.name == "postgresql":
            self._acquire_advisory()
        else:
            self._acquire_file()

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._connection is not None:
            self._connection.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": _advisory_key(self.district_id)}
            )
            self._connection.close()
            self._connection = None

    def __enter__(self) -> DistrictLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.release()

    def lock_path(self) -> Path:
        database = self.engine.url.database
        if not database or database == ":memory:":
            raise LockHeldError("an in-memory SQLite store cannot be shared, so it needs no lock file")
        return Path(f"{database}.lock")

    def _acquire_file(self) -> None:
        path = self.lock_path()
        if not path.parent.is_dir():
            raise StoreError(
                f"the state store's folder {path.parent} does not exist: create it, or check store.url"
            )
        handle = _open_lock_file(path)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise LockHeldError(
                f"district {self.district_id!r} is already being synced (process {holder} holds {path}); "
                "stop that daemon first, or give this one its own store"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle

    def _acquire_advisory(self) -> None:
        connection = self.engine.connect()
        got = connection.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": _advisory_key(self.district_id)}
        ).scalar_one()
        connection.commit()
        if not got:
            connection.close()
            raise LockHeldError(
                f"district {self.district_id!r} is already being synced by another daemon using this "
                "PostgreSQL store (advisory lock held); stop that daemon first"
            )
        self._connection = connection
