"""`truancy mappings check` validates a district's own notice pack: file, line, key and the fix."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from truancy.daemon.cli import app
from truancy.mappings.notices import NOTICE_DIR


def test_a_district_notice_pack_is_checked_and_its_mistake_located(tmp_path: Path) -> None:
    good = tmp_path / "notices.yaml"
    good.write_text((NOTICE_DIR / "ca.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    result = CliRunner().invoke(app, ["mappings", "check", str(good)])
    assert result.exit_code == 0, result.output
    assert "notice pack" in result.output

    text = good.read_text(encoding="utf-8").replace(
        "deadline_school_days: 5", "deadline_school_days: soon", 1
    )
    bad = tmp_path / "bad-notices.yaml"
    bad.write_text(text, encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), start=1) if "deadline_school_days: soon" in row)
    result = CliRunner().invoke(app, ["mappings", "check", str(bad)])
    assert result.exit_code == 1
    flat = result.output.replace("\n", "")  # the console wraps long lines
    assert f"bad-notices.yaml:{line}: notices.0.deadline_school_days" in flat

    doubled = text.replace("deadline_school_days: soon", "deadline_school_days: 5").replace(
        "      - id: duty_to_compel", "      - id: truant", 1
    )
    bad.write_text(doubled, encoding="utf-8")
    result = CliRunner().invoke(app, ["mappings", "check", str(bad)])
    assert result.exit_code == 1
    assert "element ids appear twice: truant" in result.output.replace("\n", "")


def test_a_district_start_of_year_notice_is_checked_and_a_mixed_trigger_located(tmp_path: Path) -> None:
    """The new kinds of notice (an enrollment trigger sent per family, a district-authored letter) are
    validated like the others: a trigger naming both a task and enrollment is refused at its line."""
    good = tmp_path / "tx-notices.yaml"
    good.write_text((NOTICE_DIR / "tx.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    assert CliRunner().invoke(app, ["mappings", "check", str(good)]).exit_code == 0
    ny = tmp_path / "ny-notices.yaml"
    ny.write_text((NOTICE_DIR / "ny.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    assert CliRunner().invoke(app, ["mappings", "check", str(ny)]).exit_code == 0

    text = good.read_text(encoding="utf-8").replace(
        "trigger: {enrollment: true}", "trigger: {enrollment: true, task: parent_warning_notice}"
    )
    bad = tmp_path / "bad-tx-notices.yaml"
    bad.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["mappings", "check", str(bad)])
    assert result.exit_code == 1
    flat = result.output.replace("\n", "")
    line = next(n for n, row in enumerate(text.splitlines(), start=1) if "enrollment: true, task" in row)
    assert f"bad-tx-notices.yaml:{line}" in flat
    assert "set either task and designation, or enrollment: true" in flat

    per_student = good.read_text(encoding="utf-8").replace(
        "audience: {per: family}", "audience: {per: student}"
    )
    bad.write_text(per_student, encoding="utf-8")
    result = CliRunner().invoke(app, ["mappings", "check", str(bad)])
    assert result.exit_code == 1
    assert "an enrollment notice goes per family" in result.output.replace("\n", "")
