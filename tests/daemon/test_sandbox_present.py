"""The demo shows a year in progress: the sandbox's today is the daemon's, with tasks due ahead.

Before, the sandbox's year was fixed at 2025-26, so after June 2026 every sync evaluated "as of
2026-06-04" and no deadline lay ahead. ``--as-of`` pins both sides to one day.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from tests.daemon.sandbox_sync import sandbox_district
from truancy.daemon.cli import app

MID_YEAR = date(2026, 12, 1)


def test_a_sandbox_pinned_mid_year_is_evaluated_as_of_that_day_with_tasks_due_ahead(tmp_path: Path) -> None:
    with sandbox_district(tmp_path, as_of=MID_YEAR) as district:
        summary = district.sync()

        assert summary.ok
        assert summary.as_of == MID_YEAR
        tasks = district.sis_rows()["U_TRUANCY_TASKS"]
        assert any(row["status"] == "open" and row["due_date"] > MID_YEAR.isoformat() for row in tasks)
        assert all(row.att_date < MID_YEAR for row in district.server.district.attendance())


def test_truancy_demo_as_of_pins_the_sandbox_and_the_evaluation(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["demo", "--students", "60", "--workdir", str(tmp_path / "demo"), "--as-of", "2026-03-02"]
    )

    assert result.exit_code == 0, result.output
    assert "evaluated as of 2026-03-02" in result.output


def test_a_bad_as_of_is_one_clear_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["sandbox", "serve", "--port", "0", "--as-of", "2026-13-01"])

    assert result.exit_code == 2
    assert "'2026-13-01' is not a date (YYYY-MM-DD)" in result.output
    assert "Traceback" not in result.output
