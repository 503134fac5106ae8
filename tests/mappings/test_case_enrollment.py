"""Enrollment ends the case's clock: a withdrawal closes the case, a re-enrollment reopens it."""

from __future__ import annotations

from datetime import date

from tests.mappings.case_fixtures import CALENDAR, CASE_POLICY, YEAR, designation, determination
from truancy.mappings.case import (
    CaseState,
    advance_case,
    desired_writes,
    end_enrollment,
    reopen_on_reenrollment,
    withdrawn,
)
from truancy.mappings.writes import WriteKind

TRUANT_ON = date(2025, 10, 6)
EXIT = date(2026, 1, 13)
RETURN = date(2026, 3, 2)


def _truant_case(as_of: date = date(2025, 12, 1), occasions: int = 2) -> CaseState:
    found = determination(as_of, designation("truant", TRUANT_ON, occasions=occasions))
    case = advance_case(None, found, case_policy=CASE_POLICY, calendar=CALENDAR, school_year=YEAR)
    assert case is not None
    return case


def _open_tasks(case: CaseState, as_of: date) -> list[str]:
    found = determination(as_of, designation("truant", TRUANT_ON, occasions=2))
    writes = desired_writes(case, found, case_policy=CASE_POLICY, calendar=CALENDAR)
    return [
        w.fields["task_type"] for w in writes if w.kind is WriteKind.TASK and w.fields["status"] == "open"
    ]


def test_a_withdrawal_closes_the_case_as_of_the_exit_with_a_note_naming_it() -> None:
    case = end_enrollment(_truant_case(), EXIT, CASE_POLICY)

    assert case.status == "closed"
    assert withdrawn(case)
    last = case.history[-1]
    assert (last.kind, last.on) == ("withdrawn", EXIT)
    assert last.detail == (
        "Case for school year 2025-26 closed as of 2026-01-13: the student's enrollment ended that day "
        "(withdrawal or transfer). Open tasks cancelled; no step is taken after that date."
    )
    assert _open_tasks(case, EXIT) == []
    writes = desired_writes(
        case,
        determination(EXIT, designation("truant", TRUANT_ON)),
        case_policy=CASE_POLICY,
        calendar=CALENDAR,
    )
    notes = [w.fields for w in writes if w.kind is WriteKind.NOTE and w.fields["category"] == "case_closed"]
    assert [n["note_date"] for n in notes] == ["2026-01-13"]


def test_a_closed_case_stays_as_it_is_and_later_determinations_start_nothing() -> None:
    closed = end_enrollment(_truant_case(), EXIT, CASE_POLICY)
    assert end_enrollment(closed, date(2026, 2, 2), CASE_POLICY) is closed
    later = determination(date(2026, 4, 1), designation("truant", TRUANT_ON, occasions=5))
    later = determination(
        date(2026, 4, 1), *later.designations, designation("habitual_truant", date(2026, 3, 1))
    )

    after = advance_case(closed, later, case_policy=CASE_POLICY, calendar=CALENDAR, school_year=YEAR)

    assert after == closed


def test_a_re_enrollment_reopens_the_case_and_its_deadlines_count_from_the_return() -> None:
    before = _truant_case()
    assert sorted(_open_tasks(before, date(2025, 12, 1))) == ["parent_conference", "truancy_notification"]
    closed = end_enrollment(before, EXIT, CASE_POLICY)

    reopened = reopen_on_reenrollment(closed, RETURN, CASE_POLICY)

    assert reopened.status == "open"
    assert not withdrawn(reopened)
    assert (reopened.history[-1].kind, reopened.history[-1].on) == ("reenrolled", RETURN)
    assert set(reopened.tier_entries().values()) == {RETURN}
    assert sorted(_open_tasks(reopened, RETURN)) == ["parent_conference", "truancy_notification"]
    found = determination(RETURN, designation("truant", TRUANT_ON, occasions=2))
    due = {
        w.fields["task_type"]: w.fields["due_date"]
        for w in desired_writes(reopened, found, case_policy=CASE_POLICY, calendar=CALENDAR)
        if w.kind is WriteKind.TASK
    }
    assert due == {
        "truancy_notification": CALENDAR.add_school_days(RETURN, 5).isoformat(),
        "parent_conference": CALENDAR.add_school_days(RETURN, 10).isoformat(),
    }
    assert reopen_on_reenrollment(reopened, date(2026, 3, 9), CASE_POLICY) is reopened


def test_only_a_withdrawal_is_undone_by_a_re_enrollment() -> None:
    case = _truant_case()
    next_year = advance_case(
        case,
        determination(date(2026, 8, 20)),
        case_policy=CASE_POLICY,
        calendar=CALENDAR,
        school_year="2026-27",
    )
    assert next_year is not None
    assert next_year.status == "closed"

    assert reopen_on_reenrollment(next_year, RETURN, CASE_POLICY) is next_year
    assert reopen_on_reenrollment(case, RETURN, CASE_POLICY) is case
