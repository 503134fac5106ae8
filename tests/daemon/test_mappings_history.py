"""Every mapping file a cycle used is recorded, and `truancy mappings history` lists them."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from tests.daemon.sandbox_sync import sandbox_district
from truancy.daemon.cli import app
from truancy.daemon.runtime import store_engine
from truancy.daemon.schema import cycles
from truancy.plugins.powerschool.plugin import DEFAULT_CODE_MAP


def test_history_lists_each_version_from_the_cycle_that_first_used_it(tmp_path: Path) -> None:
    with sandbox_district(tmp_path, students=30) as district:
        first = district.sync()
        (tmp_path / "codes.yaml").write_text(
            DEFAULT_CODE_MAP.read_text(encoding="utf-8") + "  ZZ: {category: excused}\n", encoding="utf-8"
        )
        with district.config.open("a", encoding="utf-8") as config:
            config.write('\n[mappings]\ncode_map = "codes.yaml"\n')
        outcome = CliRunner().invoke(app, ["sync", "--once", "--json", "--config", str(district.config)])
        assert outcome.exit_code == 0, outcome.output
        second = json.loads(outcome.output)["cycle_id"]

        listed = CliRunner().invoke(app, ["mappings", "history", "--config", str(district.config), "--json"])
        engine = store_engine(district.settings)
        with engine.connect() as connection:
            in_force = {row.id: row for row in connection.execute(select(cycles)).all()}
        engine.dispose()

    assert listed.exit_code == 0, listed.output
    versions = json.loads(listed.output)["versions"]
    assert [(v["kind"], v["first_cycle"]) for v in versions] == [
        ("code_map", first.cycle_id),
        ("field_map", first.cycle_id),
        ("policy", first.cycle_id),
        ("code_map", second),
    ]
    assert versions[0]["path"] == str(DEFAULT_CODE_MAP)
    assert versions[3]["path"] == str((tmp_path / "codes.yaml").resolve())
    assert in_force[first.cycle_id].code_map_digest == versions[0]["digest"]
    assert in_force[second].code_map_digest == versions[3]["digest"]
    assert (
        in_force[second].field_map_digest
        == in_force[first.cycle_id].field_map_digest
        == versions[1]["digest"]
    )
    assert in_force[second].policy_digest == versions[2]["digest"]
