"""Enrollment ends the case's clock, end to end over real HTTP against the sandbox.

A student with an open case withdraws (the registrar ends their enrollment on 2026-01-13): the next
cycle closes the case as of that day with a note naming the withdrawal, takes the open tasks out of
the SIS, and starts nothing after the exit, although the SIS still shows unexcused absences later in
the year. When the student enrolls again the case reopens, its task deadlines counted from the
day they returned.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tests.daemon.sandbox_sync import District, sandbox_district
from truancy.sandbox.model import Student

BEFORE_EXIT = date(2026, 1, 12)
EXIT = date(2026, 1, 13)
LATER = date(2026, 3, 2)
RETURN = date(2026, 3, 9)
BACK_A_WEEK = date(2026, 3, 16)
UNEXCUSED = {"A", "UNX"}


def _unexcused_days(district: District, student: Student, first: date, last: date) -> list[date]:
    return [
        row.att_date
        for row in district.server.district.attendance_of(student.dcid)
        if row.att_code in UNEXCUSED and first <= row.att_date <= last
    ]


def _a_truant_still_absent_after_the_exit(district: District) -> Student:
    """Truant well before the exit, all-year enrollment, and more unexcused days after it."""
    truth = district.server.district
    year = truth.year
    return next(
        student
        for student in truth.students
        if (student.entry_date, student.exit_date) == (year.first_day, year.last_day)
        and len(_unexcused_days(district, student, year.first_day, date(2025, 12, 19))) >= 3
        and len(_unexcused_days(district, student, date(2026, 1, 14), LATER)) >= 2
    )


def _student_rows(district: District, dcid: int) -> dict[str, list[dict[str, str]]]:
    return {
        table: [row for row in rows if row["studentsdcid"] == str(dcid)]
        for table, rows in district.sis_rows().items()
    }


def test_a_withdrawal_closes_the_case_and_a_re_enrollment_reopens_it(tmp_path: Path) -> None:
    with sandbox_district(tmp_path) as district:
        student = _a_truant_still_absent_after_the_exit(district)
        assert district.sync(today=BEFORE_EXIT).ok
        before = _student_rows(district, student.dcid)
        open_tasks = [row for row in before["U_TRUANCY_TASKS"] if row["status"] == "open"]
        assert open_tasks, "the chosen student should have open tasks before the exit"
        assert district.case_of(str(student.dcid)).status == "open"

        district.control(
            "POST",
            "/oneroster/enrollment/end",
            json={"sourcedId": student.sourced_id, "endDate": EXIT.isoformat()},
        )
        assert district.sync(today=LATER).ok

        case = district.case_of(str(student.dcid))
        assert case.status == "closed"
        assert case.history[-1].kind == "withdrawn"
        assert case.history[-1].on == EXIT
        assert all(event.on <= EXIT for event in case.history)
        assert "habitual_truant" not in case.designations
        after = _student_rows(district, student.dcid)
        assert [row for row in after["U_TRUANCY_TASKS"] if row["status"] == "open"] == []
        closing = [row for row in after["U_TRUANCY_NOTES"] if row["category"] == "case_closed"]
        assert len(closing) == 1
        assert closing[0]["note_date"] == EXIT.isoformat()
        assert "withdrawal or transfer" in closing[0]["note_text"]
        assert f"closed as of {EXIT.isoformat()}" in closing[0]["note_text"]
        # Without the withdrawal these later absences would have been further truancy reports.
        assert _unexcused_days(district, student, date(2026, 1, 14), LATER)
        assert district.sync(today=LATER).writes.as_dict()["created"] == 0

        district.control(
            "POST",
            "/oneroster/enrollment/reenter",
            json={
                "sourcedId": student.sourced_id,
                "beginDate": RETURN.isoformat(),
                "endDate": district.server.district.year.last_day.isoformat(),
            },
        )
        assert district.sync(today=BACK_A_WEEK).ok

        reopened = district.case_of(str(student.dcid))
        assert reopened.status == "open"
        assert [e.kind for e in reopened.history].count("reenrolled") == 1
        back = _student_rows(district, student.dcid)
        tasks = [row for row in back["U_TRUANCY_TASKS"] if row["status"] == "open"]
        assert tasks
        assert all(row["due_date"] > RETURN.isoformat() for row in tasks)
        notes = [row["note_text"] for row in back["U_TRUANCY_NOTES"] if row["category"] == "case_reopened"]
        assert notes == [
            f"Case for school year 2025-26 reopened on {RETURN.isoformat()}: the student is enrolled "
            "again. Task deadlines count from this day."
        ]
