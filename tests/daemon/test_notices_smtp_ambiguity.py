"""A mail server that misbehaves after DATA, end to end: the sandbox SIS over HTTP, a real aiosmtpd
server on loopback (STARTTLS and a login) that takes the message and drops the connection before
answering, or answers 451 to the message.

A dropped connection after DATA is the case RFC 1047 ("Duplicate messages and SMTP") describes: the
server may have accepted the message. The letter is never sent again on its own and never lost: the
notice is held, its log in the SIS says the delivery may have been accepted (with the message id),
and a "check delivery" task asks the officer, whose answer (the family got it, send it again,
cancel) the next cycle applies. A 451 after DATA is a refusal (RFC 5321 § 4.2.5: the server takes
responsibility only with its 250), so the next cycle sends the letter again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.daemon.notice_support import Mailbox, notice_cycle, notice_settings, smtp_server
from tests.daemon.sandbox_sync import District, sandbox_district
from tests.daemon.test_notices_end_to_end import TRUANCY, _decide, _notices

pytestmark = pytest.mark.slow


class Misbehaving(Mailbox):
    """Takes each message, then, while ``mode`` says so, drops the connection without answering
    (``drop``) or answers 451 (``refuse``, the message not kept)."""

    mode = "accept"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's hook name)
        if self.mode == "refuse":
            return "451 4.3.0 Temporary failure, try again later"
        reply = await super().handle_DATA(server, session, envelope)
        if self.mode == "drop":
            server.transport.abort()  # the message is kept; the client never hears the 250
        return reply


def _emailed(district: District, count: int) -> list[dict[str, Any]]:
    """``count`` § 48260.5 letters awaiting approval to families with an email address."""
    found = [
        n
        for n in _notices(district)
        if n["notice_type"] == TRUANCY
        and n["status"] == "pending"
        and any(r["email"] for r in n["facts"]["recipients"])
    ]
    assert len(found) >= count
    return found[:count]


def _check_task(district: District, dcid: str) -> dict[str, str]:
    tasks = district.sis_rows()["U_TRUANCY_TASKS"]
    return next(t for t in tasks if t["studentsdcid"] == dcid and t["task_type"] == "notice_delivery_check")


def _answer(district: District, task: dict[str, str], outcome: str) -> None:
    assert outcome in {o["code"] for o in json.loads(task["outcome_options"])}
    done = {"status": "done", "outcome": outcome, "completed_date": str(district.today)}
    with district.powerschool() as sis:
        sis.update_row("U_TRUANCY_TASKS", task["id"], done)


def _log(district: District, dcid: str) -> dict[str, str]:
    [log] = [n for n in district.notice_logs() if n["studentsdcid"] == dcid and n["notice_type"] == TRUANCY]
    return log


def _status(district: District, notice_id: str) -> dict[str, Any]:
    return next(n for n in _notices(district) if n["notice_id"] == notice_id)


def test_a_connection_lost_after_data_holds_the_letter_and_the_officer_decides(tmp_path: Path) -> None:
    mailbox = Misbehaving()
    with smtp_server(tmp_path, mailbox) as (_, port, ca), sandbox_district(tmp_path) as district:
        settings = notice_settings(tmp_path, port, ca)
        assert notice_cycle(district, settings).ok
        arrived, resend = _emailed(district, 2)
        for chosen in (arrived, resend):
            _decide(district, chosen["sis_ref"], "approve")

        mailbox.mode = "drop"
        lost = notice_cycle(district, settings)
        assert any("may have taken a letter" in error and "not sent again" in error for error in lost.errors)
        taken = len(mailbox.messages)
        assert taken >= 2  # the server has the messages; the daemon never heard so
        for chosen in (arrived, resend):
            held = _status(district, chosen["notice_id"])
            assert held["status"] == "held"
            assert "may have taken the letter" in held["note"]
            log = _log(district, chosen["sis_ref"])
            assert log["status"] == "held"
            assert "may have been accepted" in log["evidence"]
            addresses = [r["email"] for r in chosen["facts"]["recipients"] if r["email"]]
            first = mailbox.to(addresses[0])[0]
            assert first["Message-ID"] in log["evidence"]
            assert addresses[0] not in log["evidence"]
            assert _check_task(district, chosen["sis_ref"])["status"] == "open"

        mailbox.mode = "accept"  # a healthy server again: still nothing is sent on its own
        for _ in range(2):
            assert notice_cycle(district, settings).ok
        assert len(mailbox.messages) == taken
        assert _status(district, arrived["notice_id"])["status"] == "held"

        _answer(district, _check_task(district, arrived["sis_ref"]), "arrived")
        _answer(district, _check_task(district, resend["sis_ref"]), "resend")
        assert notice_cycle(district, settings).ok
        confirmed = _status(district, arrived["notice_id"])
        assert confirmed["status"] == "sent"
        assert confirmed["sent_on"] == district.today
        assert "confirmed" in confirmed["note"]
        assert _log(district, arrived["sis_ref"])["status"] == "sent"
        again = _status(district, resend["notice_id"])
        assert again["status"] == "sent"
        resent_to = [r["email"] for r in resend["facts"]["recipients"] if r["email"]]
        assert [len(mailbox.to(a)) for a in resent_to] == [2] * len(resent_to)  # the lost one, and again
        arrived_to = [r["email"] for r in arrived["facts"]["recipients"] if r["email"]]
        assert all(len(mailbox.to(a)) == 1 for a in arrived_to)
        log = _log(district, resend["sis_ref"])
        assert mailbox.to(resent_to[0])[1]["Message-ID"] in log["evidence"]
        assert "may also have arrived" in log["status_reason"]

        total = len(mailbox.messages)
        assert notice_cycle(district, settings).ok
        assert len(mailbox.messages) == total
        # the officer's "arrived" is the notification done, dated the day the letter was handed over
        case = district.case_of(arrived["sis_ref"])
        assert case.completed_tasks["truancy_notification"].on == district.today


def test_a_451_after_data_is_a_refusal_and_the_next_cycle_sends_the_letter(tmp_path: Path) -> None:
    mailbox = Misbehaving()
    with smtp_server(tmp_path, mailbox) as (_, port, ca), sandbox_district(tmp_path) as district:
        settings = notice_settings(tmp_path, port, ca)
        assert notice_cycle(district, settings).ok
        [chosen] = _emailed(district, 1)
        _decide(district, chosen["sis_ref"], "approve")
        mailbox.mode = "refuse"
        refused = notice_cycle(district, settings)
        assert any("not emailed" in e and "the next cycle retries" in e for e in refused.errors)
        assert mailbox.messages == []
        assert _status(district, chosen["notice_id"])["status"] == "approved"
        assert _log(district, chosen["sis_ref"])["status"] == "approved"
        mailbox.mode = "accept"
        assert notice_cycle(district, settings).ok
        assert _status(district, chosen["notice_id"])["status"] == "sent"
        addresses = [r["email"] for r in chosen["facts"]["recipients"] if r["email"]]
        assert [len(mailbox.to(a)) for a in addresses] == [1] * len(addresses)
