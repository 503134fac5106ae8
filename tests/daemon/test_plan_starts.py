"""Plan starts kept for the outcomes report: the SIS's current plans replace a student's rows, and
a closed case's purge takes that year's plan starts with it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import insert, select

from truancy.daemon.plan_starts import first_plan_starts, plan_starts, record_plan_starts
from truancy.daemon.purge import purge, registered_kinds
from truancy.daemon.schema import cases
from truancy.daemon.settings import RetentionSettings
from truancy.daemon.store import create_store_engine, upgrade
from truancy.mappings.casework_records import Plan


def _plan(form: str, on: date) -> Plan:
    return Plan(record_id="1", form=form, start_date=on, goals="Attend every day")


def test_a_corrected_start_date_replaces_the_one_kept_and_the_first_plan_counts(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(engine)
    record_plan_starts(engine, [("s1", _plan("SART contract", date(2026, 3, 2)))])
    record_plan_starts(
        engine,
        [
            ("s1", _plan("SART contract", date(2026, 3, 9))),
            ("s1", _plan("504 attendance plan", date(2026, 4, 1))),
            ("s2", _plan("SART contract", date(2025, 5, 1))),
        ],
    )
    assert first_plan_starts(engine, "2025-26") == {"s1": date(2026, 3, 9)}
    assert first_plan_starts(engine, "2024-25") == {"s2": date(2025, 5, 1)}
    with engine.connect() as connection:
        assert len(connection.execute(select(plan_starts)).all()) == 3


def test_purging_a_closed_case_takes_that_years_plan_starts_only(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(engine)
    state = {"history": [{"kind": "closed", "on": "2024-06-20"}]}
    with engine.begin() as connection:
        connection.execute(
            insert(cases),
            [{"student_id": "s1", "school_year": "2023-24", "status": "closed", "tier": None,
              "state": state, "updated_cycle": 1}],
        )  # fmt: skip
    record_plan_starts(
        engine, [("s1", _plan("SART contract", date(2024, 3, 4))), ("s1", _plan("SART", date(2025, 3, 3)))]
    )
    purge(
        engine,
        RetentionSettings(closed_cases_days=180),
        today=date(2025, 12, 1),
        config_dir=tmp_path,
        kinds={"closed_cases": registered_kinds()["closed_cases"]},
    )
    assert first_plan_starts(engine, "2023-24") == {}
    assert first_plan_starts(engine, "2024-25") == {"s1": date(2025, 3, 3)}
