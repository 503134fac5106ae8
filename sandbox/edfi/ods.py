"""The sandbox ODS: every resource of the district, attendance kept in step with the District.

Attendance changes arrive through the District's own methods (correction, add, delete), which know
nothing of Ed-Fi; ``refresh`` notices them before each read and gives them change versions: a
re-coded row changes its natural key (the category), so it is a delete of the old record and an
insert of a new one, as an ODS/API records it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from truancy.sandbox.edfi import views
from truancy.sandbox.edfi.collections import ChangeClock, Collection, KeyValues, Record
from truancy.sandbox.model import AttendanceRow, District


class WriteRefusedError(Exception):
    """A write the ODS/API would refuse, with the HTTP status and Problem Details type."""

    def __init__(self, status: int, problem_type: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.problem_type = problem_type
        self.detail = detail


def _ref(body: Record, reference: str, field: str) -> Any:
    value = body.get(reference)
    return value.get(field) if isinstance(value, dict) else None


def _keys(*paths: tuple[str | None, str]) -> Callable[[Record], KeyValues]:
    def key_of(body: Record) -> KeyValues:
        return {field: body.get(field) if ref is None else _ref(body, ref, field) for ref, field in paths}

    return key_of


_SCHOOL = ("schoolReference", "schoolId")
_STUDENT = ("studentReference", "studentUniqueId")
_INTERVENTION = (
    ("interventionReference", "educationOrganizationId"),
    ("interventionReference", "interventionIdentificationCode"),
)
NATURAL_KEYS: dict[str, Callable[[Record], KeyValues]] = {
    "schools": _keys((None, "schoolId")),
    "students": _keys((None, "studentUniqueId")),
    "studentSchoolAssociations": _keys((None, "entryDate"), _SCHOOL, _STUDENT),
    "sessions": _keys(_SCHOOL, ("schoolYearTypeReference", "schoolYear"), (None, "sessionName")),
    "calendars": _keys((None, "calendarCode"), _SCHOOL, ("schoolYearTypeReference", "schoolYear")),
    "calendarDates": _keys(
        ("calendarReference", "calendarCode"), ("calendarReference", "schoolId"), (None, "date")
    ),
    "studentSchoolAttendanceEvents": _keys(
        (None, "attendanceEventCategoryDescriptor"),
        (None, "eventDate"),
        _SCHOOL,
        ("sessionReference", "sessionName"),
        _STUDENT,
    ),
    "studentSectionAttendanceEvents": _keys(
        (None, "attendanceEventCategoryDescriptor"),
        (None, "eventDate"),
        ("sectionReference", "sectionIdentifier"),
        _STUDENT,
    ),
    "interventions": _keys(
        ("educationOrganizationReference", "educationOrganizationId"),
        (None, "interventionIdentificationCode"),
    ),
    "studentInterventionAssociations": _keys(*_INTERVENTION, _STUDENT),
    "studentInterventionAttendanceEvents": _keys(
        (None, "attendanceEventCategoryDescriptor"), (None, "eventDate"), *_INTERVENTION, _STUDENT
    ),
    "studentEducationOrganizationAssociations": _keys(
        ("educationOrganizationReference", "educationOrganizationId"), _STUDENT
    ),
    "attendanceEventCategoryDescriptors": _keys((None, "namespace"), (None, "codeValue")),
    "calendarEventDescriptors": _keys((None, "namespace"), (None, "codeValue")),
    "gradeLevelDescriptors": _keys((None, "namespace"), (None, "codeValue")),
}
WRITABLE = frozenset(
    {
        "interventions",
        "studentInterventionAssociations",
        "studentInterventionAttendanceEvents",
        "studentEducationOrganizationAssociations",
    }
)


@dataclass(frozen=True, slots=True)
class _Tracked:
    record_id: str
    code: str


class EdFiOds:
    def __init__(self, district: District) -> None:
        self.district = district
        self.clock = ChangeClock()
        self.collections = {
            name: Collection(name, self.clock, key_of) for name, key_of in NATURAL_KEYS.items()
        }
        self._lock = threading.RLock()
        for school in district.schools:
            self._load("schools", views.school(school))
            self._load("sessions", views.session(school))
            self._load("calendars", views.calendar(school))
            for calendar_date in views.calendar_dates(school):
                self._load("calendarDates", calendar_date)
        for name, records in views.descriptors().items():
            for record in records:
                self._load(name, record)
        self.students_by_number = {student.student_number: student for student in district.students}
        for student in district.students:
            self._load("students", views.student(student))
            self._load("studentSchoolAssociations", views.enrollment(student))
        self._events = self.collections["studentSchoolAttendanceEvents"]
        self._tracked: dict[int, _Tracked] = {}
        rows = district.attendance()
        for row in rows:
            self._track(row)
        self._seen_until = rows[-1].whenmodified if rows else None

    def _load(self, resource: str, body: Record) -> None:
        self.collections[resource].save(body)

    def _track(self, row: AttendanceRow) -> None:
        self._events.save(views.attendance_event(row, self.district))
        self._tracked[row.dcid] = _Tracked(views.attendance_event_id(row), row.att_code)

    def refresh(self) -> None:
        """Give change versions to attendance the District changed since the last look."""
        with self._lock:
            changed = (
                self.district.attendance()
                if self._seen_until is None
                else self.district.attendance_modified_after(self._seen_until)
            )
            added = 0
            for row in changed:
                tracked = self._tracked.get(row.dcid)
                if tracked is None:
                    added += 1
                elif views.CATEGORY_OF_CODE[tracked.code] != views.CATEGORY_OF_CODE[row.att_code]:
                    self._events.remove(tracked.record_id)
                self._track(row)
                self._seen_until = row.whenmodified
            if len(self._tracked) != self.district.attendance_count():
                self._drop_deleted()

    def _drop_deleted(self) -> None:
        current = {row.dcid for row in self.district.attendance()}
        for dcid in [dcid for dcid in self._tracked if dcid not in current]:
            self._events.remove(self._tracked.pop(dcid).record_id)

    def change_entry_date(self, student_unique_id: str, entry_date: date) -> None:
        """A registrar corrects an enrollment's entry date: a key change on studentSchoolAssociations."""
        student = self.students_by_number[student_unique_id]
        enrollments = self.collections["studentSchoolAssociations"]
        stored = enrollments.get(views.record_id("ssa", student.dcid))
        assert stored is not None
        enrollments.save({**stored.body, "entryDate": entry_date.isoformat()})

    # -- writes --------------------------------------------------------------------------------

    def upsert(self, resource: str, body: Record, new_id: Callable[[], str]) -> tuple[str, bool]:
        """POST semantics: update the record with the same natural key, else insert. (id, created)"""
        collection = self.collections[resource]
        with collection.lock:
            self._check_references(resource, body)
            existing = collection.id_for_key(collection.key_of(body))
            record_id = existing or new_id()
            collection.save({**body, "id": record_id})
            return record_id, existing is None

    def replace(self, resource: str, record_id: str, body: Record, if_match: str | None) -> str:
        collection = self.collections[resource]
        with collection.lock:
            stored = collection.get(record_id)
            if stored is None:
                raise WriteRefusedError(
                    404, "urn:ed-fi:api:not-found", "the resource item could not be found"
                )
            _check_etag(stored.etag, if_match)
            if collection.key_of(body) != collection.key_of(stored.body):
                raise WriteRefusedError(
                    400, "urn:ed-fi:api:bad-request:data", f"key changes are not supported for {resource}"
                )
            self._check_references(resource, body)
            return collection.save({**body, "id": record_id}).etag

    def delete(self, resource: str, record_id: str, if_match: str | None) -> None:
        collection = self.collections[resource]
        with collection.lock:
            stored = collection.get(record_id)
            if stored is None:
                raise WriteRefusedError(
                    404, "urn:ed-fi:api:not-found", "the resource item could not be found"
                )
            _check_etag(stored.etag, if_match)
            if resource == "interventions" and self._intervention_in_use(stored.body):
                raise WriteRefusedError(
                    409,
                    "urn:ed-fi:api:conflict:dependent-item-exists",
                    "the requested action cannot be performed because this item is referenced by existing "
                    "StudentInterventionAssociation item(s)",
                )
            collection.remove(record_id)

    def _intervention_in_use(self, intervention: Record) -> bool:
        code = intervention["interventionIdentificationCode"]
        org = _ref(intervention, "educationOrganizationReference", "educationOrganizationId")
        return any(
            _ref(stored.body, "interventionReference", "interventionIdentificationCode") == code
            and _ref(stored.body, "interventionReference", "educationOrganizationId") == org
            for stored in self.collections["studentInterventionAssociations"].ordered()
        )

    def _check_references(self, resource: str, body: Record) -> None:
        student = _ref(body, "studentReference", "studentUniqueId")
        if student is not None and student not in self.students_by_number:
            raise _unresolved("Student")
        org = _ref(body, "educationOrganizationReference", "educationOrganizationId")
        if org is not None and not self._is_our_org(org):
            raise WriteRefusedError(
                403,
                "urn:ed-fi:api:security:authorization:access-denied:resource",
                "Access to the resource item could not be authorized based on the caller's "
                "EducationOrganizationIds: no relationships have been established between the caller's "
                "education organization id claims and the resource item's EducationOrganizationId value",
            )
        if "interventionReference" in body:
            key = {
                "educationOrganizationId": _ref(body, "interventionReference", "educationOrganizationId"),
                "interventionIdentificationCode": _ref(
                    body, "interventionReference", "interventionIdentificationCode"
                ),
            }
            if self.collections["interventions"].id_for_key(key) is None:
                raise _unresolved("Intervention")

    def _is_our_org(self, org: Any) -> bool:
        return org == views.LEA_ID or any(school.schoolid == org for school in self.district.schools)


def _unresolved(what: str) -> WriteRefusedError:
    return WriteRefusedError(
        409,
        "urn:ed-fi:api:conflict:unresolved-reference",
        f"The referenced '{what}' resource does not exist.",
    )


def _check_etag(current: str, if_match: str | None) -> None:
    if if_match is not None and if_match.strip().strip('"') != current.strip('"'):
        raise WriteRefusedError(
            412,
            "urn:ed-fi:api:optimistic-lock-failed",
            "The item has been modified by another user. Please re-read and retry.",
        )
