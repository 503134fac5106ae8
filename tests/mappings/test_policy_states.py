"""TX, PA, IL, FL, NY and federal packs, each tested from its statute's wording and boundaries."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.mappings.attendance_factory import CALENDAR, absence, day, student, tardy
from truancy.mappings.engine import evaluate
from truancy.mappings.facts import AttendanceEvent
from truancy.mappings.policy import Policy, load_policy


@pytest.fixture(scope="module", params=["TX", "PA", "IL", "FL", "NY", "FEDERAL"])
def any_pack(request: pytest.FixtureRequest) -> Policy:
    return load_policy(str(request.param))


def unexcused_on(*days: date) -> list[AttendanceEvent]:
    return [absence(d) for d in days]


# Texas: § 25.095(b), three days or parts of days within a four-week period.


def test_tx_three_absences_within_four_weeks_warn_the_parent() -> None:
    tx = load_policy("TX")
    result = evaluate(
        tx, student(*unexcused_on(date(2024, 9, 9), date(2024, 9, 16), date(2024, 10, 4))), day(180)
    )

    (warning,) = result.designations
    assert warning.id == "parent_warning"
    assert warning.met_on == date(2024, 10, 4)
    assert warning.citation.startswith("Tex. Educ. Code § 25.095(b)")


def test_tx_the_third_absence_on_day_29_falls_outside_the_four_weeks() -> None:
    tx = load_policy("TX")
    result = evaluate(
        tx, student(*unexcused_on(date(2024, 9, 9), date(2024, 9, 16), date(2024, 10, 7))), day(180)
    )

    assert not result.holds("parent_warning")
    assert result.counts["parent_warning.days_or_parts"] == 2


def test_tx_parts_of_days_count_and_a_holiday_week_inside_the_window_changes_nothing() -> None:
    tx = load_policy("TX")
    events = [
        absence(date(2024, 11, 12), minutes=50),
        absence(date(2024, 11, 19)),
        absence(date(2024, 12, 6)),
    ]

    assert evaluate(tx, student(*events), day(180)).holds("parent_warning")


def test_tx_late_arrivals_are_not_absences() -> None:
    tx = load_policy("TX")
    events = [tardy(date(2024, 9, 9), 40), tardy(date(2024, 9, 10), 40), tardy(date(2024, 9, 11), 40)]

    assert not evaluate(tx, student(*events), day(180)).holds("parent_warning")


@pytest.mark.parametrize(("absences", "expected"), [(9, False), (10, True)])
def test_tx_court_referral_at_ten_days_within_six_months(absences: int, expected: bool) -> None:
    tx = load_policy("TX")
    days = [day(n) for n in range(10, 10 + 12 * absences, 12)]
    result = evaluate(tx, student(*unexcused_on(*days)), day(180))

    assert result.holds("court_referral") is expected
    if expected:
        (referral,) = [d for d in result.designations if d.id == "court_referral"]
        assert referral.met_on == days[9]


def test_tx_ten_absences_spread_over_more_than_six_months_are_not_a_referral() -> None:
    tx = load_policy("TX")
    days = [date(2024, 8, 19), *[d for d in CALENDAR if d >= date(2025, 2, 19)][:9]]
    result = evaluate(tx, student(*unexcused_on(*days)), day(180))

    assert not result.holds("court_referral")
    assert result.counts["court_referral.days_or_parts"] == 9


# Pennsylvania: 24 P.S. § 13-1326, three and six school days of unexcused absence.


@pytest.mark.parametrize(
    ("absences", "designations"),
    [(2, ()), (3, ("truant",)), (5, ("truant",)), (6, ("truant", "habitually_truant"))],
)
def test_pa_truant_at_three_habitually_truant_at_six(absences: int, designations: tuple[str, ...]) -> None:
    pa = load_policy("PA")
    result = evaluate(pa, student(*unexcused_on(*(day(n) for n in range(1, absences + 1)))), day(180))

    assert tuple(d.id for d in result.designations) == designations


def test_pa_counts_school_days_not_partial_absences() -> None:
    pa = load_policy("PA")
    events = [absence(day(1)), absence(day(2)), absence(day(3), minutes=200)]

    assert not evaluate(pa, student(*events), day(180)).holds("truant")


# Illinois: 105 ILCS 5/26-2a over the past 180 school days; 5/26-18 chronic absence.


@pytest.mark.parametrize(
    ("absences", "designations"),
    [(1, ()), (2, ("truant",)), (8, ("truant",)), (9, ("chronic_truant",))],
)
def test_il_truant_is_more_than_1_but_less_than_5_percent_of_180_days(
    absences: int, designations: tuple[str, ...]
) -> None:
    il = load_policy("IL")
    result = evaluate(il, student(*unexcused_on(*(day(n) for n in range(1, absences + 1)))), day(180))

    assert tuple(d.id for d in result.designations) == designations


def test_il_truancy_status_dates_from_the_second_absence() -> None:
    il = load_policy("IL")
    result = evaluate(il, student(*unexcused_on(day(10), day(30))), day(100))

    (truant,) = result.designations
    assert truant.met_on == day(30)
    assert result.counts["truant.percent_of_enrolled_days"] == pytest.approx(100 * 2 / 180, abs=0.01)


@pytest.mark.parametrize(("absences", "expected"), [(17, False), (18, True)])
def test_il_chronic_absence_counts_any_cause_including_suspension(absences: int, expected: bool) -> None:
    il = load_policy("IL")
    events = [absence(day(n), "excused" if n % 2 else "suspension") for n in range(1, absences + 1)]

    assert evaluate(il, student(*events), day(180)).holds("chronically_absent") is expected


# Florida: § 1003.26(1)(b) and § 1003.01.

OCTOBER_FIVE = (date(2024, 10, 1), date(2024, 10, 2), date(2024, 10, 3), date(2024, 10, 4), date(2024, 10, 7))
NINETY_DAYS = (
    date(2024, 9, 4),
    date(2024, 10, 1),
    date(2024, 10, 8),
    date(2024, 10, 15),
    date(2024, 10, 22),
    date(2024, 11, 5),
    date(2024, 11, 12),
    date(2024, 11, 19),
    date(2024, 11, 20),
)


def test_fl_five_unexcused_absences_in_a_calendar_month_are_a_pattern() -> None:
    fl = load_policy("FL")
    result = evaluate(fl, student(*unexcused_on(*OCTOBER_FIVE)), day(180))

    (pattern,) = result.designations
    assert pattern.met_on == date(2024, 10, 7)
    assert pattern.threshold == 5


def test_fl_five_absences_across_two_months_are_not() -> None:
    fl = load_policy("FL")
    days = (date(2024, 9, 26), date(2024, 9, 27), date(2024, 9, 30), date(2024, 10, 1), date(2024, 10, 2))

    assert not evaluate(fl, student(*unexcused_on(*days)), day(180)).holds("pattern_of_nonattendance")


def test_fl_ten_absences_within_90_calendar_days_are_a_pattern() -> None:
    fl = load_policy("FL")
    result = evaluate(fl, student(*unexcused_on(*NINETY_DAYS, date(2024, 12, 2))), day(180))

    (pattern,) = result.designations
    assert pattern.met_on == date(2024, 12, 2)
    assert pattern.threshold == 10
    assert pattern.rule == "at least 10 days (unexcused) in rolling_calendar_days: 90"
    assert len(pattern.evidence) == 10


def test_fl_the_tenth_absence_on_day_91_is_outside_the_window() -> None:
    fl = load_policy("FL")
    result = evaluate(fl, student(*unexcused_on(*NINETY_DAYS, date(2024, 12, 3))), day(180))

    assert not result.holds("pattern_of_nonattendance")


@pytest.mark.parametrize(("absences", "expected"), [(14, False), (15, True)])
def test_fl_habitual_truant_at_15_within_90_calendar_days(absences: int, expected: bool) -> None:
    fl = load_policy("FL")
    days = [day(n) for n in range(1, 4 * absences, 4)]

    assert evaluate(fl, student(*unexcused_on(*days)), day(180)).holds("habitual_truant") is expected


# New York and federal: chronic absence; NY truancy thresholds are the district's.


def test_ny_truancy_waits_for_the_district_threshold(tmp_path: Path) -> None:
    events = unexcused_on(*(day(n) for n in range(1, 8)))
    assert not evaluate(load_policy("NY"), student(*events), day(180)).holds("truant")

    override = tmp_path / "district.yaml"
    override.write_text("version: 1\npolicy: NY\nrules:\n  truant: {enabled: true, threshold: 5}\n")
    district = load_policy("NY", overrides=override)
    (truant,) = [d for d in evaluate(district, student(*events), day(180)).designations if d.id == "truant"]
    assert truant.met_on == day(5)


@pytest.mark.parametrize("code", ["NY", "FEDERAL"])
@pytest.mark.parametrize(("absences", "expected"), [(3, False), (4, True)])
def test_chronic_absence_is_10_percent_of_enrolled_days_for_any_reason(
    code: str, absences: int, expected: bool
) -> None:
    events = [absence(day(n), "excused") for n in range(1, absences + 1)]

    assert evaluate(load_policy(code), student(*events), day(40)).holds("chronically_absent") is expected


def test_a_perfect_attendance_record_meets_nothing(any_pack: Policy) -> None:
    result = evaluate(any_pack, student(), day(180))

    assert result.designations == ()
    assert result.counts["enrolled_days"] == 180
