"""Attendance events are stored under their Ed-Fi natural key, not under the ODS/API's ``id``.

An ODS/API gives a record deleted and entered again a new ``id`` (ids are GUIDs made on insert and
never reused), and its ``/deletes`` leaves out a tombstone whose natural key exists again in the
table: "items that have been re-added" (Ed-Fi-ODS v7.3.2,
``EdFi.Ods.Features/ChangeQueries/Repositories/DeletedItems/DeletedItemsQueryBuilderFactory.cs:124-143``).
Keyed by ``id``, the first record of a key deleted and re-entered would never be retired: a phantom
absence that stays after the day is marked present. Keyed by the natural key, the re-entered record
lands on the row the first one left, and a tombstone (whose ``keyValues`` name the same key) retires
exactly what it deleted.

The key of a studentSchoolAttendanceEvent is its category descriptor, event date, school, session
(school year and name) and student; tombstones and key changes carry it as ``keyValues`` with the
descriptor as ``namespace#codeValue`` (``Repositories/TrackedChangesResourceDataProviderBase.cs:106-148``,
``Standard/5.2.0/Artifacts/PgSql/Structure/Ods/Changes/0220-CreateTriggersForDeleteTracking.sql``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

_PREFIX = "edfi-sse:"


def event_key(record: Mapping[str, Any]) -> str | None:
    """The source key of an event read from the resource (None when a key field is missing)."""
    session = _mapping(record.get("sessionReference"))
    school = _mapping(record.get("schoolReference")).get("schoolId", session.get("schoolId"))
    return _digest(
        record.get("attendanceEventCategoryDescriptor"),
        record.get("eventDate"),
        school,
        session.get("schoolYear"),
        session.get("sessionName"),
        _mapping(record.get("studentReference")).get("studentUniqueId"),
    )


def tombstone_key(key_values: Any) -> str | None:
    """The source key named by a tombstone's ``keyValues`` (or a key change's old values)."""
    values = _mapping(key_values)
    return _digest(
        values.get("attendanceEventCategoryDescriptor"),
        values.get("eventDate"),
        values.get("schoolId"),
        values.get("schoolYear"),
        values.get("sessionName"),
        values.get("studentUniqueId"),
    )


def _digest(descriptor: Any, day: Any, school: Any, year: Any, session: Any, student: Any) -> str | None:
    parts = (descriptor, day, school, year, session, student)
    if any(part is None or str(part).strip() == "" for part in parts):
        return None
    # Descriptor URIs compare case-insensitively, as the code map reads them.
    canonical = [str(descriptor).strip().lower(), *(str(part).strip() for part in parts[1:])]
    text = json.dumps(canonical, separators=(",", ":"))
    return _PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
