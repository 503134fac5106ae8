"""OneRoster 1.1 and 1.2 CSV packages (a zip or a folder), read as pages of REST-shaped records.

``manifest.csv`` says per file whether it is ``bulk`` (every record; ``status`` and
``dateLastModified`` may be blank), ``delta`` (changed records only, both columns required) or
``absent``. Rows become the same JSON shapes the REST binding serves, so one parser and one sync
path handle both. A bad row (wrong column count, a required cell blank, a reference to a record the
package does not have) is reported with file, line and reason, and the good rows load. Only ids are
held in memory for the reference checks (and, for 1.2, each user's roles), never whole files.

A drop folder (where an SFTP job or a provider's push leaves packages) may be given instead: the
newest package in it is read.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from truancy.connector.errors import ProtocolError
from truancy.connector.oneroster.client import Page

Row = dict[str, str]
Record = dict[str, Any]
MODES = frozenset({"bulk", "delta", "absent"})


def _has_role(user: Record, role: str) -> bool:
    """1.1 users carry one ``role``, 1.2 users a ``roles`` list."""
    return user.get("role") == role or any(entry["role"] == role for entry in user.get("roles", []))


# Collections served as a subset of a file, as on the REST binding.
_SUBSETS: dict[str, tuple[str, Callable[[Record], bool]]] = {
    "schools": ("orgs", lambda org: org.get("type") == "school"),
    "students": ("users", lambda user: _has_role(user, "student")),
    "teachers": ("users", lambda user: _has_role(user, "teacher")),
    "terms": ("academicSessions", lambda session: session.get("type") != "schoolYear"),
}
# Reference columns checked against the file that holds the referenced records.
_REFERENCE_FILES = {
    "enrollments": {"userSourcedId": "users", "classSourcedId": "classes", "schoolSourcedId": "orgs"},
    "classes": {"schoolSourcedId": "orgs", "courseSourcedId": "courses"},
    "users": {"orgSourcedIds": "orgs", "primaryOrgSourcedId": "orgs"},
    "roles": {"userSourcedId": "users", "orgSourcedId": "orgs"},
}


class RowError(ValueError):
    """One row cannot be used; the message names columns, never values."""


def _ref(sourced_id: str) -> dict[str, str] | None:
    return {"sourcedId": sourced_id} if sourced_id else None


def _list(cell: str) -> list[str]:
    return [item.strip() for item in cell.split(",") if item.strip()]


def _user_ids(cell: str) -> list[dict[str, str]]:
    """``{type:identifier},{type:identifier}``; the identifier may itself contain colons."""
    ids = []
    for entry in _list(cell):
        inner = entry.removeprefix("{").removesuffix("}")
        kind, colon, identifier = inner.partition(":")
        if not colon or not entry.startswith("{") or not entry.endswith("}"):
            raise RowError("userIds must be written {type:identifier}")
        ids.append({"type": kind, "identifier": identifier})
    return ids


def _bool(cell: str) -> bool | None:
    return {"true": True, "false": False}.get(cell.strip().lower())


def _optional(row: Row, *names: str) -> dict[str, str]:
    return {name: row[name] for name in names if row.get(name)}


class CsvPackage:
    """One OneRoster CSV package; ``iter_pages`` mirrors ``OneRosterClient.iter_pages``."""

    def __init__(self, path: Path | str, *, page_size: int = 500) -> None:
        self.path = _newest_package(Path(path))
        self.page_size = page_size
        self._zip = zipfile.ZipFile(self.path) if self.path.is_file() else None
        manifest = self._manifest()
        self.version = manifest.get("oneroster.version", "")
        if self.version not in ("1.1", "1.2"):
            raise ProtocolError(f"{self.path.name}: manifest.csv oneroster.version must be 1.1 or 1.2")
        self.modes = {
            key.removeprefix("file."): value.strip().lower()
            for key, value in manifest.items()
            if key.startswith("file.")
        }
        bad = sorted(name for name, mode in self.modes.items() if mode not in MODES)
        if bad:
            raise ProtocolError(f"{self.path.name}: manifest.csv file.{bad[0]} must be bulk, delta or absent")
        self.stamp = datetime.fromtimestamp(self.path.stat().st_mtime, UTC)
        self._ids: dict[str, frozenset[str]] = {}
        self._roles: dict[str, list[tuple[str, Record]]] | None = None

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def mode(self, file: str) -> str:
        return self.modes.get(file, "absent")

    def iter_pages(self, collection: str, *, filter: str | None = None) -> Iterator[Page]:
        """Pages of ``collection``; ``filter`` is ignored (a package is already bulk or delta)."""
        file, keep = _SUBSETS.get(collection, (collection, lambda record: True))
        if self.mode(file) == "absent":
            return
        records: list[Record] = []
        lines: list[int] = []
        rejected: list[tuple[str, str]] = []
        index = 0
        for line, result in self._records(file):
            if isinstance(result, RowError):
                rejected.append((f"{file}.csv line {line}", str(result)))
            elif keep(result):
                records.append(result)
                lines.append(line)
            if len(records) + len(rejected) >= self.page_size:
                yield Page(records, index, (f"{file}.csv", tuple(lines)), rejected)
                index += len(records)
                records, lines, rejected = [], [], []
        if records or rejected:
            yield Page(records, index, (f"{file}.csv", tuple(lines)), rejected)

    # -- reading -------------------------------------------------------------------------------

    def _open(self, name: str) -> IO[str] | None:
        if self._zip is not None:
            if name not in self._zip.namelist():
                return None
            return io.TextIOWrapper(self._zip.open(name), encoding="utf-8-sig", newline="")
        target = self.path / name
        return target.open(encoding="utf-8-sig", newline="") if target.is_file() else None

    def _manifest(self) -> dict[str, str]:
        stream = self._open("manifest.csv")
        if stream is None:
            raise ProtocolError(f"{self.path.name}: not a OneRoster CSV package (no manifest.csv)")
        with stream:
            return {row[0].strip(): row[1].strip() for row in csv.reader(stream) if len(row) >= 2}

    def _rows(self, file: str) -> Iterator[tuple[int, Row | RowError]]:
        stream = self._open(f"{file}.csv")
        if stream is None:
            raise ProtocolError(
                f"{self.path.name}: manifest.csv lists {file}.csv as {self.mode(file)} but it is missing"
            )
        with stream:
            reader = csv.reader(stream)
            header = [name.strip() for name in next(reader, [])]
            if "sourcedId" not in header:
                raise ProtocolError(f"{self.path.name}: {file}.csv has no sourcedId column in its header")
            for cells in reader:
                if not any(cell.strip() for cell in cells):
                    continue
                if len(cells) != len(header):
                    yield (
                        reader.line_num,
                        RowError(f"{len(cells)} columns where the header has {len(header)}"),
                    )
                    continue
                yield reader.line_num, dict(zip(header, (cell.strip() for cell in cells), strict=True))

    def _records(self, file: str) -> Iterator[tuple[int, Record | RowError]]:
        delta = self.mode(file) == "delta"
        for line, row in self._rows(file):
            if isinstance(row, RowError):
                yield line, row
                continue
            try:
                self._check_references(file, row)
                yield line, self._record(file, row, delta=delta)
            except RowError as error:
                yield line, error

    def _record(self, file: str, row: Row, *, delta: bool) -> Record:
        if not row.get("sourcedId"):
            raise RowError("sourcedId is blank")
        if delta and not (row.get("status") and row.get("dateLastModified")):
            raise RowError("a delta row needs status and dateLastModified")
        base: Record = {
            "sourcedId": row["sourcedId"],
            "status": row.get("status") or "active",
            "dateLastModified": row.get("dateLastModified") or self.stamp.isoformat(),
        }
        return {**base, **_SHAPERS.get(file, _plain)(self, row)}

    def _check_references(self, file: str, row: Row) -> None:
        for column, target in _REFERENCE_FILES.get(file, {}).items():
            if self.mode(target) != "bulk":
                continue
            known = self._known_ids(target)
            for sourced_id in _list(row.get(column, "")):
                if sourced_id not in known:
                    raise RowError(f"{column} refers to a record that is not in {target}.csv")

    def _known_ids(self, file: str) -> frozenset[str]:
        if file not in self._ids:
            self._ids[file] = frozenset(
                row["sourcedId"] for _, row in self._rows(file) if not isinstance(row, RowError)
            )
        return self._ids[file]

    def roles_of(self, user_id: str) -> list[Record]:
        """1.2 only: the user's active rows of ``roles.csv`` (read once, grouped by user).

        A deleted user's role rows are deleted with it; those are returned when none is active, so the
        deletion still parses and reaches the store.
        """
        if self._roles is None:
            self._roles = self._read_roles()
        rows = self._roles.get(user_id, [])
        active = [role for status, role in rows if status == "active"]
        return active or [role for _, role in rows]

    def _read_roles(self) -> dict[str, list[tuple[str, Record]]]:
        roles: dict[str, list[tuple[str, Record]]] = defaultdict(list)
        if self.mode("roles") == "absent":
            return roles
        for _, row in self._rows("roles"):
            if isinstance(row, RowError):
                continue
            role = {
                "roleType": row.get("roleType") or "primary",
                "role": row.get("role", ""),
                "org": _ref(row.get("orgSourcedId", "")),
            }
            roles[row.get("userSourcedId", "")].append(((row.get("status") or "active").lower(), role))
        return dict(roles)


def _plain(package: CsvPackage, row: Row) -> Record:
    return {
        key: value
        for key, value in row.items()
        if value and key not in ("sourcedId", "status", "dateLastModified")
    }


def _org(package: CsvPackage, row: Row) -> Record:
    return {**_optional(row, "name", "type", "identifier"), "parent": _ref(row.get("parentSourcedId", ""))}


def _session(package: CsvPackage, row: Row) -> Record:
    return {
        **_optional(row, "title", "type", "startDate", "endDate", "schoolYear"),
        "parent": _ref(row.get("parentSourcedId", "")),
    }


def _class(package: CsvPackage, row: Row) -> Record:
    return {
        **_optional(row, "title", "classCode", "classType"),
        "school": row.get("schoolSourcedId", ""),
        "course": _ref(row.get("courseSourcedId", "")),
        "terms": _list(row.get("termSourcedIds", "")),
    }


def _enrollment(package: CsvPackage, row: Row) -> Record:
    return {
        "user": row.get("userSourcedId", ""),
        "class": row.get("classSourcedId", ""),
        "school": _ref(row.get("schoolSourcedId", "")),
        "role": row.get("role", ""),
        "primary": _bool(row.get("primary", "")),
        "beginDate": row.get("beginDate") or None,
        "endDate": row.get("endDate") or None,
    }


def _user(package: CsvPackage, row: Row) -> Record:
    record: Record = {
        **_optional(row, "username", "identifier"),
        "enabledUser": row.get("enabledUser", ""),
        "userIds": _user_ids(row.get("userIds", "")),
        "grades": _list(row.get("grades", "")),
    }
    if package.version == "1.1":
        record["role"] = row.get("role", "")
        record["orgs"] = [_ref(org) for org in _list(row.get("orgSourcedIds", ""))]
        return record
    roles = package.roles_of(row["sourcedId"])
    if not roles:
        raise RowError("the user has no row in roles.csv")
    record["roles"] = roles
    record["primaryOrg"] = _ref(row.get("primaryOrgSourcedId", ""))
    return record


_SHAPERS: dict[str, Callable[[CsvPackage, Row], Record]] = {
    "orgs": _org,
    "academicSessions": _session,
    "classes": _class,
    "enrollments": _enrollment,
    "users": _user,
}


def _newest_package(path: Path) -> Path:
    """``path`` itself when it is a package; inside a drop folder, its newest package."""
    if path.is_file() or (path / "manifest.csv").is_file():
        return path
    if not path.is_dir():
        raise ProtocolError(f"OneRoster CSV package {path} does not exist")
    candidates = [
        entry
        for entry in path.iterdir()
        if (entry.is_file() and entry.suffix.lower() == ".zip") or (entry / "manifest.csv").is_file()
    ]
    if not candidates:
        raise ProtocolError(f"the drop folder {path} holds no OneRoster CSV package (zip or folder)")
    return max(candidates, key=lambda entry: (entry.stat().st_mtime, entry.name))
