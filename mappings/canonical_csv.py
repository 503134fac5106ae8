"""The canonical attendance CSV: ``student_id,date,category[,minutes_absent,code,school_id,grade]``.

One row per student per enrolled school day (a ``present`` row makes the day an enrolled day).
Rows are read one at a time; a bad row is reported with its line and reason, and the good rows
still load. ``grade`` (``K``, ``1``-``12``; ``KG`` and ``01`` also read) is the student's, for
grade-banded thresholds (Ohio): empty is unknown, and a row giving another grade than an earlier
row of the same student is rejected. Messages never repeat a student id or a note: only line
numbers and field problems.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from truancy.mappings.facts import AttendanceEvent, Category, StudentAttendance, canonical_grade

__all__ = ["REQUIRED_COLUMNS", "CsvFormatError", "CsvRowError", "read_attendance_csv"]

REQUIRED_COLUMNS = ("student_id", "date", "category")
OPTIONAL_COLUMNS = ("minutes_absent", "code", "school_id", "grade")
_CATEGORIES = ", ".join(category.value for category in Category)


class CsvFormatError(ValueError):
    """The file as a whole cannot be read (missing header columns, not UTF-8)."""


@dataclass(frozen=True, slots=True)
class CsvRowError:
    """One rejected row: its line in the file (the header is line 1) and why."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(slots=True)
class _Collected:
    days: set[date]
    events: list[AttendanceEvent]
    first_line: dict[date, int]
    grade: tuple[str, int] | None = None
    """The student's grade and the line that first gave it."""


def read_attendance_csv(path: Path | str) -> tuple[list[StudentAttendance], list[CsvRowError]]:
    """Every student in the file (sorted by id, days and events by date) and the rows rejected."""
    path = Path(path)
    students: dict[str, _Collected] = {}
    errors: list[CsvRowError] = []
    calendars: dict[tuple[date, ...], tuple[date, ...]] = {}
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            for line, row in _rows(handle, path.name):
                _take(row, line, students, errors)
    except UnicodeDecodeError as exc:
        raise CsvFormatError(f"{path.name}: not UTF-8 text (byte {exc.start})") from None
    result = []
    for student_id in sorted(students):
        collected = students[student_id]
        days = tuple(sorted(collected.days))
        # Students of one school share a calendar: keep one copy (memory, and the engine's lookups).
        days = calendars.setdefault(days, days)
        events = tuple(sorted(collected.events, key=lambda event: event.date))
        grade = collected.grade[0] if collected.grade is not None else None
        result.append(StudentAttendance(student_id, days, events, grade))
    return result, errors


def _rows(handle: Iterator[str], name: str) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.reader(handle)
    header = next(reader, None)
    if header is None:
        raise CsvFormatError(f"{name}: empty file; expected the header {','.join(REQUIRED_COLUMNS)}")
    columns = [column.strip() for column in header]
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    unknown = [column for column in columns if column not in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)]
    if missing or unknown:
        problems = [f"missing column(s) {', '.join(missing)}"] if missing else []
        problems += [f"unknown column(s) {', '.join(unknown)}"] if unknown else []
        expected = ",".join((*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS))
        raise CsvFormatError(f"{name}: line 1: {'; '.join(problems)} (expected {expected})")
    for values in reader:
        if not any(value.strip() for value in values):
            continue
        if len(values) != len(columns):
            yield reader.line_num, {"": f"{len(values)} fields, the header has {len(columns)}"}
            continue
        yield reader.line_num, {column: value.strip() for column, value in zip(columns, values, strict=True)}


def _take(row: dict[str, str], line: int, students: dict[str, _Collected], errors: list[CsvRowError]) -> None:
    if "" in row:
        errors.append(CsvRowError(line, row[""]))
        return
    problem, parsed = _parse(row)
    if parsed is None:
        errors.append(CsvRowError(line, problem))
        return
    student_id, day, category, minutes = parsed
    collected = students.setdefault(student_id, _Collected(set(), [], {}))
    raw_grade = row.get("grade", "")
    grade = canonical_grade(raw_grade)
    if raw_grade and grade is None:
        errors.append(CsvRowError(line, f"grade {raw_grade!r} is not K or 1-12"))
        return
    if grade is not None and collected.grade is not None and collected.grade[0] != grade:
        known, first = collected.grade
        errors.append(CsvRowError(line, f"grade {grade} differs from grade {known} on line {first}"))
        return
    if day in collected.days:
        first = collected.first_line[day]
        errors.append(
            CsvRowError(line, f"a second row for the same student and date (first on line {first})")
        )
        return
    collected.days.add(day)
    collected.first_line[day] = line
    if grade is not None and collected.grade is None:
        collected.grade = (grade, line)
    if category is not Category.PRESENT:
        code, school = row.get("code") or None, row.get("school_id") or None
        collected.events.append(AttendanceEvent(student_id, day, category, minutes, code, school))


def _parse(row: dict[str, str]) -> tuple[str, tuple[str, date, Category, int | None] | None]:
    student_id = row["student_id"]
    if not student_id:
        return "student_id is empty", None
    try:
        day = date.fromisoformat(row["date"])
    except ValueError:
        return f"date {row['date']!r} is not an ISO date (YYYY-MM-DD)", None
    try:
        category = Category(row["category"].lower())
    except ValueError:
        return f"category {row['category']!r} is not one of {_CATEGORIES}", None
    raw_minutes = row.get("minutes_absent", "")
    minutes: int | None = None
    if raw_minutes:
        if not raw_minutes.isdigit() or int(raw_minutes) == 0:
            return f"minutes_absent {raw_minutes!r} is not a positive whole number of minutes", None
        minutes = int(raw_minutes)
        if category in (Category.PRESENT, Category.SUSPENSION):
            return f"minutes_absent is only for part-day absences, not for {category.value}", None
    return "", (student_id, day, category, minutes)
