"""Files that hold student data, owner-only by construction whatever the process umask.

A cron job or a shell usually runs with umask 022, under which Python and SQLite create files
world-readable (0644). Everything the daemon writes that carries student data (the state store,
letters, packets, report output, exports) goes through these helpers instead: files 0600 and
folders 0700, or 0640/0750 for the group a district names in ``[files] group`` (e.g. the group of
the staff who print the letter batch). The mode is set with ``fchmod``/``chmod`` after creation, so
the umask cannot widen it.
"""

from __future__ import annotations

import grp
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

TextMode = Literal["w", "a", "a+", "x"]
BinaryMode = Literal["wb", "ab", "xb"]
_FLAGS = {
    "w": os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
    "a": os.O_WRONLY | os.O_CREAT | os.O_APPEND,
    "a+": os.O_RDWR | os.O_CREAT | os.O_APPEND,
    "x": os.O_WRONLY | os.O_CREAT | os.O_EXCL,
}


class FileAccessError(OSError):
    """A file or folder with student data or secrets that others could read, or a group that is unknown."""


@dataclass(frozen=True)
class Privacy:
    """Who besides the service's own user may read what it writes: nobody, or one named group."""

    group: str | None = None

    @property
    def file_mode(self) -> int:
        return 0o640 if self.group else 0o600

    @property
    def dir_mode(self) -> int:
        return 0o750 if self.group else 0o700

    def gid(self) -> int | None:
        if self.group is None:
            return None
        try:
            return grp.getgrnam(self.group).gr_gid
        except KeyError:
            raise FileAccessError(
                f"group {self.group!r} (files.group) does not exist on this machine: create it "
                "(groupadd) or remove files.group"
            ) from None


OWNER_ONLY = Privacy()


def _apply(fd_or_path: int | Path, mode: int, gid: int | None) -> None:
    if isinstance(fd_or_path, int):
        if gid is not None:
            os.fchown(fd_or_path, -1, gid)
        os.fchmod(fd_or_path, mode)
    else:
        if gid is not None:
            os.chown(fd_or_path, -1, gid)
        os.chmod(fd_or_path, mode)


def private_dir(path: Path, privacy: Privacy = OWNER_ONLY) -> Path:
    """``path`` as a folder only the service (and its group) can open; missing parents are made so too.

    An existing folder is tightened: it is the daemon's output folder, and file names in it (a
    letter per student) must not be listable by others either.
    """
    path = Path(path)
    gid = privacy.gid()
    missing: list[Path] = []
    for candidate in (path, *path.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    for folder in reversed(missing):
        try:
            os.mkdir(folder, privacy.dir_mode)
        except FileExistsError:
            continue  # made meanwhile by another process; tightened below when it is the leaf
        _apply(folder, privacy.dir_mode, gid)
    if not path.is_dir():
        raise FileAccessError(f"{path} exists and is not a folder")
    _apply(path, privacy.dir_mode, gid)
    return path


@contextmanager
def open_private(
    path: Path, mode: TextMode = "w", privacy: Privacy = OWNER_ONLY, *, encoding: str = "utf-8"
) -> Iterator[IO[str]]:
    """Open a text file for writing, created (or tightened, when it exists) to the private mode."""
    fd = os.open(path, _FLAGS[mode] | os.O_NOFOLLOW, privacy.file_mode)
    try:
        _apply(fd, privacy.file_mode, privacy.gid())
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, mode, encoding=encoding) as handle:
        yield handle


def write_private(path: Path, data: bytes | str, privacy: Privacy = OWNER_ONLY) -> Path:
    """Write ``data`` to ``path`` atomically (a temporary file renamed over it), private from the start.

    A reader sees the old file or the whole new one, never half a letter; the bytes never sit in a
    file with a wider mode, not even for an instant.
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, privacy.file_mode)
    try:
        _apply(fd, privacy.file_mode, privacy.gid())
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        temporary.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.replace(temporary, path)
    return path


def create_private_file(path: Path, privacy: Privacy = OWNER_ONLY) -> bool:
    """Create an empty private file if there is none (True when created); an existing file is left as is.

    Used for the SQLite store before SQLite opens it: SQLite gives its ``-wal``, ``-shm`` and
    ``-journal`` files the database file's own mode, so a private database keeps them private.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, privacy.file_mode)
    except FileExistsError:
        return False
    try:
        _apply(fd, privacy.file_mode, privacy.gid())
    finally:
        os.close(fd)
    return True


def readable_by_others(path: Path) -> int | None:
    """The permission bits of ``path`` when anyone outside its owner and group may read or write it."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return None
    bits = stat.S_IMODE(mode)
    return bits if bits & (stat.S_IROTH | stat.S_IWOTH) else None


def require_private(path: Path, what: str) -> None:
    """Refuse, as ssh does for its keys, a ``what`` at ``path`` that others can read or write."""
    bits = readable_by_others(path)
    if bits is None:
        return
    fix = "chmod 700" if path.is_dir() else "chmod 600"
    raise FileAccessError(
        f"{what} {path} is readable by others (mode {bits:04o}); restrict it: `{fix} {path}` "
        "(or chmod o-rwx to keep a group's access)"
    )
