"""Each cycle, every attendance improvement plan's progress, measured and shown in its SIS row.

Progress is the attendance rate since the plan started against the same number of school days
before it, and whether that is on track against the plan's target (or, without one, better than
before): :func:`truancy.mappings.casework_readiness.plan_progress`. The line names no date that
moves every day, so a row is written only when a school day passed or the figures changed.
Each plan's start is kept in the store too (:mod:`plan_starts`), for the outcomes report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

from sqlalchemy import Engine, select

from truancy.daemon.packets import DAY_SHARE, days_attended
from truancy.daemon.plan_starts import record_plan_starts
from truancy.daemon.runtime import Runtime
from truancy.daemon.schema import students
from truancy.mappings.casework_readiness import PlanProgress, plan_progress
from truancy.mappings.casework_records import CaseFile, Plan

ProgressWriter = Callable[[str, str], None]


def progress_text(plan: Plan, progress: PlanProgress) -> str:
    if progress.rate_since is None:
        return f"Not yet measured: no school day since {plan.start_date.isoformat()}"
    before = f"{progress.rate_before:.0%}" if progress.rate_before is not None else "no days"
    verdict = {True: "on track", False: "off track", None: "not yet measured"}[progress.on_track]
    target = f" (target {plan.target_rate:.0%})" if plan.target_rate is not None else ""
    return (
        f"{progress.rate_since:.0%} attendance in {progress.school_days} school days since "
        f"{plan.start_date.isoformat()}, against {before} before: {verdict}{target}"
    )


class PlanProgressCycle:
    def __init__(
        self, engine: Engine, read_files: Callable[[], Mapping[str, CaseFile]], record: ProgressWriter
    ) -> None:
        self.engine = engine
        self.read_files = read_files
        self.record = record

    def run(self, today: date) -> int:
        """Measure every plan; returns how many rows changed."""
        files = {ref: file for ref, file in self.read_files().items() if file.plans}
        if not files:
            return 0
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(students.c.sis_ref, students.c.student_id, students.c.school_id).where(
                    students.c.sis_ref.in_(sorted(files))
                )
            ).all()
        record_plan_starts(
            self.engine, ((row.student_id, p) for row in rows for p in files[row.sis_ref].plans)
        )
        changed = 0
        for row in rows:
            days = days_attended(self.engine, row.student_id, row.school_id, today)
            attended = {day: DAY_SHARE.get(category, 0.5) for day, category in days.items()}
            for plan in files[row.sis_ref].plans:
                text = progress_text(plan, plan_progress(plan, attended, today))
                if text != plan.progress:
                    self.record(plan.record_id, text)
                    changed += 1
        return changed


def progress_cycle(rt: Runtime) -> PlanProgressCycle | None:
    """The cycle's plan progress, or None for a plugin that reads no casework or writes no progress."""
    read = getattr(rt.plugin, "casework_files", None)
    record = getattr(rt.plugin, "record_plan_progress", None)
    if read is None or record is None:
        return None
    return PlanProgressCycle(rt.engine, read, record)
