"""The officer's side in a real browser: headless Chromium on the sandbox's student page.

The page carries the built plugin's fragments, which call ``/ws/schema/table`` with the browser
session; what the officer does there reaches the case on the next sync cycle. Needs Debian's
``chromium`` and the ``playwright`` Python package (its bundled browsers are not used).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemon.browser import chromium, new_tab, require_playwright, screenshot
from tests.daemon.sandbox_sync import District
from tests.sandbox_year import PINNED_AS_OF
from truancy.daemon.settings import load_settings
from truancy.plugins.powerschool.build import bundle_dir
from truancy.sandbox.server import SandboxServer, write_daemon_config

sync_api = require_playwright()
pytestmark = pytest.mark.slow

NOTE_TEXT = "<b>Called</b> mum & \"dad\" <script>alert('x')</script> — 母亲说明天来 — مكالمة مع الأم"


@pytest.fixture
def district(tmp_path: Path) -> Iterator[District]:
    with SandboxServer(
        students=200, seed=1, fragments_dir=bundle_dir() / "web_root", as_of=PINNED_AS_OF
    ) as server:
        config = tmp_path / "truancy.toml"
        write_daemon_config(config, server.url)
        yield District(server, load_settings(config), config)


@pytest.fixture
def page() -> Iterator[Any]:
    with chromium(sync_api) as browser:
        yield new_tab(browser)


def test_an_officer_works_the_case_in_the_student_page(district: District, page: Any) -> None:
    assert district.sync().ok
    rows = district.sis_rows()
    task = next(row for row in rows["U_TRUANCY_TASKS"] if row["status"] == "open")
    dcid = task["studentsdcid"]
    flag = next(row for row in rows["U_TRUANCY_FLAGS"] if row["studentsdcid"] == dcid)

    page.goto(f"{district.server.url}/admin/students/home.html?frn=001{dcid}")
    banner = page.locator("#truancy-sync-banner")
    banner.wait_for(state="visible")
    assert flag["label"] in banner.inner_text()
    assert "Next: " in banner.inner_text()
    evidence = page.locator("#truancy-sync-evidence .truancy-sync-evidence-list li")
    evidence.first.wait_for()
    assert evidence.count() >= 1
    assert flag["citation"] in page.locator("#truancy-sync-evidence").inner_text()
    screenshot(page, "officer-1-banner-and-evidence")

    page.get_by_role("tab", name="Tasks").click()
    line = page.locator("tr.truancy-sync-task", has_text=task["title"])
    line.locator("select").select_option("conference_held")
    line.get_by_role("button", name="Mark done").click()
    page.locator("tr.truancy-sync-task", has_text=task["title"]).filter(has_text="conference_held").wait_for()
    screenshot(page, "officer-2-task-done")

    page.get_by_role("tab", name="Notes").click()
    page.locator("textarea[name=note_text]").fill(NOTE_TEXT)
    page.get_by_role("button", name="Add note").click()
    shown = page.locator(".truancy-sync-note-text", has_text="mum")
    shown.wait_for()
    assert shown.inner_text() == NOTE_TEXT
    assert page.locator(".truancy-sync-note-text b, .truancy-sync-note-text script").count() == 0
    screenshot(page, "officer-3-note-added")

    applied = district.sync()
    assert applied.ok, applied.errors
    case = district.case_of(dcid)
    assert task["task_type"] in case.completed_tasks
    assert case.completed_tasks[task["task_type"]].outcome == "conference_held"
    note = next(row for row in district.sis_rows()["U_TRUANCY_NOTES"] if row.get("author") == "officer")
    assert note["note_text"] == NOTE_TEXT
    assert any(e.kind == "note_added" and f"officer-note-{note['id']}" in e.detail for e in case.history)

    quiet = district.sync()
    assert quiet.ok, quiet.errors
    assert (quiet.writes.created, quiet.writes.updated, quiet.writes.deleted) == (0, 0, 0)

    page.reload()
    page.get_by_role("tab", name="Notes").click()
    assert page.locator(".truancy-sync-note-text", has_text="mum").inner_text() == NOTE_TEXT
    screenshot(page, "officer-4-after-sync")


def test_the_start_page_lists_open_cases_with_filters(district: District, page: Any) -> None:
    assert district.sync().ok
    page.goto(f"{district.server.url}/admin/home.html")
    listed = page.locator("tr.truancy-sync-open-case")
    listed.first.wait_for()
    total = listed.count()
    assert total >= 1
    tiers = page.locator("select[name=tier] option").all_inner_texts()
    assert len(tiers) >= 2
    page.locator("select[name=tier]").select_option(label=tiers[1])
    assert 1 <= listed.count() <= total
    assert all(tiers[1] in text for text in listed.all_inner_texts())
    page.locator("input[name=due_by]").fill("2000-01-01")
    page.locator("input[name=due_by]").dispatch_event("change")
    page.locator(".truancy-sync-status", has_text="0 of").wait_for()
    assert listed.count() == 0
    screenshot(page, "officer-5-open-cases")


def test_the_api_refuses_a_cross_site_write_with_the_session_cookie(district: District, page: Any) -> None:
    page.goto(f"{district.server.url}/admin/home.html")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert "JSESSIONID" in cookies
    response = page.request.post(
        f"{district.server.url}/ws/schema/table/u_truancy_notes",
        data={"tables": {"u_truancy_notes": {"studentsdcid": "1", "note_text": "x"}}},
        headers={"Origin": "https://elsewhere.example"},
    )
    assert response.status == 401
