"""Plan review tasks: a plan's review date puts "Review attendance improvement plan" on the
officer's task list that day, like the case's own tasks, and the officer closes it by marking it
done in the SIS (read back, so the task stays done with the officer's date and outcome).

The task is keyed by the plan's row and the review date the officer set: a new review date after a
review opens the next one, and changing the date of an open review moves it (the open row goes, a
new one is written). Its text holds dates and the plan form's name, never the officer's words
(goals, supports), which stay in the plan's row; nor the progress, which moves every school day.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from truancy.mappings.case import CaseState
from truancy.mappings.casework import CaseworkPack, PlanReview
from truancy.mappings.casework_records import CaseFile, Plan
from truancy.mappings.facts import SchoolCalendar
from truancy.mappings.task_outcomes import options_json
from truancy.mappings.writes import DesiredWrite, WriteKind

PLAN_REVIEW_TASK = "plan_review"

Completion = tuple[date, str | None]
"""An officer's "done" on a task row: the date and the outcome code."""


def review_date(plan: Plan, review: PlanReview, calendar: SchoolCalendar) -> date | None:
    """The day the plan's review falls due; None when the plan sets none and the pack counts none."""
    if plan.review_date is not None:
        due = plan.review_date
    elif review.school_days_after_start is not None:
        due = calendar.add_school_days(plan.start_date, review.school_days_after_start)
    else:
        return None
    if review.next_school_day and calendar.days and due not in calendar.days:
        return calendar.add_school_days(due, 1)
    return due


def plan_review_writes(
    pack: CaseworkPack,
    case: CaseState,
    file: CaseFile,
    calendar: SchoolCalendar,
    done: Mapping[str, Completion],
) -> list[DesiredWrite]:
    """One review task per plan with a review date; ``done`` holds the officer's completions by sync key."""
    review = pack.plan.review
    if review is None or case.status != "open":
        return []
    writes = []
    for plan in file.plans:
        due = review_date(plan, review, calendar)
        if due is None:
            continue
        asked = plan.review_date or due
        logical_id = f"plan-review:{plan.record_id}:{asked.isoformat()}"
        writes.append(_write(case, logical_id, plan, review, due, done))
    return writes


def _write(
    case: CaseState,
    logical_id: str,
    plan: Plan,
    review: PlanReview,
    due: date,
    done: Mapping[str, Completion],
) -> DesiredWrite:
    detail = f"{plan.form or 'Plan'} started {plan.start_date.isoformat()}; review due {due.isoformat()}."
    detail += " Mark this task done with the day of the review."
    fields = {
        "task_type": PLAN_REVIEW_TASK,
        "title": review.title,
        "due_date": due.isoformat(),
        "status": "open",
        "citation": review.citation,
        "detail": detail,
        "outcome_options": options_json("review"),
    }
    write = DesiredWrite.build(WriteKind.TASK, case.student_id, case.school_year, logical_id, fields)
    completion = done.get(write.sync_key)
    if completion is None:
        return write
    on, outcome = completion
    closed = {**fields, "status": "done", "completed_date": on.isoformat(), "outcome": outcome or ""}
    return DesiredWrite(WriteKind.TASK, write.sync_key, case.student_id, closed)
