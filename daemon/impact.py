"""Preview a code-map change: which students would gain or lose which designation.

The store keeps every attendance row with the SIS's own code (present and unmapped codes too), so
the preview is exact: the stored year is evaluated twice, under the map in force and under the
edited one, without saving any case and without touching the SIS. Only rows stored before raw
codes were kept (no code) cannot be re-read; the preview names them until the next full read.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Engine, func, select

from truancy.daemon.evaluate import DesignationChange, Evaluation, Evaluator
from truancy.daemon.progress import SilentReporter
from truancy.daemon.schema import attendance
from truancy.mappings.codemap import CodeLookup, CodeMap
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
    impact = Impact(changes, _stored_rows(engine, {c.code for c in changes}))
    legacy = _rows_without_code(engine)
    if legacy:
        impact.not_previewable.append(
            f"{legacy} stored row(s) predate raw codes and count as first read; "
            "the next full sync re-reads them"
        )
    baseline = _evaluate(engine, policy, today, current.categorize)
    edited = _evaluate(engine, policy, today, proposed.categorize)
    for student_id in baseline.designation_changes.keys() | edited.designation_changes.keys():
        now = _held(baseline.designation_changes, edited.designation_changes, student_id)
        then = _held(edited.designation_changes, baseline.designation_changes, student_id)
        if now == then:
            continue
        impact.students[student_id] = (now, then)
        impact.gained.update(set(then) - set(now))
        impact.lost.update(set(now) - set(then))
    return impact


def _evaluate(engine: Engine, policy: Policy, today: date, lookup: CodeLookup) -> Evaluation:
    evaluator = Evaluator(engine, policy, PREVIEW_CYCLE, SilentReporter(), lookup=lookup, persist=False)
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


def _rows_without_code(engine: Engine) -> int:
    with engine.connect() as connection:
        count: int = connection.execute(
            select(func.count()).select_from(attendance).where(attendance.c.code.is_(None))
        ).scalar_one()
    return count
