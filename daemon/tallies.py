"""A cycle's totals (designations, open and held cases) over every student, evaluated this cycle or not.

Each evaluation records what its student adds to the totals (``evaluations``; staged in
``evaluations_pending`` until the cycle stands), so a cycle that evaluates a hundred students still
reports the district's totals, counted by the database in one grouped query.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Connection, func, literal, select, union_all

from truancy.daemon.evaluate import Evaluation
from truancy.daemon.schema import evaluations, evaluations_pending, students


@dataclass
class Totals:
    designations: Counter[str] = field(default_factory=Counter)
    open_cases: int = 0
    held: int = 0
    held_codes: Counter[str] = field(default_factory=Counter)
    missing_sis_ref: int = 0

    def add(self, evaluation: Evaluation) -> None:
        """Add one evaluation's own counts (a batch's, when nothing is recorded: a dry run)."""
        self.designations.update(evaluation.designations)
        self.open_cases += evaluation.open_cases
        self.held += evaluation.held
        self.held_codes.update(evaluation.held_codes)
        self.missing_sis_ref += evaluation.missing_sis_ref


def evaluation_totals(connection: Connection, school_year: str) -> Totals:
    """The totals over the enrolled students' latest evaluations this school year (staged ones first)."""
    staged = select(evaluations_pending.c.student_id)
    columns = ("designations", "open_case", "held_codes", "no_sis_ref")
    latest = union_all(
        select(*(evaluations_pending.c[c] for c in columns), evaluations_pending.c.student_id).where(
            evaluations_pending.c.school_year == school_year
        ),
        select(*(evaluations.c[c] for c in columns), evaluations.c.student_id).where(
            evaluations.c.school_year == school_year, evaluations.c.student_id.not_in(staged)
        ),
    ).subquery()
    enrolled = select(students.c.student_id).where(~students.c.deleted)
    totals = Totals()
    grouped = (
        select(*(latest.c[c] for c in columns), func.count(literal(1)))
        .where(latest.c.student_id.in_(enrolled))
        .group_by(*(latest.c[c] for c in columns))
    )
    for row in connection.execute(grouped):
        designations, open_case, held_codes, no_sis_ref, count = tuple(row)
        for designation in filter(None, designations.split(",")):
            totals.designations[designation] += count
        totals.open_cases += count if open_case else 0
        if held_codes is not None:
            totals.held += count
            for code in filter(None, held_codes.split(",")):
                totals.held_codes[code] += count
        totals.missing_sis_ref += count if no_sis_ref else 0
    return totals
