"""`truancy mappings impact` predicts what a real sync after the code-map change produces."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from tests.daemon.sandbox_sync import sandbox_district
from truancy.daemon.cli import app
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


def test_impact_of_recoding_a_code_matches_the_next_real_sync(tmp_path: Path) -> None:
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
                "A",
                "--as",
                "excused",
                "--json",
            ],
        )
        assert outcome.exit_code == 0, outcome.output
        predicted = json.loads(outcome.output)
        assert held(district.settings) == before  # the preview saved nothing

        edited = DEFAULT_CODE_MAP.read_text(encoding="utf-8").replace(
            "A: {category: unexcused", "A: {category: excused"
        )
        (tmp_path / "codes.yaml").write_text(edited, encoding="utf-8")
        with district.config.open("a", encoding="utf-8") as config:
            config.write('\n[mappings]\ncode_map = "codes.yaml"\n')
        settings = load_settings(district.config)
        with runtime(settings) as rt:
            SyncPipeline(rt.engine, rt.plugin, rt.policy).run_cycle()
        after = held(settings)

    changed = {s for s in before.keys() | after.keys() if before.get(s, set()) != after.get(s, set())}
    gained = Counter(d for s in changed for d in after.get(s, set()) - before.get(s, set()))
    lost = Counter(d for s in changed for d in before.get(s, set()) - after.get(s, set()))
    assert predicted["changes"] == [{"code": "A", "current": "unexcused", "proposed": "excused"}]
    assert predicted["stored_rows"]["A"] > 0
    assert sum(lost.values()) > 0  # the sandbox's "A" rows do make students truant
    assert predicted["students_affected"] == len(changed)
    assert predicted["gained"] == dict(gained)
    assert predicted["lost"] == dict(lost)


def test_impact_of_a_code_the_store_has_no_rows_for_says_so(tmp_path: Path) -> None:
    with sandbox_district(tmp_path, students=40) as district:
        district.sync()

        outcome = CliRunner().invoke(
            app, ["mappings", "impact", "--config", str(district.config), "--code", "FT", "--as", "unexcused"]
        )

    assert outcome.exit_code == 0, outcome.output
    assert "FT: its rows are not in the store" in outcome.output
    assert "nothing was written" in outcome.output
