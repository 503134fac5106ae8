"""The sandbox ODS: every resource of the district, attendance kept in step with the District.

Attendance changes arrive through the District's own methods (correction, add, delete), which know
nothing of Ed-Fi; ``refresh`` notices them before each read and gives them change versions: a
re-coded row changes its natural key (the category), so it is a delete of the old record and an
insert of a new one with a new id, as an ODS/API records it (ids are never reused).

A snapshot is a frozen copy of every collection and of the newest change version, as the ODS/API
host's snapshot database is a copy of the ODS taken at one moment; ``view`` hands out the live ODS
or the snapshot (``SnapshotOdsDatabaseConnectionStringProviderDecorator.cs:32-75`` in Ed-Fi-ODS
v7.3.2: with ``Use-Snapshot`` the whole request reads the snapshot connection, or fails "Snapshot
not found." when none is configured).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from truancy.sandbox.edfi import problems, views
from truancy.sandbox.edfi.collections import ChangeClock, Collection, KeyValues, Record, Stored
from truancy.sandbox.edfi.contacts import contact_records
from truancy.sandbox.edfi.programs import program_records
from truancy.sandbox.model import AttendanceRow, District


class WriteRefusedError(Exception):
    """A write the ODS/API would refuse, with the HTTP status and Problem Details type."""

    def __init__(self, status: int, problem_type: str, detail: str, errors: list[str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.problem_type = problem_type
        self.detail = detail
        self.errors = errors or []


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
_PROGRAM = (
    ("educationOrganizationReference", "educationOrganizationId"),
    ("programReference", "educationOrganizationId"),
    ("programReference", "programName"),
    ("programReference", "programTypeDescriptor"),
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
    # The ODS keeps schoolYear with sessionName on a tombstone (0220-CreateTriggersForDeleteTracking.sql).
    "studentSchoolAttendanceEvents": _keys(
        (None, "attendanceEventCategoryDescriptor"),
        (None, "eventDate"),
        _SCHOOL,
        ("sessionReference", "schoolYear"),
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
    "contacts": _keys((None, "contactUniqueId")),
    "studentContactAssociations": _keys(("contactReference", "contactUniqueId"), _STUDENT),
    "studentProgramAssociations": _keys((None, "beginDate"), *_PROGRAM, _STUDENT),
    "studentSpecialEducationProgramAssociations": _keys((None, "beginDate"), *_PROGRAM, _STUDENT),
    "attendanceEventCategoryDescriptors": _keys((None, "namespace"), (None, "codeValue")),
    "calendarEventDescriptors": _keys((None, "namespace"), (None, "codeValue")),
    "gradeLevelDescriptors": _keys((None, "namespace"), (None, "codeValue")),
    "deliveryMethodDescriptors": _keys((None, "namespace"), (None, "codeValue")),
    "interventionClassDescriptors": _keys((None, "namespace"), (None, "codeValue")),
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
    whenmodified: datetime
    generation: int


@dataclass(frozen=True, slots=True)
class View:
    """One database to read from: the live ODS or its snapshot."""

    collections: Mapping[str, Collection]
    newest: int


class EdFiOds:
    def __init__(self, district: District) -> None:
        self.district = district
        self.clock = ChangeClock()
        self.collections = {
            name: Collection(name, self.clock, key_of) for name, key_of in NATURAL_KEYS.items()
        }
        self._lock = threading.RLock()
        self._snapshot: View | None = None
        for school in district.schools:
            self._load("schools", views.school(school))
            self._load("sessions", views.session(school, district.year))
            self._load("calendars", views.calendar(school, district.year))
            for calendar_date in views.calendar_dates(school, district.year):
                self._load("calendarDates", calendar_date)
        for name, records in views.descriptors().items():
            for record in records:
                self._load(name, record)
        self.students_by_number = {student.student_number: student for student in district.students}
        for student in district.students:
            self._load("students", views.student(student))
            self._load("studentSchoolAssociations", views.enrollment(student, district.year))
        contacts, associations = contact_records(district)
        for contact in contacts:
            self._load("contacts", contact)
        for association in associations:
            self._load("studentContactAssociations", association)
        section_504, special_education = program_records(district)
        for record in section_504:
            self._load("studentProgramAssociations", record)
        for record in special_education:
            self._load("studentSpecialEducationProgramAssociations", record)
        self._events = self.collections["studentSchoolAttendanceEvents"]
        self._tracked: dict[int, _Tracked] = {}
        rows = district.attendance()
        for row in rows:
            self._track(row)
        self._seen_until = rows[-1].whenmodified if rows else None

    def _load(self, resource: str, body: Record) -> None:
        self.collections[resource].save(body)

    def _track(self, row: AttendanceRow) -> None:
        """Store the row's event; a re-coded row is a new record with a new id (generation + 1)."""
        known = self._tracked.get(row.dcid)
        if known is None:
            record_id, generation = views.attendance_event_id(row, 0), 0
        elif self._same_category(known.code, row.att_code):
            record_id, generation = known.record_id, known.generation
        else:
            generation = known.generation + 1
            record_id = views.attendance_event_id(row, generation)
        body = views.attendance_event(row, self.district, record_id)
        self._events.save(body)
        self._tracked[row.dcid] = _Tracked(body["id"], row.att_code, row.whenmodified, generation)

    # -- reading -------------------------------------------------------------------------------

    def view(self, *, snapshot: bool) -> View | None:
        """The live ODS, or the snapshot (None when the host has none)."""
        if snapshot:
            return self._snapshot
        self.refresh()
        return View(self.collections, self.clock.newest)

    def take_snapshot(self) -> int:
        """Freeze everything as it stands now; the snapshot's newest change version."""
        with self._lock:
            self.refresh()
            frozen = {name: collection.frozen_copy() for name, collection in self.collections.items()}
            self._snapshot = View(frozen, self.clock.newest)
            return self._snapshot.newest

    def drop_snapshot(self) -> None:
        self._snapshot = None

    def refresh(self) -> None:
        """Give change versions to attendance the District changed since the last look.

        Rows modified in the same second as the last one seen are read again (and skipped when
        already known): the District may stamp a new row with the second of a row since deleted."""
        with self._lock:
            changed = (
                self.district.attendance()
                if self._seen_until is None
                else self.district.attendance_modified_after(self._seen_until - timedelta(microseconds=1))
            )
            # Deletions first: a row deleted and entered again frees its natural key before the new
            # record takes it (the ODS's natural keys are unique).
            added = sum(1 for row in changed if row.dcid not in self._tracked)
            if len(self._tracked) + added != self.district.attendance_count():
                self._drop_deleted()
            for row in changed:
                tracked = self._tracked.get(row.dcid)
                if tracked is not None and (tracked.whenmodified, tracked.code) == (
                    row.whenmodified,
                    row.att_code,
                ):
                    continue
                if tracked is not None and not self._same_category(tracked.code, row.att_code):
                    self._events.remove(tracked.record_id)
                self._track(row)
                self._seen_until = max(self._seen_until or row.whenmodified, row.whenmodified)

    @staticmethod
    def _same_category(old_code: str, new_code: str) -> bool:
        return views.CATEGORY_OF_CODE[old_code] == views.CATEGORY_OF_CODE[new_code]

    def _drop_deleted(self) -> None:
        current = {row.dcid for row in self.district.attendance()}
        for dcid in [dcid for dcid in self._tracked if dcid not in current]:
            self._events.remove(self._tracked.pop(dcid).record_id)

    def change_entry_date(self, student_unique_id: str, entry_date: date) -> None:
        """A registrar corrects an enrollment's entry date: a key change on studentSchoolAssociations."""
        stored = self._enrollment_of(student_unique_id)
        self.collections["studentSchoolAssociations"].save(
            {**stored.body, "entryDate": entry_date.isoformat()}
        )

    def _enrollment_of(self, student_unique_id: str) -> Stored:
        return next(
            stored
            for stored in self.collections["studentSchoolAssociations"].ordered()
            if _ref(stored.body, "studentReference", "studentUniqueId") == student_unique_id
        )

    def reenter_enrollment(self, student_unique_id: str) -> str:
        """A registrar deletes an enrollment and enters it again: the same key under a new id."""
        enrollments = self.collections["studentSchoolAssociations"]
        current = self._enrollment_of(student_unique_id)
        enrollments.remove(current.body["id"])
        new_id = uuid.uuid4().hex
        enrollments.save({**current.body, "id": new_id})
        return new_id

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
        """PUT semantics: the id comes from the route; an ``id`` in the body is ignored
        (``DataManagementControllerBase.cs:288-289``)."""
        collection = self.collections[resource]
        with collection.lock:
            stored = collection.get(record_id)
            if stored is None:
                raise WriteRefusedError(404, problems.NOT_FOUND, problems.ITEM_NOT_FOUND)
            _check_etag(stored.etag, if_match)
            if collection.key_of(body) != collection.key_of(stored.body):
                raise WriteRefusedError(
                    400, problems.KEY_CHANGE_NOT_SUPPORTED, problems.key_change_not_supported(resource)
                )
            self._check_references(resource, body)
            return collection.save({**body, "id": record_id}).etag

    def delete(self, resource: str, record_id: str, if_match: str | None) -> None:
        collection = self.collections[resource]
        with collection.lock:
            stored = collection.get(record_id)
            if stored is None:
                raise WriteRefusedError(404, problems.NOT_FOUND, problems.ITEM_NOT_FOUND)
            _check_etag(stored.etag, if_match)
            if resource == "interventions" and self._intervention_in_use(stored.body):
                raise WriteRefusedError(
                    409,
                    problems.DEPENDENT_ITEM_EXISTS,
                    problems.dependent_item_exists("StudentInterventionAssociation"),
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

    def missing_descriptors(self, body: Any, path: str = "$") -> dict[str, list[str]]:
        """Descriptor values the body uses that this ODS does not define, by JSON path."""
        found: dict[str, list[str]] = {}
        if isinstance(body, dict):
            for name, value in body.items():
                where = f"{path}.{name}"
                if name.endswith("Descriptor") and isinstance(value, str):
                    if not self._descriptor_exists(name, value):
                        found[where] = [problems.descriptor_missing(name, value)]
                else:
                    found.update(self.missing_descriptors(value, where))
        elif isinstance(body, list):
            for index, item in enumerate(body):
                found.update(self.missing_descriptors(item, f"{path}[{index}]"))
        return found

    def _descriptor_exists(self, name: str, uri: str) -> bool:
        collection = self.collections.get(name + "s")
        namespace, _, code = uri.partition("#")
        return collection is not None and collection.has_key({"namespace": namespace, "codeValue": code})

    def _check_references(self, resource: str, body: Record) -> None:
        student = _ref(body, "studentReference", "studentUniqueId")
        if student is not None and student not in self.students_by_number:
            raise WriteRefusedError(409, problems.UNRESOLVED_REFERENCE, problems.unresolved("Student"))
        org = _ref(body, "educationOrganizationReference", "educationOrganizationId")
        if org is not None and not self._is_our_org(org):
            raise WriteRefusedError(
                403,
                problems.AUTHORIZATION,
                problems.AUTHORIZATION_DETAIL,
                [problems.no_relationships(self._org_claims(), "EducationOrganizationId")],
            )
        if "interventionReference" in body:
            key = {
                "educationOrganizationId": _ref(body, "interventionReference", "educationOrganizationId"),
                "interventionIdentificationCode": _ref(
                    body, "interventionReference", "interventionIdentificationCode"
                ),
            }
            if self.collections["interventions"].id_for_key(key) is None:
                raise WriteRefusedError(
                    409, problems.UNRESOLVED_REFERENCE, problems.unresolved("Intervention")
                )

    def _org_claims(self) -> list[int]:
        """The sandbox key's education organization claims: the LEA."""
        return [views.LEA_ID]

    def _is_our_org(self, org: Any) -> bool:
        return org == views.LEA_ID or any(school.schoolid == org for school in self.district.schools)


def _check_etag(current: str, if_match: str | None) -> None:
    if if_match is not None and if_match.strip().strip('"') != current.strip('"'):
        raise WriteRefusedError(
            412,
            problems.OPTIMISTIC_LOCK_FAILED,
            problems.OPTIMISTIC_LOCK_DETAIL,
            [problems.OPTIMISTIC_LOCK_ERROR],
        )
