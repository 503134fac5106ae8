"""The random hold-out group: held-out students get no nudge task (so no letter), the law's steps
are never held out, and the outcomes report estimates the nudge's effect between the groups."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.daemon.sandbox_sync import sandbox_district
from tests.sandbox_year import PINNED_AS_OF
from truancy.daemon.holdout import OutcomesSettings, held_out
from truancy.daemon.runtime import runtime
from truancy.daemon.schema import students
from truancy.daemon.settings import SettingsError

pytestmark = pytest.mark.slow

TRUANCY = str(Path(sys.executable).parent / "truancy")
HOLDOUT = """
[outcomes]
holdout_share = 0.3
holdout_tasks = ["attendance_outreach"]
holdout_key = "trial-2025"
"""


def test_the_draw_is_stable_and_near_its_share() -> None:
    settings = OutcomesSettings(holdout_share=0.25, holdout_tasks=("attendance_outreach",), holdout_key="k")
    drawn = [held_out(settings, "d", "2025-26", f"s{n}") for n in range(4000)]
    assert 0.22 < sum(drawn) / len(drawn) < 0.28
    assert drawn == [held_out(settings, "d", "2025-26", f"s{n}") for n in range(4000)]
    assert drawn != [held_out(settings, "d", "2026-27", f"s{n}") for n in range(4000)]
    assert not any(held_out(OutcomesSettings(), "d", "2025-26", f"s{n}") for n in range(100))


def test_held_out_students_get_no_nudge_and_the_report_estimates_its_effect(tmp_path: Path) -> None:
    with sandbox_district(tmp_path, students=500, extra_toml=HOLDOUT) as district:
        assert district.sync().ok
        rows = district.sis_rows()
        with runtime(district.settings) as rt, rt.engine.connect() as connection:
            student_of = dict(
                connection.execute(
                    students.select().with_only_columns(students.c.sis_ref, students.c.student_id)
                ).all()
            )
        chronic = {
            r["studentsdcid"] for r in rows["U_TRUANCY_FLAGS"] if r["flag_type"] == "chronically_absent"
        }
        nudged = {
            r["studentsdcid"] for r in rows["U_TRUANCY_TASKS"] if r["task_type"] == "attendance_outreach"
        }
        settings = district.settings.outcomes
        drawn = {
            d for d in chronic if held_out(settings, district.settings.district.id, "2025-26", student_of[d])
        }
        assert drawn, "no chronically absent student was held out: the test would prove nothing"
        assert nudged == chronic - drawn
        truant = {r["studentsdcid"] for r in rows["U_TRUANCY_FLAGS"] if r["flag_type"] == "truant"}
        notified = {
            r["studentsdcid"] for r in rows["U_TRUANCY_TASKS"] if r["task_type"] == "truancy_notification"
        }
        assert drawn & truant, "no held-out student is truant: the next check would prove nothing"
        assert drawn & truant <= notified  # the notice the law requires is never held out

        done = subprocess.run(
            [TRUANCY, "report", "outcomes", "--config", str(district.config), "--year", "2025-26",
             "--as-of", PINNED_AS_OF.isoformat(), "--out", str(tmp_path / "out"), "--json"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        (effect,) = json.loads(done.stdout)["holdout"]
        assert effect["task"] == "attendance_outreach"
        measured = effect["nudged"] + effect["held_out"]
        assert measured <= len(chronic)
        assert effect["held_out"] <= len(drawn)
        assert effect["ci_low"] <= effect["effect"] <= effect["ci_high"]


def test_a_step_the_law_requires_cannot_be_held_out(tmp_path: Path) -> None:
    refused = HOLDOUT.replace('["attendance_outreach"]', '["truancy_notification"]')
    with sandbox_district(tmp_path, students=20, extra_toml=refused) as district:
        with pytest.raises(SettingsError, match="'truancy_notification' cannot be held out"):
            district.sync()
        done = subprocess.run(
            [TRUANCY, "sync", "--once", "--config", str(district.config)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 2
        assert "cannot be held out" in done.stderr
