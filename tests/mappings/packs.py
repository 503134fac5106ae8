"""Built-in packs as a district runs them (a pack whose rules need a district parameter, Ohio's
instructional day, is loaded with a fixture override that sets it), and the policy CLI on a CSV."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from tests.mappings.attendance_factory import CALENDAR
from truancy.daemon.policy_command import policy_app
from truancy.mappings.policy import Policy, load_policy

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DISTRICT_OVERRIDES = {"OH": FIXTURES / "oh_district.yaml"}


def load_pack(code: str) -> Policy:
    return load_policy(code, overrides=DISTRICT_OVERRIDES.get(code.upper()))


def attendance_csv(
    tmp_path: Path, rows: Mapping[str, Mapping[date, tuple[str, int | None]]], days: int
) -> Path:
    """A canonical CSV of ``days`` school days per student: ``rows`` gives each student's non-present
    days as ``{date: (category, minutes)}``; every other day is a ``present`` row."""
    lines = ["student_id,date,category,minutes_absent,code,school_id"]
    for student_id, absences in rows.items():
        for on in CALENDAR[:days]:
            category, minutes = absences.get(on, ("present", None))
            lines.append(f"{student_id},{on.isoformat()},{category},{minutes or ''},,HS1")
    path = tmp_path / "attendance.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def evaluate_cli(args: list[str]) -> dict[str, dict[str, Any]]:
    """``truancy policy evaluate ... --json`` through typer's runner, by student id."""
    result = CliRunner().invoke(policy_app, ["evaluate", *args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    students = data["students"] if isinstance(data, dict) else data
    return {item["student_id"]: item for item in students}
