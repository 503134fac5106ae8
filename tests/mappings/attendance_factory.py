"""Small builders for attendance facts, so each test reads like the statute it checks."""

from __future__ import annotations

from datetime import date, timedelta

from truancy.mappings.facts import AttendanceEvent, Category, StudentAttendance

THANKSGIVING_WEEK = {date(2024, 11, 25) + timedelta(n) for n in range(5)}
HOLIDAYS = frozenset({date(2024, 9, 2), date(2024, 11, 11), *THANKSGIVING_WEEK})


def school_calendar(count: int = 180, start: date = date(2024, 8, 19)) -> tuple[date, ...]:
    """Weekdays from ``start`` except Labor Day, Veterans Day and Thanksgiving week."""
    days: list[date] = []
    day = start
    while len(days) < count:
        if day.weekday() < 5 and day not in HOLIDAYS:
            days.append(day)
        day += timedelta(days=1)
    return tuple(days)


CALENDAR = school_calendar()


def day(n: int) -> date:
    """The n-th school day of the year, counting from 1 as the statute does."""
    return CALENDAR[n - 1]


def absence(
    on: date, category: str = "unexcused", minutes: int | None = None, code: str | None = None
) -> AttendanceEvent:
    return AttendanceEvent("S1", on, Category(category), minutes, code)


def tardy(on: date, minutes: int) -> AttendanceEvent:
    return absence(on, "tardy", minutes)


def student(
    *events: AttendanceEvent, days: tuple[date, ...] = CALENDAR, student_id: str = "S1"
) -> StudentAttendance:
    return StudentAttendance(student_id, days, tuple(events))
