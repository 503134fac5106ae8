"""The sandbox district's ground truth: schools, students, attendance codes and rows.

Tests read these objects directly to know what the SIS holds; the HTTP app serves views of them.
Attendance rows are immutable; a change replaces the row with a later ``whenmodified``, so the rows
kept in (whenmodified, dcid) order stay ordered by appending and incremental reads stay exact.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from truancy.sandbox.calendar import SchoolLevel, SchoolYear


@dataclass(frozen=True, slots=True)
class School:
    schoolid: int
    name: str
    level: SchoolLevel
    grades: tuple[str, ...]
    in_session: tuple[date, ...]

    @property
    def sourced_id(self) -> str:
        return f"school-{self.schoolid}"


@dataclass(frozen=True, slots=True)
class AttendanceCode:
    att_code: str
    description: str
    presence_status_cd: str
    calculate_ada_yn: str
    partial_day: bool


@dataclass(frozen=True, slots=True)
class Student:
    dcid: int
    student_number: str
    given_name: str
    family_name: str
    grade: str
    birth_date: date
    schoolid: int
    entry_date: date
    exit_date: date

    @property
    def sourced_id(self) -> str:
        return f"stu-{self.dcid}"

    def enrolled_on(self, day: date) -> bool:
        return self.entry_date <= day <= self.exit_date


@dataclass(frozen=True, slots=True)
class AttendanceRow:
    dcid: int
    studentsdcid: int
    schoolid: int
    att_date: date
    att_code: str
    minutes: int | None
    whenmodified: datetime

    @property
    def order_key(self) -> tuple[datetime, int]:
        return (self.whenmodified, self.dcid)


class AttendanceError(ValueError):
    """A control-API change the SIS would refuse; the message names the offending field."""


class District:
    """Everything the simulated SIS holds; attendance changes are thread-safe.

    ``year`` is the school year served and ``as_of`` the sandbox's today: attendance is recorded up
    to the day before, and withdrawals after it are not known yet.
    """

    def __init__(
        self,
        name: str,
        sourced_id: str,
        schools: tuple[School, ...],
        students: tuple[Student, ...],
        codes: tuple[AttendanceCode, ...],
        rows: Iterable[AttendanceRow],
        *,
        year: SchoolYear,
        as_of: date,
    ) -> None:
        self.name = name
        self.year = year
        self.as_of = as_of
        self.sourced_id = sourced_id
        self.schools = schools
        self.students = students
        self.codes = codes
        self._lock = threading.RLock()
        self._ordered: list[AttendanceRow] = sorted(rows, key=lambda row: row.order_key)
        self._by_dcid: dict[int, AttendanceRow] = {row.dcid: row for row in self._ordered}
        self._school_by_id = {school.schoolid: school for school in schools}
        self._student_by_dcid = {student.dcid: student for student in students}
        self._code_by_name = {code.att_code: code for code in codes}
        self._next_row_dcid = max(self._by_dcid, default=0) + 1

    def school(self, schoolid: int) -> School:
        return self._school_by_id[schoolid]

    def student(self, dcid: int) -> Student:
        return self._student_by_dcid[dcid]

    def has_student(self, dcid: int) -> bool:
        return dcid in self._student_by_dcid

    def code(self, att_code: str) -> AttendanceCode:
        return self._code_by_name[att_code]

    def attendance_row(self, dcid: int) -> AttendanceRow:
        return self._by_dcid[dcid]

    def attendance(self) -> list[AttendanceRow]:
        """A snapshot of every row in (whenmodified, dcid) order."""
        with self._lock:
            return list(self._ordered)

    def attendance_count(self) -> int:
        with self._lock:
            return len(self._ordered)

    def attendance_modified_after(self, since: datetime) -> list[AttendanceRow]:
        """Rows with whenmodified strictly after ``since``, in (whenmodified, dcid) order."""
        with self._lock:
            start = bisect_right(self._ordered, since, key=lambda row: row.whenmodified)
            return self._ordered[start:]

    def attendance_of(self, studentsdcid: int) -> list[AttendanceRow]:
        with self._lock:
            rows = [row for row in self._ordered if row.studentsdcid == studentsdcid]
        return sorted(rows, key=lambda row: row.att_date)

    def apply_correction(self, attendance_dcid: int, new_code: str) -> AttendanceRow:
        """Re-code a row, as an attendance clerk does when a parent's note arrives."""
        code = self._known_code(new_code)
        with self._lock:
            current = self._existing_row(attendance_dcid)
            minutes = current.minutes if code.partial_day else None
            updated = replace(current, att_code=code.att_code, minutes=minutes, whenmodified=self._now())
            self._remove(current)
            self._append(updated)
            return updated

    def delete_attendance(self, dcid: int) -> None:
        with self._lock:
            self._remove(self._existing_row(dcid))

    def add_attendance(
        self, studentsdcid: int, att_date: date, att_code: str, minutes: int | None = None
    ) -> AttendanceRow:
        """Record a new daily row; refuses days the student is not enrolled or school is closed."""
        code = self._known_code(att_code)
        if studentsdcid not in self._student_by_dcid:
            raise AttendanceError(f"no student with studentsdcid {studentsdcid}")
        student = self._student_by_dcid[studentsdcid]
        if att_date not in self._school_by_id[student.schoolid].in_session:
            raise AttendanceError(f"att_date {att_date.isoformat()} is not an in-session day at the school")
        if not student.enrolled_on(att_date):
            raise AttendanceError(f"the student is not enrolled on att_date {att_date.isoformat()}")
        if code.partial_day and minutes is None:
            raise AttendanceError(f"att_code {att_code} is a partial-day code and needs minutes")
        with self._lock:
            row = AttendanceRow(
                dcid=self._next_row_dcid,
                studentsdcid=studentsdcid,
                schoolid=student.schoolid,
                att_date=att_date,
                att_code=code.att_code,
                minutes=minutes if code.partial_day else None,
                whenmodified=self._now(),
            )
            self._next_row_dcid += 1
            self._append(row)
            return row

    def _known_code(self, att_code: str) -> AttendanceCode:
        if att_code not in self._code_by_name:
            raise AttendanceError(f"unknown att_code {att_code!r}")
        return self._code_by_name[att_code]

    def _existing_row(self, dcid: int) -> AttendanceRow:
        if dcid not in self._by_dcid:
            raise KeyError(dcid)
        return self._by_dcid[dcid]

    def _now(self) -> datetime:
        """Wall-clock time, but always after every existing row, so bookmarks never miss a change."""
        now = datetime.now().replace(microsecond=0)
        latest = self._ordered[-1].whenmodified if self._ordered else now
        return max(now, latest + timedelta(seconds=1))

    def _remove(self, row: AttendanceRow) -> None:
        index = bisect_left(self._ordered, row.order_key, key=lambda item: item.order_key)
        del self._ordered[index]
        del self._by_dcid[row.dcid]

    def _append(self, row: AttendanceRow) -> None:
        self._ordered.append(row)
        self._by_dcid[row.dcid] = row
