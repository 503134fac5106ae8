"""California end to end: attendance through the engine and the CA pack into a case and its writes."""

from __future__ import annotations

from datetime import date

from truancy.mappings.case import CaseState, OfficerAction, advance_case, conditions_from, desired_writes
from truancy.mappings.case_policy import CasePolicy
from truancy.mappings.engine import evaluate
from truancy.mappings.facts import AttendanceEvent, Category, StudentAttendance
from truancy.mappings.policy import load_policy
from truancy.mappings.writes import WriteKind

from .case_fixtures import CALENDAR, STUDENT, YEAR

POLICY = load_policy("CA")
CASE_POLICY = CasePolicy.model_validate(POLICY.case)
# Mid-year, so five absences stay under the 10% of chronic truancy and chronic absence.
ABSENCES = (date(2026, 1, 12), date(2026, 1, 14), date(2026, 1, 16), date(2026, 1, 21), date(2026, 1, 23))


def facts(as_of: date, absences: tuple[date, ...]) -> StudentAttendance:
    days = tuple(day for day in CALENDAR.days if day <= as_of)
    events = tuple(AttendanceEvent(STUDENT, day, Category.UNEXCUSED) for day in absences if day <= as_of)
    return StudentAttendance(STUDENT, days, events)


def cycle(
    case: CaseState | None, as_of: date, absences: tuple[date, ...], actions: tuple[OfficerAction, ...] = ()
) -> CaseState:
    conditions = conditions_from(case) if case is not None else {}
    found = evaluate(POLICY, facts(as_of, absences), as_of, conditions=conditions)
    advanced = advance_case(
        case, found, case_policy=CASE_POLICY, calendar=CALENDAR, school_year=YEAR, officer_actions=actions
    )
    assert advanced is not None
    return advanced


def tasks(case: CaseState, as_of: date, absences: tuple[date, ...]) -> dict[str, dict[str, str]]:
    found = evaluate(POLICY, facts(as_of, absences), as_of, conditions=conditions_from(case))
    writes = desired_writes(case, found, case_policy=CASE_POLICY, calendar=CALENDAR)
    return {w.fields["task_type"]: dict(w.fields) for w in writes if w.kind is WriteKind.TASK}


def test_ca_truancy_escalates_to_sarb_once_the_conference_is_held() -> None:
    truant = cycle(None, date(2026, 1, 16), ABSENCES)
    assert truant.tier == "notification"
    assert tasks(truant, date(2026, 1, 16), ABSENCES)["truancy_notification"]["due_date"] == "2026-01-23"

    reported_again = cycle(truant, date(2026, 1, 23), ABSENCES)
    assert reported_again.designations["truant"].occasions == 3
    assert reported_again.tier == "conference"
    assert "habitual_truant" not in reported_again.designations  # no conference effort yet (§ 48262)

    held = OfficerAction("task_done", date(2026, 1, 26), task_id="parent_conference", outcome="held")
    conferenced = cycle(reported_again, date(2026, 1, 26), ABSENCES, (held,))
    assert conditions_from(conferenced) == {"parent_conference_attempted": date(2026, 1, 26)}
    habitual = cycle(conferenced, date(2026, 1, 27), ABSENCES)
    assert habitual.tier == "sarb"
    assert set(tasks(habitual, date(2026, 1, 27), ABSENCES)) >= {"parent_conference", "sarb_referral"}
    assert cycle(habitual, date(2026, 1, 27), ABSENCES) == habitual


def test_ca_excused_absences_retract_the_designations_and_keep_the_log() -> None:
    case = cycle(None, date(2026, 1, 23), ABSENCES)
    excused = ABSENCES[:2]
    corrected = cycle(case, date(2026, 1, 28), excused)
    assert corrected.designations["truant"].retracted_on == date(2026, 1, 28)
    assert corrected.tier is None
    assert corrected.history[: len(case.history)] == case.history
    assert tasks(corrected, date(2026, 1, 28), excused) == {}
    assert cycle(corrected, date(2026, 1, 28), excused) == corrected


def test_reports_found_in_one_evaluation_keep_their_own_dates() -> None:
    """A first sync at the end of the year sees every report at once; each is still dated by the
    absence that made it (§ 48261), not all by the last one."""
    case = cycle(None, date(2026, 1, 30), ABSENCES)
    assert case.designations["truant"].report_dates == (
        date(2026, 1, 16),
        date(2026, 1, 21),
        date(2026, 1, 23),
    )
    reports = [event.on for event in case.history if event.kind == "reported"]
    assert reports == [date(2026, 1, 21), date(2026, 1, 23)]
