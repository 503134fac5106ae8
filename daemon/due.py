"""Which students a cycle evaluates: those whose records changed, and those a date has come for.

A change is marked in the same transaction that stores it (an attendance row, an enrollment, a
roster record, a truancy row an officer acted on), so a crash never loses one; the marks are
cleared only when the cycle that evaluated them stands (the retraction guard let it through). A
student's ``evaluations.wake_on`` is the first day their case can change with no new data, so the
date-driven work is a query, not a pass over the district.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from datetime import date

from sqlalchemy import Connection, delete, select

from truancy.daemon.schema import evaluation_due, evaluations, students
from truancy.daemon.store import upsert

CHUNK = 500
"""Keys per ``IN (...)`` list: well under every database's bound-parameter limit."""


def chunks(values: Iterable[str], size: int = CHUNK) -> Iterator[list[str]]:
    batch: list[str] = []
    for value in values:
        batch.append(value)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def mark_students(connection: Connection, student_ids: Iterable[str], cycle_id: int) -> None:
    for batch in chunks(sorted(set(student_ids))):
        upsert(
            connection,
            evaluation_due,
            [{"student_id": student_id, "cycle_id": cycle_id} for student_id in batch],
            ["student_id"],
        )


def students_of(connection: Connection, sis_refs: Iterable[str]) -> set[str]:
    """The students behind SIS keys (deleted ones too: their rows still need a diff)."""
    found: set[str] = set()
    for batch in chunks(sorted(set(sis_refs))):
        found.update(
            connection.execute(select(students.c.student_id).where(students.c.sis_ref.in_(batch))).scalars()
        )
    return found


def mark_sis_refs(connection: Connection, sis_refs: Iterable[str], cycle_id: int) -> None:
    mark_students(connection, students_of(connection, sis_refs), cycle_id)


def due_students(connection: Connection, as_of: date, also: Collection[str] = ()) -> list[str]:
    """Marked students, students whose wake date has come by ``as_of``, and ``also``; in id order."""
    marked = set(connection.execute(select(evaluation_due.c.student_id)).scalars())
    woken = connection.execute(select(evaluations.c.student_id).where(evaluations.c.wake_on <= as_of))
    return sorted(marked.union(woken.scalars(), also))


def clear_marks(connection: Connection, through_cycle: int) -> None:
    """The marks a standing cycle evaluated (later ones, made by a cycle still to come, stay)."""
    connection.execute(delete(evaluation_due).where(evaluation_due.c.cycle_id <= through_cycle))
