"""The case's officer on its SIS rows: each flag and task of a desired write gets ``officer`` (the
username ``[caseloads]`` names for the student's school and grade) and each task its ``task_kind``.

The kind (notice, conference, referral, outreach, review...) lets the start page list "conferences
due this week" without knowing a state pack's task ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from sqlalchemy import Engine, select

from truancy.daemon.caseload import CaseloadSettings
from truancy.daemon.evaluate import Target
from truancy.daemon.schema import students
from truancy.mappings.case_policy import CasePolicy
from truancy.mappings.facts import canonical_grade
from truancy.mappings.writes import DesiredWrite, WriteKind

NOTICE_TASK_KINDS = {
    "notice_review": "approval",
    "notice_delivery_check": "approval",
    "notice_translation": "translation",
    "plan_review": "plan",
}
"""The tasks outside the case's tiers: a letter awaiting the officer's approval or a check of its
delivery, a translation (daemon.notices), a plan's review (mappings.casework_reviews)."""


def task_kinds(policy: CasePolicy) -> dict[str, str]:
    """Each task id of the pack → its kind (notice, conference, referral, outreach, review, task)."""
    return {**NOTICE_TASK_KINDS, **{task.id: task.type for tier in policy.tiers for task in tier.tasks}}


def assign(write: DesiredWrite, officer: str, kinds: Mapping[str, str]) -> DesiredWrite:
    """The write with the case's officer on a flag or task, and a task's kind; a note as it is."""
    if write.kind is WriteKind.NOTE:
        return write
    fields = {**write.fields, "officer": officer}
    if write.kind is WriteKind.TASK:
        fields["task_kind"] = kinds.get(write.fields.get("task_type", ""), "task")
    return replace(write, fields=fields)


def with_caseloads(
    desired: Mapping[str, Target], engine: Engine, caseloads: CaseloadSettings, policy: CasePolicy | None
) -> dict[str, Target]:
    """Every desired write with its student's officer, from the school and grade the store holds."""
    wanted = sorted({target.write.student_id for target in desired.values()})
    placed: dict[str, tuple[str | None, str | None]] = {}
    with engine.connect() as connection:
        for start in range(0, len(wanted), 500):
            placed.update(
                (student_id, (school_id, canonical_grade(grade)))
                for student_id, school_id, grade in connection.execute(
                    select(students.c.student_id, students.c.school_id, students.c.grade).where(
                        students.c.student_id.in_(wanted[start : start + 500])
                    )
                )
            )
    kinds = task_kinds(policy) if policy is not None else dict(NOTICE_TASK_KINDS)
    officers: dict[str, str] = {}
    assigned: dict[str, Target] = {}
    for key, target in desired.items():
        student = target.write.student_id
        if student not in officers:
            officers[student] = caseloads.officer_for(*placed.get(student, (None, None)))
        assigned[key] = replace(target, write=assign(target.write, officers[student], kinds))
    return assigned
