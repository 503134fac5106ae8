"""Ohio: habitual truancy in hours (R.C. 2151.011(B)(18)) and H.B. 96 chronic absence by grade
band (R.C. 3321.191, 3313.48), each tested from the statute's wording at its boundaries.

The fixture district's instructional day is 360 minutes (6 hours), so 30 consecutive hours are five
whole days, 42 hours in a month seven, 72 hours in a year twelve.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.mappings.attendance_factory import CALENDAR, absence, day, student, tardy
from tests.mappings.packs import DISTRICT_OVERRIDES, attendance_csv, evaluate_cli, load_pack
from truancy.daemon.policy_command import policy_app
from truancy.mappings.engine import evaluate
from truancy.mappings.facts import AttendanceEvent, Category, StudentAttendance
from truancy.mappings.policy import MappingFileError, Policy, load_policy

DAY = 360


@pytest.fixture(scope="module")
def oh() -> Policy:
    return load_pack("OH")


def unexcused(*days: date) -> list[AttendanceEvent]:
    return [absence(d) for d in days]


def habitual(policy: Policy, *events: AttendanceEvent, grade: str | None = None) -> date | None:
    result = evaluate(policy, replace(student(*events), grade=grade), day(180))
    found = [d for d in result.designations if d.id == "habitual_truant"]
    return found[0].met_on if found else None


def override(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "district.yaml"
    path.write_text("version: 1\npolicy: OH\n" + text, encoding="utf-8")
    return path


# The instructional day is the district's: the pack will not guess it.


def test_the_pack_needs_the_district_instructional_day() -> None:
    with pytest.raises(MappingFileError) as caught:
        load_policy("OH")

    message = str(caught.value)
    assert message.startswith("oh.yaml:")
    assert "parameters.school_day_minutes" in message
    assert "set `parameters: {school_day_minutes: ...}` in the district override file" in message
    assert "policy: OH" in message


def test_the_override_sets_the_day(tmp_path: Path) -> None:
    policy = load_policy("OH", overrides=override(tmp_path, "parameters: {school_day_minutes: 420}\n"))

    assert policy.parameters == {"school_day_minutes": 420}
    # 7-hour days: four whole days are 28 hours, and a 2-hour late arrival the next day makes 30.
    events = [*unexcused(day(1), day(2), day(3), day(4)), tardy(day(5), 120)]
    assert habitual(policy, *events) == day(5)
    assert habitual(policy, *events[:4], tardy(day(5), 119)) is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("parameters: {school_day_minute: 360}\n", "OH has no parameter 'school_day_minute'"),
        ("parameters: {school_day_minutes: 0}\n", "0 must be between 60 and 720"),
        ("parameters: {school_day_minutes: 1440}\n", "1440 must be between 60 and 720"),
        ("parameters: {school_day_minutes: six}\n", "school_day_minutes"),
    ],
)
def test_a_bad_parameter_is_a_clear_error(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(MappingFileError) as caught:
        load_policy("OH", overrides=override(tmp_path, text))

    assert caught.value.file == "district.yaml"
    assert problem in str(caught.value)


# Thirty or more consecutive hours.


@pytest.mark.parametrize(("days", "expected"), [(4, None), (5, 5), (6, 5)])
def test_thirty_consecutive_hours_are_five_whole_days(oh: Policy, days: int, expected: int | None) -> None:
    met_on = habitual(oh, *unexcused(*(day(n) for n in range(20, 20 + days))))

    assert met_on == (day(20 + expected - 1) if expected else None)


@pytest.mark.parametrize(("late", "expected"), [(359, False), (360, True)])
def test_a_late_arrival_ends_a_run_with_its_minutes(oh: Policy, late: int, expected: bool) -> None:
    events = [*unexcused(day(20), day(21), day(22), day(23)), tardy(day(24), late)]

    assert (habitual(oh, *events) == day(24)) is expected


def test_a_run_crosses_a_weekend_a_holiday_and_a_month_end(oh: Policy) -> None:
    # Thu 29 Aug, Fri 30 Aug, (Labor Day), Tue 3 Sep, Wed 4 Sep, Thu 5 Sep: consecutive school days.
    labor_day = [date(2024, 8, 29), date(2024, 8, 30), date(2024, 9, 3), date(2024, 9, 4), date(2024, 9, 5)]
    # Thu 26 Sep to Wed 2 Oct: no month holds 42 hours, but the run holds 30.
    month_end = [
        date(2024, 9, 26),
        date(2024, 9, 27),
        date(2024, 9, 30),
        date(2024, 10, 1),
        date(2024, 10, 2),
    ]

    assert habitual(oh, *unexcused(*labor_day)) == date(2024, 9, 5)
    assert habitual(oh, *unexcused(*month_end)) == date(2024, 10, 2)


@pytest.mark.parametrize(
    "middle",
    [absence(day(22), "excused"), absence(day(22), "suspension"), absence(day(22), minutes=300)],
    ids=["excused", "suspension", "early-departure"],
)
def test_an_excused_day_a_suspension_or_a_part_day_breaks_the_run(
    oh: Policy, middle: AttendanceEvent
) -> None:
    events = [*unexcused(day(20), day(21)), middle, *unexcused(day(23), day(24), day(25))]

    assert habitual(oh, *events) is None


@pytest.mark.parametrize("early", ["unexcused", "excused"])
def test_a_late_arrival_ends_a_run_even_beside_an_early_departure_that_day(oh: Policy, early: str) -> None:
    # The day's longer record is an early departure; the late arrival beside it still ends the run, so
    # excusing the departure neither starts nor lengthens a run (it used to raise the count).
    events = [*unexcused(day(20), day(21), day(22), day(23)), tardy(day(24), 360)]
    events.append(absence(day(24), early, minutes=400))

    assert habitual(oh, *events) == day(24)


def test_a_late_arrival_cannot_carry_a_run_into_the_next_day(oh: Policy) -> None:
    events = [*unexcused(day(20), day(21)), tardy(day(22), 300), *unexcused(day(23), day(24))]

    assert habitual(oh, *events) is None


# Forty-two or more hours in one school month (a calendar month, as this pack reads it).

OCTOBER = [date(2024, 10, d) for d in (1, 3, 7, 9, 15, 17, 21, 23)]


@pytest.mark.parametrize(("days", "expected"), [(6, None), (7, date(2024, 10, 21)), (8, date(2024, 10, 21))])
def test_forty_two_hours_in_one_month(oh: Policy, days: int, expected: date | None) -> None:
    assert habitual(oh, *unexcused(*OCTOBER[:days])) == expected


@pytest.mark.parametrize(("minutes", "expected"), [(359, None), (360, date(2024, 10, 23))])
def test_part_days_add_their_minutes_to_the_month(oh: Policy, minutes: int, expected: date | None) -> None:
    events = [*unexcused(*OCTOBER[:6]), absence(OCTOBER[7], minutes=minutes)]

    assert habitual(oh, *events) == expected


def test_forty_two_hours_across_two_months_are_not_one_month(oh: Policy) -> None:
    days = [date(2024, 9, 23), date(2024, 9, 25), date(2024, 9, 27), date(2024, 10, 1), date(2024, 10, 3)]
    days += [date(2024, 10, 7), date(2024, 10, 9)]

    assert habitual(oh, *unexcused(*days)) is None


def test_a_district_may_read_the_school_month_as_four_school_weeks(tmp_path: Path) -> None:
    text = (
        "parameters: {school_day_minutes: 360}\nrules:\n  habitual_truant:\n    alternatives:\n"
        "      - {window: {rolling_school_days: 20}, threshold: 42}\n"
        "      - {window: school_year, threshold: 72}\n"
    )
    district = load_policy("OH", overrides=override(tmp_path, text))
    days = [date(2024, 9, 23), date(2024, 9, 25), date(2024, 9, 27), date(2024, 10, 1), date(2024, 10, 3)]
    days += [date(2024, 10, 7), date(2024, 10, 9)]

    assert habitual(district, *unexcused(*days)) == date(2024, 10, 9)
    assert any("habitual_truant.window" in warning for warning in district.warnings)


# Seventy-two or more hours in a school year.

SPREAD = [day(n) for n in range(3, 180, 12)]  # one absence every 12 school days: never 42 in a month


@pytest.mark.parametrize(("days", "expected"), [(11, False), (12, True)])
def test_seventy_two_hours_in_the_year(oh: Policy, days: int, expected: bool) -> None:
    result = evaluate(oh, student(*unexcused(*SPREAD[:days])), day(180))

    assert result.holds("habitual_truant") is expected
    assert result.counts["habitual_truant.hours"] == (72.0 if expected else 6.0)
    if expected:
        (designation,) = [d for d in result.designations if d.id == "habitual_truant"]
        assert designation.met_on == SPREAD[11]
        assert designation.threshold == 72
        assert designation.unit == "hours"
        assert designation.rule == (
            "at least 72 hours (unexcused, tardy; part days of 1+ min) in school_year"
        )
        assert len(designation.evidence) == 12


def test_excused_absences_are_never_truancy(oh: Policy) -> None:
    assert habitual(oh, *(absence(day(n), "excused") for n in range(1, 40))) is None


# Chronically absent: 10% of the R.C. 3313.48 minimum hours for the student's grade.


def chronic(policy: Policy, events: list[AttendanceEvent], grade: str | None) -> bool:
    result = evaluate(policy, replace(student(*events), grade=grade), day(180))
    return result.holds("chronically_absent")


def excused_days(count: int) -> list[AttendanceEvent]:
    return [absence(day(n), "excused") for n in range(1, 2 * count, 2)]


@pytest.mark.parametrize("grade", ["K", "3", "6"])
@pytest.mark.parametrize(("extra", "expected"), [(59, False), (60, True)])
def test_k_to_6_at_91_hours_for_any_reason(oh: Policy, grade: str, extra: int, expected: bool) -> None:
    # 15 whole days are 90 hours; the 91st hour comes from a part day.
    events = [*excused_days(15), absence(day(100), "excused", minutes=extra)]

    assert chronic(oh, events, grade) is expected


@pytest.mark.parametrize("grade", ["7", "12"])
@pytest.mark.parametrize(("extra", "expected"), [(245, False), (246, True)])
def test_7_to_12_at_100_1_hours(oh: Policy, grade: str, extra: int, expected: bool) -> None:
    # 16 whole days are 96 hours; 100.1 hours are 6,006 minutes.
    events = [*excused_days(16), absence(day(100), "unexcused", minutes=extra)]

    assert chronic(oh, events, grade) is expected


def test_a_student_of_unknown_grade_is_held_to_the_highest_band(oh: Policy) -> None:
    events = excused_days(16)  # 96 hours: over K-6's 91, under 7-12's 100.1

    assert chronic(oh, events, "5")
    assert not chronic(oh, events, None)
    result = evaluate(oh, replace(student(*events), grade="5"), day(180))
    (designation,) = [d for d in result.designations if d.id == "chronically_absent"]
    assert designation.threshold == 91
    assert designation.count == 96


def test_suspensions_and_late_arrivals_count_toward_chronic_absence(oh: Policy) -> None:
    events = [absence(day(n), "suspension") for n in range(1, 31, 2)]
    events.append(tardy(day(100), 60))

    assert chronic(oh, events, "4")
    assert not chronic(oh, events[:-1], "4")


def test_a_half_day_kindergarten_band_is_the_district_s_choice(tmp_path: Path) -> None:
    text = (
        "parameters: {school_day_minutes: 180}\nrules:\n  chronically_absent:\n    grade_thresholds:\n"
        "      - {grades: [K], threshold: 45.5}\n"
        "      - {grades: ['1', '2', '3', '4', '5', '6'], threshold: 91}\n"
        "      - {grades: ['7', '8', '9', '10', '11', '12'], threshold: 100.1}\n"
    )
    district = load_policy("OH", overrides=override(tmp_path, text))
    fifteen = excused_days(15)  # 15 half days of 3 hours: 45 hours
    sixteen = excused_days(16)

    assert not chronic(district, fifteen, "K")
    assert chronic(district, sixteen, "K")
    assert not chronic(district, sixteen, "1")


def test_overlapping_grade_bands_are_rejected(tmp_path: Path) -> None:
    text = (
        "parameters: {school_day_minutes: 360}\nrules:\n  chronically_absent:\n    grade_thresholds:\n"
        "      - {grades: [K, '1'], threshold: 45.5}\n      - {grades: ['1', '2'], threshold: 91}\n"
    )
    with pytest.raises(MappingFileError, match="grade 1 is in more than one of grade_thresholds"):
        load_policy("OH", overrides=override(tmp_path, text))


# Properties: the engine agrees with a plain day-by-day reading of the three hour criteria.


def oracle(events: list[AttendanceEvent], as_of: date) -> date | None:
    """The first school day on which 30 consecutive, 42 in a calendar month or 72 in the year held."""
    by_day = {event.date: event for event in events}
    run = 0
    month: dict[tuple[int, int], int] = {}
    year = 0
    for on in CALENDAR:
        if on > as_of:
            return None
        event = by_day.get(on)
        minutes = 0
        if event is not None and event.category in (Category.UNEXCUSED, Category.TARDY):
            minutes = DAY if event.minutes_absent is None else min(event.minutes_absent, DAY)
        whole = event is not None and event.category is Category.UNEXCUSED and event.minutes_absent is None
        late = event is not None and event.category is Category.TARDY
        run = run + minutes if whole else (run + minutes if late else 0)
        key = (on.year, on.month)
        month[key] = month.get(key, 0) + minutes
        year += minutes
        if run >= 30 * 60 or month[key] >= 42 * 60 or year >= 72 * 60:
            return on
        if late:
            run = 0
    return None


@st.composite
def years(draw: st.DrawFn) -> tuple[list[AttendanceEvent], date]:
    missed = draw(st.sets(st.integers(0, 119), max_size=30))
    events: list[AttendanceEvent] = []
    for index in sorted(missed):
        category = draw(st.sampled_from([Category.UNEXCUSED, Category.EXCUSED, Category.TARDY]))
        partial = category is Category.TARDY or draw(st.booleans())
        minutes = draw(st.integers(1, 400)) if partial else None
        events.append(AttendanceEvent("S1", CALENDAR[index], category, minutes))
    return events, CALENDAR[draw(st.integers(0, 119))]


@settings(max_examples=300, deadline=None)
@given(years())
def test_habitual_truancy_matches_a_day_by_day_reading(case: tuple[list[AttendanceEvent], date]) -> None:
    events, as_of = case
    result = evaluate(load_pack("OH"), StudentAttendance("S1", CALENDAR, tuple(events)), as_of)
    found = [d for d in result.designations if d.id == "habitual_truant"]

    assert (found[0].met_on if found else None) == oracle(events, as_of)


# The command line, with the district override.


def test_policy_evaluate_reports_ohio_designations_in_hours(tmp_path: Path) -> None:
    week = {day(n): ("unexcused", None) for n in range(20, 25)}
    late = {day(n): ("unexcused", None) for n in range(20, 24)} | {day(24): ("tardy", 359)}
    csv = attendance_csv(tmp_path, {"S1": week, "S2": late}, days=60)
    args = ["--policy", "OH", "--attendance", str(csv), "--overrides", str(DISTRICT_OVERRIDES["OH"])]
    by_student = evaluate_cli(args)

    assert by_student["S1"]["designations"] == ["habitual_truant"]
    evidence = by_student["S1"]["evidence"]["habitual_truant"]
    assert evidence["citation"].startswith("R.C. 2151.011(B)(18)")
    assert evidence["met_on"] == day(24).isoformat()
    assert evidence["unit"] == "hours"
    assert evidence["count"] == 30.0
    assert [r["date"] for r in evidence["records"]] == [day(n).isoformat() for n in range(20, 25)]
    assert by_student["S2"]["designations"] == []
    assert by_student["S2"]["counts"]["habitual_truant.hours"] == pytest.approx(29.98)


def test_policy_evaluate_without_the_day_length_names_the_parameter(tmp_path: Path) -> None:
    csv = attendance_csv(tmp_path, {"S1": {}}, days=10)
    result = CliRunner().invoke(policy_app, ["evaluate", "--policy", "OH", "--attendance", str(csv)])

    assert result.exit_code == 2
    assert "school_day_minutes" in result.stderr


def test_policy_evaluate_takes_the_grade_from_the_csv(tmp_path: Path) -> None:
    """96 hours missed: chronically absent in grade 4 (91 hours), not in grade 9 (100.1 hours)."""
    lines = ["student_id,date,category,minutes_absent,code,school_id,grade"]
    missed = {day(n) for n in range(1, 33, 2)}
    for student_id, grade in (("S4", "4"), ("S9", "09")):
        for on in CALENDAR[:60]:
            category = "excused" if on in missed else "present"
            lines.append(f"{student_id},{on.isoformat()},{category},,,HS1,{grade}")
    csv = tmp_path / "graded.csv"
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ["--policy", "OH", "--attendance", str(csv), "--overrides", str(DISTRICT_OVERRIDES["OH"])]
    by_student = evaluate_cli(args)

    assert by_student["S4"]["designations"] == ["chronically_absent"]
    assert by_student["S4"]["evidence"]["chronically_absent"]["threshold"] == 91
    assert by_student["S9"]["designations"] == []
    assert by_student["S9"]["counts"]["chronically_absent.hours"] == 96
