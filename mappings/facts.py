"""Canonical facts: the SIS-independent shape of attendance that every policy is evaluated on.

Plugins translate vendor records into these; the engine never sees a vendor field or code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
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
    """

    student_id: str
    school_days: tuple[date, ...]
    events: tuple[AttendanceEvent, ...]
