"""Ed-Fi: enrollments, calendars and attendance from an ODS/API; flags, notes and tasks written back.

Cursors are change versions. A first sync records the newest version and reads everything; each
later sync reads only the window after its cursor: changed records, then deletes. Student names
and birth dates are never read for the roster: enrollments carry the student's unique id, school and
grade. Guardian contacts (plugins/edfi/guardians.py) read a student's name only for the letter of a
student with a notice due.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from truancy.connector.edfi import ChangeWindow, EdFiClient, discover, open_session
from truancy.connector.errors import ProtocolError
from truancy.connector.http import HttpSession, RetryPolicy
from truancy.mappings.case import OfficerAction
from truancy.mappings.codemap import CodeEntry, CodeMap, Quarantined, RawMark, load_code_map, normalise
from truancy.mappings.discover import ObservedCode
from truancy.mappings.facts import AttendanceEvent, Enrollment, SchoolCalendar, Student
from truancy.mappings.notices_contacts import GuardianContact
from truancy.mappings.writes import DesiredWrite, WriteKind, is_sync_key
from truancy.mappings.yaml_source import MappingFileError
from truancy.plugins.base import (
    AttendanceChange,
    AttendancePage,
    Capabilities,
    ConnectionOptions,
    Cursor,
    FieldMapFindings,
    MappingSource,
    OfficerRowError,
    Ownership,
    ReadBackPage,
    Rejected,
    RemoteRow,
    RosterPage,
    SandboxFacts,
    StreamSpec,
    StudentResolver,
)
from truancy.plugins.edfi.config import EdFiConfig
from truancy.plugins.edfi.fieldmap import load_edfi_field_map
from truancy.plugins.edfi.guardians import contact_resources, guardian_contacts
from truancy.plugins.edfi.health_plans import health_plans
from truancy.plugins.edfi.keys import enrollment_key, enrollment_tombstone_key, event_key, tombstone_key
from truancy.plugins.edfi.writeback import OWNERSHIP, EdFiWriteBack

HERE = Path(__file__).resolve().parent
DEFAULT_CODE_MAP = HERE / "codes.yaml"
DEFAULT_FIELD_MAP = HERE / "fieldmap.yaml"
SANDBOX_CODE_MAP = HERE / "sandbox-codes.yaml"
ENROLLMENTS = "ed-fi/studentSchoolAssociations"
STUDENTS = "ed-fi/students"
CALENDAR_DATES = "ed-fi/calendarDates"
EVENTS = "ed-fi/studentSchoolAttendanceEvents"
CATEGORIES = "ed-fi/attendanceEventCategoryDescriptors"
INSTRUCTIONAL_EVENTS = frozenset({"instructional day", "make-up day"})
GRADES = {
    "kindergarten": "KG", "first grade": "01", "second grade": "02", "third grade": "03",
    "fourth grade": "04", "fifth grade": "05", "sixth grade": "06", "seventh grade": "07",
    "eighth grade": "08", "ninth grade": "09", "tenth grade": "10", "eleventh grade": "11",
    "twelfth grade": "12",
}  # fmt: skip


def code_value(descriptor: str) -> str:
    """``uri://ed-fi.org/GradeLevelDescriptor#Ninth grade`` → ``Ninth grade``."""
    return descriptor.rsplit("#", 1)[-1]


class EdFiPlugin:
    """Glue between an Ed-Fi ODS/API and canonical facts and writes."""

    name = "edfi"
    ownership: Mapping[WriteKind, Ownership] = OWNERSHIP
    streams: Mapping[str, StreamSpec] = {
        "roster": StreamSpec("Enrollments (Ed-Fi)"),
        "attendance": StreamSpec("Attendance events (Ed-Fi)"),
        "readback": StreamSpec("Indicators and interventions (Ed-Fi)"),
    }

    def __init__(self, config: Mapping[str, Any], *, options: ConnectionOptions, config_dir: Path) -> None:
        self.config = EdFiConfig.from_mapping(config, config_dir)
        self._code_map_path = self.config.code_map or DEFAULT_CODE_MAP
        self._field_map_path = self.config.field_map or DEFAULT_FIELD_MAP
        self.code_map: CodeMap = load_code_map(self._code_map_path)
        api = self.config.edfi
        retry = RetryPolicy(max_attempts=options.max_attempts)
        timeout = (options.connect_timeout, options.read_timeout)
        urls = discover(
            api.base_url, school_year=api.school_year, instance=api.instance, timeout=timeout, retry=retry,
            verify=options.verify_tls,
        )  # fmt: skip
        self._contact_resources = contact_resources(urls.data_model_version)
        self.session: HttpSession = open_session(
            urls, api.client_id, api.secret(), timeout=timeout, retry=retry, verify=options.verify_tls
        )
        self.client = EdFiClient(
            self.session,
            urls.change_queries,
            page_size=api.page_size,
            paging=api.paging,
            change_window=api.change_window,
            use_snapshot=api.use_snapshot,
        )
        field_map = load_edfi_field_map(self._field_map_path)
        # Write-back merges into records as they are now: it never reads through the snapshot.
        self.writes = EdFiWriteBack(
            self.client.live(), field_map, api.education_organization_id, api.school_year
        )

    @property
    def mapping_sources(self) -> tuple[MappingSource, ...]:
        field_map_digest = hashlib.sha256(self._field_map_path.read_bytes()).hexdigest()
        return (
            MappingSource("code_map", str(self._code_map_path.resolve()), self.code_map.digest),
            MappingSource("field_map", str(self._field_map_path.resolve()), field_map_digest),
        )

    @classmethod
    def check_field_map(cls, path: Path) -> FieldMapFindings:
        """The Ed-Fi map's schema (indicator names and intervention codes; the resources are fixed)."""
        try:
            load_edfi_field_map(path)
        except MappingFileError as exc:
            return FieldMapFindings(False, [exc])
        return FieldMapFindings(True)

    @classmethod
    def capabilities(cls) -> Capabilities:
        return Capabilities(sandbox_settings=_sandbox_settings)

    @property
    def sessions(self) -> tuple[HttpSession, ...]:
        """For the HTTP metrics (requests, retries, 429s)."""
        return (self.session,)

    def close(self) -> None:
        self.session.close()

    def guardian_contacts(self, student_ids: Iterable[str]) -> Iterator[GuardianContact]:
        """Guardians of the given students: DS 5 contacts (DS 4 parents), read live, never logged."""
        return guardian_contacts(self.client.live(), student_ids, self._contact_resources)

    def health_plans(self, student_ids: Iterable[str], on: date) -> set[str]:
        """Students with a 504 plan or an IEP in force on ``on`` (DS 4 and DS 5 alike), read live."""
        return health_plans(self.client.live(), student_ids, on)

    # -- change windows ------------------------------------------------------------------------

    def _window(self, cursor: str | None) -> tuple[ChangeWindow | None, str]:
        """The versions to read after ``cursor`` (None: read everything) and the end cursor.

        The newest version is taken before reading, so a change made mid-read lands in the next
        window; the end cursor is current as of that moment (the stream's lag)."""
        read_at = datetime.now(UTC)
        newest = self.client.available_change_versions().max_version
        since = Cursor.loads(cursor)
        if since is None:
            return None, Cursor(newest, read_at).dumps()
        done = int(since.position)
        return ChangeWindow(done + 1, newest), Cursor(max(newest, done), read_at).dumps()

    # -- rosters -------------------------------------------------------------------------------

    def roster_pages(self, cursor: str | None) -> Iterator[RosterPage]:
        window, end = self._window(cursor)
        if window is None or window.min_version <= window.max_version:
            # Enrollments are stored by natural key (plugins/edfi/keys.py): a corrected entry date
            # retires the old key first, a tombstone the key it names.
            if window is not None:
                for changes in self.client.key_changes(ENROLLMENTS, window):
                    yield RosterPage(
                        deleted_enrollments=_retired_enrollments(
                            change.get("oldKeyValues") for change in changes
                        )
                    )
            for records in self.client.pages(ENROLLMENTS, window=window):
                yield self._roster_page(records)
            if window is not None:
                for tombstones in self.client.deletes(ENROLLMENTS, window):
                    yield RosterPage(
                        deleted_enrollments=_retired_enrollments(
                            entry.get("keyValues") for entry in tombstones
                        )
                    )
                for tombstones in self.client.deletes(STUDENTS, window):
                    yield RosterPage(
                        deleted_students=[_key(entry, "studentUniqueId") for entry in tombstones]
                    )
        yield RosterPage(cursor=end, end=True)

    def _roster_page(self, records: list[dict[str, Any]]) -> RosterPage:
        page = RosterPage()
        for record in records:
            record_id = str(record.get("id", ""))
            student = str(record.get("studentReference", {}).get("studentUniqueId", ""))
            school = record.get("schoolReference", {}).get("schoolId")
            try:
                begin = date.fromisoformat(str(record["entryDate"]))
                end = (
                    date.fromisoformat(record["exitWithdrawDate"]) if record.get("exitWithdrawDate") else None
                )
            except (KeyError, ValueError):
                page.rejected.append(
                    Rejected("enrollments", record_id, "malformed entryDate or exitWithdrawDate")
                )
                continue
            key = enrollment_key(record)
            if not student or school is None or key is None:
                page.rejected.append(
                    Rejected("enrollments", record_id or "<missing id>", "no student, school or id")
                )
                continue
            grade = code_value(str(record.get("entryGradeLevelDescriptor", "")))
            page.students.append(
                Student(student, student, str(school), GRADES.get(grade.lower(), grade) or None)
            )
            page.enrollments.append(Enrollment(key, student, str(school), begin, end))
        return page

    # -- calendar and attendance ---------------------------------------------------------------

    def calendars(self) -> list[SchoolCalendar]:
        days: dict[str, set[date]] = defaultdict(set)
        year = self.config.edfi.school_year
        for records in self.client.pages(CALENDAR_DATES, {"schoolYear": str(year)}):
            for record in records:
                events = {
                    code_value(str(e.get("calendarEventDescriptor", ""))).lower()
                    for e in record.get("calendarEvents", ())
                }
                if events & INSTRUCTIONAL_EVENTS:
                    school = str(record.get("calendarReference", {}).get("schoolId", ""))
                    days[school].add(date.fromisoformat(str(record["date"])))
        return [SchoolCalendar(school, tuple(sorted(d))) for school, d in sorted(days.items())]

    def attendance_pages(self, cursor: str | None, resolve: StudentResolver) -> Iterator[AttendancePage]:
        window, end = self._window(cursor)
        if window is None or window.min_version <= window.max_version:
            # Events are stored by natural key (plugins/edfi/keys.py). A key changed in place leaves
            # its old key behind: retired first, so the pages that follow can bring it back.
            if window is not None:
                for changes in self.client.key_changes(EVENTS, window):
                    yield AttendancePage(changes=_retired(change.get("oldKeyValues") for change in changes))
            for records in self.client.pages(EVENTS, window=window):
                page = AttendancePage()
                for record in records:
                    self._attendance_event(record, resolve, page)
                yield page
            if window is not None:
                for tombstones in self.client.deletes(EVENTS, window):
                    yield AttendancePage(changes=_retired(entry.get("keyValues") for entry in tombstones))
        yield AttendancePage(cursor=end, end=True)

    def categorize(self, descriptor: str) -> CodeEntry | None:
        """As the code map compares (the Ed-Fi maps fold case: the docs vary in descriptor case)."""
        return self.code_map.categorize(descriptor)

    def _attendance_event(
        self, record: Mapping[str, Any], resolve: StudentResolver, page: AttendancePage
    ) -> None:
        source_key = event_key(record) or ""
        student_id = resolve(str(record.get("studentReference", {}).get("studentUniqueId", "")))
        if not source_key or student_id is None:
            reason = "student is not in the roster" if source_key else "a natural-key field is missing"
            page.rejected.append(
                Rejected("attendance", source_key or str(record.get("id", "<missing id>")), reason)
            )
            return
        session_year = record.get("sessionReference", {}).get("schoolYear")
        if session_year is not None and session_year != self.config.edfi.school_year:
            return
        descriptor = str(record.get("attendanceEventCategoryDescriptor", ""))
        try:
            day = date.fromisoformat(str(record["eventDate"]))
        except (KeyError, ValueError):
            page.rejected.append(Rejected("attendance", source_key, "malformed eventDate"))
            return
        # Every event is kept as the ODS holds it; an unmapped descriptor is held in the store, not counted.
        school = record.get("schoolReference", {}).get("schoolId")
        mark = RawMark(
            student_id, day, descriptor, self._minutes(record), None if school is None else str(school)
        )
        counted = normalise(mark, self.categorize)
        if isinstance(counted, Quarantined) and self.categorize(descriptor) is None:
            page.unknown_codes[descriptor] += 1
        event = counted if isinstance(counted, AttendanceEvent) else None
        page.changes.append(AttendanceChange(source_key, event, mark))

    def _minutes(self, record: Mapping[str, Any]) -> int | None:
        duration = record.get("schoolAttendanceDuration")
        if isinstance(duration, int):
            return duration
        fraction = record.get("eventDuration")
        if isinstance(fraction, int | float) and 0 < fraction < 1:
            return round(fraction * self.config.edfi.school_day_minutes)
        return None

    # -- discovery -----------------------------------------------------------------------------

    def discover_codes(self) -> list[ObservedCode]:
        """The category descriptors the ODS defines, with how often each occurs this year."""
        defined: dict[str, str] = {}
        for records in self.client.pages(CATEGORIES):
            for record in records:
                uri = f"{record.get('namespace', '')}#{record.get('codeValue', '')}"
                defined[uri] = str(record.get("shortDescription") or record.get("codeValue") or "")
        used: Counter[str] = Counter()
        with_minutes: Counter[str] = Counter()
        for records in self.client.pages(EVENTS):
            for record in records:
                descriptor = str(record.get("attendanceEventCategoryDescriptor", ""))
                used[descriptor] += 1
                with_minutes[descriptor] += record.get("schoolAttendanceDuration") is not None
        return [
            ObservedCode(
                code=code,
                description=defined.get(code, ""),
                occurrences=used[code],
                with_minutes=with_minutes[code],
            )
            for code in sorted((set(defined) | set(used)) - {""})
        ]

    # -- write-back ----------------------------------------------------------------------------

    def read_back(self) -> Iterator[RemoteRow]:
        return self.writes.read_back()

    def read_back_pages(self, cursor: str | None) -> Iterator[ReadBackPage]:
        """Our rows changed after the cursor's change version, read live (see ``EdFiWriteBack``)."""
        return self.writes.read_back_pages(cursor)

    def officer_action(self, remote: RemoteRow) -> OfficerAction | None:
        if not is_sync_key(remote.sync_key):
            return None
        status = remote.columns.get("status", "")
        if remote.kind is WriteKind.TASK and status == "done":
            outcome = remote.columns.get("outcome") or None
            return OfficerAction(
                "task_done",
                _officer_date(remote, "completed_date"),
                outcome=outcome,
                sync_key=remote.sync_key,
            )
        if remote.kind is WriteKind.FLAG and status == "dismissed":
            return OfficerAction(
                "flag_dismissed", _officer_date(remote, "dismissed_date"), sync_key=remote.sync_key
            )
        return None

    def stored_fields(self, write: DesiredWrite) -> Mapping[str, str]:
        return self.writes.stored_fields(write)

    def writer_of(self, remote: RemoteRow) -> str | None:
        """The instance id in a flag's ``designatedBy`` or a task's statement tag; notes carry none."""
        return remote.columns.get("writer") or None

    def create(self, write: DesiredWrite, sis_ref: str) -> str:
        return self.writes.create(write, sis_ref)

    def update(self, remote: RemoteRow, write: DesiredWrite) -> None:
        self.writes.update(remote, write)

    def delete(self, remote: RemoteRow) -> None:
        self.writes.delete(remote)


def _retired(key_values: Iterable[Any]) -> list[AttendanceChange]:
    """Events whose natural key is gone: ODS/API 5.3+ sends ``keyValues`` on every tombstone."""
    keys = [tombstone_key(values) for values in key_values]
    if any(key is None for key in keys):
        raise ProtocolError(
            "sis.edfi: a studentSchoolAttendanceEvents tombstone lacks its keyValues; the ODS/API must be "
            "5.3 or newer"
        )
    return [AttendanceChange(key, None) for key in keys if key is not None]


def _retired_enrollments(key_values: Iterable[Any]) -> list[str]:
    keys = [enrollment_tombstone_key(values) for values in key_values]
    if any(key is None for key in keys):
        raise ProtocolError(
            "sis.edfi: a studentSchoolAssociations tombstone lacks its keyValues; the ODS/API must be "
            "5.3 or newer"
        )
    return [key for key in keys if key is not None]


def _sandbox_settings(facts: SandboxFacts) -> dict[str, Any]:
    """The sandbox's ODS/API, its school year and its LEA, and a code map with its own descriptor."""
    return {
        "code_map": str(SANDBOX_CODE_MAP),
        "edfi": {
            "base_url": f"{facts.url}/edfi/",
            "client_id": facts.client_id,
            "client_secret": facts.client_secret,
            "school_year": facts.school_year,
            "education_organization_id": facts.education_organization_id,
        },
    }


def _key(tombstone: Mapping[str, Any], name: str) -> str:
    """A natural-key value of a tombstone (ODS/API 5.3+ sends ``keyValues``)."""
    values = tombstone.get("keyValues")
    return str(values.get(name, "")) if isinstance(values, Mapping) else ""


def _officer_date(remote: RemoteRow, field: str) -> date:
    try:
        return date.fromisoformat(remote.columns.get(field, ""))
    except ValueError:
        raise OfficerRowError(
            f"{remote.kind.value} {remote.remote_id}: {field} is not a YYYY-MM-DD date; set it in the SIS "
            "and the next sync applies it"
        ) from None
