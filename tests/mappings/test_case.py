"""The case lifecycle: opening, escalation, corrections, officer work, year end, and storage."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest

from truancy.mappings.case import (
    CaseState,
    OfficerAction,
    advance_case,
    case_from_dict,
    case_to_dict,
    conditions_from,
    desired_writes,
)
from truancy.mappings.determination import Determination
from truancy.mappings.writes import DesiredWrite, WriteKind, sync_key

from .case_fixtures import CALENDAR, CASE_POLICY, STUDENT, YEAR, designation, determination

TRUANT_ON = date(2025, 11, 7)  # a Friday; the next Tuesday is Veterans Day
FIRST_THREE = (date(2025, 11, 3), date(2025, 11, 5), TRUANT_ON)


def advance(
    previous: CaseState | None,
    found: Determination,
    *,
    actions: tuple[OfficerAction, ...] = (),
    school_year: str = YEAR,
) -> CaseState | None:
    return advance_case(
        previous,
        found,
        case_policy=CASE_POLICY,
        calendar=CALENDAR,
        school_year=school_year,
        officer_actions=actions,
    )


def writes_of(case: CaseState, found: Determination) -> dict[tuple[WriteKind, str], DesiredWrite]:
    """Writes by (kind, logical name): flag type, task type, or note category and seq."""
    result: dict[tuple[WriteKind, str], DesiredWrite] = {}
    for write in desired_writes(case, found, case_policy=CASE_POLICY, calendar=CALENDAR):
        name = write.fields.get("flag_type") or write.fields.get("task_type") or write.fields["note_text"]
        result[(write.kind, name)] = write
    return result


def kinds(case: CaseState) -> list[str]:
    return [event.kind for event in case.history]


def truant(as_of: date = TRUANT_ON, occasions: int = 1, *later: date) -> Determination:
    return determination(
        as_of, designation("truant", TRUANT_ON, occasions=occasions, absences=FIRST_THREE + later)
    )


def open_case(found: Determination | None = None) -> CaseState:
    case = advance(None, found or truant())
    assert case is not None
    return case


def test_no_designation_and_no_case_opens_nothing() -> None:
    assert advance(None, determination(TRUANT_ON)) is None


def test_first_designation_opens_a_case_in_the_first_tier() -> None:
    case = open_case()
    assert (case.status, case.tier, case.school_year) == ("open", "notification", YEAR)
    assert kinds(case) == ["designated", "tier_entered"]
    assert [e.seq for e in case.history] == [1, 2]
    assert case.designations["truant"].met_on == TRUANT_ON


def test_advancing_again_with_the_same_determination_changes_nothing() -> None:
    found = truant(date(2025, 11, 20), 2, date(2025, 11, 18))
    once = advance(None, found)
    assert once is not None
    twice = advance(once, found)
    assert twice == once
    assert desired_writes(twice, found, case_policy=CASE_POLICY, calendar=CALENDAR) == desired_writes(
        once, found, case_policy=CASE_POLICY, calendar=CALENDAR
    )


def test_flag_note_and_task_carry_the_evidence_without_anything_else() -> None:
    case = open_case()
    writes = writes_of(case, truant())
    flag = writes[(WriteKind.FLAG, "truant")]
    assert flag.fields["status"] == "active"
    assert flag.fields["since_date"] == "2025-11-07"
    assert "2025-11-03 unexcused, 2025-11-05 unexcused, 2025-11-07 unexcused" in flag.fields["detail"]
    assert "threshold 3" in flag.fields["detail"]
    task = writes[(WriteKind.TASK, "truancy_notification")]
    assert task.fields["status"] == "open"
    assert task.fields["detail"].startswith("Checklist: that the pupil is truant; alternative programs.")
    notes = [w for w in writes.values() if w.kind is WriteKind.NOTE]
    assert [n.fields["category"] for n in notes] == ["designation", "tier"]
    assert all(
        STUDENT not in w.fields.get("detail", "") + w.fields.get("note_text", "") for w in writes.values()
    )


def test_due_dates_count_school_days_past_a_holiday() -> None:
    task = writes_of(open_case(), truant())[(WriteKind.TASK, "truancy_notification")]
    # Fri 7 Nov + 5 school days: Mon 10, (Tue 11 is Veterans Day), Wed 12, Thu 13, Fri 14, Mon 17.
    assert task.fields["due_date"] == "2025-11-17"
    assert "by 2025-11-17" in open_case().history[1].detail


def test_sync_keys_are_stable_across_cycles_and_distinct() -> None:
    found = truant(date(2025, 11, 20), 2, date(2025, 11, 18))
    case = open_case(found)
    writes = desired_writes(case, found, case_policy=CASE_POLICY, calendar=CALENDAR)
    keys = [w.sync_key for w in writes]
    assert len(keys) == len(set(keys))
    assert sync_key(WriteKind.FLAG, STUDENT, YEAR, "truant") in keys
    assert sync_key(WriteKind.TASK, STUDENT, YEAR, "parent_conference") in keys
    # Notes are keyed by what they say: a case rebuilt from nothing (a lost store) derives the same keys.
    rebuilt = advance(None, found)
    assert rebuilt is not None
    again = desired_writes(rebuilt, found, case_policy=CASE_POLICY, calendar=CALENDAR)
    notes = {w.sync_key for w in writes if w.kind is WriteKind.NOTE}
    assert notes
    assert notes == {w.sync_key for w in again if w.kind is WriteKind.NOTE}


def test_a_further_report_escalates_to_the_conference_tier_dated_by_its_absence() -> None:
    case = open_case()
    second = truant(date(2025, 11, 24), 2, date(2025, 11, 20))
    escalated = advance(case, second)
    assert escalated is not None
    assert escalated.tier == "conference"
    assert kinds(escalated) == ["designated", "tier_entered", "reported", "tier_entered"]
    assert escalated.history[:2] == case.history
    assert escalated.history[2].on == date(2025, 11, 20)
    task = writes_of(escalated, second)[(WriteKind.TASK, "parent_conference")]
    # Thu 20 Nov + 10 school days (no holiday in this stretch of the test calendar).
    assert task.fields["due_date"] == "2025-12-04"
    # the first tier's task stays: the case moves up without dropping what is still owed
    assert (WriteKind.TASK, "truancy_notification") in writes_of(escalated, second)


def test_a_correction_retracts_the_flag_and_open_tasks_and_logs_why() -> None:
    case = open_case()
    before = writes_of(case, truant())
    corrected = determination(date(2025, 11, 14))
    retracted = advance(case, corrected)
    assert retracted is not None
    assert kinds(retracted) == ["designated", "tier_entered", "retracted", "tier_left"]
    assert retracted.designations["truant"].retracted_on == date(2025, 11, 14)
    assert retracted.tier is None
    assert retracted.status == "open"
    after = writes_of(retracted, corrected)
    assert not [w for w in after.values() if w.kind in (WriteKind.FLAG, WriteKind.TASK)]
    old_notes = {w.sync_key: w for w in before.values() if w.kind is WriteKind.NOTE}
    new_notes = {w.sync_key: w for w in after.values() if w.kind is WriteKind.NOTE}
    assert old_notes.items() <= new_notes.items()
    categories = [w.fields["category"] for w in new_notes.values()]
    assert categories == ["designation", "tier", "retraction", "tier"]
    assert "no longer met as of 2025-11-14" in retracted.history[2].detail
    assert advance(retracted, corrected) == retracted


def test_a_redesignation_after_a_retraction_reopens_the_tier_from_the_new_date() -> None:
    retracted = advance(open_case(), determination(date(2025, 11, 14)))
    met_again = date(2025, 12, 3)
    found = determination(met_again, designation("truant", met_again))
    again = advance(retracted, found)
    assert again is not None
    assert kinds(again)[-2:] == ["designated", "tier_entered"]
    assert again.designations["truant"].retracted_on is None
    task = writes_of(again, found)[(WriteKind.TASK, "truancy_notification")]
    assert task.fields["due_date"] == "2025-12-10"


def test_met_again_on_the_same_day_after_a_withdrawal_the_note_says_so_and_no_note_repeats() -> None:
    """The first note stands; the re-designation has its own, dated the day it is known again."""
    found = truant()
    first = open_case(found)
    retracted = advance(first, determination(date(2025, 11, 14)))
    again = advance(retracted, replace(found, as_of=date(2025, 11, 20)))
    assert again is not None
    writes = desired_writes(again, found, case_policy=CASE_POLICY, calendar=CALENDAR)
    notes = [w for w in writes if w.kind is WriteKind.NOTE]
    texts = [n.fields["note_text"] for n in notes]
    assert len(texts) == len(set(texts))
    redesignated = [n for n in notes if "met again as of 2025-11-20" in n.fields["note_text"]]
    assert [n.fields["note_date"] for n in redesignated] == ["2025-11-20"]
    assert first.history[0].detail in texts


def test_a_lower_report_count_withdraws_the_report_and_leaves_the_tier() -> None:
    second = truant(date(2025, 11, 24), 2, date(2025, 11, 20))
    case = open_case(second)
    fewer = advance(case, truant(date(2025, 11, 25)))
    assert fewer is not None
    assert kinds(fewer)[-2:] == ["report_withdrawn", "tier_left"]
    assert fewer.tier == "notification"
    assert fewer.designations["truant"].occasions == 1


def test_a_done_task_satisfies_its_condition_and_stays_done() -> None:
    second = truant(date(2025, 11, 24), 2, date(2025, 11, 20))
    case = open_case(second)
    done = OfficerAction("task_done", date(2025, 12, 1), task_id="parent_conference", outcome="held")
    worked = advance(case, second, actions=(done,))
    assert worked is not None
    assert conditions_from(worked) == {"parent_conference_attempted": date(2025, 12, 1)}
    assert kinds(worked)[-1] == "task_done"
    assert advance(worked, second, actions=(done,)) == worked
    assert advance(worked, second) == worked
    task = writes_of(worked, second)[(WriteKind.TASK, "parent_conference")]
    assert (task.fields["status"], task.fields["outcome"], task.fields["completed_date"]) == (
        "done",
        "held",
        "2025-12-01",
    )
    # a correction later removes the basis: the open task goes, the done one stays as the record
    corrected = determination(date(2025, 12, 5))
    later = advance(worked, corrected)
    assert later is not None
    after = writes_of(later, corrected)
    assert after[(WriteKind.TASK, "parent_conference")].fields["status"] == "done"
    assert (WriteKind.TASK, "truancy_notification") not in after


def test_a_done_task_is_found_by_the_sync_key_of_its_row() -> None:
    case = open_case()
    key = sync_key(WriteKind.TASK, STUDENT, YEAR, "truancy_notification")
    worked = advance(case, truant(), actions=(OfficerAction("task_done", date(2025, 11, 12), sync_key=key),))
    assert worked is not None
    assert worked.completed_tasks["truancy_notification"].on == date(2025, 11, 12)


def test_a_task_of_a_tier_never_entered_is_ignored() -> None:
    case = open_case()
    action = OfficerAction("task_done", date(2025, 11, 12), task_id="sarb_referral", outcome="sent")
    assert advance(case, truant(), actions=(action,)) == case


def test_officer_notes_and_dismissals_are_logged_once_without_a_case_note() -> None:
    case = open_case()
    flag_key = sync_key(WriteKind.FLAG, STUDENT, YEAR, "truant")
    actions = (
        OfficerAction("flag_dismissed", date(2025, 11, 13), sync_key=flag_key),
        OfficerAction("note_added", date(2025, 11, 12), sync_key="a" * 40),
    )
    logged = advance(case, truant(), actions=actions)
    assert logged is not None
    assert kinds(logged)[-2:] == ["note_added", "flag_dismissed"]
    assert logged.history[-1].designation == "truant"
    assert advance(logged, truant(), actions=tuple(reversed(actions))) == logged
    assert len([w for w in writes_of(logged, truant()).values() if w.kind is WriteKind.NOTE]) == 2


def test_a_new_school_year_closes_the_case() -> None:
    case = open_case()
    next_year = determination(date(2026, 8, 20))
    closed = advance(case, next_year, school_year="2026-27")
    assert closed is not None
    assert (closed.status, closed.school_year) == ("closed", YEAR)
    assert kinds(closed)[-1] == "closed"
    writes = writes_of(closed, next_year)
    assert {kind for kind, _ in writes} == {WriteKind.NOTE}
    assert list(writes.values())[-1].fields["category"] == "case_closed"
    assert advance(closed, next_year, school_year="2026-27") == closed


def test_a_new_school_year_with_a_designation_opens_a_fresh_case() -> None:
    case = open_case()
    met = date(2026, 9, 4)
    next_year = determination(met, designation("truant", met))
    fresh = advance(case, next_year, school_year="2026-27")
    assert fresh is not None
    assert (fresh.status, fresh.school_year, fresh.tier) == ("open", "2026-27", "notification")
    assert kinds(fresh) == ["closed", "designated", "tier_entered"]
    assert "2025-26" in fresh.history[0].detail
    assert advance(fresh, next_year, school_year="2026-27") == fresh


def test_a_case_refuses_another_students_determination_or_an_earlier_year() -> None:
    case = open_case()
    with pytest.raises(ValueError, match="different student") as wrong_student:
        advance(case, determination(TRUANT_ON, student_id="stu-2"))
    assert "stu-" not in str(wrong_student.value)
    with pytest.raises(ValueError, match="before"):
        advance(case, truant(), school_year="2024-25")


def test_json_round_trip_keeps_the_case_equal() -> None:
    second = truant(date(2025, 11, 24), 2, date(2025, 11, 20))
    done = OfficerAction("task_done", date(2025, 12, 1), task_id="parent_conference", outcome="held")
    case = advance(open_case(second), second, actions=(done,))
    assert case is not None
    stored = json.loads(json.dumps(case_to_dict(case)))
    assert case_from_dict(stored) == case


def test_a_damaged_stored_case_names_the_key_not_the_value() -> None:
    stored = case_to_dict(open_case())
    stored["history"][0]["on"] = "stu-1 was here"
    with pytest.raises(ValueError, match=r"history\.0\.on") as error:
        case_from_dict(stored)
    assert "stu-1" not in str(error.value)
