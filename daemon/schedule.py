"""When the next sync cycle runs: school hours in the district's time zone, and a nightly reconcile.

Pure functions of the settings, the current instant and a school-day test, so the daemon loop and the
tests share one answer. Each district gets a fixed jitter (derived from its id), so many districts on
one host spread their requests out instead of firing together, and each keeps a stable rhythm.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from truancy.daemon.settings import WEEKDAYS, ScheduleSettings

SchoolDayTest = Callable[[date], bool]
SEARCH_DAYS = 400
"""How far ahead to look for a school day before calling the schedule empty."""


class ScheduleError(ValueError):
    """A schedule that never runs (no school days and no non-school-day runs)."""


@dataclass(frozen=True)
class PlannedRun:
    at: datetime
    """When to start, in UTC."""
    full: bool
    """A full reconcile (every stream re-read from scratch) rather than an incremental cycle."""


def district_jitter(district_id: str, jitter_seconds: float) -> timedelta:
    """A stable offset in [0, jitter_seconds) for this district."""
    if jitter_seconds <= 0:
        return timedelta(0)
    digest = hashlib.sha256(district_id.encode("utf-8")).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2**64
    return timedelta(seconds=fraction * jitter_seconds)


def weekday_test(settings: ScheduleSettings) -> SchoolDayTest:
    """School days by weekday alone (used when the SIS calendar says nothing about a date)."""
    days = {WEEKDAYS.index(day) for day in settings.school_days}
    return lambda day: day.weekday() in days


class Schedule:
    def __init__(
        self, settings: ScheduleSettings, timezone: str, district_id: str, is_school_day: SchoolDayTest
    ) -> None:
        self.settings = settings
        self.zone = ZoneInfo(timezone)
        self.jitter = district_jitter(district_id, settings.jitter_seconds)
        self.is_school_day = is_school_day

    def next_run(self, after: datetime) -> PlannedRun:
        """The first run strictly after ``after`` (an aware datetime)."""
        start = after.astimezone(self.zone).date() - timedelta(days=1)
        for offset in range(SEARCH_DAYS):
            for run in self._runs_on(start + timedelta(days=offset)):
                if run.at > after:
                    return run
        raise ScheduleError(
            f"no run in the next {SEARCH_DAYS} days: the calendar has no school days; set "
            "schedule.run_on_non_school_days = true or check schedule.school_days"
        )

    def _runs_on(self, day: date) -> list[PlannedRun]:
        if not (self.settings.run_on_non_school_days or self.is_school_day(day)):
            return []
        runs = [PlannedRun(self._instant(day, self.settings.nightly_reconcile_at), full=True)]
        step = timedelta(minutes=self.settings.interval_minutes)
        slot = datetime.combine(day, self.settings.school_day_start)
        end = datetime.combine(day, self.settings.school_day_end)
        while slot <= end:
            runs.append(PlannedRun(self._instant(day, slot.time()), full=False))
            slot += step
        return sorted(runs, key=lambda run: run.at)

    def _instant(self, day: date, local: time) -> datetime:
        return datetime.combine(day, local, tzinfo=self.zone).astimezone(UTC) + self.jitter
