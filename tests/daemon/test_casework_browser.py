"""The casework section in a real browser (headless Chromium on the sandbox's student page, with
the built plugin's fragments): the officer proposes a conference, the next cycle emails the
invitation (aiosmtpd on loopback) and the page shows the attempt; the officer records the outcome
and asks for a packet, and the next cycle builds it and the page names the file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.daemon.browser import chromium, require_playwright, screenshot, student_page, tab_on
from tests.daemon.notice_support import notice_settings, smtp_server
from tests.daemon.sandbox_sync import District, sandbox_district
from tests.daemon.test_casework_invitations import _cycle, _families, _pick
from tests.sandbox_year import PINNED_AS_OF
from truancy.daemon.packets import packet_cycle
from truancy.daemon.runtime import runtime

sync_api = require_playwright()
pytestmark = pytest.mark.slow


@pytest.fixture
def district(tmp_path: Path) -> Iterator[District]:
    with sandbox_district(tmp_path, students=200, plugin_pages=True) as district:
        yield district


def _page(browser: Any, district: District, dcid: str) -> Any:
    tab = tab_on(browser, date(2026, 6, 5))
    student_page(tab, district.server.url, dcid, panel="truancy-sync-casework")
    return tab


def test_propose_a_conference_see_the_invitation_and_get_the_packet(
    tmp_path: Path, district: District
) -> None:
    with smtp_server(tmp_path) as (mailbox, port, ca), chromium(sync_api) as browser:
        settings = notice_settings(tmp_path, port, ca)
        assert district.sync().ok
        dcid = _pick(_families(district), "en", email=True).dcid
        tab = _page(browser, district, dcid)
        section = tab.locator("#truancy-sync-casework .truancy-sync-conferences")
        section.locator("input[name=day]").fill("2026-06-09")
        section.locator("input[name=time]").fill("15:30")
        section.locator("input[name=place]").fill("Room 4 <b>main</b>")
        section.get_by_role("button", name="Propose conference").click()
        section.locator("article.truancy-sync-conference").wait_for()
        with district.powerschool() as sis:
            found = [r for page in sis.iter_table("U_TRUANCY_CONFERENCES") for r in page]
        (row,) = [r for r in found if r["studentsdcid"] == dcid]
        assert row["starts_at"] == "2026-06-09T15:30"
        assert row["recorded_by"]

        assert _cycle(district, settings, PINNED_AS_OF).ok
        assert len(mailbox.messages) == 1
        tab.reload()
        tab.locator("#truancy-sync-casework .truancy-sync-status").wait_for(state="hidden")
        article = tab.locator("article.truancy-sync-conference")
        assert "2026-06-05 invitation by email" in article.inner_text()
        assert "Room 4 <b>main</b>" in article.inner_text()  # shown as text, never parsed

        article.locator("select[name=outcome]").select_option("no_show")
        article.get_by_role("button", name="Record outcome").click()
        article.locator(".truancy-sync-outcome").wait_for()
        tab.locator(".truancy-sync-packets").get_by_role("button", name="Request packet").click()
        tab.locator("p.truancy-sync-packet").wait_for()
        with runtime(district.settings) as rt:
            packets = packet_cycle(rt)
            assert packets is not None
            assert packets.run(PINNED_AS_OF) == 1
        tab.reload()
        tab.locator("#truancy-sync-casework .truancy-sync-status").wait_for(state="hidden")
        packet = tab.locator("p.truancy-sync-packet").inner_text()
        assert "built" in packet
        assert f"sarb-{dcid}-2026-06-05-" in packet
        screenshot(tab, "casework-student-page")
