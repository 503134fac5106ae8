"""Plan review tasks end to end against the sandbox (CA), over real HTTP: a plan's review date puts
"Review attendance improvement plan" in U_TRUANCY_TASKS, due that day or, the CA pack moving a
review off a day without school, the next school day of the sandbox's own calendar; the officer
marks it done in the SIS and the next cycle keeps it done, writes nothing more, and a new review
date opens the next review beside it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.daemon.sandbox_sync import District, sandbox_district
from truancy.daemon.runtime import runtime
from truancy.daemon.schema import cases, students
from truancy.sandbox.calendar import SchoolYear

pytestmark = pytest.mark.slow
SATURDAY = date(2026, 5, 30)


def _open_case(district: District) -> str:
    with runtime(district.settings) as rt, rt.engine.connect() as connection:
        row = connection.execute(
            select(students.c.sis_ref)
            .join(cases, cases.c.student_id == students.c.student_id)
            .where(cases.c.status == "open")
            .order_by(students.c.sis_ref)
        ).first()
    assert row is not None, "the sandbox district has no open case"
    return str(row.sis_ref)


def _reviews(district: District, dcid: str) -> list[dict[str, str]]:
    rows = district.sis_rows()["U_TRUANCY_TASKS"]
    return sorted(
        (r for r in rows if r["studentsdcid"] == dcid and r["task_type"] == "plan_review"),
        key=lambda r: r["due_date"],
    )


def test_a_review_date_opens_a_review_task_the_officer_closes_in_the_sis(tmp_path: Path) -> None:
    with sandbox_district(tmp_path, students=120) as district:
        assert district.sync().ok
        dcid = _open_case(district)
        with district.powerschool() as sis:
            plan_id = sis.insert_row(
                "U_TRUANCY_PLANS",
                {"studentsdcid": dcid, "form": "SART attendance contract", "start_date": "2026-05-04",
                 "review_date": SATURDAY.isoformat(), "signed_school": "2026-05-04"},
            )  # fmt: skip
        assert district.sync().ok

        (review,) = _reviews(district, dcid)
        school_days = SchoolYear.containing(SATURDAY).district_days
        assert SATURDAY not in school_days
        assert review["due_date"] == min(day for day in school_days if day > SATURDAY).isoformat()
        assert review["title"] == "Review attendance improvement plan"
        assert review["status"] == "open"
        assert review["task_kind"] == "plan"
        assert "§ 48263" in review["citation"]

        with district.powerschool() as sis:
            sis.update_row(
                "U_TRUANCY_TASKS",
                review["id"],
                {"status": "done", "completed_date": "2026-06-02", "outcome": "completed"},
            )
        assert district.sync().ok
        (closed,) = _reviews(district, dcid)
        assert (closed["status"], closed["completed_date"], closed["outcome"]) == (
            "done",
            "2026-06-02",
            "completed",
        )
        history = [e.detail for e in district.case_of(dcid).history]
        assert not any("differs from truancy-sync's" in line for line in history)
        again = district.sync()
        assert (again.writes.created, again.writes.updated, again.writes.deleted) == (0, 0, 0)

        with district.powerschool() as sis:
            sis.update_row("U_TRUANCY_PLANS", plan_id, {"review_date": "2026-06-04"})
        assert district.sync().ok
        done, following = _reviews(district, dcid)
        assert (done["status"], done["due_date"]) == ("done", closed["due_date"])
        assert (following["status"], following["due_date"]) == ("open", "2026-06-04")
