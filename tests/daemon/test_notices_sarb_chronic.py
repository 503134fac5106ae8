"""The SARB referral notice (Cal. Educ. Code § 48263) and the chronic-absence notice sent by the
cycle, end to end: the sandbox SIS over HTTP, a real SMTP server on loopback (aiosmtpd, STARTTLS and
a login), the officer's work recorded through the SIS's own API.

The SARB letter tells the family the case *was* referred, so it is due only once the officer records
the referral made, never when the SARB task opens; it then goes through the same approval, sending,
logging and cancellation as the § 48260.5 letter, and its sending does not stand in for the
referral. The chronic-absence letter states the days missed and the percent of enrolled days, the
very figures of the student's flag, and its sending is the outreach task done.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.daemon.notice_support import notice_cycle, notice_settings, smtp_server
from tests.daemon.sandbox_sync import District, sandbox_district
from tests.daemon.test_notices_end_to_end import _notices, _pdf_text

pytestmark = pytest.mark.slow
SARB = {
    "board_name": "Sandbox County School Attendance Review Board",
    "board_address": "1 Court Street, Springfield, CA 95000",
    "referral_reason": "the absences without a valid excuse went on after our letter and our meeting.",
}
ABSENT_CODES = {"A", "UNX", "EX", "ILL", "MED", "SUS"}


def _task(district: District, dcid: str, task_type: str) -> dict[str, str]:
    tasks = district.sis_rows()["U_TRUANCY_TASKS"]
    return next(t for t in tasks if t["studentsdcid"] == dcid and t["task_type"] == task_type)


def _record(district: District, task: dict[str, str], outcome: str) -> None:
    done = {"status": "done", "outcome": outcome, "completed_date": str(district.today)}
    with district.powerschool() as sis:
        sis.update_row("U_TRUANCY_TASKS", task["id"], done)


def _of(district: District, dcid: str, notice_type: str) -> list[dict[str, Any]]:
    return [n for n in _notices(district) if n["sis_ref"] == dcid and n["notice_type"] == notice_type]


def _logs(district: District, dcid: str, notice_type: str) -> list[dict[str, str]]:
    rows = district.notice_logs()
    return [n for n in rows if n["studentsdcid"] == dcid and n["notice_type"] == notice_type]


def _conference_of_a_family_we_can_write_to(district: District) -> dict[str, str]:
    """The open conference task of a student one conference short of a SARB referral whose
    § 48260.5 letter waits for approval (not held: a guardian may receive mail, not mostly ill)."""
    waiting = {n["sis_ref"] for n in _notices(district) if n["status"] == "pending"}
    for task in district.sis_rows()["U_TRUANCY_TASKS"]:
        if task["task_type"] != "parent_conference" or task["status"] != "open":
            continue
        if task["studentsdcid"] not in waiting:
            continue
        case = district.case_of(task["studentsdcid"])
        truant = case.designations.get("truant")
        if truant is not None and truant.occasions >= 3 and "habitual_truant" not in case.designations:
            return task
    raise AssertionError("the sandbox district has no such student")


def test_the_sarb_letter_goes_once_the_officer_made_the_referral_and_after_approval(tmp_path: Path) -> None:
    with smtp_server(tmp_path) as (mailbox, port, ca), sandbox_district(tmp_path) as district:
        settings = notice_settings(tmp_path, port, ca, values=SARB)
        assert notice_cycle(district, settings).ok
        conference = _conference_of_a_family_we_can_write_to(district)
        dcid = conference["studentsdcid"]
        _record(district, conference, "held")
        assert notice_cycle(district, settings).ok
        referral = _task(district, dcid, "sarb_referral")
        assert referral["status"] == "open"
        # the SARB task is open, the referral not made: no letter says the case was sent
        assert not _of(district, dcid, "ca_sarb_referral")

        _record(district, referral, "made")
        assert notice_cycle(district, settings).ok
        [sarb] = _of(district, dcid, "ca_sarb_referral")
        assert sarb["status"] == "pending"
        assert SARB["board_name"] in sarb["letter_text"]
        assert SARB["board_address"] in sarb["letter_text"]
        [log] = _logs(district, dcid, "ca_sarb_referral")
        assert log["citation"] == "Cal. Educ. Code § 48263"
        review = next(
            t
            for t in district.sis_rows()["U_TRUANCY_TASKS"]
            if t["studentsdcid"] == dcid
            and t["task_type"] == "notice_review"
            and "Review Board" in t["title"]
        )
        assert review["status"] == "open"
        before = len(mailbox.messages)

        done = {"status": "done", "outcome": "approve", "completed_date": str(district.today)}
        with district.powerschool() as sis:
            sis.update_row("U_TRUANCY_TASKS", review["id"], done)
        assert notice_cycle(district, settings).ok
        [sarb] = _of(district, dcid, "ca_sarb_referral")
        assert sarb["status"] == "sent"
        [log] = _logs(district, dcid, "ca_sarb_referral")
        assert log["status"] == "sent"
        assert log["sent_date"] == str(sarb["sent_on"])
        emailed = [r["email"] for r in sarb["facts"]["recipients"] if r["email"]]
        assert len(mailbox.messages) - before == len(emailed)
        for address in emailed:
            [message] = mailbox.to(address)[-1:]
            [attachment] = list(message.iter_attachments())
            text = _pdf_text(attachment.get_content())
            assert SARB["board_name"] in text
            assert "meet with the board" in text
            assert message["Message-ID"] in log["evidence"]
        if not emailed:
            assert "print batch" in log["evidence"]
        # the letter announces the referral; it does not make it: the officer's outcome stands
        case = district.case_of(dcid)
        assert case.completed_tasks["sarb_referral"].outcome == "made"

        sent = len(mailbox.messages)
        assert notice_cycle(district, settings).ok
        assert len(mailbox.messages) == sent
        assert _logs(district, dcid, "ca_sarb_referral") == [log]


def _flag_amount(district: District, dcid: str) -> tuple[int, str]:
    """(records in the flag's evidence, its percent) as the officer sees them on the flag."""
    flag = next(
        f
        for f in district.sis_rows()["U_TRUANCY_FLAGS"]
        if f["studentsdcid"] == dcid and f["flag_type"] == "chronically_absent"
    )
    percent = re.match(r"^([\d.]+) % of enrolled days", flag["detail"])
    assert percent is not None, flag["detail"]
    dates = set(re.findall(r"\d{4}-\d{2}-\d{2}", flag["detail"].split("evidence: ", 1)[1]))
    return len(dates), percent.group(1)


def test_the_chronic_absence_letter_states_the_flag_s_figures_and_is_the_outreach_done(
    tmp_path: Path,
) -> None:
    with smtp_server(tmp_path) as (mailbox, port, ca), sandbox_district(tmp_path) as district:
        settings = notice_settings(tmp_path, port, ca, approval="auto")
        assert notice_cycle(district, settings).ok
        chronic = [n for n in _notices(district) if n["notice_type"] == "ca_chronic_absence"]
        sent = [n for n in chronic if n["status"] == "sent"]
        assert sent, "no chronically absent student got a letter"
        assert all(n["status"] in {"sent", "held"} for n in chronic)
        for notice in sent[:5]:
            days, percent = _flag_amount(district, notice["sis_ref"])
            assert f"missed {days} school days" in notice["letter_text"]
            assert f"{float(percent):.1f} percent" in notice["letter_text"]
            [log] = _logs(district, notice["sis_ref"], "ca_chronic_absence")
            assert log["status"] == "sent"
            assert log["citation"].startswith("Cal. Educ. Code § 60901(c)(1)")
        emailed = {r["email"] for n in sent for r in n["facts"]["recipients"] if r["email"]}
        assert emailed <= {m["To"] for m in mailbox.messages}
        count = len(mailbox.messages)
        assert notice_cycle(district, settings).ok
        assert len(mailbox.messages) == count
        # the next cycle reads the letters sent as the outreach task done, dated the day sent
        for notice in sent[:5]:
            done = district.case_of(notice["sis_ref"]).completed_tasks["attendance_outreach"]
            assert done.outcome in {"sent_email", "sent_mail"}
            assert done.on == notice["sent_on"]


def test_a_correction_before_approval_cancels_a_chronic_absence_letter(tmp_path: Path) -> None:
    with smtp_server(tmp_path) as (mailbox, port, ca), sandbox_district(tmp_path) as district:
        settings = notice_settings(tmp_path, port, ca)
        assert notice_cycle(district, settings).ok
        waiting = [
            n
            for n in _notices(district)
            if n["notice_type"] == "ca_chronic_absence" and n["status"] == "pending"
        ]
        assert waiting, "no chronic-absence letter waits for approval"
        chosen = waiting[0]
        truth = district.server.district
        assert truth is not None
        for row in truth.attendance_of(int(chosen["sis_ref"])):
            if row.att_code in ABSENT_CODES:  # the absences were a field trip after all
                district.control("POST", "/attendance/correct", json={"dcid": row.dcid, "att_code": "FT"})
        assert notice_cycle(district, settings).ok
        [cancelled] = _of(district, chosen["sis_ref"], "ca_chronic_absence")
        assert cancelled["status"] == "cancelled"
        assert "no longer chronically absent" in cancelled["note"]
        [log] = _logs(district, chosen["sis_ref"], "ca_chronic_absence")
        assert log["status"] == "cancelled"
        assert "no longer chronically absent" in log["status_reason"]
        addresses = {r["email"] for r in chosen["facts"]["recipients"] if r["email"]}
        assert not addresses & {m["To"] for m in mailbox.messages}
