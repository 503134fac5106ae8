"""The officer's caseload on the start page, in headless Chromium over the sandbox.

The district's ``[caseloads]`` rules give each case an officer; the sync writes it with the case's
rows, and the start page shows the signed-in officer their own cases, sectioned by deadline. The
expected caseload is counted independently: from the sandbox's own students (their school and
grade, as the sandbox generated them) and its own table rows, with the rules applied by the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.daemon.browser import chromium, require_playwright, screenshot, tab_on
from tests.daemon.sandbox_sync import District, sandbox_district
from truancy.daemon.notices_runtime import notice_cycle
from truancy.daemon.pipeline import SyncPipeline
from truancy.daemon.runtime import runtime

sync_api = require_playwright()
pytestmark = pytest.mark.slow

TODAY = date(2026, 3, 2)
CASELOADS = """
[caseloads]
default_officer = "mortega"
rules = [
  { officer = "dkim", schools = ["300"] },
  { officer = "aokafor", grades = ["6-8"] },
]
"""


def officer_of(school: int, grade: str) -> str:
    """The rules above, applied by the test to the sandbox's own student record."""
    if school == 300:
        return "dkim"
    if grade.isdigit() and 6 <= int(grade) <= 8:
        return "aokafor"
    return "mortega"


@pytest.fixture
def district(tmp_path: Path) -> Iterator[District]:
    with sandbox_district(tmp_path, students=300, plugin_pages=True, extra_toml=CASELOADS) as district:
        yield district


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium(sync_api) as launched:
        yield launched


def sync(district: District) -> None:
    """One cycle as of TODAY with family notices on (letters wait for the officer's approval)."""
    with runtime(district.settings) as rt:
        pipeline = SyncPipeline(
            rt.engine, rt.plugin, rt.policy, caseloads=rt.settings.caseloads, notices=notice_cycle(rt)
        )
        summary = pipeline.run_cycle(today=TODAY)
    assert summary.ok, summary.errors


def schedule_casework(district: District, dcids: list[str]) -> None:
    """What officers record for these students in the SIS: a conference set for this week, a plan
    to review this week and a SARB packet asked for."""
    with district.powerschool() as sis:
        for dcid in dcids:
            sis.insert_row(
                "U_TRUANCY_CONFERENCES",
                {"studentsdcid": dcid, "meeting": "parent_conference", "place": "Room 4",
                 "starts_at": f"{(TODAY + timedelta(days=2)).isoformat()}T15:30"},
            )  # fmt: skip
            sis.insert_row(
                "U_TRUANCY_PLANS",
                {"studentsdcid": dcid, "form": "sart_contract", "start_date": "2026-02-02",
                 "review_date": (TODAY + timedelta(days=3)).isoformat()},
            )  # fmt: skip
            sis.insert_row(
                "U_TRUANCY_PACKETS",
                {
                    "studentsdcid": dcid,
                    "kind": "sarb",
                    "requested_date": TODAY.isoformat(),
                    "status": "requested",
                },
            )


def expected_caseload(district: District, officer: str) -> dict[str, Any]:
    """From the sandbox's own data (its students' schools and grades, its table rows read through the
    SIS's API), not the ``officer`` column: the officer's flagged students and their open tasks."""
    sandbox = district.server.district
    rows = district.sis_rows()
    with district.powerschool() as sis:
        for table in ("U_TRUANCY_CONFERENCES", "U_TRUANCY_PLANS", "U_TRUANCY_PACKETS"):
            rows[table] = [row for page in sis.iter_table(table) for row in page]
    flagged = {r["studentsdcid"] for r in rows["U_TRUANCY_FLAGS"] if r["status"] == "active"}
    mine = set()
    for dcid in flagged:
        student = sandbox.student(int(dcid))
        if officer_of(student.schoolid, student.grade) == officer:
            mine.add(dcid)
    tasks = [r for r in rows["U_TRUANCY_TASKS"] if r["status"] == "open" and r["studentsdcid"] in mine]
    today, week_end = TODAY.isoformat(), (TODAY + timedelta(days=6)).isoformat()
    return {
        "students": mine,
        "overdue": [t for t in tasks if t["due_date"] < today],
        "today": [t for t in tasks if t["due_date"] == today],
        "week": [t for t in tasks if today < t["due_date"] <= week_end],
        "conferences": [
            t for t in tasks if t["task_type"] == "parent_conference" and t["due_date"] <= week_end
        ]
        + [c for c in rows["U_TRUANCY_CONFERENCES"] if c["studentsdcid"] in mine and not c.get("outcome")],
        "approvals": [t for t in tasks if t["task_type"] == "notice_review"],
        "plans": [p for p in rows["U_TRUANCY_PLANS"] if p["studentsdcid"] in mine],
        "packets": [k for k in rows["U_TRUANCY_PACKETS"] if k["studentsdcid"] in mine],
    }


def sign_in(tab: Any, district: District, username: str) -> None:
    tab.goto(f"{district.server.url}/admin/pw.html")
    tab.locator("input[name=username]").fill(username)
    tab.locator("input[name=password]").fill("sandbox")
    tab.get_by_role("button", name="Sign in").click()
    tab.get_by_text("Signed in as").wait_for()


def open_caseload(tab: Any, district: District) -> Any:
    tab.goto(f"{district.server.url}/admin/home.html")
    box = tab.locator("#truancy-caseload")
    box.locator(".truancy-caseload-section").first.wait_for()
    return box


def section_count(box: Any, name: str) -> int:
    return int(box.locator(f'section[data-section="{name}"]').get_attribute("data-count"))


def test_the_start_page_shows_exactly_the_officers_caseload(district: District, browser: Any) -> None:
    sync(district)
    first = sorted(expected_caseload(district, "dkim")["students"])[:2]
    other = sorted(expected_caseload(district, "aokafor")["students"])[:1]
    schedule_casework(district, first + other)
    expected = expected_caseload(district, "dkim")
    assert expected["overdue"], "the sandbox gives dkim no overdue task: the test would prove nothing"
    assert expected["approvals"], "no letter awaits dkim's approval: the test would prove nothing"
    assert (len(expected["plans"]), len(expected["packets"])) == (2, 2)
    tab = tab_on(browser, TODAY)
    sign_in(tab, district, "dkim")
    box = open_caseload(tab, district)

    assert box.locator("h2").inner_text() == "My caseload"
    assert tab.locator("select[name=caseload_officer]").input_value() == "dkim"
    for name in ("overdue", "today", "week", "conferences", "approvals", "plans", "packets"):
        assert section_count(box, name) == len(expected[name]), name
    listed = {line.get_attribute("data-dcid") for line in box.locator("tr.truancy-caseload-task").all()}
    with_tasks = {
        t["studentsdcid"] for name in ("overdue", "today", "week", "packets") for t in expected[name]
    }
    assert with_tasks <= listed <= expected["students"]
    counts = box.locator(".truancy-caseload-counts").inner_text()
    assert counts.startswith(f"{len(expected['students'])} open case(s) · {len(expected['overdue'])} overdue")
    assert set(box.locator("tr.truancy-caseload-task td[data-label=School]").all_inner_texts()) == {
        "Manzanita High School"
    }
    overdue_dues = box.locator('section[data-section="overdue"] td[data-label=Due]').all_inner_texts()
    assert overdue_dues == sorted(overdue_dues)
    assert box.locator("a", has_text="Student ").count() == 0
    screenshot(tab, "caseload-1-desktop-my-caseload")

    tab.locator("select[name=caseload_officer]").select_option("*")
    everyone = sum(len(expected_caseload(district, o)["students"]) for o in ("dkim", "aokafor", "mortega"))
    schools = box.locator("tr.truancy-caseload-school")
    shown = {
        cells[0]: int(cells[1]) for cells in (line.locator("td").all_inner_texts() for line in schools.all())
    }
    assert sum(shown.values()) == everyone
    assert box.locator("h2").inner_text() == "All caseloads"
    screenshot(tab, "caseload-2-desktop-director-by-school")

    tab.locator("select[name=caseload_officer]").select_option("dkim")
    tiers = tab.locator("select[name=caseload_tier] option").all_inner_texts()
    tab.locator("select[name=caseload_tier]").select_option(label=tiers[1])
    assert all(
        text == tiers[1]
        for text in box.locator("tr.truancy-caseload-task td[data-label=Tier]").all_inner_texts()
    )


def test_an_officer_works_through_the_overdue_list_on_a_phone(district: District, browser: Any) -> None:
    sync(district)
    expected = expected_caseload(district, "dkim")
    phone = tab_on(browser, TODAY, width=390)
    sign_in(phone, district, "dkim")
    box = open_caseload(phone, district)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert section_count(box, "overdue") == len(expected["overdue"])
    screenshot(phone, "caseload-3-phone-overdue")

    for done in range(2):
        line = box.locator('section[data-section="overdue"] tr.truancy-caseload-task').first
        title = line.locator("td[data-label=Task]").inner_text()
        dcid = line.get_attribute("data-dcid")
        line.locator("a").click()
        phone.locator("#truancy-sync-case .truancy-sync-status").wait_for(state="hidden")
        phone.get_by_role("tab", name="Tasks").click()
        task = phone.locator("tr.truancy-sync-task", has_text=title)
        outcome = task.locator("select[name=outcome]")
        outcome.select_option(index=1)
        task.get_by_role("button", name="Record").click()
        phone.locator("tr.truancy-sync-task", has_text=title).locator(".truancy-sync-outcome").wait_for()
        saved = next(
            r
            for r in district.sis_rows()["U_TRUANCY_TASKS"]
            if r["studentsdcid"] == dcid and r["title"] == title
        )
        assert (saved["status"], saved["completed_by"]) == ("done", "Kim, Daniel")
        box = open_caseload(phone, district)
        assert section_count(box, "overdue") == len(expected["overdue"]) - done - 1
    assert section_count(box, "overdue") == len(expected_caseload(district, "dkim")["overdue"])
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "caseload-4-phone-after-two-done")
