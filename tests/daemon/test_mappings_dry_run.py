"""`truancy sync --once --dry-run` plans exactly what the real first sync then writes, and writes nothing."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from tests.daemon.sandbox_sync import TABLES, sandbox_district
from truancy.daemon.cli import app

KINDS = dict(zip(TABLES, ("flag", "note", "task"), strict=True))


def test_dry_run_on_a_fresh_store_plans_what_the_first_sync_writes(tmp_path: Path) -> None:
    with sandbox_district(tmp_path, students=200) as district:
        before = district.sis_rows()

        result = CliRunner().invoke(
            app, ["sync", "--once", "--dry-run", "--json", "--config", str(district.config)]
        )

        assert result.exit_code == 0, result.output
        dry = json.loads(result.output)
        assert district.sis_rows() == before
        assert dry["dry_run"] is True
        planned = dry["planned"]["created"]
        assert sum(planned.values()) > 0
        per_student = Counter[tuple[str, str]]()
        for plan in dry["student_plans"]:
            for kind, count in plan["writes"].get("create", {}).items():
                per_student[(plan["student"], kind)] += count
        changed = {
            p["student"]: p["designations"]["after"] for p in dry["student_plans"] if p["designations"]
        }

        real = district.sync()

        assert real.writes.created == sum(planned.values())
        assert real.cases == dry["cases"]
        written = Counter[tuple[str, str]](
            (row["studentsdcid"], KINDS[table]) for table, rows in district.sis_rows().items() for row in rows
        )
        assert written == per_student
        assert set(changed) == {sis_ref for sis_ref, _ in per_student if (sis_ref, "flag") in per_student}
        assert sum(len(after) for after in changed.values()) == sum(dry["cases"].values())


def test_dry_run_prints_planned_changes_by_sis_key(tmp_path: Path) -> None:
    with sandbox_district(tmp_path, students=60) as district:
        result = CliRunner().invoke(app, ["sync", "--once", "--dry-run", "--config", str(district.config)])

        assert result.exit_code == 0, result.output
        assert "Planned changes by student" in result.output
        assert "student(s) affected" in result.output
        assert all(not rows for rows in district.sis_rows().values())
