"""An officer's done chronic-absence outreach is history, never a retraction, end to end over the
sandbox SIS: the next cycle keeps every chronic-absence flag (Cal. Educ. Code § 60901(c)(1): the
flag rests on the days missed of the days enrolled, which the officer's contact does not change),
writes nothing that withdraws a row, and needs no retraction guard to stop it.

Bulk officer work as the outcomes report's fixture records it (every open outreach task done at
once), mid-year, when the running rates are live.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.daemon.sandbox_sync import District, sandbox_district

pytestmark = pytest.mark.slow
MID_YEAR = date(2026, 2, 2)


def _chronic_flags(district: District) -> dict[str, dict[str, str]]:
    flags = district.sis_rows()["U_TRUANCY_FLAGS"]
    return {f["studentsdcid"]: f for f in flags if f["flag_type"] == "chronically_absent"}


def test_outreach_done_keeps_the_chronic_flag_and_withdraws_nothing(tmp_path: Path) -> None:
    with sandbox_district(tmp_path) as district:
        assert district.sync(today=MID_YEAR).ok
        before = _chronic_flags(district)
        outreach = [
            t
            for t in district.sis_rows()["U_TRUANCY_TASKS"]
            if t["task_type"] == "attendance_outreach" and t["status"] == "open"
        ]
        assert len(outreach) >= 5, "the sandbox district has too few chronic-absence cases"
        done = {"status": "done", "outcome": "contacted", "completed_date": MID_YEAR.isoformat()}
        with district.powerschool() as sis:
            for task in outreach:
                sis.update_row("U_TRUANCY_TASKS", task["id"], done)

        summary = district.sync(today=MID_YEAR)

        assert summary.ok, summary.errors
        assert summary.blocked is None
        assert "deleted" not in summary.planned
        after = _chronic_flags(district)
        for task in outreach:
            dcid = task["studentsdcid"]
            assert after[dcid]["status"] == "active"
            assert after[dcid]["id"] == before[dcid]["id"]  # the same row, not withdrawn and rewritten
            case = district.case_of(dcid)
            assert case.status == "open"
            assert case.designations["chronically_absent"].active
            assert not [e for e in case.history if e.kind == "retracted"]
            assert case.completed_tasks["attendance_outreach"].outcome == "contacted"
        tasks = district.sis_rows()["U_TRUANCY_TASKS"]
        closed = {t["id"]: t for t in tasks if t["task_type"] == "attendance_outreach"}
        assert all(closed[t["id"]]["status"] == "done" for t in outreach)
