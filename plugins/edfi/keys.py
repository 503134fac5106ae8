"""Attendance events and enrollments are stored under their Ed-Fi natural key, not the ODS/API's ``id``.

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
A studentSchoolAssociation's key is its entry date, school and student; its key changes (an entry
date corrected) keep the id, so the old key is retired from ``/keyChanges``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

_EVENT = "edfi-sse:"
_ENROLLMENT = "edfi-ssa:"


def event_key(record: Mapping[str, Any]) -> str | None:
    """The source key of an event read from the resource (None when a key field is missing)."""
    session = _mapping(record.get("sessionReference"))
    school = _mapping(record.get("schoolReference")).get("schoolId", session.get("schoolId"))
    return _digest(
        _EVENT,
        str(record.get("attendanceEventCategoryDescriptor") or "").lower(),
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
        _EVENT,
        str(values.get("attendanceEventCategoryDescriptor") or "").lower(),
        values.get("eventDate"),
        values.get("schoolId"),
        values.get("schoolYear"),
        values.get("sessionName"),
        values.get("studentUniqueId"),
    )


def enrollment_key(record: Mapping[str, Any]) -> str | None:
    """The source id of an enrollment read from studentSchoolAssociations."""
    return _digest(
        _ENROLLMENT,
        record.get("entryDate"),
        _mapping(record.get("schoolReference")).get("schoolId"),
        _mapping(record.get("studentReference")).get("studentUniqueId"),
    )


def enrollment_tombstone_key(key_values: Any) -> str | None:
    values = _mapping(key_values)
    return _digest(
        _ENROLLMENT, values.get("entryDate"), values.get("schoolId"), values.get("studentUniqueId")
    )


def _digest(prefix: str, *parts: Any) -> str | None:
    """A short stable digest of the key (descriptor URIs arrive lower-cased: they compare so)."""
    if any(part is None or str(part).strip() == "" for part in parts):
        return None
    text = json.dumps([str(part).strip() for part in parts], separators=(",", ":"))
    return prefix + hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
