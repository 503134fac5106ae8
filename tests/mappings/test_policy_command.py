"""``truancy policy evaluate`` on a small generated CSV, through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.mappings.attendance_factory import day
from truancy.daemon.policy_command import policy_app

runner = CliRunner()


def attendance_csv(tmp_path: Path) -> Path:
    """S1 misses three days without excuse (truant); S2 is there every day; 40 school days each."""
    lines = ["student_id,date,category,minutes_absent,code,school_id"]
    for n in range(1, 41):
        s1 = "unexcused" if n in (5, 12, 20) else "present"
        lines.append(f"S1,{day(n).isoformat()},{s1},,,HS1")
        lines.append(f"S2,{day(n).isoformat()},present,,,HS1")
    path = tmp_path / "attendance.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_json_lists_designations_counts_and_evidence_per_student(tmp_path: Path) -> None:
    args = ["evaluate", "--policy", "CA", "--attendance", str(attendance_csv(tmp_path)), "--json"]
    result = runner.invoke(policy_app, args)

    assert result.exit_code == 0, result.output
    by_student = {item["student_id"]: item for item in json.loads(result.stdout)["students"]}
    assert by_student["S1"]["as_of"] == day(40).isoformat()
    assert by_student["S1"]["designations"] == ["truant"]
    truant = by_student["S1"]["evidence"]["truant"]
    assert truant["citation"].startswith("Cal. Educ. Code § 48260(a)")
    assert [r["date"] for r in truant["records"]] == [day(n).isoformat() for n in (5, 12, 20)]
    assert by_student["S1"]["counts"]["unexcused_days"] == 3
    assert by_student["S2"]["designations"] == []


def test_as_of_limits_what_is_counted(tmp_path: Path) -> None:
    args = ["evaluate", "--policy", "ca", "--attendance", str(attendance_csv(tmp_path)), "--json"]
    result = runner.invoke(policy_app, [*args, "--as-of", day(19).isoformat()])

    assert result.exit_code == 0, result.output
    s1 = next(item for item in json.loads(result.stdout)["students"] if item["student_id"] == "S1")
    assert s1["designations"] == []
    assert s1["counts"]["enrolled_days"] == 19


def test_human_output_is_a_table(tmp_path: Path) -> None:
    args = ["evaluate", "--policy", "CA", "--attendance", str(attendance_csv(tmp_path))]
    result = runner.invoke(policy_app, args, env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    assert "California" in result.stdout
    assert f"truant ({day(20).isoformat()})" in result.stdout


def test_an_unknown_pack_is_a_clear_error(tmp_path: Path) -> None:
    args = ["evaluate", "--policy", "ZZ", "--attendance", str(attendance_csv(tmp_path))]
    result = runner.invoke(policy_app, args)

    assert result.exit_code == 2
    assert "no built-in policy pack" in result.stderr
