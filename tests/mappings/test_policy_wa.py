"""Washington, RCW 28A.225.020 and .030: counts within any month and the 15th-absence petition."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.mappings.attendance_factory import CALENDAR, absence, day, student
from tests.mappings.packs import attendance_csv, evaluate_cli
from truancy.mappings.engine import evaluate
from truancy.mappings.facts import AttendanceEvent, StudentAttendance
from truancy.mappings.policy import Policy, load_policy

OCTOBER = [d for d in CALENDAR if d.month == 10]
YEAR_END = CALENDAR[-1]


@pytest.fixture(scope="module")
def wa() -> Policy:
    return load_policy("WA")


def unexcused(*days: date) -> list[AttendanceEvent]:
    return [absence(d) for d in days]


def met_on(
    policy: Policy, designation: str, events: list[AttendanceEvent], as_of: date = YEAR_END
) -> date | None:
    result = evaluate(policy, student(*events), as_of)
    found = [d for d in result.designations if d.id == designation]
    return found[0].met_on if found else None


def test_one_unexcused_absence_in_a_month_is_a_parent_notice(wa: Policy) -> None:
    assert met_on(wa, "parent_notice", []) is None
    assert met_on(wa, "parent_notice", unexcused(OCTOBER[4])) == OCTOBER[4]
    assert met_on(wa, "parent_notice", [absence(OCTOBER[4], "excused")]) is None


@pytest.mark.parametrize(("count", "expected"), [(2, None), (3, 2), (4, 2)])
def test_three_in_a_month_call_for_a_conference(wa: Policy, count: int, expected: int | None) -> None:
    days = OCTOBER[::3][:count]

    assert met_on(wa, "parent_conference", unexcused(*days)) == (days[expected] if expected else None)


def test_three_across_a_month_boundary_are_not_three_in_a_month(wa: Policy) -> None:
    days = [date(2024, 9, 27), date(2024, 9, 30), date(2024, 10, 1)]

    assert met_on(wa, "parent_conference", unexcused(*days)) is None
    assert met_on(wa, "parent_notice", unexcused(*days)) == date(2024, 9, 27)


@pytest.mark.parametrize(("count", "expected"), [(6, False), (7, True), (8, True)])
def test_the_seventh_in_a_month_is_the_agreement_or_board_deadline(
    wa: Policy, count: int, expected: bool
) -> None:
    days = OCTOBER[::2][:count]

    result = met_on(wa, "engagement_board_referral", unexcused(*days))
    assert result == (days[6] if expected else None)


def spread(count: int) -> list[date]:
    """``count`` unexcused days, at most four in any month: the year count alone decides."""
    months: dict[int, list[date]] = {}
    for on in CALENDAR:
        months.setdefault(on.month, []).append(on)
    picked = [d for days in months.values() for d in days[1:17:4]]
    return sorted(picked)[:count]


@pytest.mark.parametrize(("count", "expected"), [(14, False), (15, True), (16, True)])
def test_the_petition_is_due_by_the_15th_unexcused_absence_of_the_year(
    wa: Policy, count: int, expected: bool
) -> None:
    days = spread(count)

    assert len(days) == count
    assert met_on(wa, "petition_required", unexcused(*days)) == (days[14] if expected else None)
    assert met_on(wa, "engagement_board_referral", unexcused(*days)) is None


def test_the_petition_deadline_is_in_the_school_year_evaluated_to_date(wa: Policy) -> None:
    days = spread(15)

    assert met_on(wa, "petition_required", unexcused(*days), as_of=days[14]) == days[14]
    before = CALENDAR[CALENDAR.index(days[14]) - 1]
    assert met_on(wa, "petition_required", unexcused(*days), as_of=before) is None


def test_a_district_may_read_the_petition_as_needing_seven_in_a_month(tmp_path: Path) -> None:
    path = tmp_path / "district.yaml"
    path.write_text(
        "version: 1\npolicy: WA\nrules:\n  petition_required:\n"
        "    requires: {designations: [engagement_board_referral]}\n",
        encoding="utf-8",
    )
    district = load_policy("WA", overrides=path)
    fifteen = unexcused(*spread(15))
    burst = unexcused(*OCTOBER[:7], *(d for d in spread(20) if d.month != 10))[:15]

    assert met_on(district, "petition_required", fifteen) is None
    assert met_on(district, "petition_required", burst) is not None
    assert any("requires" in warning for warning in district.warnings)


@pytest.mark.parametrize(("absences", "expected"), [(3, False), (4, True)])
def test_chronic_absence_is_10_percent_for_any_reason(wa: Policy, absences: int, expected: bool) -> None:
    events = [absence(day(n), "excused" if n % 2 else "suspension") for n in range(1, absences + 1)]

    assert (met_on(wa, "chronically_absent", events, as_of=day(40)) is not None) is expected


def test_no_chronic_absence_rate_before_ten_enrolled_days(wa: Policy) -> None:
    assert met_on(wa, "chronically_absent", [absence(day(1), "excused")], as_of=day(9)) is None
    assert met_on(wa, "chronically_absent", [absence(day(1), "excused")], as_of=day(10)) == day(10)


@settings(max_examples=200, deadline=None)
@given(st.sets(st.integers(0, 119), max_size=40))
def test_monthly_counts_match_the_calendar(missed: set[int]) -> None:
    """Each month rule is met exactly when some calendar month holds its threshold."""
    days = [CALENDAR[i] for i in sorted(missed)]
    result = evaluate(
        load_policy("WA"), StudentAttendance("S1", CALENDAR, tuple(unexcused(*days))), CALENDAR[119]
    )
    per_month: dict[tuple[int, int], int] = {}
    for on in days:
        per_month[(on.year, on.month)] = per_month.get((on.year, on.month), 0) + 1
    most = max(per_month.values(), default=0)

    assert result.holds("parent_notice") is (most >= 1)
    assert result.holds("parent_conference") is (most >= 3)
    assert result.holds("engagement_board_referral") is (most >= 7)
    assert result.holds("petition_required") is (len(days) >= 15)


def test_policy_evaluate_reports_washington_designations(tmp_path: Path) -> None:
    rows = {"S1": {d: ("unexcused", None) for d in OCTOBER[:3]}, "S2": {OCTOBER[0]: ("excused", None)}}
    by_student = evaluate_cli(
        ["--policy", "WA", "--attendance", str(attendance_csv(tmp_path, rows, days=60))]
    )

    assert by_student["S1"]["designations"] == ["parent_notice", "parent_conference"]
    conference = by_student["S1"]["evidence"]["parent_conference"]
    assert conference["citation"] == "RCW 28A.225.020(1)(b)"
    assert conference["met_on"] == OCTOBER[2].isoformat()
    assert by_student["S2"]["designations"] == []
