"""The retraction guard's limit, and the withdrawals it does not weigh (a new school year's closings)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from tests.daemon.fake_plugin import FakeWriteTarget
from tests.daemon.test_hold_property import POLICIES, SCHOOL_DAYS, STUDENTS, code_map, cycle, store
from truancy.daemon.guard import RetractionGuard
from truancy.daemon.outbox import Plan
from truancy.daemon.schema import cases
from truancy.mappings.case import case_from_dict, case_to_dict
from truancy.mappings.writes import WriteKind
from truancy.plugins.base import Ownership, RemoteRow

RETRACTABLE = {kind: Ownership(daemon=frozenset(), retract_while={}) for kind in WriteKind}
"""The one declaration the guard needs: every row the daemon wrote may be withdrawn."""


def rows(count: int, kind: WriteKind = WriteKind.TASK, sis_ref: str = "1") -> list[RemoteRow]:
    return [RemoteRow(kind, str(n), f"{n:040x}", sis_ref, {}) for n in range(count)]


@pytest.mark.parametrize(("open_rows", "limit"), [(0, 25), (100, 25), (1250, 25), (5000, 100), (20000, 400)])
def test_the_limit_is_25_rows_or_2_percent_whichever_is_larger(open_rows: int, limit: int) -> None:
    assert RetractionGuard().limit(open_rows) == limit


def test_more_than_the_limit_is_held_unless_allowed() -> None:
    remote = rows(100)
    plugin = FakeWriteTarget(RETRACTABLE)
    assert RetractionGuard().check(Plan(retractions=remote[:25]), remote, plugin) is None  # type: ignore[arg-type]
    held = RetractionGuard().check(Plan(retractions=remote[:26]), remote, plugin)  # type: ignore[arg-type]
    assert held is not None
    assert (held.total, held.open_rows, held.limit, held.retractions) == (26, 100, 25, {"task": 26})
    assert "--allow-retractions" in held.reason
    assert RetractionGuard(allow=True).check(Plan(retractions=remote[:26]), remote, plugin) is None  # type: ignore[arg-type]


def test_notes_are_not_open_rows_and_closings_by_a_new_year_are_not_weighed() -> None:
    plugin = FakeWriteTarget(RETRACTABLE)
    remote = rows(40, sis_ref="7") + rows(500, WriteKind.NOTE)
    plan = Plan(retractions=remote[:40])
    held = RetractionGuard().check(plan, remote, plugin)  # type: ignore[arg-type]
    assert held is not None
    assert held.open_rows == 40
    assert RetractionGuard().check(plan, remote, plugin, expected={"7"}) is None  # type: ignore[arg-type]


def test_the_evaluation_names_the_students_a_new_school_year_closed() -> None:
    no_minutes: int | None = None
    year = {s: [(day, "A", no_minutes) for day in SCHOOL_DAYS[:4]] for s in STUDENTS}
    with store(year) as engine:
        cycle(engine, POLICIES[None], code_map({"A", "PRE"}), 1)
        with engine.begin() as connection:  # the same cases, as if opened last school year
            for student, state in connection.execute(select(cases.c.student_id, cases.c.state)).all():
                older = replace(case_from_dict(state), school_year="2024-25")
                connection.execute(
                    cases.update()
                    .where(cases.c.student_id == student)
                    .values(school_year="2024-25", state=case_to_dict(older))
                )
        after = cycle(engine, POLICIES[None], code_map({"A", "PRE"}), 2)
    assert after.year_closed == {str(n) for n in range(len(STUDENTS))}
