"""What an officer's outcome does to the case: it fits the task's type, and only a fulfilling one
meets the condition the task satisfies; this cycle's actions count in this cycle's evaluation."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import yaml

from truancy.mappings.case import CaseState, OfficerAction, advance_case, conditions_with, desired_writes
from truancy.mappings.case_policy import CasePolicy
from truancy.mappings.determination import Determination
from truancy.mappings.engine import evaluate
from truancy.mappings.facts import AttendanceEvent, Category, StudentAttendance
from truancy.mappings.policy import load_policy
from truancy.mappings.task_outcomes import KEEPS_OPEN, TASK_OUTCOMES, options_json, outcome_of

from .case_fixtures import CALENDAR, YEAR, designation, determination
from .case_fixtures import CASE_POLICY as UNTYPED_POLICY

CASE_DIR = Path(load_policy.__code__.co_filename).parent / "policies" / "cases"


def _typed(policy: CasePolicy) -> CasePolicy:
    """The fixture policy with the task types the CA pack declares."""
    data = policy.model_dump()
    for tier, task_type in zip(data["tiers"], ("notice", "conference", "referral"), strict=True):
        tier["tasks"][0]["type"] = task_type
    return CasePolicy.model_validate(data)


CASE_POLICY = _typed(UNTYPED_POLICY)

TRUANT_ON = date(2025, 11, 7)
SECOND_REPORT = date(2025, 11, 24)
ABSENCES = (date(2025, 11, 3), date(2025, 11, 5), TRUANT_ON, date(2025, 11, 20))


def _second_report() -> Determination:
    return determination(SECOND_REPORT, designation("truant", TRUANT_ON, occasions=2, absences=ABSENCES))


def _in_conference_tier(policy: CasePolicy = CASE_POLICY) -> CaseState:
    case = advance_case(None, _second_report(), case_policy=policy, calendar=CALENDAR, school_year=YEAR)
    assert case is not None
    assert case.tier == "conference"
    return case


def _with(case: CaseState, action: OfficerAction, policy: CasePolicy = CASE_POLICY) -> CaseState:
    worked = advance_case(
        case,
        _second_report(),
        case_policy=policy,
        calendar=CALENDAR,
        school_year=YEAR,
        officer_actions=(action,),
    )
    assert worked is not None
    return worked


def _done(outcome: str, task: str = "parent_conference", on: date = date(2025, 12, 1)) -> OfficerAction:
    return OfficerAction("task_done", on, task_id=task, outcome=outcome)


def test_every_type_offers_distinct_codes_and_labels_and_only_conferences_stay_open() -> None:
    for outcomes in TASK_OUTCOMES.values():
        assert len({o.code for o in outcomes}) == len(outcomes)
        assert len({o.label for o in outcomes}) == len(outcomes)
    assert [o.code for o in TASK_OUTCOMES["conference"]] == ["held", "no_show", "declined", "rescheduled"]
    assert [o.code for o in TASK_OUTCOMES["notice"]][:3] == ["sent_mail", "sent_email", "phone"]
    assert [o.code for o in TASK_OUTCOMES["referral"]] == ["made", "declined"]
    assert {"rescheduled"} == KEEPS_OPEN
    assert json.loads(options_json("referral")) == [
        {"code": "made", "label": "Referral made", "closes": True},
        {"code": "declined", "label": "Referral declined (reason in a note)", "closes": True},
    ]


@pytest.mark.parametrize("path", sorted(CASE_DIR.glob("*.yaml")), ids=lambda path: path.stem)
def test_every_built_in_task_declares_its_type(path: Path) -> None:
    """A pack says what kind of task each is; "task" (a plain "Done") only where the pack chose it."""
    tiers = yaml.safe_load(path.read_text(encoding="utf-8"))["case"]["tiers"]
    undeclared = [task["id"] for tier in tiers for task in tier.get("tasks", ()) if "type" not in task]
    assert undeclared == []
    CasePolicy.model_validate(yaml.safe_load(path.read_text(encoding="utf-8"))["case"])


def test_the_california_pack_in_force_declares_task_types() -> None:
    case = load_policy("CA").case
    assert case is not None
    types = {task.id: task.type for tier in case.tiers for task in tier.tasks}
    assert types == {
        "attendance_outreach": "outreach",
        "truancy_notification": "notice",
        "parent_conference": "conference",
        "sarb_referral": "referral",
        "sarb_determination": "review",
        "chronic_truancy_review": "review",
    }


@pytest.mark.parametrize("outcome", ["held", "no_show", "declined"])
def test_a_conference_effort_meets_the_condition_whatever_the_parent_did(outcome: str) -> None:
    worked = _with(_in_conference_tier(), _done(outcome))
    assert worked.conditions == {"parent_conference_attempted": date(2025, 12, 1)}
    assert worked.completed_tasks["parent_conference"].outcome == outcome
    label = outcome_of("conference", outcome)
    assert label is not None
    assert label.label in worked.history[-1].detail


def test_a_rescheduled_conference_keeps_the_task_open_and_meets_nothing() -> None:
    case = _in_conference_tier()
    worked = _with(case, _done("rescheduled"))
    assert worked == case
    writes = desired_writes(worked, _second_report(), case_policy=CASE_POLICY, calendar=CALENDAR)
    task = next(w for w in writes if w.fields.get("task_type") == "parent_conference")
    assert task.fields["status"] == "open"
    assert json.loads(task.fields["outcome_options"])[3] == {
        "code": "rescheduled",
        "label": "Rescheduled (task stays open)",
        "closes": False,
    }


def test_a_declined_referral_closes_the_task_but_meets_no_condition() -> None:
    data = CASE_POLICY.model_dump()
    data["tiers"][1]["tasks"][0].update(type="referral", satisfies="referred")
    policy = CasePolicy.model_validate(data)
    case = _in_conference_tier(policy)
    declined = _with(case, _done("declined"), policy)
    assert "parent_conference" in declined.completed_tasks
    assert declined.conditions == {}
    made = _with(case, _done("made"), policy)
    assert made.conditions == {"referred": date(2025, 12, 1)}


def test_an_outcome_the_type_does_not_list_still_counts_as_done() -> None:
    """Rows written before outcomes had types (``conference_held``), or a generic task's "done"."""
    worked = _with(_in_conference_tier(), _done("conference_held"))
    assert worked.conditions == {"parent_conference_attempted": date(2025, 12, 1)}


def test_this_cycles_actions_are_in_this_cycles_conditions() -> None:
    case = _in_conference_tier()
    assert conditions_with(None, [_done("held")], CASE_POLICY) == {}
    assert conditions_with(case, [], CASE_POLICY) == {}
    assert conditions_with(case, [_done("held")], CASE_POLICY) == {
        "parent_conference_attempted": date(2025, 12, 1)
    }
    assert conditions_with(case, [_done("rescheduled")], CASE_POLICY) == {}


def test_a_condition_after_the_evaluation_date_counts_through_today() -> None:
    """The engine evaluates attendance as of the last school day but conditions through today."""
    ca = load_policy("CA")
    days = tuple(d for d in CALENDAR.days if d <= date(2026, 6, 12))
    absences = [date(2025, 10, day) for day in (1, 2, 3, 8, 9, 10, 15, 16, 17)]
    events = tuple(AttendanceEvent("stu-1", day, Category.UNEXCUSED) for day in absences)
    student = StudentAttendance("stu-1", days, events)
    june = {"parent_conference_attempted": date(2026, 6, 20)}
    last_day = date(2026, 6, 12)
    assert not evaluate(ca, student, last_day, conditions=june).holds("habitual_truant")
    found = evaluate(ca, student, last_day, conditions=june, conditions_through=date(2026, 6, 22))
    (habitual,) = [d for d in found.designations if d.id == "habitual_truant"]
    assert habitual.met_on == date(2026, 6, 20)
    assert found.as_of == last_day


def test_a_deadline_that_starts_after_the_last_school_day_counts_from_its_start() -> None:
    """A SARB referral triggered by a June conference is due ten weekdays after it, not after the
    last school day."""
    assert CALENDAR.days[-1] == date(2026, 6, 12)
    assert CALENDAR.add_school_days(date(2026, 6, 22), 10) == date(2026, 7, 6)
    assert CALENDAR.add_school_days(date(2026, 6, 10), 3) == date(2026, 6, 15)
    assert CALENDAR.add_school_days(date(2026, 6, 11), 3) == date(2026, 6, 16)


def test_only_the_sarb_determination_offers_the_petition_outcomes_and_they_record_it() -> None:
    """Cal. Educ. Code § 48273 counts requests for petitions (§ 48263): the CA pack lets the officer
    record them where the board's determination is recorded, and nowhere else."""
    case = load_policy("CA").case
    assert case is not None
    tasks = {task.id: task for tier in case.tiers for task in tier.tasks}
    assert [task_id for task_id, task in tasks.items() if task.records_petitions] == ["sarb_determination"]
    determination_task = tasks["sarb_determination"]
    offered = [o["code"] for o in json.loads(options_json("review", petitions=True))]
    assert offered == ["completed", "not_needed", "petition_juvenile_court", "petition_district_attorney"]
    for code in ("petition_juvenile_court", "petition_district_attorney"):
        outcome = determination_task.outcome(code)
        assert outcome is not None
        assert outcome.fulfils
        assert tasks["chronic_truancy_review"].outcome(code) is None
    assert "petition" not in options_json("review")
