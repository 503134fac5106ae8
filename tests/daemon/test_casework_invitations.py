"""Conference invitations in the sync cycle, end to end: the officer proposes a time and place in
the SIS; the next cycle emails the guardians (a real aiosmtpd server on loopback, STARTTLS and a
login) an invitation whose text/calendar part icalendar parses back to that time and place, logs
the attempt in the SIS row, sends nothing more the same day, and a reminder two days before."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select

from tests.daemon.notice_support import notice_settings, smtp_server
from tests.daemon.sandbox_sync import District, sandbox_district
from tests.sandbox_year import PINNED_AS_OF
from truancy.daemon.casework_invitations import InvitationCycle
from truancy.daemon.notices_settings import NoticeEmailSettings
from truancy.daemon.pipeline import SyncPipeline
from truancy.daemon.runtime import runtime
from truancy.daemon.schema import students
from truancy.mappings.casework import load_casework

pytestmark = pytest.mark.slow
ZONE = ZoneInfo("America/Los_Angeles")
STARTS = datetime(2026, 6, 9, 15, 30)


def _cycle(district: District, email: NoticeEmailSettings, today: date) -> None:
    with runtime(district.settings) as rt:
        invitations = InvitationCycle(
            rt.engine,
            load_casework("CA"),
            email,
            district="Sandbox Unified School District",
            zone=ZONE,
            contacts=rt.plugin.guardian_contacts,  # type: ignore[attr-defined]
            read_files=rt.plugin.casework_files,  # type: ignore[attr-defined]
            record_attempts=rt.plugin.record_conference_attempts,  # type: ignore[attr-defined]
            password_dir=district.config.parent,
        )
        pipeline = SyncPipeline(rt.engine, rt.plugin, rt.policy, invitations=invitations)
        assert pipeline.run_cycle(today=today).ok
        assert invitations.errors == []


def _student_with_guardian_email(district: District) -> tuple[str, list[str]]:
    """A student with a case and a guardian who may receive email."""
    with runtime(district.settings) as rt, rt.engine.connect() as connection:
        refs = {t["studentsdcid"] for t in district.sis_rows()["U_TRUANCY_TASKS"]}
        rows = connection.execute(select(students.c.sis_ref, students.c.student_id)).all()
        for row in rows:
            if row.sis_ref not in refs:
                continue
            contacts = list(rt.plugin.guardian_contacts([row.student_id]))  # type: ignore[attr-defined]
            emails = [c.email for c in contacts if c.may_receive and c.email]
            if emails:
                return row.sis_ref, emails
    raise AssertionError("no student with a case has a guardian with email")


def test_invitation_then_reminder_each_sent_once_and_logged_in_the_sis(tmp_path: Path) -> None:
    with smtp_server(tmp_path) as (mailbox, port, ca), sandbox_district(tmp_path) as district:
        email = notice_settings(tmp_path, port, ca).email
        assert email is not None
        assert district.sync().ok
        dcid, guardians = _student_with_guardian_email(district)
        with district.powerschool() as sis:
            row_id = sis.insert_row(
                "U_TRUANCY_CONFERENCES",
                {
                    "studentsdcid": dcid,
                    "meeting": "parent_conference",
                    "starts_at": STARTS.isoformat(timespec="minutes"),
                    "place": "Room 4, Lincoln Middle School",
                },
            )

        _cycle(district, email, PINNED_AS_OF)
        assert len(mailbox.messages) == 1
        message = mailbox.messages[0]
        assert sorted(a.strip() for a in message["To"].split(",")) == sorted(guardians)
        (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        assert part.get_param("method") == "REQUEST"
        (event,) = Calendar.from_ical(part.get_content()).walk("VEVENT")
        assert event.decoded("dtstart") == STARTS.replace(tzinfo=ZONE)
        assert str(event["location"]) == "Room 4, Lincoln Middle School"
        uid = str(event["uid"])
        with district.powerschool() as sis:
            row = sis.get_row("U_TRUANCY_CONFERENCES", row_id)
        assert row is not None
        assert json.loads(row["attempts"]) == [
            {"on": "2026-06-05", "channel": "email", "purpose": "invitation"}
        ]

        _cycle(district, email, PINNED_AS_OF)  # the same day again: nothing more
        assert len(mailbox.messages) == 1

        _cycle(district, email, date(2026, 6, 7))  # two days before: the reminder, same calendar entry
        assert len(mailbox.messages) == 2
        reminder = mailbox.messages[1]
        assert reminder["Subject"].startswith("Reminder:")
        (part,) = [p for p in reminder.walk() if p.get_content_type() == "text/calendar"]
        (event,) = Calendar.from_ical(part.get_content()).walk("VEVENT")
        assert str(event["uid"]) == uid
        with district.powerschool() as sis:
            row = sis.get_row("U_TRUANCY_CONFERENCES", row_id)
        assert row is not None
        assert [a["purpose"] for a in json.loads(row["attempts"])] == ["invitation", "reminder"]
