"""`truancy mappings impact` predicts exactly what the next real sync after a code-map change
produces, for codes mapped to present too: the store keeps every row's own code."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.daemon.sandbox_sync import sandbox_district
from truancy.daemon.cli import app
from truancy.daemon.guard import RetractionGuard
from truancy.daemon.pipeline import SyncPipeline
from truancy.daemon.runtime import runtime, store_engine
from truancy.daemon.schema import cases
from truancy.daemon.settings import Settings, load_settings
from truancy.mappings.case import case_from_dict
from truancy.plugins.powerschool.plugin import DEFAULT_CODE_MAP


def held(settings: Settings) -> dict[str, set[str]]:
    engine = store_engine(settings)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(cases.c.student_id, cases.c.state)).all()
    finally:
        engine.dispose()
    in_force = {}
    for student, state in rows:
        designations = case_from_dict(state).designations
        in_force[student] = {d for d, held in designations.items() if held.active}
    return in_force


@pytest.mark.parametrize(
    ("code", "now", "proposed"),
    [
        ("A", "unexcused", "excused"),  # a code that counts, re-coded: designations are lost
        ("FT", "present", "unexcused"),  # a code mapped to present: its rows are in the store too
    ],
)
def test_impact_of_recoding_a_code_matches_the_next_real_sync(
    tmp_path: Path, code: str, now: str, proposed: str
) -> None:
    with sandbox_district(tmp_path, students=200) as district:
        district.sync()
        before = held(district.settings)
        outcome = CliRunner().invoke(
            app,
            [
                "mappings",
                "impact",
                "--config",
                str(district.config),
                "--code",
                code,
                "--as",
                proposed,
                "--json",
            ],
        )
        assert outcome.exit_code == 0, outcome.output
        predicted = json.loads(outcome.output)
        assert held(district.settings) == before  # the preview saved nothing

        edited = DEFAULT_CODE_MAP.read_text(encoding="utf-8").replace(
            f"{code}: {{category: {now}", f"{code}: {{category: {proposed}"
        )
        assert edited != DEFAULT_CODE_MAP.read_text(encoding="utf-8")
        (tmp_path / "codes.yaml").write_text(edited, encoding="utf-8")
        with district.config.open("a", encoding="utf-8") as config:
            config.write('\n[mappings]\ncode_map = "codes.yaml"\n')
        settings = load_settings(district.config)
        with runtime(settings) as rt:  # no --full: the new map applies to the stored rows
            summary = SyncPipeline(
                rt.engine, rt.plugin, rt.policy, guard=RetractionGuard(allow=True)
            ).run_cycle()
        assert summary.pulled.get("attendance", 0) < summary.attendance_records
        after = held(settings)

    changed = {s for s in before.keys() | after.keys() if before.get(s, set()) != after.get(s, set())}
    gained = Counter(d for s in changed for d in after.get(s, set()) - before.get(s, set()))
    lost = Counter(d for s in changed for d in before.get(s, set()) - after.get(s, set()))
    assert predicted["changes"] == [{"code": code, "current": now, "proposed": proposed}]
    assert predicted["stored_rows"][code] > 0
    assert predicted["not_previewable"] == []
    assert changed  # the sandbox's rows of both codes change someone's designations
    assert predicted["students_affected"] == len(changed)
    assert predicted["gained"] == dict(gained)
    assert predicted["lost"] == dict(lost)
