"""Officer work read back over real HTTP: tasks done, own notes, dismissals and overrides move the case."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.daemon.sandbox_sync import sandbox_district

pytestmark = pytest.mark.slow

NOTE_TEXT = "<b>Called</b> mum & \"dad\"; 'ok' — 母亲说明天来 — مكالمة مع الأم"
TODAY = date.today().isoformat()


def test_officer_work_advances_the_case_and_is_never_overwritten(tmp_path: Path) -> None:
    with sandbox_district(tmp_path) as district:
        assert district.sync().ok
        rows = district.sis_rows()
        task = next(row for row in rows["U_TRUANCY_TASKS"] if row["status"] == "open")
        dcid = task["studentsdcid"]
        flag = next(row for row in rows["U_TRUANCY_FLAGS"] if row["studentsdcid"] == dcid)
        with district.powerschool() as sis:
            done = {"status": "done", "completed_date": TODAY, "outcome": "letter_sent"}
            sis.update_row("U_TRUANCY_TASKS", task["id"], done)
            sis.update_row(
                "U_TRUANCY_FLAGS",
                flag["id"],
                {"status": "dismissed", "dismissed_date": TODAY, "dismissed_reason": "Medical plan on file"},
            )
            note_id = sis.insert_row(
                "U_TRUANCY_NOTES",
                {
                    "studentsdcid": dcid,
                    "note_date": TODAY,
                    "category": "contact",
                    "author": "Officer",
                    "note_text": NOTE_TEXT,
                },
            )

        applied = district.sync()
        assert applied.ok, applied.errors
        assert applied.officer_actions >= 3
        case = district.case_of(dcid)
        kinds = {event.kind: event for event in case.history}
        assert kinds["task_done"].on == date.today()
        assert task["task_type"] in kinds["task_done"].detail
        assert f"officer-note-{note_id}" in kinds["note_added"].detail
        assert kinds["flag_dismissed"].designation == flag["flag_type"]
        assert case.completed_tasks[task["task_type"]].outcome == "letter_sent"
        assert NOTE_TEXT not in str(case)

        after = district.sis_rows()
        note = next(row for row in after["U_TRUANCY_NOTES"] if row["id"] == str(note_id))
        assert note["note_text"] == NOTE_TEXT
        assert "sync_key" not in note
        done = next(row for row in after["U_TRUANCY_TASKS"] if row["id"] == task["id"])
        assert (done["status"], done["outcome"], done["completed_date"]) == ("done", "letter_sent", TODAY)
        dismissed = next(row for row in after["U_TRUANCY_FLAGS"] if row["id"] == flag["id"])
        assert (dismissed["status"], dismissed["dismissed_reason"]) == ("dismissed", "Medical plan on file")

        quiet = district.sync()
        assert quiet.ok, quiet.errors
        assert (quiet.writes.created, quiet.writes.updated, quiet.writes.deleted) == (0, 0, 0)
        assert district.case_of(dcid) == case


def test_an_officer_edit_against_the_desired_state_wins_and_is_logged_once(tmp_path: Path) -> None:
    with sandbox_district(tmp_path) as district:
        assert district.sync().ok
        task = next(row for row in district.sis_rows()["U_TRUANCY_TASKS"] if row["status"] == "open")
        with district.powerschool() as sis:
            sis.update_row("U_TRUANCY_TASKS", task["id"], {"status": "cancelled"})

        assert district.sync().ok
        case = district.case_of(task["studentsdcid"])
        overrides = [event for event in case.history if event.kind == "officer_override"]
        assert len(overrides) == 1
        assert task["sync_key"] in overrides[0].detail
        assert "status" in overrides[0].detail
        kept = next(row for row in district.sis_rows()["U_TRUANCY_TASKS"] if row["id"] == task["id"])
        assert kept["status"] == "cancelled"

        quiet = district.sync()
        assert (quiet.writes.created, quiet.writes.updated, quiet.writes.deleted) == (0, 0, 0)
        assert district.case_of(task["studentsdcid"]) == case
