"""When each student's attendance plan started, kept so the outcomes report can measure plans.

Plans live in the SIS (PowerSchool's U_TRUANCY_PLANS); the cycle reads them for plan progress, and
keeps here only what the report needs: the student, the school year, the plan's form and its start
date (no goals, supports, names or signatures). The SIS is the record: each cycle a student's rows
for a school year are replaced by the plans of that year the SIS shows them. A closed case's purge
takes that year's rows with it (:class:`purge.ClosedCases`). Migration 0011 creates the table.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import Column, Date, Engine, String, Table, delete, insert, select, tuple_

from truancy.daemon.evaluate import school_year_of
from truancy.daemon.schema import metadata
from truancy.mappings.casework_records import Plan

plan_starts = Table(
    "plan_starts",
    metadata,
    Column("student_id", String(128), primary_key=True),
    Column("school_year", String(16), primary_key=True),
    Column("kind", String(128), primary_key=True),
    Column("start_date", Date, nullable=False),
)


def record_plan_starts(engine: Engine, plans: Iterable[tuple[str, Plan]]) -> None:
    """Keep the earliest start of each (student, school year, plan form) the SIS shows now."""
    found: dict[tuple[str, str, str], date] = {}
    for student_id, plan in plans:
        key = (student_id, school_year_of(plan.start_date), plan.form[:128])
        found[key] = min(plan.start_date, found.get(key, plan.start_date))
    if not found:
        return
    years = sorted({(student_id, year) for student_id, year, _ in found})
    student_year = tuple_(plan_starts.c.student_id, plan_starts.c.school_year)
    with engine.begin() as connection:
        for start in range(0, len(years), 500):
            connection.execute(delete(plan_starts).where(student_year.in_(years[start : start + 500])))
        connection.execute(
            insert(plan_starts),
            [
                {"student_id": s, "school_year": y, "kind": k, "start_date": on}
                for (s, y, k), on in sorted(found.items())
            ],
        )


def first_plan_starts(engine: Engine, year: str) -> dict[str, date]:
    """Student → the day their first plan of ``year`` started (any form)."""
    firsts: dict[str, date] = {}
    with engine.connect() as connection:
        for student_id, on in connection.execute(
            select(plan_starts.c.student_id, plan_starts.c.start_date).where(
                plan_starts.c.school_year == year
            )
        ):
            firsts[student_id] = min(on, firsts.get(student_id, on))
    return firsts
