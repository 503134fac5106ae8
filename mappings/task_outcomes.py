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

PETITIONS: tuple[Outcome, ...] = (
    Outcome("petition_juvenile_court", "SARB requested a petition to the juvenile court (§ 48263)"),
    Outcome("petition_district_attorney", "SARB referred the parent to the district attorney (§ 48291)"),
)
"""What a SARB may decide that Cal. Educ. Code § 48273 has the district count as a request for a
petition: under § 48263, when community services cannot resolve the truancy or the pupil and parents
fail to respond to its directives, the board may have a petition filed in the juvenile court (Welf.
& Inst. Code § 601) or refer the parent for prosecution (§ 48291). Offered, beside the review's own
outcomes, by a task template with ``records_petitions`` (the CA SARB determination). Which of the
two a board used is the pack's reading of § 48273's "types"."""

KEEPS_OPEN: frozenset[str] = frozenset(
    outcome.code for outcomes in TASK_OUTCOMES.values() for outcome in outcomes if not outcome.closes
)
"""Outcome codes that record work on a task without closing it (a rescheduled conference)."""


def outcomes_for(task_type: TaskType, *, petitions: bool = False) -> tuple[Outcome, ...]:
    """The choices of this kind of task, with the petition outcomes when the task records them."""
    return TASK_OUTCOMES[task_type] + (PETITIONS if petitions else ())


def outcome_of(task_type: TaskType, code: str | None, *, petitions: bool = False) -> Outcome | None:
    """The outcome ``code`` names for this kind of task; None for none or one the list lacks."""
    return next((o for o in outcomes_for(task_type, petitions=petitions) if o.code == code), None)


def options_json(task_type: TaskType, *, petitions: bool = False) -> str:
    """The choices as the SIS page reads them: ``[{"code", "label", "closes"}, ...]``, compact."""
    options = [
        {"code": o.code, "label": o.label, "closes": o.closes}
        for o in outcomes_for(task_type, petitions=petitions)
    ]
    return json.dumps(options, ensure_ascii=False, separators=(",", ":"))
