"""Which records a rule counts, and where in the school year a threshold was first crossed.

Everything here works on one student's records already restricted to enrolled days up to the
evaluation date and sorted, so counting is a single pass over the (few) absences, never over days.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from truancy.mappings.facts import AttendanceEvent, Category
from truancy.mappings.policy_schema import Counts, Window

_TARDY = Category.TARDY


Record = tuple[AttendanceEvent, int]
"""An absence on an enrolled day and its position among the student's school days.

A bare tuple: the engine builds one per absence of every student, and a named tuple costs
several times more to create.
"""


def day_of(record: Record) -> date:
    return record[0].date


def _month(record: Record) -> tuple[int, int]:
    return record[0].date.year, record[0].date.month


class Selector:
    """The compiled form of ``counts``: does this record count, at most one record per date."""

    __slots__ = ("_categories", "_full_days", "_minimum_minutes")

    def __init__(self, counts: Counts, day_minutes: int | None = None) -> None:
        self._categories = frozenset(counts.categories)
        self._full_days = counts.full_days
        partial = counts.partial_days
        self._minimum_minutes = partial.minimum_minutes_of(day_minutes) if partial is not None else None

    def select(self, records: Sequence[Record], after: int = -1) -> list[Record]:
        """The counted records after school-day position ``after``, one per day (the strongest
        record of a day comes first). The engine's innermost loop, so kept flat.

        A tardy whose minutes the SIS did not record counts as one minute: the least it can be.
        """
        categories, full_days, minimum = self._categories, self._full_days, self._minimum_minutes
        selected: list[Record] = []
        last = after
        for record in records:
            event, position = record
            category = event.category
            if category not in categories or position <= last:
                continue
            minutes = event.minutes_absent
            if minutes is None and category is not _TARDY:
                if not full_days:
                    continue
            elif minimum is None or (minutes or 1) < minimum:
                continue
            selected.append(record)
            last = position
        return selected


Within = Callable[[Record, Record], bool]


def within_window(window: Window) -> Within:
    """Whether two counted records (earlier, later) fall inside one period of ``window``."""
    length = window.length or 0
    if window.kind == "school_year":
        return lambda first, last: True
    if window.kind == "calendar_month":
        return lambda first, last: _month(first) == _month(last)
    if window.kind in ("rolling_school_days", "past_school_days"):
        return lambda first, last: last[1] - first[1] < length
    if window.kind == "rolling_weeks":
        return lambda first, last: (last[0].date - first[0].date).days < 7 * length
    if window.kind == "rolling_months":
        return lambda first, last: last[0].date < add_months(first[0].date, length)
    return lambda first, last: (last[0].date - first[0].date).days < length


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's end (31 Aug + 6 months = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for last_day in (day.day, 30, 29, 28):
        try:
            return date(year, month, last_day)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


@dataclass(frozen=True, slots=True)
class Crossing:
    """The counted records of the first window that reached the threshold; ``peak`` is the most
    records in any one window (the count an officer compares with the threshold)."""

    records: tuple[Record, ...] | None
    peak: int

    @property
    def met_on(self) -> date | None:
        return self.records[-1][0].date if self.records else None


def first_crossing(records: Sequence[Record], needed: int, within: Within) -> Crossing:
    """Slide a window over the counted records: the first one holding ``needed`` records crosses."""
    start = 0
    peak = 0
    crossing: tuple[Record, ...] | None = None
    for end, record in enumerate(records):
        while not within(records[start], record):
            start += 1
        size = end - start + 1
        peak = max(peak, size)
        if crossing is None and size >= needed:
            crossing = tuple(records[end - needed + 1 : end + 1])
    return Crossing(crossing, peak)


class Share:
    """The percentage of school days counted, as of any school day (by position), for one window."""

    __slots__ = ("_denominator", "_length", "_positions")

    def __init__(self, positions: Sequence[int], window: Window, denominator: str) -> None:
        self._positions = positions
        self._length = window.length if window.kind == "past_school_days" else None
        self._denominator = denominator

    def enrolled(self, position: int) -> int:
        if self._length is None:
            return position + 1
        return min(self._length, position + 1)

    def first_position(self, position: int) -> int:
        return 0 if self._length is None else max(0, position - self._length + 1)

    def percent(self, position: int) -> float:
        if self._length is None:
            return 100.0 * bisect_right(self._positions, position) / (position + 1)
        counted = bisect_right(self._positions, position) - bisect_left(
            self._positions, self.first_position(position)
        )
        if self._denominator == "window_days" and self._length is not None:
            return 100.0 * counted / self._length
        return 100.0 * counted / self.enrolled(position)


def minutes_of(record: Record, day_minutes: int) -> int:
    """The instructional minutes a counted record missed: a whole day is the district's day, a part
    day its minutes (at most a day; a tardy without minutes is one minute, the least it can be)."""
    event = record[0]
    minutes = event.minutes_absent
    if minutes is None:
        return 1 if event.category is _TARDY else day_minutes
    return min(max(minutes, 1), day_minutes)


@dataclass(frozen=True, slots=True)
class TimeCrossing:
    """Like ``Crossing`` for hours: the records of the first period reaching the minutes needed
    (the shortest run of them that does), and ``peak``, the most minutes in any one period."""

    records: tuple[Record, ...] | None
    peak: int

    @property
    def met_on(self) -> date | None:
        return self.records[-1][0].date if self.records else None


def first_time_crossing(
    records: Sequence[Record], minutes: Sequence[int], needed: int, within: Within
) -> TimeCrossing:
    """Slide a window over the counted records, summing their minutes: the first window holding
    ``needed`` minutes crosses, on the record that brought it there."""
    start = 0
    total = 0
    peak = 0
    crossing: tuple[Record, ...] | None = None
    for end, record in enumerate(records):
        total += minutes[end]
        while not within(records[start], record):
            total -= minutes[start]
            start += 1
        peak = max(peak, total)
        if crossing is None and total >= needed:
            first, kept = end, minutes[end]
            while kept < needed:
                first -= 1
                kept += minutes[first]
            crossing = tuple(records[first : end + 1])
    return TimeCrossing(crossing, peak)


def first_consecutive_crossing(
    records: Sequence[Record], minutes: Sequence[int], needed: int
) -> TimeCrossing:
    """The first run of consecutive school hours reaching ``needed`` minutes (Ohio's "thirty or more
    consecutive hours").

    A run is whole days absent on consecutive school days (weekends and holidays are not school
    days, so they do not break it), and may end with a late arrival on the next school day, whose
    missed minutes are the start of that day. Any other part day (an early departure or a missed
    period, whose place in the day the SIS does not give) ends the run before it and starts none:
    its minutes are never assumed to touch the days around it.
    """
    run: list[Record] = []
    total = 0
    peak = 0
    crossing: tuple[Record, ...] | None = None
    previous = -2
    for index, record in enumerate(records):
        event, position = record
        whole = event.minutes_absent is None and event.category is not _TARDY
        late_arrival = event.category is _TARDY
        joins = position == previous + 1 and run and run[-1][0].minutes_absent is None
        joins = joins and run[-1][0].category is not _TARDY
        if whole or late_arrival:
            if not joins:
                run, total = [], 0
            run.append(record)
            total += minutes[index]
        else:
            run, total = [], 0
        previous = position
        peak = max(peak, total)
        if crossing is None and total >= needed:
            crossing = tuple(run)
    return TimeCrossing(crossing, peak)
