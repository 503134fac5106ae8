"""The 2025-26 school calendar: which days each school is in session.

Per-school calendars matter to the sync (a day one school is closed is not an absence there), so
each school level gets its own staff day on top of the district-wide holidays.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

FIRST_DAY = date(2025, 8, 18)
LAST_DAY = date(2026, 6, 4)
SCHOOL_YEAR = "2025-26"
POWERSCHOOL_YEARID = 35


class SchoolLevel(StrEnum):
    ELEMENTARY = "elementary"
    MIDDLE = "middle"
    HIGH = "high"


def _span(first: date, last: date) -> set[date]:
    return {first + timedelta(days=offset) for offset in range((last - first).days + 1)}


DISTRICT_HOLIDAYS: frozenset[date] = frozenset(
    {
        date(2025, 9, 1),  # Labor Day
        date(2025, 10, 13),  # Indigenous Peoples' Day
        date(2025, 11, 11),  # Veterans Day
        *_span(date(2025, 11, 26), date(2025, 11, 28)),  # Thanksgiving
        *_span(date(2025, 12, 22), date(2026, 1, 2)),  # winter break
        date(2026, 1, 19),  # Martin Luther King Jr. Day
        date(2026, 2, 12),  # Lincoln's Birthday
        date(2026, 2, 16),  # Presidents' Day
        date(2026, 3, 13),  # district professional-development day
        *_span(date(2026, 3, 30), date(2026, 4, 3)),  # spring break
        date(2026, 5, 25),  # Memorial Day
    }
)

STAFF_DAYS: dict[SchoolLevel, date] = {
    SchoolLevel.ELEMENTARY: date(2025, 10, 10),
    SchoolLevel.MIDDLE: date(2026, 2, 13),
    SchoolLevel.HIGH: date(2026, 1, 5),
}


def in_session_days(level: SchoolLevel) -> tuple[date, ...]:
    """Weekdays from the first to the last day, minus holidays and the level's staff day."""
    closed = DISTRICT_HOLIDAYS | {STAFF_DAYS[level]}
    return tuple(day for day in sorted(_span(FIRST_DAY, LAST_DAY)) if day.weekday() < 5 and day not in closed)
