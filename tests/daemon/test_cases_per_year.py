"""Cases per student and school year (issue 12): a new year's case does not overwrite last year's.

Two sandboxes of the same district, one pinned in 2024-25 and one in 2025-26, synced into one
store over HTTP, as a district's daemon lives through a summer.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from tests.daemon.sandbox_sync import sandbox_district
from tests.sandbox_year import PINNED_AS_OF
from truancy.daemon.purge import purge, registered_kinds
from truancy.daemon.runtime import runtime
from truancy.daemon.schema import cases
from truancy.daemon.settings import RetentionSettings, load_settings
from truancy.daemon.store import _alembic_config, create_store_engine, upgrade
from truancy.mappings.case import case_from_dict

LAST_YEAR_AS_OF = date(2025, 6, 5)


def _cases(config: Path) -> dict[tuple[str, str], tuple[str, dict[str, object]]]:
    with runtime(load_settings(config)) as rt, rt.engine.connect() as connection:
        rows = connection.execute(
            select(cases.c.student_id, cases.c.school_year, cases.c.status, cases.c.state)
        )
        return {(student, year): (status, state) for student, year, status, state in rows}


def test_last_years_cases_stay_beside_the_new_years(tmp_path: Path) -> None:
    with sandbox_district(tmp_path, students=150, as_of=LAST_YEAR_AS_OF) as district:
        assert district.sync().errors == []
        config = district.config
    last_year = _cases(config)
    assert last_year
    assert {year for _, year in last_year} == {"2024-25"}
    opened = {student for (student, _), (status, _) in last_year.items() if status == "open"}
    assert opened

    with sandbox_district(tmp_path, students=150, as_of=PINNED_AS_OF) as district:
        assert district.config == config  # the same settings file and store, the new year's SIS
        assert district.sync(full=True).errors == []
    both = _cases(config)

    # every 2024-25 case is still there, as that year's; the open ones closed with the year
    assert {key for key in both if key[1] == "2024-25"} == set(last_year)
    for student in opened:
        status, state = both[(student, "2024-25")]
        assert status == "closed"
        assert case_from_dict(state).school_year == "2024-25"
        assert any(event.kind == "closed" for event in case_from_dict(state).history)
    # the 2025-26 cases are rows of their own, and some students have one in each year
    this_year = {student for student, year in both if year == "2025-26"}
    assert this_year
    assert this_year & {student for student, _ in last_year}
    for student in this_year:
        assert case_from_dict(both[(student, "2025-26")][1]).school_year == "2025-26"


def test_the_migration_keeps_each_stored_case_as_its_years(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0008")
        connection.execute(
            insert(cases).values(
                student_id="s1", school_year="2024-25", status="open", tier=None, state={}, updated_cycle=3
            )
        )
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(cases).values(
                student_id="s1", school_year="2025-26", status="open", tier=None, state={}, updated_cycle=4
            )
        )
        rows = connection.execute(
            select(cases.c.school_year, cases.c.updated_cycle).order_by(cases.c.school_year)
        ).all()
    assert [tuple(row) for row in rows] == [("2024-25", 3), ("2025-26", 4)]
    with engine.begin() as connection, pytest.raises(IntegrityError):
        connection.execute(
            insert(cases).values(
                student_id="s1", school_year="2025-26", status="open", tier=None, state={}, updated_cycle=5
            )
        )


def _closed_case(student_id: str, school_year: str, closed_on: date) -> dict[str, object]:
    state = {"history": [{"kind": "closed", "on": closed_on.isoformat()}]}
    return {
        "student_id": student_id,
        "school_year": school_year,
        "status": "closed",
        "tier": None,
        "state": state,
        "updated_cycle": 1,
    }


def test_purge_takes_the_aged_years_case_and_leaves_the_students_others(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(cases),
            [
                _closed_case("s1", "2023-24", date(2024, 6, 20)),
                _closed_case("s1", "2024-25", date(2025, 8, 20)),
            ],
        )
    report = purge(
        engine,
        RetentionSettings(closed_cases_days=180),
        today=date(2025, 12, 1),
        config_dir=tmp_path,
        kinds={"closed_cases": registered_kinds()["closed_cases"]},
    )
    assert {k.kind: k.records for k in report.kinds}["closed_cases"] == 1
    with engine.connect() as connection:
        left = connection.execute(select(cases.c.student_id, cases.c.school_year)).all()
    assert [tuple(row) for row in left] == [("s1", "2024-25")]
