"""Family notices end to end: the sandbox SIS over HTTP, a real SMTP server on loopback requiring
STARTTLS and a login, the officer's approval recorded through the SIS's own API.

A truant student's guardian gets one § 48260.5 letter, in the guardian's language where a reviewed
catalog exists (else English and a "translation needed" task), emailed with its PDF after the
officer approves, logged in the SIS; the next cycle sends nothing; a late excuse before approval
cancels the letter; a failed SIS log after sending is repaired without sending again.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests.daemon.notice_support import free_port, notice_cycle, notice_settings, smtp_server
from tests.daemon.sandbox_sync import District, sandbox_district
from tests.documents.letter_support import render_pages
from truancy.connector.errors import TransientError
from truancy.daemon.notices_schema import notice_deliveries, notices
from truancy.daemon.runtime import runtime
from truancy.documents.catalogs import load_catalogs
from truancy.mappings.notices import load_notices

pytestmark = pytest.mark.slow
UNEXCUSED = {"A", "UNX", "T", "T30", "UT", "ED"}
TRUANCY = "ca_truancy_notification"
"""The § 48260.5 letter; the cycle also sends chronic-absence letters (test_notices_sarb_chronic)."""


def _notices(district: District) -> list[dict[str, Any]]:
    with runtime(district.settings) as rt, rt.engine.connect() as connection:
        return [dict(row) for row in connection.execute(select(notices)).mappings()]


def _review_task(district: District, dcid: str) -> dict[str, str]:
    tasks = district.sis_rows()["U_TRUANCY_TASKS"]
    return next(
        t
        for t in tasks
        if t["studentsdcid"] == dcid
        and t["task_type"] == "notice_review"
        and t["title"].endswith("First truancy notification")  # not the chronic-absence letter's
    )


def _decide(district: District, dcid: str, outcome: str) -> None:
    task = _review_task(district, dcid)
    assert outcome in {o["code"] for o in json.loads(task["outcome_options"])}
    done = {"status": "done", "outcome": outcome, "completed_date": str(district.today)}
    with district.powerschool() as sis:
        sis.update_row("U_TRUANCY_TASKS", task["id"], done)


def _pick(rows: list[dict[str, Any]], *, language: str, exclude: set[str]) -> dict[str, Any]:
    return next(
        row
        for row in rows
        if row["notice_type"] == TRUANCY
        and row["wanted_language"] == language
        and row["sis_ref"] not in exclude
        and any(r["email"] for r in row["facts"]["recipients"])
    )


def _pdf_text(pdf: bytes) -> str:
    return " ".join(
        " ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(pdf)).pages
    )


def test_one_letter_after_approval_sent_once_logged_and_cancelled_by_a_late_excuse(tmp_path: Path) -> None:
    with smtp_server(tmp_path) as (mailbox, port, ca), sandbox_district(tmp_path) as district:
        settings = notice_settings(tmp_path, port, ca)
        first = notice_cycle(district, settings)
        assert first.ok, first.errors
        generated = _notices(district)
        assert generated, "no truant student got a notice"
        assert {row["status"] for row in generated} <= {"pending", "held"}
        assert mailbox.messages == []  # nothing leaves before the officer approves
        english = _pick(generated, language="en", exclude=set())
        spanish = _pick(generated, language="es", exclude={english["sis_ref"]})
        excused = _pick(generated, language="en", exclude={english["sis_ref"], spanish["sis_ref"]})
        review = _review_task(district, english["sis_ref"])
        assert english["letter_text"].split("What the law says")[0][:40] in review["detail"]

        # a Spanish-speaking family: no reviewed Spanish catalog ships, so English and a task
        assert spanish["language"] == "en"
        tasks = district.sis_rows()["U_TRUANCY_TASKS"]
        assert any(
            t["studentsdcid"] == spanish["sis_ref"] and t["task_type"] == "notice_translation" for t in tasks
        )

        # a late excuse before approval: every unexcused record of one student becomes excused
        truth = district.server.district
        assert truth is not None
        for row in truth.attendance_of(int(excused["sis_ref"])):
            if row.att_code in UNEXCUSED:
                district.control("POST", "/attendance/correct", json={"dcid": row.dcid, "att_code": "EX"})

        _decide(district, english["sis_ref"], "approve")
        second = notice_cycle(district, settings)
        assert second.ok, second.errors
        by_id = {row["notice_id"]: row for row in _notices(district)}
        assert by_id[english["notice_id"]]["status"] == "sent"
        assert by_id[excused["notice_id"]]["status"] == "cancelled"
        assert "no longer truant" in by_id[excused["notice_id"]]["note"]

        recipients = [r for r in english["facts"]["recipients"] if r["email"]]
        for recipient in recipients:
            [message] = mailbox.to(recipient["email"])
            [attachment] = list(message.iter_attachments())
            assert attachment.get_content_type() == "application/pdf"
            pdf = attachment.get_content()
            text = _pdf_text(pdf)
            notice = load_notices("CA").notice("ca_truancy_notification")
            catalog = load_catalogs()["en"]
            student = english["facts"]["letter"]["student"]
            assert student
            assert student in text
            for element in notice.elements_on(district.today or english["trigger_on"]):
                wanted = catalog.messages[f"element.{notice.id}.{element.id}"].format(student=student)
                assert " ".join(wanted.split()) in text, element.id
        assert mailbox.tls_sessions == len(mailbox.messages)
        render_pages(pdf, "e2e-ca-48260.5-emailed")
        assert (tmp_path / "letters").is_dir()
        assert len(list((tmp_path / "letters").glob("ca_truancy_notification-*.pdf"))) == 1

        # each letter is logged in the SIS's notices table, not as a note
        rows = district.sis_rows()
        assert not [n for n in rows["U_TRUANCY_NOTES"] if n["category"] == "notice"]
        [log] = [
            n
            for n in district.notice_logs()
            if n["studentsdcid"] == english["sis_ref"] and n["notice_type"] == TRUANCY
        ]
        assert log["status"] == "sent"
        assert log["sent_date"] == str(by_id[english["notice_id"]]["sent_on"])
        assert log["generated_date"] == str(english["trigger_on"])
        assert log["notice_type"] == "ca_truancy_notification"
        assert log["citation"] == "Cal. Educ. Code § 48260.5"
        assert log["channel"] == "email"
        assert log["languages"] == "en"
        assert log["letter_text"] == english["letter_text"]
        for recipient in recipients:
            assert mailbox.to(recipient["email"])[0]["Message-ID"] in log["evidence"]
            assert recipient["email"] not in log["evidence"]
        [cancelled] = [
            n
            for n in district.notice_logs()
            if n["studentsdcid"] == excused["sis_ref"] and n["notice_type"] == TRUANCY
        ]
        assert cancelled["status"] == "cancelled"
        assert "Cancelled before sending" in cancelled["status_reason"]
        assert not cancelled.get("sent_date")
        assert not cancelled.get("evidence")
        waiting = [n for n in district.notice_logs() if n["status"] == "awaiting_approval"]
        assert waiting
        assert all(n["letter_text"] for n in waiting)
        logged = {n["sync_key"]: n for n in district.notice_logs()}

        # approving the cancelled letter afterwards sends nothing; the next cycles send nothing more
        _decide(district, excused["sis_ref"], "approve")
        sent_so_far = len(mailbox.messages)
        for _ in range(2):
            again = notice_cycle(district, settings)
            assert again.ok, again.errors
        assert len(mailbox.messages) == sent_so_far
        # the sent and cancelled logs are never changed again
        after = {n["sync_key"]: n for n in district.notice_logs()}
        for key in (log["sync_key"], cancelled["sync_key"]):
            assert after[key] == logged[key]
        # the letter satisfies its task in the case, dated when it was sent (the SIS row's status
        # stays the officer's: the daemon never overwrites an officer-owned column)
        case = district.case_of(english["sis_ref"])
        sent_on = by_id[english["notice_id"]]["sent_on"]
        assert case.completed_tasks["truancy_notification"].on == sent_on
        assert case.completed_tasks["truancy_notification"].outcome == "sent_email"
        assert case.conditions["truancy_notification_sent"] == sent_on


def test_a_failed_sis_log_after_sending_is_repaired_without_sending_again(tmp_path: Path) -> None:
    with smtp_server(tmp_path) as (mailbox, port, ca), sandbox_district(tmp_path) as district:
        settings = notice_settings(tmp_path, port, ca)
        assert notice_cycle(district, settings).ok
        chosen = _pick(_notices(district), language="en", exclude=set())
        _decide(district, chosen["sis_ref"], "approve")
        # the SIS refuses every update of the letters' log in the cycle that sends: the letter
        # leaves, its log does not say so
        district.control(
            "POST",
            "/faults",
            json={
                "path_prefix": "/ws/schema/table/u_truancy_notices",
                "method": "PUT",
                "status": 503,
                "count": 1000,
            },
        )
        with pytest.raises(TransientError):  # the cycle stops between sending and logging
            notice_cycle(district, settings)
        sent = len(mailbox.messages)
        assert sent >= 1
        logs = district.notice_logs()
        assert [
            n["status"]
            for n in logs
            if n["studentsdcid"] == chosen["sis_ref"] and n["notice_type"] == TRUANCY
        ] == ["awaiting_approval"]
        district.control("DELETE", "/faults")
        repaired = notice_cycle(district, settings)
        assert repaired.ok, repaired.errors
        assert len(mailbox.messages) == sent
        logs = district.notice_logs()
        [log] = [n for n in logs if n["studentsdcid"] == chosen["sis_ref"] and n["notice_type"] == TRUANCY]
        assert log["status"] == "sent"
        assert log["evidence"].count("message id") == sent


def _make_mostly_ill(district: District) -> str:
    """A truant student whose other school days this year become excused illness: their DCID."""
    assert district.sync().ok  # which students are truant, before any notice exists
    flags = district.sis_rows()["U_TRUANCY_FLAGS"]
    dcid = int(next(row["studentsdcid"] for row in flags if row["flag_type"] == "truant"))
    truth = district.server.district
    assert truth is not None
    student = truth.student(dcid)
    taken = {row.att_date for row in truth.attendance_of(dcid)}
    absences = len(taken)
    free = [
        day
        for day in sorted(truth.school(student.schoolid).in_session)
        if day not in taken and student.enrolled_on(day) and day < truth.as_of
    ]
    for day in free[: 2 * absences + 1]:
        body = {"studentsdcid": dcid, "att_date": day.isoformat(), "att_code": "ILL"}
        district.control("POST", "/attendance", json=body)
    return str(dcid)


def test_auto_approval_emails_in_the_cycle_that_finds_the_notice_due(tmp_path: Path) -> None:
    with smtp_server(tmp_path) as (mailbox, port, ca), sandbox_district(tmp_path) as district:
        settings = notice_settings(tmp_path, port, ca, approval="auto")
        sick = _make_mostly_ill(district)
        first = notice_cycle(district, settings)
        assert first.ok, first.errors
        rows = _notices(district)
        [held] = [row for row in rows if row["sis_ref"] == sick and row["notice_type"] == TRUANCY]
        assert held["status"] == "held"
        assert "illness" in held["note"]
        sent = [row for row in rows if row["status"] == "sent"]
        assert sent
        assert all(row["status"] in {"sent", "held"} for row in rows)
        addresses = {r["email"] for row in sent for r in row["facts"]["recipients"] if r["email"]}
        assert {m["To"] for m in mailbox.messages} == addresses
        emails = sum(1 for row in sent for r in row["facts"]["recipients"] if r["email"])
        assert len(mailbox.messages) == emails  # one per letter and guardian
        pdfs = list((tmp_path / "letters").glob("ca_truancy_notification-*.pdf"))
        assert len(pdfs) == len([row for row in sent if row["notice_type"] == TRUANCY])
        assert all((pdf.stat().st_mode & 0o077) == 0 for pdf in pdfs)
        no_email = [row for row in sent if not any(r["email"] for r in row["facts"]["recipients"])]
        # families without an email get the letter in the day's print batch, sorted by school
        assert no_email, "the sandbox gives some guardians no email"
        batch = tmp_path / "letters" / f"print-{district.today}.pdf"
        assert len(PdfReader(batch).pages) >= len(no_email)
        manifest = (tmp_path / "letters" / f"print-{district.today}-manifest.csv").read_text().splitlines()
        assert len(manifest) == len(no_email) + 1
        schools = [line.split(",")[0] for line in manifest[1:]]
        assert schools == sorted(schools)
        tasks = district.sis_rows()["U_TRUANCY_TASKS"]
        # with auto approval only a held letter waits for the officer's review
        reviewed = {t["studentsdcid"] for t in tasks if t["task_type"] == "notice_review"}
        assert reviewed == {row["sis_ref"] for row in rows if row["status"] == "held"}
        assert sick in reviewed
        again = notice_cycle(district, settings)
        assert again.ok, again.errors
        assert len(mailbox.messages) == emails


def _fixture_catalog(folder: Path, language: str) -> None:
    """A district catalog for ``language`` whose every string is the English one tagged [fixture]: a
    test of the mechanism, not a translation (no statutory text is translated anywhere)."""
    english = load_catalogs()["en"]
    target = folder / language
    target.mkdir(parents=True)
    lines = [
        'msgid ""',
        'msgstr ""',
        f'"Language: {language}\\n"',
        '"Content-Type: text/plain; charset=UTF-8\\n"',
        "",
    ]
    for key, text in english.messages.items():
        escaped = f"[fixture] {text}".replace("\\", "\\\\").replace('"', '\\"')
        lines += [f'msgid "{key}"', f'msgstr "{escaped}"', ""]
    (target / "letters.po").write_text("\n".join(lines), encoding="utf-8")
    (target / "review.yaml").write_text(
        "reviewed_by: Test fixture (not a translation)\nreviewed_on: 2026-12-01\nstatutory_reviewed: true\n",
        encoding="utf-8",
    )


def test_a_reviewed_district_catalog_carries_the_letter_in_the_family_language(tmp_path: Path) -> None:
    with smtp_server(tmp_path) as (mailbox, port, ca), sandbox_district(tmp_path) as district:
        _fixture_catalog(tmp_path / "catalogs", "vi")
        settings = notice_settings(
            tmp_path, port, ca, approval="auto", catalogs_dir=str(tmp_path / "catalogs")
        )
        assert notice_cycle(district, settings).ok
        rows = _notices(district)
        vietnamese = [row for row in rows if row["wanted_language"] == "vi" and row["notice_type"] == TRUANCY]
        assert vietnamese, "the sandbox gives some families Vietnamese"
        assert all(row["language"] == "vi" for row in vietnamese)
        assert all(row["language"] == "en" for row in rows if row["wanted_language"] not in ("en", "vi"))
        sent = next(
            r
            for r in vietnamese
            if r["status"] == "sent" and any(c["email"] for c in r["facts"]["recipients"])
        )
        address = next(c["email"] for c in sent["facts"]["recipients"] if c["email"])
        [attachment] = [
            a
            for m in mailbox.to(address)
            for a in m.iter_attachments()
            if (a.get_filename() or "").startswith(TRUANCY)
        ]
        assert "[fixture] Under California law" in _pdf_text(attachment.get_content())
        tasks = district.sis_rows()["U_TRUANCY_TASKS"]
        translation = {t["studentsdcid"] for t in tasks if t["task_type"] == "notice_translation"}
        assert not translation & {row["sis_ref"] for row in vietnamese}
        assert translation >= {row["sis_ref"] for row in rows if row["wanted_language"] == "es"}


def test_a_mail_server_that_cannot_be_reached_leaves_the_letter_approved_for_the_next_cycle(
    tmp_path: Path,
) -> None:
    with smtp_server(tmp_path) as (mailbox, port, ca), sandbox_district(tmp_path) as district:
        closed = notice_settings(tmp_path, free_port(), ca)  # nothing listens there
        assert notice_cycle(district, closed).ok
        chosen = _pick(_notices(district), language="en", exclude=set())
        _decide(district, chosen["sis_ref"], "approve")
        failed = notice_cycle(district, closed)
        assert any("not emailed" in error and "the next cycle retries" in error for error in failed.errors)
        by_id = {row["notice_id"]: row for row in _notices(district)}
        assert by_id[chosen["notice_id"]]["status"] == "approved"
        with runtime(district.settings) as rt, rt.engine.connect() as connection:
            assert not connection.execute(select(notice_deliveries)).all()  # refused: nothing half-sent
        retried = notice_cycle(district, notice_settings(tmp_path, port, ca))
        assert retried.ok, retried.errors
        assert {row["notice_id"]: row for row in _notices(district)}[chosen["notice_id"]]["status"] == "sent"
        addresses = [r["email"] for r in chosen["facts"]["recipients"] if r["email"]]
        assert [len(mailbox.to(address)) for address in addresses] == [1] * len(addresses)


def test_a_store_rebuilt_from_nothing_generates_no_letter_the_sis_logs(tmp_path: Path) -> None:
    """The SIS is the letters' log: a store lost and rebuilt reads it back before any letter is due,
    so a family that was sent one is not written to again."""
    with smtp_server(tmp_path) as (mailbox, port, ca), sandbox_district(tmp_path) as district:
        settings = notice_settings(tmp_path, port, ca)
        assert notice_cycle(district, settings).ok
        sent = _pick(_notices(district), language="en", exclude=set())
        _decide(district, sent["sis_ref"], "approve")
        assert notice_cycle(district, settings).ok
        assert {row["notice_id"]: row["status"] for row in _notices(district)}[sent["notice_id"]] == "sent"
        emails = len(mailbox.messages)
        assert emails > 0

        district.lose_store()
        rebuilt = notice_cycle(district, settings)
        assert rebuilt.ok, rebuilt.errors

        assert rebuilt.evaluated > 0
        again = {row["notice_id"] for row in _notices(district)}
        assert sent["notice_id"] not in again  # the SIS logs it sent: never generated again
        assert len(mailbox.messages) == emails
