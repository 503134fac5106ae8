"""The schedule: school hours in the district's zone, a nightly reconcile, nothing on days off."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from truancy.daemon.schedule import Schedule, ScheduleError, district_jitter, weekday_test
from truancy.daemon.settings import ScheduleSettings

LA = ZoneInfo("America/Los_Angeles")


def schedule(**overrides: object) -> Schedule:
    settings = ScheduleSettings.model_validate({"jitter_seconds": 0, **overrides})
    return Schedule(settings, "America/Los_Angeles", "district-a", weekday_test(settings))


def local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=LA)


MONDAY = date(2026, 3, 2)


def test_given_school_hours_when_planning_then_runs_every_interval_in_local_time() -> None:
    plan = schedule(interval_minutes=30)
    run = plan.next_run(local(MONDAY, time(9, 10)))
    assert run.at == local(MONDAY, time(9, 30)).astimezone(UTC)
    assert not run.full


def test_given_the_evening_when_planning_then_the_next_run_is_the_nightly_reconcile() -> None:
    run = schedule().next_run(local(MONDAY, time(18, 0)))
    assert run.at == local(MONDAY + timedelta(days=1), time(2, 0)).astimezone(UTC)
    assert run.full


def test_given_friday_evening_when_planning_then_nothing_runs_until_monday() -> None:
    friday = MONDAY + timedelta(days=4)
    run = schedule().next_run(local(friday, time(18, 0)))
    assert run.at == local(friday + timedelta(days=3), time(2, 0)).astimezone(UTC)


def test_given_weekend_runs_asked_for_when_planning_then_saturday_runs() -> None:
    friday = MONDAY + timedelta(days=4)
    run = schedule(run_on_non_school_days=True).next_run(local(friday, time(18, 0)))
    assert run.at == local(friday + timedelta(days=1), time(2, 0)).astimezone(UTC)


def test_given_a_calendar_holiday_when_planning_then_the_day_is_skipped() -> None:
    settings = ScheduleSettings(jitter_seconds=0)
    holiday = MONDAY + timedelta(days=1)
    plan = Schedule(settings, "America/Los_Angeles", "d", lambda day: day != holiday)
    run = plan.next_run(local(MONDAY, time(18, 0)))
    assert run.at == local(holiday + timedelta(days=1), time(2, 0)).astimezone(UTC)


def test_given_a_dst_change_when_planning_then_school_hours_stay_local() -> None:
    after_change = date(2026, 3, 9)  # US clocks moved forward on 2026-03-08
    run = schedule().next_run(local(after_change, time(6, 0)))
    assert run.at.astimezone(LA).time() == time(7, 0)
    assert run.at.utcoffset() == timedelta(0)


def test_jitter_is_stable_per_district_and_spreads_districts() -> None:
    offsets = {district_jitter(f"district-{n}", 120) for n in range(20)}
    assert district_jitter("district-1", 120) == district_jitter("district-1", 120)
    assert len(offsets) == 20
    assert all(timedelta(0) <= o < timedelta(seconds=120) for o in offsets)
    settings = ScheduleSettings(jitter_seconds=120)
    plan = Schedule(settings, "America/Los_Angeles", "district-1", weekday_test(settings))
    run = plan.next_run(local(MONDAY, time(9, 10)))
    assert run.at == local(MONDAY, time(9, 30)).astimezone(UTC) + district_jitter("district-1", 120)


def test_given_no_school_days_at_all_when_planning_then_a_clear_error() -> None:
    settings = ScheduleSettings()
    plan = Schedule(settings, "America/Los_Angeles", "d", lambda _day: False)
    with pytest.raises(ScheduleError, match="run_on_non_school_days"):
        plan.next_run(local(MONDAY, time(9, 0)))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"school_days": ["mon", "funday"]}, "funday"),
        ({"school_day_start": "17:00", "school_day_end": "07:00"}, "later than"),
    ],
)
def test_bad_schedule_settings_are_rejected(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ScheduleSettings.model_validate(overrides)
