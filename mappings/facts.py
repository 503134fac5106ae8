"""Canonical facts: the SIS-independent shape of attendance that every policy is evaluated on.

Plugins translate vendor records into these; the engine never sees a vendor field or code.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class Category(StrEnum):
    """What a day (or part of a day) means for the law, whatever code the school used."""

    PRESENT = "present"
    EXCUSED = "excused"
    UNEXCUSED = "unexcused"
    TARDY = "tardy"
    SUSPENSION = "suspension"


@dataclass(frozen=True, slots=True)
class AttendanceEvent:
    """One non-present school day of one student.

    ``minutes_absent`` is None for a whole day; otherwise the part of the day missed (an unexcused
    early departure is UNEXCUSED with minutes, a late arrival is TARDY with minutes).
    """

    student_id: str
    date: date
    category: Category
    minutes_absent: int | None = None
    code: str | None = None
    school_id: str | None = None

    @property
    def is_full_day(self) -> bool:
        return self.minutes_absent is None


@dataclass(frozen=True, slots=True)
class StudentAttendance:
    """One student's school year as the engine sees it.

    ``school_days`` lists every instructional day the student was enrolled on, sorted, up to the
    evaluation date; days without an event were attended. ``events`` holds the non-present days.
    ``grade`` (``K``, ``1``-``12``, or None when unknown) picks grade-banded thresholds (Ohio).
    """

    student_id: str
    school_days: tuple[date, ...]
    events: tuple[AttendanceEvent, ...]
    grade: str | None = None


GRADES = ("K", *(str(n) for n in range(1, 13)))


def canonical_grade(raw: str | None) -> str | None:
    """A grade as the engine's grade bands name it (``K``, ``1``-``12``), from the spellings SIS and
    OneRoster/CEDS data use (``KG``, ``01``); None for anything else (pre-K, ungraded, unknown)."""
    value = (raw or "").strip().upper()
    if value in ("K", "KG", "0K"):
        return "K"
    if value.isdigit() and 1 <= int(value) <= 12:
        return str(int(value))
    return None


@dataclass(frozen=True, slots=True)
class SchoolCalendar:
    """The instructional days of one school, sorted: deadlines in the law are counted in these."""

    school_id: str
    days: tuple[date, ...]

    def add_school_days(self, start: date, count: int) -> date:
        """The date ``count`` instructional days after ``start`` (past the calendar's end: keeps counting
        weekdays, so a deadline late in June still lands on a real date, and one that starts after the
        last school day, say a conference held in June, counts from the day it starts)."""
        index = bisect_right(self.days, start) + count - 1
        if index < len(self.days):
            return self.days[index]
        day = max(self.days[-1], start) if self.days else start
        remaining = index - len(self.days) + 1
        while remaining > 0:
            day += timedelta(days=1)
            if day.weekday() < 5:
                remaining -= 1
        return day


@dataclass(frozen=True, slots=True)
class Student:
    """A student as the roster knows them: the canonical id and the SIS's own key for write-back.

    Names and birth dates are never pulled: no rule needs them, so they never reach the store.
    """

    student_id: str
    sis_ref: str | None
    school_id: str | None
    grade: str | None = None


@dataclass(frozen=True, slots=True)
class Enrollment:
    """One window during which a student was enrolled at a school (end None: still enrolled)."""

    source_id: str
    student_id: str
    school_id: str
    begin: date
    end: date | None
