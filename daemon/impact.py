"""Preview a code-map change: which students would gain or lose which designation.

The store's attendance rows are evaluated twice, as they are and re-read through the edited map,
without saving any case and without touching the SIS. The store keeps non-present rows only, so a
code now mapped to ``present`` (or not mapped) has no rows to re-read: the preview says so rather
than guess, and the next real sync after the change counts them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Engine, func, select

from truancy.daemon.evaluate import DesignationChange, Evaluation, Evaluator, EventRemap
from truancy.daemon.progress import SilentReporter
from truancy.daemon.schema import attendance
from truancy.mappings.codemap import CodeMap
from truancy.mappings.facts import AttendanceEvent, Category
from truancy.mappings.policy import Policy

PREVIEW_CYCLE = 0
"""Case rows are not written in a preview, so no cycle id is ever recorded."""


@dataclass(frozen=True, slots=True)
class CodeChange:
    code: str
    current: str | None
    proposed: str | None


@dataclass
class Impact:
    changes: list[CodeChange]
    stored_rows: dict[str, int]
    gained: Counter[str] = field(default_factory=Counter)
    lost: Counter[str] = field(default_factory=Counter)
    students: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=dict)
    """Student id → (designations now, designations under the edited map), for students that differ."""
    not_previewable: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "changes": [{"code": c.code, "current": c.current, "proposed": c.proposed} for c in self.changes],
            "stored_rows": self.stored_rows,
            "students_affected": len(self.students),
            "gained": dict(sorted(self.gained.items())),
            "lost": dict(sorted(self.lost.items())),
            "not_previewable": self.not_previewable,
        }


def _shown(code_map: CodeMap, code: str) -> str | None:
    entry = code_map.categorize(code)
    if entry is None:
        return None
    return f"{entry.category.value}{' (part day)' if entry.partial_day else ''}"


def code_changes(current: CodeMap, proposed: CodeMap) -> list[CodeChange]:
    codes = sorted(set(current.entries) | set(proposed.entries))
    return [
        CodeChange(code, _shown(current, code), _shown(proposed, code))
        for code in codes
        if _shown(current, code) != _shown(proposed, code)
    ]


def preview_impact(
    engine: Engine, policy: Policy, current: CodeMap, proposed: CodeMap, today: date
) -> Impact:
    changes = code_changes(current, proposed)
    changed_codes = {c.code for c in changes}
    impact = Impact(changes, _stored_rows(engine, changed_codes))
    for change in changes:
        entry = current.categorize(change.code)
        if entry is None or entry.category is Category.PRESENT:
            impact.not_previewable.append(
                f"{change.code}: its rows are not in the store (now {change.current or 'unmapped'}); "
                "the first sync after the change counts them"
            )
        elif not entry.partial_day and (proposed.categorize(change.code) or entry).partial_day:
            impact.not_previewable.append(
                f"{change.code}: the store has no minutes for a whole-day code; a part-day preview needs them"
            )

    def remap(event: AttendanceEvent) -> AttendanceEvent | None:
        if event.code is None or event.code not in changed_codes:
            return event
        entry = proposed.categorize(event.code)
        if entry is None or entry.category is Category.PRESENT:
            return None
        minutes = event.minutes_absent if entry.partial_day else None
        if entry.partial_day and minutes is None:
            return None
        return AttendanceEvent(
            event.student_id, event.date, entry.category, minutes, event.code, event.school_id
        )

    baseline = _evaluate(engine, policy, today, None)
    edited = _evaluate(engine, policy, today, remap)
    for student_id in baseline.designation_changes.keys() | edited.designation_changes.keys():
        now = _held(baseline.designation_changes, edited.designation_changes, student_id)
        then = _held(edited.designation_changes, baseline.designation_changes, student_id)
        if now == then:
            continue
        impact.students[student_id] = (now, then)
        impact.gained.update(set(then) - set(now))
        impact.lost.update(set(now) - set(then))
    return impact


def _evaluate(engine: Engine, policy: Policy, today: date, remap: EventRemap | None) -> Evaluation:
    evaluator = Evaluator(engine, policy, PREVIEW_CYCLE, SilentReporter(), persist=False, remap=remap)
    return evaluator.run(today)


def _held(
    own: dict[str, DesignationChange], other: dict[str, DesignationChange], student_id: str
) -> tuple[str, ...]:
    """A student's designations after one evaluation: its change, or what the case already held."""
    if student_id in own:
        return own[student_id].after
    return other[student_id].before


def _stored_rows(engine: Engine, codes: set[str]) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(attendance.c.code, func.count())
            .where(attendance.c.code.in_(sorted(codes)))
            .group_by(attendance.c.code)
        ).all()
    return {code: count for code, count in sorted(rows)}
