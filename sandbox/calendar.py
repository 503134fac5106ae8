"""The sandbox's school calendar: which days each school is in session, for any school year.

Holidays follow the year by rule (third Monday of August to start, Labor Day, Thanksgiving, a
two-week winter break, …), so the sandbox can serve the year in progress whatever today is. For
2025-26 the rules give the calendar the sandbox always had. Per-school calendars matter to the sync
(a day one school is closed is not an absence there), so each school level gets its own staff day on
top of the district-wide holidays.
"""

from __future__ import annotations

import calendar as weekdays
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import cached_property

DISTRICT_DAYS = 183
"""Days the district holds school; each school is in session one fewer (its staff day)."""
POWERSCHOOL_FIRST_YEAR = 1990
"""PowerSchool numbers school years from 1990-91 (yearid 0): 2025-26 is yearid 35."""


class SchoolLevel(StrEnum):
    ELEMENTARY = "elementary"
    MIDDLE = "middle"
    HIGH = "high"


def _span(first: date, last: date) -> set[date]:
    return {first + timedelta(days=offset) for offset in range((last - first).days + 1)}


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The ``n``-th ``weekday`` (0 = Monday) of the month; ``n = -1`` is the last one."""
    days = [d for d in weekdays.Calendar().itermonthdates(year, month) if d.month == month]
    matching = [d for d in days if d.weekday() == weekday]
    return matching[n - 1 if n > 0 else n]


def _observed(day: date) -> date:
    """A fixed-date holiday on a weekend is observed on the Friday before or the Monday after."""
    return day - timedelta(days=1) if day.weekday() == 5 else day + timedelta(days=day.weekday() == 6)


def _monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


_MONDAY, _THURSDAY, _FRIDAY = 0, 3, 4


@dataclass(frozen=True)
class SchoolYear:
    """The school year starting in August of ``start_year`` (2025 is "2025-26")."""

    start_year: int

    @classmethod
    def containing(cls, day: date) -> SchoolYear:
        """The latest year that has started by ``day``: in summer, the year that just ended."""
        this_year = cls(day.year)
        return this_year if this_year.first_day <= day else cls(day.year - 1)

    @property
    def label(self) -> str:
        return f"{self.start_year}-{(self.start_year + 1) % 100:02d}"

    @property
    def end_year(self) -> int:
        return self.start_year + 1

    @property
    def powerschool_yearid(self) -> int:
        return self.start_year - POWERSCHOOL_FIRST_YEAR

    @property
    def first_day(self) -> date:
        return _nth_weekday(self.start_year, 8, _MONDAY, 3)

    @cached_property
    def winter_break(self) -> tuple[date, date]:
        """Monday of Christmas week to the Friday of New Year's week (always two whole weeks)."""
        start = _monday_of(date(self.start_year, 12, 25))
        return start, start + timedelta(days=11)

    @cached_property
    def holidays(self) -> frozenset[date]:
        first, end = self.start_year, self.end_year
        thanksgiving = _nth_weekday(first, 11, _THURSDAY, 4)
        spring_break = _monday_of(date(end, 3, 31))
        return frozenset(
            {
                _nth_weekday(first, 9, _MONDAY, 1),  # Labor Day
                _nth_weekday(first, 10, _MONDAY, 2),  # Indigenous Peoples' Day
                _observed(date(first, 11, 11)),  # Veterans Day
                *_span(thanksgiving - timedelta(days=1), thanksgiving + timedelta(days=1)),
                *_span(*self.winter_break),
                _nth_weekday(end, 1, _MONDAY, 3),  # Martin Luther King Jr. Day
                _observed(date(end, 2, 12)),  # Lincoln's Birthday
                _nth_weekday(end, 2, _MONDAY, 3),  # Presidents' Day
                _nth_weekday(end, 3, _FRIDAY, 2),  # district professional-development day
                *_span(spring_break, spring_break + timedelta(days=4)),  # spring break
                _nth_weekday(end, 5, _MONDAY, -1),  # Memorial Day
            }
        )

    @cached_property
    def staff_days(self) -> dict[SchoolLevel, date]:
        """Each level's own closed day: the school day before a long weekend, or after winter break."""
        return {
            SchoolLevel.ELEMENTARY: self._school_day_before(_nth_weekday(self.start_year, 10, _MONDAY, 2)),
            SchoolLevel.MIDDLE: self._school_day_before(_nth_weekday(self.end_year, 2, _MONDAY, 3)),
            SchoolLevel.HIGH: self.spring_term_start,
        }

    def _school_day_before(self, day: date) -> date:
        """The last weekday before ``day`` that is not a holiday (Lincoln's Birthday can be a Friday)."""
        day -= timedelta(days=1)
        while day.weekday() >= 5 or day in self.holidays:
            day -= timedelta(days=1)
        return day

    @property
    def fall_term_end(self) -> date:
        """The Friday before winter break."""
        return self.winter_break[0] - timedelta(days=3)

    @property
    def spring_term_start(self) -> date:
        """The Monday after winter break."""
        return self.winter_break[1] + timedelta(days=3)

    @cached_property
    def district_days(self) -> tuple[date, ...]:
        """The district's school days: weekdays from the first day, minus holidays, until there are enough."""
        days: list[date] = []
        day = self.first_day
        while len(days) < DISTRICT_DAYS:
            if day.weekday() < 5 and day not in self.holidays:
                days.append(day)
            day += timedelta(days=1)
        return tuple(days)

    @property
    def last_day(self) -> date:
        return self.district_days[-1]

    def in_session_days(self, level: SchoolLevel) -> tuple[date, ...]:
        """The district's school days minus the level's staff day."""
        closed = self.staff_days[level]
        return tuple(day for day in self.district_days if day != closed)
