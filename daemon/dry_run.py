"""What a dry run would do, student by student: designation changes and the SIS rows to write.

Students are named by the SIS's own key (what an administrator looks up in the SIS) or, when the
roster gave none, by a short hash of the canonical id: never by name.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from truancy.daemon.evaluate import Evaluation
from truancy.daemon.outbox import Plan

OPERATIONS = ("create", "update", "retract")


@dataclass
class StudentPlan:
    student: str
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    designation_changed: bool = False
    writes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    def as_json(self) -> dict[str, Any]:
        return {
            "student": self.student,
            "designations": {"before": list(self.before), "after": list(self.after)}
            if self.designation_changed
            else None,
            "writes": {op: dict(sorted(self.writes[op].items())) for op in OPERATIONS if self.writes.get(op)},
        }


def student_label(sis_ref: str | None, student_id: str) -> str:
    if sis_ref:
        return sis_ref
    return "#" + hashlib.sha256(student_id.encode("utf-8")).hexdigest()[:12]


def plan_by_student(evaluation: Evaluation, plan: Plan) -> list[StudentPlan]:
    """Each student with a designation change or a planned write, in SIS-key order."""
    by_student: dict[str, StudentPlan] = {}

    def entry(label: str) -> StudentPlan:
        return by_student.setdefault(label, StudentPlan(label))

    for student_id, change in evaluation.designation_changes.items():
        plan_entry = entry(student_label(change.sis_ref, student_id))
        plan_entry.before, plan_entry.after, plan_entry.designation_changed = (
            change.before,
            change.after,
            True,
        )
    for target in plan.creates:
        entry(target.sis_ref).writes["create"][target.write.kind.value] += 1
    for _, target in plan.updates:
        entry(target.sis_ref).writes["update"][target.write.kind.value] += 1
    for remote in plan.deletes:
        entry(remote.sis_ref).writes["retract"][remote.kind.value] += 1
    return [by_student[label] for label in sorted(by_student, key=_natural)]


def _natural(label: str) -> tuple[int, str]:
    return (0, f"{int(label):020d}") if label.isdigit() else (1, label)


def print_student_plans(plans: list[dict[str, Any]], console: Console) -> None:
    """The per-student part of a dry run's ``--json`` output, as a table for a terminal."""
    if not plans:
        console.print("No student would change.")
        return
    table = Table("student (SIS key)", "designations", *OPERATIONS, title="Planned changes by student")
    for plan in plans:
        designations = plan["designations"]
        shown = ""
        if designations is not None:
            shown = f"{', '.join(designations['before']) or '-'} → {', '.join(designations['after']) or '-'}"
        writes = plan["writes"]
        table.add_row(
            plan["student"],
            shown,
            *(", ".join(f"{n} {kind}" for kind, n in writes.get(op, {}).items()) for op in OPERATIONS),
        )
    console.print(table)
    changed = sum(p["designations"] is not None for p in plans)
    console.print(f"{len(plans):,} student(s) affected, {changed:,} with a designation change")
