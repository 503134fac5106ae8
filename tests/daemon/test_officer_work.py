"""Officer work read back over real HTTP: tasks done, own notes, dismissals and overrides move the case.

The sandbox is pinned to the day after 2025-26's last school day, so every test here runs in the
weeks when officer work was lost: after the last school day, when the engine evaluates attendance
as of that day.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.daemon.officer_cases import conference_pending
from tests.daemon.sandbox_sync import sandbox_district
from tests.sandbox_year import PINNED_AS_OF
from truancy.mappings.policy import load_policy
from truancy.mappings.task_outcomes import TASK_OUTCOMES

pytestmark = pytest.mark.slow

NOTE_TEXT = "<b>Called</b> mum & \"dad\"; 'ok' — 母亲说明天来 — مكالمة مع الأم"
JUNE_TODAY = date(2026, 6, 15)
"""Eleven days after the sandbox's last school day (2026-06-04)."""
CONFERENCE_HELD_ON = date(2026, 6, 10)
OFFICER = "Ortega, Marisol"


def _first_outcome(task: dict[str, str]) -> str:
    return str(json.loads(task["outcome_options"])[0]["code"])


def test_officer_work_advances_the_case_and_is_never_overwritten(tmp_path: Path) -> None:
    with sandbox_district(tmp_path) as district:
        today = PINNED_AS_OF
        assert district.sync().ok
        rows = district.sis_rows()
        task = next(row for row in rows["U_TRUANCY_TASKS"] if row["status"] == "open")
        dcid = task["studentsdcid"]
        flag = next(row for row in rows["U_TRUANCY_FLAGS"] if row["studentsdcid"] == dcid)
        outcome = _first_outcome(task)
        with district.powerschool() as sis:
            done = {"status": "done", "completed_date": today.isoformat(), "outcome": outcome}
            sis.update_row("U_TRUANCY_TASKS", task["id"], done)
            sis.update_row(
                "U_TRUANCY_FLAGS",
                flag["id"],
                {
                    "status": "dismissed",
                    "dismissed_date": today.isoformat(),
                    "dismissed_reason": "Medical plan on file",
                },
            )
            note_id = sis.insert_row(
                "U_TRUANCY_NOTES",
                {
                    "studentsdcid": dcid,
                    "note_date": today.isoformat(),
                    "category": "contact",
                    "author": OFFICER,
                    "note_text": NOTE_TEXT,
                },
            )

        applied = district.sync()
        assert applied.ok, applied.errors
        assert applied.officer_actions >= 3
        case = district.case_of(dcid)
        kinds = {event.kind: event for event in case.history}
        assert kinds["task_done"].on == today
        assert task["task_type"] in kinds["task_done"].detail
        assert f"officer-note-{note_id}" in kinds["note_added"].detail
        assert kinds["flag_dismissed"].designation == flag["flag_type"]
        assert case.completed_tasks[task["task_type"]].outcome == outcome
        assert NOTE_TEXT not in str(case)
        assert OFFICER not in str(case)

        after = district.sis_rows()
        note = next(row for row in after["U_TRUANCY_NOTES"] if row["id"] == str(note_id))
        assert (note["note_text"], note["author"]) == (NOTE_TEXT, OFFICER)
        assert "sync_key" not in note
        kept = next(row for row in after["U_TRUANCY_TASKS"] if row["id"] == task["id"])
        assert (kept["status"], kept["outcome"], kept["completed_date"]) == (
            "done",
            outcome,
            today.isoformat(),
        )
        dismissed = next(row for row in after["U_TRUANCY_FLAGS"] if row["id"] == flag["id"])
        assert (dismissed["status"], dismissed["dismissed_reason"]) == ("dismissed", "Medical plan on file")

        quiet = district.sync()
        assert quiet.ok, quiet.errors
        assert (quiet.writes.created, quiet.writes.updated, quiet.writes.deleted) == (0, 0, 0)
        assert district.case_of(dcid) == case


def test_a_conference_held_after_the_last_school_day_makes_the_habitual_truant_in_that_cycle(
    tmp_path: Path,
) -> None:
    """CA 48262: three truancy reports and a conference effort. The conference is held on June 10,
    after the last school day; the cycle that reads it designates the student, dated June 10."""
    with sandbox_district(tmp_path) as district:
        assert district.sync(today=JUNE_TODAY).ok
        task, before = conference_pending(district)
        dcid = task["studentsdcid"]
        with district.powerschool() as sis:
            sis.update_row(
                "U_TRUANCY_TASKS",
                task["id"],
                {"status": "done", "outcome": "held", "completed_date": CONFERENCE_HELD_ON.isoformat()},
            )

        cycle = district.sync(today=JUNE_TODAY)

        assert cycle.ok, cycle.errors
        assert cycle.as_of == date(2026, 6, 4)
        case = district.case_of(dcid)
        habitual = case.designations["habitual_truant"]
        assert habitual.met_on == CONFERENCE_HELD_ON
        assert case.conditions == {"parent_conference_attempted": CONFERENCE_HELD_ON}
        assert case.tier == "sarb"
        rows = district.sis_rows()
        flags = {row["flag_type"]: row for row in rows["U_TRUANCY_FLAGS"] if row["studentsdcid"] == dcid}
        assert flags["habitual_truant"]["since_date"] == CONFERENCE_HELD_ON.isoformat()
        assert flags["habitual_truant"]["status"] == "active"
        sarb = [
            row
            for row in rows["U_TRUANCY_TASKS"]
            if row["studentsdcid"] == dcid and row["task_type"] == "sarb_referral"
        ]
        assert [row["status"] for row in sarb] == ["open"]
        assert sarb[0]["due_date"] == "2026-06-24"  # ten weekdays after the conference
        designated = [
            e for e in case.history if e.kind == "designated" and e.designation == "habitual_truant"
        ]
        assert [e.on for e in designated] == [CONFERENCE_HELD_ON]
        assert len(case.history) > len(before.history)

        quiet = district.sync(today=JUNE_TODAY)
        assert (quiet.writes.created, quiet.writes.updated, quiet.writes.deleted) == (0, 0, 0)
        assert district.case_of(dcid) == case


def test_an_officer_action_dated_after_today_is_refused_until_its_date_is_fixed(tmp_path: Path) -> None:
    with sandbox_district(tmp_path) as district:
        assert district.sync(today=JUNE_TODAY).ok
        task, before = conference_pending(district)
        tomorrow = JUNE_TODAY + timedelta(days=1)
        with district.powerschool() as sis:
            future = {"status": "done", "outcome": "held", "completed_date": tomorrow.isoformat()}
            sis.update_row("U_TRUANCY_TASKS", task["id"], future)

        refused = district.sync(today=JUNE_TODAY)

        assert not refused.ok
        assert any("1 officer action(s) dated after today were not applied" in e for e in refused.errors)
        case = district.case_of(task["studentsdcid"])
        assert "parent_conference" not in case.completed_tasks
        assert "habitual_truant" not in case.designations
        assert not [e for e in case.history if e.kind == "task_done"]
        assert case.conditions == before.conditions

        with district.powerschool() as sis:
            sis.update_row("U_TRUANCY_TASKS", task["id"], {"completed_date": CONFERENCE_HELD_ON.isoformat()})
        fixed = district.sync(today=JUNE_TODAY)
        assert fixed.ok, fixed.errors
        assert (
            district.case_of(task["studentsdcid"]).designations["habitual_truant"].met_on
            == CONFERENCE_HELD_ON
        )


def test_outcomes_fit_the_task_and_only_a_fulfilling_one_counts(tmp_path: Path) -> None:
    """Each task row offers its own type's outcomes; a rescheduled conference keeps the task open
    and meets no condition."""
    policy = load_policy("CA")
    assert policy.case is not None
    types = {task.id: task.type for tier in policy.case.tiers for task in tier.tasks}
    with sandbox_district(tmp_path) as district:
        assert district.sync(today=JUNE_TODAY).ok
        tasks = district.sis_rows()["U_TRUANCY_TASKS"]
        assert {row["task_type"] for row in tasks} >= {"truancy_notification", "parent_conference"}
        for row in tasks:
            offered = json.loads(row["outcome_options"])
            expected = TASK_OUTCOMES[types[row["task_type"]]]
            assert [o["code"] for o in offered] == [o.code for o in expected]
            assert [o["label"] for o in offered] == [o.label for o in expected]
        conference = next(row for row in tasks if row["task_type"] == "parent_conference")
        assert [o["code"] for o in json.loads(conference["outcome_options"])] == [
            "held",
            "no_show",
            "declined",
            "rescheduled",
        ]

        task, before = conference_pending(district)
        with district.powerschool() as sis:
            rescheduled = {
                "status": "done",
                "outcome": "rescheduled",
                "completed_date": CONFERENCE_HELD_ON.isoformat(),
            }
            sis.update_row("U_TRUANCY_TASKS", task["id"], rescheduled)
        assert district.sync(today=JUNE_TODAY).ok
        case = district.case_of(task["studentsdcid"])
        assert "parent_conference" not in case.completed_tasks
        assert "habitual_truant" not in case.designations
        assert case.conditions == before.conditions


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
