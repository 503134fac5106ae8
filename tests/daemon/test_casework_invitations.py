"""Conference invitations in the sync cycle, end to end against the sandbox: the officer proposes a
time and place in the SIS; the next cycle invites each family in its language (a real aiosmtpd
server on loopback, STARTTLS and a login) with an invitation whose text/calendar part icalendar
parses back to that time and place, or, for a family without email, in the day's print batch (the
PDF's text extracted, its page rendered); every attempt is logged in the SIS row with its channel
and Message-ID or batch; a second cycle sends nothing; reminders follow two days before, the same
way; a failed SIS log is repaired without sending again."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from pathlib import Path

import pypdfium2
import pytest
from icalendar import Calendar
from pypdf import PdfReader
from sqlalchemy import select

from tests.daemon.notice_support import Mailbox, notice_settings, smtp_server
from tests.daemon.sandbox_sync import District, sandbox_district
from tests.documents.letter_support import ink_fraction
from tests.sandbox_year import PINNED_AS_OF
from truancy.daemon.casework_invitations import InvitationCycle
from truancy.daemon.notices_settings import NoticeSettings
from truancy.daemon.pipeline import CycleSummary, SyncPipeline
from truancy.daemon.runtime import runtime
from truancy.daemon.schema import students
from truancy.documents.catalogs import SHIPPED
from truancy.mappings.casework import load_casework
from truancy.mappings.notices_contacts import GuardianContact

pytestmark = pytest.mark.slow
STARTS = datetime(2026, 6, 9, 15, 30)
REMINDER_DAY = date(2026, 6, 7)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "invitations"
DISTRICT = "Sandbox Unified School District"


@dataclass(frozen=True)
class Family:
    dcid: str
    guardians: tuple[GuardianContact, ...]

    @property
    def emails(self) -> list[str]:
        return sorted(g.email for g in self.guardians if g.email)


def _cycle(district: District, settings: NoticeSettings, today: date) -> CycleSummary:
    with runtime(district.settings) as rt:
        invitations = InvitationCycle(
            rt.engine,
            load_casework("CA"),
            settings,
            district=DISTRICT,
            zone=district.settings.district.zone,
            config_dir=district.config.parent,
            contacts=rt.plugin.guardian_contacts,  # type: ignore[attr-defined]
            read_files=rt.plugin.casework_files,  # type: ignore[attr-defined]
            record_attempts=rt.plugin.record_conference_attempts,  # type: ignore[attr-defined]
        )
        pipeline = SyncPipeline(rt.engine, rt.plugin, rt.policy, invitations=invitations)
        return pipeline.run_cycle(today=today)


def _families(district: District) -> list[Family]:
    """Every student with a case and the guardians who may receive mail, as the SIS has them."""
    found = []
    with runtime(district.settings) as rt, rt.engine.connect() as connection:
        refs = {t["studentsdcid"] for t in district.sis_rows()["U_TRUANCY_TASKS"]}
        for row in connection.execute(select(students.c.sis_ref, students.c.student_id)).all():
            if row.sis_ref in refs:
                contacts = rt.plugin.guardian_contacts([row.student_id])  # type: ignore[attr-defined]
                guardians = tuple(c for c in contacts if c.may_receive)
                if guardians:
                    found.append(Family(row.sis_ref, guardians))
    return found


def _pick(families: list[Family], language: str, *, email: bool) -> Family:
    for family in families:
        if {g.language for g in family.guardians} == {language} and all(
            bool(g.email) is email and g.address for g in family.guardians
        ):
            return family
    raise AssertionError(f"no family in {language} {'with' if email else 'without'} email")


def _reviewed_vietnamese(folder: Path) -> Path:
    """The district's own catalog folder: the shipped Vietnamese draft, signed by a reviewer (here
    the test fixture's; a district ships its reviewer's)."""
    target = folder / "catalogs" / "vi"
    target.mkdir(parents=True)
    shutil.copy(SHIPPED / "vi" / "invitations.po", target / "invitations.po")
    (target / "review.yaml").write_text(
        "reviewed_by: Test fixture reviewer (not a real review)\nreviewed_on: 2026-11-30\n", encoding="utf-8"
    )
    return folder / "catalogs"


def _propose(district: District, family: Family) -> str:
    with district.powerschool() as sis:
        row_id = sis.insert_row(
            "U_TRUANCY_CONFERENCES",
            {
                "studentsdcid": family.dcid,
                "meeting": "parent_conference",
                "starts_at": STARTS.isoformat(timespec="minutes"),
                "place": "Room 4, Lincoln Middle School",
            },
        )
    return str(row_id)


def _attempts(district: District, row_id: str) -> list[dict[str, str]]:
    with district.powerschool() as sis:
        row = sis.get_row("U_TRUANCY_CONFERENCES", row_id)
    assert row is not None
    attempts: list[dict[str, str]] = json.loads(row.get("attempts") or "[]")
    return attempts


def _event(message: EmailMessage) -> tuple[Calendar, object]:
    (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "REQUEST"
    calendar = Calendar.from_ical(part.get_content())
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def _render(pdf: bytes, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    pypdfium2.PdfDocument(pdf)[0].render(scale=1.5).to_pil().save(path)
    return path


@contextmanager
def _district(tmp_path: Path) -> Iterator[tuple[Mailbox, District, NoticeSettings]]:
    with smtp_server(tmp_path) as (mailbox, port, ca), sandbox_district(tmp_path) as district:
        settings = notice_settings(tmp_path, port, ca, catalogs_dir=str(_reviewed_vietnamese(tmp_path)))
        assert district.sync().ok
        yield mailbox, district, settings


def test_each_family_is_invited_in_its_language_by_email_or_post_once_then_reminded(tmp_path: Path) -> None:
    with _district(tmp_path) as (mailbox, district, settings):
        families = _families(district)
        vietnamese = _pick(families, "vi", email=True)
        spanish_by_post = _pick(families, "es", email=False)
        emailed_row, posted_row = _propose(district, vietnamese), _propose(district, spanish_by_post)

        first = _cycle(district, settings, PINNED_AS_OF)
        assert first.ok, first.errors
        (message,) = mailbox.messages  # the family without email gets no message, but a letter
        assert sorted(a.strip() for a in message["To"].split(",")) == vietnamese.emails
        assert message["Subject"] == "Thư mời: Họp phụ huynh, Thứ Ba, 9 tháng 6, 2026 lúc 15:30"
        assert message["Content-Language"] == "vi"
        body = message.get_body(("plain",))
        assert body is not None
        text = body.get_content()
        assert "Thời gian: Thứ Ba, 9 tháng 6, 2026, từ 15:30 đến 16:15" in text
        assert "Địa điểm: Room 4, Lincoln Middle School" in text
        assert "Họp phụ huynh: Cuộc họp giữa quý vị" in text
        assert "(Cal. Educ. Code § 48262)" in text
        assert "thông dịch viên" in text  # the interpreter offer
        assert "(555) 010-0199" in text  # whom to call
        calendar, event = _event(message)
        assert str(calendar["method"]) == "REQUEST"
        assert event.decoded("dtstart") == STARTS.replace(tzinfo=district.settings.district.zone)  # type: ignore[attr-defined]
        assert str(event["location"]) == "Room 4, Lincoln Middle School"  # type: ignore[index]
        assert str(event["summary"]) == f"{DISTRICT}: Họp phụ huynh"  # type: ignore[index]
        assert str(event["description"]).startswith("Cuộc họp về việc đi học của con quý vị")  # type: ignore[index]
        uid = str(event["uid"])  # type: ignore[index]
        assert _attempts(district, emailed_row) == [
            {"on": "2026-06-05", "channel": "email", "purpose": "invitation", "ref": message["Message-ID"]}
        ]

        # the family without email: a letter in the day's print batch, in English (no reviewed
        # Spanish catalog), and a "translation needed" task on the case
        letters = tmp_path / "letters"
        batch = (letters / "print-2026-06-05.pdf").read_bytes()
        manifest = (letters / "print-2026-06-05-manifest.csv").read_text().splitlines()
        assert manifest[0] == "school_id,kind,item,pages"
        assert [line.split(",")[1] for line in manifest[1:]] == ["invitation"]
        page = PdfReader(io.BytesIO(batch)).pages[0].extract_text()
        guardian = spanish_by_post.guardians[0]
        assert guardian.name in page
        assert guardian.address[0] in page
        assert f"You are invited to a meeting about {guardian.student_name}" in page
        for expected in (
            "Tuesday, June 9, 2026, 3:30\u202fPM to 4:15\u202fPM",
            "Room 4, Lincoln Middle School",
            "Parent conference: A meeting of you, your child and school staff.",
            "(Cal. Educ. Code § 48262)",
            "If you would like an interpreter at the meeting",
            "(555) 010-0199",
        ):
            assert " ".join(expected.split()) in " ".join(page.split()), expected
        assert ink_fraction(_render(batch, "ca-parent-conference-printed-english")) > 0.01
        assert _attempts(district, posted_row) == [
            {"on": "2026-06-05", "channel": "print", "purpose": "invitation", "ref": "print-2026-06-05"}
        ]
        tasks = [t for t in district.sis_rows()["U_TRUANCY_TASKS"] if t["task_type"] == "notice_translation"]
        assert [(t["studentsdcid"], t["title"]) for t in tasks] == [
            (spanish_by_post.dcid, "Translation needed: invite the family in es too")
        ]

        again = _cycle(district, settings, PINNED_AS_OF)  # the same day again: nothing more
        assert again.ok, again.errors
        assert len(mailbox.messages) == 1
        assert (letters / "print-2026-06-05-manifest.csv").read_text().splitlines() == manifest
        assert len(_attempts(district, emailed_row)) == len(_attempts(district, posted_row)) == 1

        reminded = _cycle(district, settings, REMINDER_DAY)  # two days before: reminders, same entry
        assert reminded.ok, reminded.errors
        assert len(mailbox.messages) == 2
        reminder = mailbox.messages[1]
        assert reminder["Subject"].startswith("Nhắc nhở: Họp phụ huynh")
        _, event = _event(reminder)
        assert str(event["uid"]) == uid  # type: ignore[index]
        reminder_batch = (letters / "print-2026-06-07.pdf").read_bytes()
        page = PdfReader(io.BytesIO(reminder_batch)).pages[0].extract_text()
        assert f"Reminder: our meeting about {guardian.student_name}" in page
        _render(reminder_batch, "ca-parent-conference-printed-reminder")
        assert [(a["purpose"], a["channel"]) for a in _attempts(district, emailed_row)] == [
            ("invitation", "email"),
            ("reminder", "email"),
        ]
        assert [(a["purpose"], a["ref"]) for a in _attempts(district, posted_row)] == [
            ("invitation", "print-2026-06-05"),
            ("reminder", "print-2026-06-07"),
        ]
        assert _cycle(district, settings, REMINDER_DAY).ok  # and once only
        assert len(mailbox.messages) == 2


def test_a_failed_sis_log_after_sending_is_repaired_without_sending_again(tmp_path: Path) -> None:
    with _district(tmp_path) as (mailbox, district, settings):
        family = _pick(_families(district), "en", email=True)
        row_id = _propose(district, family)
        # the SIS refuses every update of the conference rows: the invitation leaves, the log fails
        fault = {"path_prefix": "/ws/schema/table/u_truancy_conferences", "method": "PUT", "status": 503}
        district.control("POST", "/faults", json={**fault, "count": 1000})
        failed = _cycle(district, settings, PINNED_AS_OF)
        assert not failed.ok
        assert any(e.startswith("transient: a conference's attempts were not logged") for e in failed.errors)
        assert len(mailbox.messages) == 1
        assert _attempts(district, row_id) == []
        district.control("DELETE", "/faults")

        repaired = _cycle(district, settings, PINNED_AS_OF)
        assert repaired.ok, repaired.errors
        assert len(mailbox.messages) == 1  # not sent again
        (attempt,) = _attempts(district, row_id)
        assert attempt == {
            "on": "2026-06-05",
            "channel": "email",
            "purpose": "invitation",
            "ref": mailbox.messages[0]["Message-ID"],
        }
