"""Attendance behaviour for one student: which days are not plain "present", and why.

Profiles mirror what districts see: most students are rarely absent, mostly excused illness; a
minority is chronically absent for mixed reasons; a few skip school in streaks. Everyone is late
now and then. Only non-present days become rows, as in PowerSchool.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from random import Random

from truancy.sandbox.model import AttendanceRow

CHRONIC_SHARE = 0.12
STREAKY_SHARE = 0.06
# Half of unexcused rows are "A", so re-coding 2% of them re-codes about 1% of all unexcused rows.
UNVERIFIED_CORRECTION_SHARE = 0.02


@dataclass(frozen=True, slots=True)
class Reasons:
    """Absence reasons with cumulative weights, ready for ``Random.choices``."""

    codes: tuple[str, ...]
    cumulative: tuple[int, ...]

    @classmethod
    def of(cls, weights: dict[str, int]) -> Reasons:
        return cls(tuple(weights), tuple(accumulate(weights.values())))

    def draw(self, rng: Random) -> str:
        return rng.choices(self.codes, cum_weights=self.cumulative)[0]


_REGULAR_REASONS = Reasons.of({"ILL": 55, "EX": 14, "MED": 12, "A": 7, "UNX": 3, "SUS": 2, "ISS": 2, "FT": 5})
_CHRONIC_REASONS = Reasons.of({"ILL": 30, "EX": 15, "MED": 8, "A": 20, "UNX": 17, "SUS": 5, "ISS": 5})
_UNEXCUSED_TARDY_MINUTES = (5, 10, 15, 20, 25, 30, 30, 31, 31, 45, 60, 90)


@dataclass(frozen=True, slots=True)
class DayMark:
    """One non-present day before it gets a row id and a modification time."""

    day: date
    att_code: str
    minutes: int | None = None


def _absences(rng: Random, days: tuple[date, ...], rate: float, reasons: Reasons) -> dict[date, str]:
    """Whole-day absences; illness comes in clusters of one to three days, as colds do."""
    target = round(rate * len(days))
    marked: dict[date, str] = {}
    while len(marked) < target:
        reason = reasons.draw(rng)
        length = rng.randint(1, 3) if reason == "ILL" else 1
        start = rng.randrange(len(days))
        for day in days[start : start + length]:
            marked.setdefault(day, reason)
    return marked


def _streaks(rng: Random, days: tuple[date, ...]) -> dict[date, str]:
    """Unexcused streaks of two to five consecutive school days, at least three days in all."""
    marked: dict[date, str] = {}
    for _ in range(rng.randint(1, 3)):
        length = rng.randint(3 if not marked else 2, 5)
        start = rng.randrange(max(1, len(days) - length))
        code = rng.choice(("A", "UNX"))
        for day in days[start : start + length]:
            marked[day] = code
    return marked


def _partial_day(rng: Random) -> tuple[str, int]:
    kind = rng.choices(("T", "UT", "T30", "ED"), weights=(70, 16, 7, 7))[0]
    if kind == "T":
        return kind, rng.choice((5, 5, 10, 10, 15, 20, 25, 30))
    if kind == "UT":
        return kind, rng.choice(_UNEXCUSED_TARDY_MINUTES)
    if kind == "T30":
        return kind, rng.choice((31, 35, 40, 45, 60, 75, 90))
    return kind, rng.choice((20, 30, 45, 60, 90, 120))


def student_marks(rng: Random, days: tuple[date, ...]) -> list[DayMark]:
    """The student's non-present days over ``days`` (the days they are enrolled and school is open)."""
    if not days:
        return []
    profile = rng.random()
    if profile < CHRONIC_SHARE:
        whole_days = _absences(rng, days, rng.uniform(0.10, 0.22), _CHRONIC_REASONS)
        tardies = rng.randint(2, 10)
    else:
        whole_days = _absences(rng, days, rng.uniform(0.015, 0.04), _REGULAR_REASONS)
        if profile < CHRONIC_SHARE + STREAKY_SHARE:
            whole_days.update(_streaks(rng, days))
        tardies = rng.choices(range(7), weights=(30, 25, 18, 12, 8, 4, 3))[0]
    marks = [DayMark(day, code) for day, code in whole_days.items()]
    for _ in range(tardies):
        day = rng.choice(days)
        if day not in whole_days:
            code, minutes = _partial_day(rng)
            whole_days[day] = code
            marks.append(DayMark(day, code, minutes))
    if rng.random() < 0.02:
        day = rng.choice(days)
        if day not in whole_days:
            marks.append(DayMark(day, "PRE"))
    return sorted(marks, key=lambda mark: mark.day)


def recorded_rows(
    rng: Random, marks: list[DayMark], studentsdcid: int, schoolid: int, first_row_dcid: int, as_of: date
) -> list[AttendanceRow]:
    """Rows as entered a few hours after each day before ``as_of``; about 1% of unverified absences
    are later excused (a correction due on or after ``as_of`` has not happened yet).

    Draws do not depend on ``as_of``, so a later ``as_of`` keeps every earlier row and adds days.
    """
    rows = []
    for offset, mark in enumerate(marks):
        if mark.day >= as_of:
            break
        entered = datetime.combine(mark.day, time(8)) + timedelta(seconds=rng.randint(3 * 3600, 7 * 3600))
        code = mark.att_code
        if code == "A" and rng.random() < UNVERIFIED_CORRECTION_SHARE:
            corrected = entered + timedelta(days=rng.randint(2, 10), seconds=rng.randint(0, 3600))
            if corrected.date() < as_of:
                code, entered = "EX", corrected
        rows.append(
            AttendanceRow(
                dcid=first_row_dcid + offset,
                studentsdcid=studentsdcid,
                schoolid=schoolid,
                att_date=mark.day,
                att_code=code,
                minutes=mark.minutes,
                whenmodified=entered,
            )
        )
    return rows
