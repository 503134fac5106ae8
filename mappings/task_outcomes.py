"""What an officer can record when working a task, by the kind of task.

A conference is held or not, a notice is sent by some means, a referral is made or declined: the
choices fit the task, so the officer never picks "letter sent" for a SARB referral. Each outcome
says what it does to the case. ``closes`` marks the task done (a rescheduled conference leaves it
open); ``fulfils`` says whether a done task meets the condition its template ``satisfies`` (a
conference the parent did not attend still shows the school's conscientious effort, Cal. Educ.
Code § 48262; a declined referral is no referral).

The daemon writes a task's choices into its SIS row (:func:`options_json`), so the page inside the
SIS offers exactly these, labelled, and shows a saved outcome by its label.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

TaskType = Literal["notice", "conference", "referral", "outreach", "review", "task"]


@dataclass(frozen=True, slots=True)
class Outcome:
    code: str
    label: str
    closes: bool = True
    fulfils: bool = True


TASK_OUTCOMES: Mapping[TaskType, tuple[Outcome, ...]] = {
    "notice": (
        Outcome("sent_mail", "Sent by mail"),
        Outcome("sent_email", "Sent by email"),
        Outcome("phone", "Told by phone"),
        Outcome("in_person", "Given in person"),
    ),
    "conference": (
        Outcome("held", "Conference held"),
        Outcome("no_show", "Parent/guardian did not attend"),
        Outcome("declined", "Parent/guardian declined to meet"),
        Outcome("rescheduled", "Rescheduled (task stays open)", closes=False, fulfils=False),
    ),
    "referral": (
        Outcome("made", "Referral made"),
        Outcome("declined", "Referral declined (reason in a note)", fulfils=False),
    ),
    "outreach": (
        Outcome("contacted", "Family contacted, supports offered"),
        Outcome("unreachable", "Family could not be reached after attempts"),
    ),
    "review": (
        Outcome("completed", "Review completed"),
        Outcome("not_needed", "Not needed (reason in a note)", fulfils=False),
    ),
    "task": (Outcome("done", "Done"),),
}

KEEPS_OPEN: frozenset[str] = frozenset(
    outcome.code for outcomes in TASK_OUTCOMES.values() for outcome in outcomes if not outcome.closes
)
"""Outcome codes that record work on a task without closing it (a rescheduled conference)."""


def outcome_of(task_type: TaskType, code: str | None) -> Outcome | None:
    """The outcome ``code`` names for this kind of task; None for none or one the list lacks."""
    return next((o for o in TASK_OUTCOMES[task_type] if o.code == code), None)


def options_json(task_type: TaskType) -> str:
    """The choices as the SIS page reads them: ``[{"code", "label", "closes"}, ...]``, compact."""
    options = [{"code": o.code, "label": o.label, "closes": o.closes} for o in TASK_OUTCOMES[task_type]]
    return json.dumps(options, ensure_ascii=False, separators=(",", ":"))
