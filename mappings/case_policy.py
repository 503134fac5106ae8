"""The ``case:`` section of a policy pack: tiers, the tasks each tier requires, and note wording.

Escalation steps and deadlines are law, so they are data: a district changes a deadline or adds a
home-visit task in YAML, and a typo is rejected on load with the key at fault. Example::

    case:
      tiers:
        - id: notification
          label: Truancy notification
          enter_when: {designation: truant}
          tasks:
            - id: notification_letter
              title: Send truancy notification letter to parent/guardian
              citation: Cal. Educ. Code § 48260.5
              due_school_days: 5
              checklist: [compulsory attendance obligation, possible prosecution]
        - id: conference
          label: Parent conference
          enter_when: {designation: truant, occasions_at_least: 2}
          tasks:
            - {id: parent_conference, title: Hold a conference with parent and pupil,
               citation: Cal. Educ. Code § 48262, due_school_days: 10,
               satisfies: parent_conference_attempted}
      close_on_new_school_year: true
"""

from __future__ import annotations

from string import Formatter
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from truancy.mappings.task_outcomes import Outcome, TaskType, outcome_of

_ID = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EnterWhen(_Strict):
    """A tier is entered once ``designation`` holds and has been reported ``occasions_at_least`` times."""

    designation: str = Field(pattern=_ID)
    occasions_at_least: int = Field(default=1, ge=1)


class TaskTemplate(_Strict):
    """An intervention the tier requires, due ``due_school_days`` instructional days after the trigger.

    ``satisfies`` names the condition an officer fulfils by marking the task done (e.g. the CA
    48262 conference attempt a habitual-truant designation requires); the engine reads it back.
    ``type`` picks the outcomes the officer chooses from (:mod:`truancy.mappings.task_outcomes`):
    a conference is held or not, a notice is sent by some means, a referral is made or declined.
    """

    id: str = Field(pattern=_ID)
    title: str = Field(min_length=1)
    citation: str = Field(min_length=1)
    due_school_days: int = Field(ge=0)
    checklist: tuple[str, ...] = ()
    satisfies: str | None = Field(default=None, pattern=_ID)
    type: TaskType = "task"
    records_petitions: bool = False
    """The task also offers the petition outcomes (:data:`~truancy.mappings.task_outcomes.PETITIONS`):
    where a SARB's determination is recorded, so § 48273's petition counts can be made."""

    def outcome(self, code: str | None) -> Outcome | None:
        """The outcome ``code`` names for this task; None for none or one its type does not offer."""
        return outcome_of(self.type, code, petitions=self.records_petitions)


class Tier(_Strict):
    id: str = Field(pattern=_ID)
    label: str = Field(min_length=1)
    enter_when: EnterWhen
    tasks: tuple[TaskTemplate, ...] = ()


class NoteTemplates(_Strict):
    """Wording of the case-log notes, as ``str.format`` templates over the placeholders listed here.

    Only dates, counts and the pack's own labels and citations are offered: a note never carries a
    name or free text from the SIS. ``{cause}`` is what changed (e.g. "an attendance correction",
    "a code map change", "a policy change"), found by comparing the case's records then and now.
    """

    PLACEHOLDERS: ClassVar[dict[str, frozenset[str]]] = {
        "designated": frozenset({"label", "citation", "met_on", "count", "unit", "threshold"}),
        "redesignated": frozenset({"label", "citation", "met_on", "as_of", "count", "unit", "threshold"}),
        "reported": frozenset({"label", "citation", "on", "occasion"}),
        "report_withdrawn": frozenset({"label", "as_of", "occasion", "cause"}),
        "retracted": frozenset({"label", "citation", "met_on", "as_of", "cause"}),
        "tier_entered": frozenset({"tier", "on", "designation", "citation", "tasks_due"}),
        "tier_left": frozenset({"tier", "as_of", "designation"}),
        "closed": frozenset({"school_year", "on"}),
        "withdrawn": frozenset({"school_year", "exit_on"}),
        "reenrolled": frozenset({"school_year", "on"}),
    }

    designated: str = (
        "{label}: met on {met_on} under {citation} (threshold {threshold} {unit}; {count} counted so far)."
    )
    redesignated: str = (
        "{label}: met again as of {as_of} under {citation}, since {met_on} "
        "(threshold {threshold} {unit}; {count} counted by {as_of})."
    )
    reported: str = "{label}: report {occasion} on {on} under {citation}."
    report_withdrawn: str = "{label}: report {occasion} withdrawn as of {as_of} after {cause}."
    retracted: str = (
        "{label} (met on {met_on}) no longer met as of {as_of} after {cause}: "
        "flag withdrawn, open tasks cancelled."
    )
    tier_entered: str = "Case entered tier {tier} on {on} ({designation}, {citation}). Due: {tasks_due}."
    tier_left: str = "Case left tier {tier} as of {as_of}: {designation} no longer met."
    closed: str = "Case for school year {school_year} closed on {on}: a new school year began."
    withdrawn: str = (
        "Case for school year {school_year} closed as of {exit_on}: the student's enrollment ended "
        "that day (withdrawal or transfer). Open tasks cancelled; no step is taken after that date."
    )
    reenrolled: str = (
        "Case for school year {school_year} reopened on {on}: the student is enrolled again. "
        "Task deadlines count from this day."
    )

    @model_validator(mode="after")
    def _known_placeholders(self) -> NoteTemplates:
        for name, allowed in self.PLACEHOLDERS.items():
            template: str = getattr(self, name)
            try:
                used = {field for _, field, _, _ in Formatter().parse(template) if field is not None}
            except ValueError as exc:
                raise ValueError(f"notes.{name}: {exc}") from None
            unknown = sorted(used - allowed)
            if unknown:
                raise ValueError(
                    f"notes.{name}: unknown placeholder {{{unknown[0]}}}; "
                    f"use any of {', '.join('{' + p + '}' for p in sorted(allowed))}"
                )
        return self

    def render(self, name: str, **values: str) -> str:
        template: str = getattr(self, name)
        return template.format(**values)


class CasePolicy(_Strict):
    """How a case escalates under one pack. ``tiers`` are in escalation order: the case's tier is the
    highest one whose condition holds, and a drop (after a correction) is always logged."""

    tiers: tuple[Tier, ...] = Field(min_length=1)
    notes: NoteTemplates = NoteTemplates()
    close_on_new_school_year: bool = True

    @model_validator(mode="after")
    def _unique_ids(self) -> CasePolicy:
        tier_ids = [tier.id for tier in self.tiers]
        task_ids = [task.id for tier in self.tiers for task in tier.tasks]
        for kind, ids in (("tier", tier_ids), ("task", task_ids)):
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise ValueError(f"{kind} id {duplicates[0]!r} is used more than once")
        return self

    @property
    def referenced_designations(self) -> frozenset[str]:
        """Designation ids the tiers rely on: the pack's rules must define every one of them."""
        return frozenset(tier.enter_when.designation for tier in self.tiers)

    def tier(self, tier_id: str) -> Tier | None:
        return next((tier for tier in self.tiers if tier.id == tier_id), None)

    def rank(self, tier_id: str) -> int:
        """Position in escalation order; a tier no longer in the pack ranks below all others."""
        return next((i for i, tier in enumerate(self.tiers) if tier.id == tier_id), -1)

    def task(self, task_id: str) -> tuple[Tier, TaskTemplate] | None:
        for tier in self.tiers:
            for task in tier.tasks:
                if task.id == task_id:
                    return tier, task
        return None
