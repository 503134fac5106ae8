"""The student's grade reaches the engine in a real sync: the roster's grade (OneRoster ``KG``,
``01``..) picks Ohio's grade-banded chronic absence threshold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.daemon.sandbox_sync import sandbox_district

pytestmark = pytest.mark.slow

# Every grade's band is one hour; a student of unknown grade would need 100,000 hours. A student is
# designated only if the sync handed the engine their grade.
OVERRIDE = """\
version: 1
policy: OH
parameters: {school_day_minutes: 360}
rules:
  chronically_absent:
    threshold: 100000
    grade_thresholds:
      - {grades: [K, "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"], threshold: 1}
"""


def test_the_roster_grade_picks_the_band(tmp_path: Path) -> None:
    override = tmp_path / "oh-district.yaml"
    override.write_text(OVERRIDE, encoding="utf-8")
    extra = f"\n[mappings]\npolicy_overrides = {json.dumps(str(override))}\n"
    with sandbox_district(tmp_path, students=150, state="OH", extra_toml=extra) as district:
        summary = district.sync()

    assert summary.ok, summary.errors
    assert "chronically_absent" in set(summary.cases)
