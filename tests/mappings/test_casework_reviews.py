"""Plan review dates as the packs set them: the officer's date, moved to the next school day where
the pack says so, or (TX) the end of the plan's 45 school days when the officer set none; the task
is keyed by the date asked, closed with the officer's date and outcome."""

from __future__ import annotations

from datetime import date, timedelta

from truancy.mappings.case import CaseState
from truancy.mappings.casework import PlanReview, load_casework
from truancy.mappings.casework_records import CaseFile, Plan
from truancy.mappings.casework_reviews import plan_review_writes, review_date
from truancy.mappings.facts import SchoolCalendar

CALENDAR = SchoolCalendar(
    "sch",
    tuple(
        date(2026, 9, 1) + timedelta(days=i)
        for i in range(120)
        if (date(2026, 9, 1) + timedelta(days=i)).weekday() < 5
    ),
)
SATURDAY = date(2026, 10, 10)
CASE = CaseState("s1", "2026-27", "TX", "open", None, {}, {}, ())


def test_a_review_date_without_school_moves_to_the_next_school_day_only_where_the_pack_says_so() -> None:
    plan = Plan("p1", "plan", date(2026, 9, 14), review_date=SATURDAY)
    assert review_date(plan, PlanReview(citation="c", next_school_day=True), CALENDAR) == date(2026, 10, 12)
    assert review_date(plan, PlanReview(citation="c"), CALENDAR) == SATURDAY


def test_tx_reviews_a_plan_without_a_review_date_when_its_45_school_days_end() -> None:
    review = load_casework("TX").plan.review
    assert review is not None
    plan = Plan("p1", "Behavior improvement plan", date(2026, 9, 14))
    assert review_date(plan, review, CALENDAR) == CALENDAR.add_school_days(date(2026, 9, 14), 45)
    assert review_date(plan, review, CALENDAR) == date(2026, 11, 16)
    assert review_date(plan, load_casework("CA").plan.review or review, CALENDAR) is None


def test_the_review_task_is_keyed_by_the_date_asked_and_closed_by_the_officer() -> None:
    pack = load_casework("CA")
    file = CaseFile(plans=(Plan("p1", "SART attendance contract", date(2026, 9, 14), review_date=SATURDAY),))
    (open_task,) = plan_review_writes(pack, CASE, file, CALENDAR, {})
    assert (open_task.fields["due_date"], open_task.fields["status"]) == ("2026-10-12", "open")
    done = {open_task.sync_key: (date(2026, 10, 13), "completed")}
    (closed,) = plan_review_writes(pack, CASE, file, CALENDAR, done)
    assert closed.sync_key == open_task.sync_key
    assert (closed.fields["status"], closed.fields["completed_date"], closed.fields["outcome"]) == (
        "done",
        "2026-10-13",
        "completed",
    )
    later = CaseFile(plans=(Plan("p1", "SART attendance contract", date(2026, 9, 14), date(2026, 11, 2)),))
    (following,) = plan_review_writes(pack, CASE, later, CALENDAR, done)
    assert following.sync_key != open_task.sync_key
    assert following.fields["status"] == "open"


def test_a_closed_case_opens_no_review() -> None:
    pack = load_casework("CA")
    file = CaseFile(plans=(Plan("p1", "SART attendance contract", date(2026, 9, 14), review_date=SATURDAY),))
    closed = CaseState("s1", "2026-27", "CA", "closed", None, {}, {}, ())
    assert plan_review_writes(pack, closed, file, CALENDAR, {}) == []
