"""The Letters section in a real browser (headless Chromium on the sandbox's student page, with
the built plugin's fragments): a letter waiting for approval and, once the officer approved it and
the next cycle emailed it (aiosmtpd on loopback), the same letter sent, with its channel, date,
message ids and the letter's text behind a disclosure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemon.browser import chromium, new_tab, require_playwright, screenshot, student_page, tab_on
from tests.daemon.notice_support import notice_cycle, notice_settings, smtp_server
from tests.daemon.sandbox_sync import District, sandbox_district

sync_api = require_playwright()
pytestmark = pytest.mark.slow


@pytest.fixture
def district(tmp_path: Path) -> Iterator[District]:
    with sandbox_district(tmp_path, students=200, plugin_pages=True) as district:
        yield district


def _letters(browser: Any, district: District, dcid: str) -> Any:
    assert district.today is not None
    tab = tab_on(browser, district.today)
    student_page(tab, district.server.url, dcid)
    tab.get_by_role("tab", name="Letters").click()
    return tab


def test_the_student_page_shows_each_letter_its_evidence_and_its_text(
    tmp_path: Path, district: District
) -> None:
    with smtp_server(tmp_path) as (mailbox, port, ca), chromium(sync_api) as browser:
        settings = notice_settings(tmp_path, port, ca)
        assert notice_cycle(district, settings).ok
        logs = district.notice_logs()
        tasks = district.sis_rows()["U_TRUANCY_TASKS"]
        emailed = {
            t["studentsdcid"]
            for t in tasks
            if t["task_type"] == "notice_review" and "Language: en" in t["detail"]
        }
        log = next(n for n in logs if n["status"] == "awaiting_approval" and n["studentsdcid"] in emailed)
        dcid = log["studentsdcid"]

        tab = _letters(browser, district, dcid)
        letter = tab.locator("#truancy-sync-letters article.truancy-sync-letter")
        assert letter.count() == 1
        assert "Awaiting approval" in letter.locator("h3").inner_text()
        text = letter.locator("details.truancy-sync-letter-text")
        assert not text.evaluate("node => node.open")  # the text is there on demand
        assert not text.locator("p").is_visible()
        tab.close()

        review = next(t for t in tasks if t["studentsdcid"] == dcid and t["task_type"] == "notice_review")
        with district.powerschool() as sis:
            done = {"status": "done", "outcome": "approve", "completed_date": str(district.today)}
            sis.update_row("U_TRUANCY_TASKS", review["id"], done)
        assert notice_cycle(district, settings).ok
        [sent] = [n for n in district.notice_logs() if n["studentsdcid"] == dcid]
        assert sent["status"] == "sent"
        assert sent["evidence"]

        tab = _letters(browser, district, dcid)
        letter = tab.locator("#truancy-sync-letters article.truancy-sync-letter")
        assert letter.get_attribute("data-status") == "sent"
        assert "Sent" in letter.locator("h3").inner_text()
        facts = letter.locator("dl.truancy-sync-letter-facts").inner_text()
        assert str(district.today) in facts
        assert "email" in facts
        for message in mailbox.messages:
            if message["Message-ID"] in sent["evidence"]:
                assert message["Message-ID"] in facts
                assert message["To"] not in facts  # never an address
        letter.locator("summary", has_text="Letter text").click()
        body = letter.locator("details.truancy-sync-letter-text p")
        assert body.is_visible()
        assert " ".join(body.inner_text().split()) == " ".join(sent["letter_text"].split())
        screenshot(tab, "letters-student-page")
        phone = new_tab(browser, width=390)
        phone.goto(tab.url)
        phone.locator("#truancy-sync-case .truancy-sync-status").wait_for(state="hidden")
        phone.get_by_role("tab", name="Letters").click()
        phone.locator("#truancy-sync-letters summary").click()
        screenshot(phone, "letters-student-page-phone")
