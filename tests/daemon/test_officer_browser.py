"""The officer's side in a real browser: headless Chromium on the sandbox's student and start pages.

The pages carry the built plugin's fragments, which call ``/ws/schema/table`` with the browser
session; what the officer does there reaches the case in the next sync cycle, which applies it.
The browser's clock is set to the day the daemon runs, so "today", "overdue" and "due this week"
mean the same on both sides. Needs Debian's ``chromium`` and the ``playwright`` Python package
(its bundled browsers are not used).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.daemon.browser import chromium, new_tab, require_playwright, screenshot, student_page, tab_on
from tests.daemon.officer_cases import conference_pending
from tests.daemon.sandbox_sync import District, sandbox_district
from tests.sandbox_year import PINNED_AS_OF
from truancy.mappings.task_outcomes import TASK_OUTCOMES

sync_api = require_playwright()
pytestmark = pytest.mark.slow

NOTE_TEXT = "<b>Called</b> mum & \"dad\" <script>alert('x')</script> — 母亲说明天来 — مكالمة مع الأم"
JUNE_TODAY = date(2026, 6, 15)
"""Eleven days after the sandbox's last school day (2026-06-04)."""
CONFERENCE_HELD_ON = date(2026, 6, 10)
MIDYEAR_TODAY = date(2026, 3, 2)
DEFAULT_OFFICER = "Ortega, Marisol"


@pytest.fixture
def district(tmp_path: Path) -> Iterator[District]:
    with sandbox_district(tmp_path, students=200, plugin_pages=True) as district:
        yield district


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium(sync_api) as launched:
        yield launched


def task_line(tab: Any, title: str) -> Any:
    tab.get_by_role("tab", name="Tasks").click()
    return tab.locator("tr.truancy-sync-task", has_text=title)


def row(district: District, table: str, row_id: str) -> dict[str, str]:
    return next(r for r in district.sis_rows()[table] if r["id"] == row_id)


def labels(task_type: str) -> list[str]:
    return [outcome.label for outcome in TASK_OUTCOMES[task_type]]  # type: ignore[index]


def test_an_officer_works_the_case_in_the_student_page(district: District, browser: Any) -> None:
    assert district.sync().ok
    rows = district.sis_rows()
    task = next(r for r in rows["U_TRUANCY_TASKS"] if r["status"] == "open")
    dcid = task["studentsdcid"]
    flag = next(r for r in rows["U_TRUANCY_FLAGS"] if r["studentsdcid"] == dcid)
    first = json.loads(task["outcome_options"])[0]
    page = tab_on(browser, PINNED_AS_OF)

    student_page(page, district.server.url, dcid)
    banner = page.locator("#truancy-sync-banner")
    banner.wait_for(state="visible")
    assert flag["label"] in banner.inner_text()
    assert "Next: " in banner.inner_text()
    evidence = page.locator("#truancy-sync-evidence .truancy-sync-evidence-list li")
    evidence.first.wait_for()
    assert evidence.count() >= 1
    assert flag["citation"] in page.locator("#truancy-sync-evidence").inner_text()
    screenshot(page, "officer-1-banner-and-evidence")

    line = task_line(page, task["title"])
    line.locator("select[name=outcome]").select_option(label=first["label"])
    line.get_by_role("button", name="Record").click()
    page.locator("tr.truancy-sync-task", has_text=task["title"]).locator(
        ".truancy-sync-outcome", has_text=first["label"]
    ).wait_for()
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
    assert case.completed_tasks[task["task_type"]].outcome == first["code"]
    assert case.completed_tasks[task["task_type"]].on == PINNED_AS_OF
    note = next(r for r in district.sis_rows()["U_TRUANCY_NOTES"] if r.get("note_text") == NOTE_TEXT)
    assert (note["note_date"], note["author"]) == (PINNED_AS_OF.isoformat(), DEFAULT_OFFICER)
    assert any(e.kind == "note_added" and f"officer-note-{note['id']}" in e.detail for e in case.history)

    quiet = district.sync()
    assert quiet.ok, quiet.errors
    assert (quiet.writes.created, quiet.writes.updated, quiet.writes.deleted) == (0, 0, 0)

    page.reload()
    page.get_by_role("tab", name="Notes").click()
    assert page.locator(".truancy-sync-note-text", has_text="mum").inner_text() == NOTE_TEXT
    screenshot(page, "officer-4-after-sync")


def test_a_conference_held_in_june_counts_in_the_cycle_that_reads_it(
    district: District, browser: Any
) -> None:
    """After the last school day the officer records the conference of June 10 in the page; the
    next cycle makes the student a habitual truant, dated June 10, with a SARB referral task."""
    assert district.sync(today=JUNE_TODAY).ok
    task, _ = conference_pending(district)
    dcid = task["studentsdcid"]
    page = tab_on(browser, JUNE_TODAY)
    student_page(page, district.server.url, dcid)
    line = task_line(page, task["title"])

    outcome = line.locator("select[name=outcome]")
    assert outcome.input_value() == ""
    offered = outcome.locator("option:not([disabled])").all_inner_texts()
    assert offered == labels("conference")
    assert "Letter sent" not in outcome.inner_text()
    when = line.locator("input[name=completed_date]")
    assert when.input_value() == JUNE_TODAY.isoformat()
    assert when.get_attribute("max") == JUNE_TODAY.isoformat()

    line.get_by_role("button", name="Record").click()
    assert "Choose what happened." in line.locator(".truancy-sync-error").inner_text()
    outcome.select_option(label="Conference held")
    when.fill((JUNE_TODAY + timedelta(days=1)).isoformat())
    line.get_by_role("button", name="Record").click()
    assert "cannot be in the future" in line.locator(".truancy-sync-error").inner_text()
    assert row(district, "U_TRUANCY_TASKS", task["id"])["status"] == "open"
    screenshot(page, "officer-6-future-date-refused")

    outcome.select_option(label="Rescheduled (task stays open)")
    when.fill("2026-06-08")
    line.get_by_role("button", name="Record").click()
    page.locator(".truancy-sync-outcome", has_text="Rescheduled (task stays open) · 2026-06-08").wait_for()
    moved = row(district, "U_TRUANCY_TASKS", task["id"])
    assert (moved["status"], moved["outcome"], moved["completed_by"]) == (
        "open",
        "rescheduled",
        DEFAULT_OFFICER,
    )
    line = page.locator("tr.truancy-sync-task", has_text=task["title"])
    outcome = line.locator("select[name=outcome]")
    when = line.locator("input[name=completed_date]")
    assert outcome.input_value() == ""

    outcome.select_option(label="Conference held")
    when.fill(CONFERENCE_HELD_ON.isoformat())
    line.get_by_role("button", name="Record").click()
    recorded = f"Conference held · {CONFERENCE_HELD_ON.isoformat()} · by {DEFAULT_OFFICER}"
    page.locator(".truancy-sync-outcome", has_text=recorded).wait_for()
    saved = row(district, "U_TRUANCY_TASKS", task["id"])
    assert (saved["status"], saved["outcome"], saved["completed_date"]) == ("done", "held", "2026-06-10")
    assert saved["completed_by"] == DEFAULT_OFFICER

    cycle = district.sync(today=JUNE_TODAY)
    assert cycle.ok, cycle.errors
    case = district.case_of(dcid)
    assert case.designations["habitual_truant"].met_on == CONFERENCE_HELD_ON
    page.reload()
    page.locator("#truancy-sync-banner").wait_for(state="visible")
    assert "Habitual truant" in page.locator("#truancy-sync-banner").inner_text()
    sarb = task_line(page, "Refer the habitual truant to SARB")
    assert sarb.locator("select[name=outcome] option:not([disabled])").all_inner_texts() == labels("referral")
    screenshot(page, "officer-7-habitual-truant-after-june-conference")


def test_what_an_officer_records_carries_the_signed_in_user(district: District, browser: Any) -> None:
    assert district.sync().ok
    notice = next(
        r
        for r in district.sis_rows()["U_TRUANCY_TASKS"]
        if r["task_type"] == "truancy_notification" and r["status"] == "open"
    )
    dcid = notice["studentsdcid"]
    page = tab_on(browser, PINNED_AS_OF)
    page.goto(f"{district.server.url}/admin/pw.html")
    page.locator("input[name=username]").fill("dkim")
    page.locator("input[name=password]").fill("sandbox")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Signed in as Kim, Daniel").wait_for()

    student_page(page, district.server.url, dcid)
    line = task_line(page, notice["title"])
    assert line.locator("select[name=outcome]").input_value() == ""
    assert line.locator("select[name=outcome] option:not([disabled])").all_inner_texts() == labels("notice")
    line.locator("select[name=outcome]").select_option(label="Sent by mail")
    line.get_by_role("button", name="Record").click()
    page.locator(".truancy-sync-outcome", has_text="Sent by mail").wait_for()
    assert "sent_mail" not in page.locator("#truancy-sync-tasks").inner_text()
    page.get_by_role("tab", name="Notes").click()
    page.locator("textarea[name=note_text]").fill("Spoke with the grandmother.")
    page.get_by_role("button", name="Add note").click()
    page.locator(".truancy-sync-note-meta", has_text="Kim, Daniel").wait_for()

    rows = district.sis_rows()
    task = next(r for r in rows["U_TRUANCY_TASKS"] if r["id"] == notice["id"])
    assert (task["outcome"], task["completed_by"], task["whomodified"]) == (
        "sent_mail",
        "Kim, Daniel",
        "Kim, Daniel",
    )
    note = next(r for r in rows["U_TRUANCY_NOTES"] if r.get("note_text") == "Spoke with the grandmother.")
    assert (note["author"], note["whocreated"]) == ("Kim, Daniel", "Kim, Daniel")
    assert all(r.get("author") != "officer" for r in rows["U_TRUANCY_NOTES"])
    screenshot(page, "officer-8-signed-in-user")


def test_the_open_cases_page_shows_who_and_what_is_overdue(district: District, browser: Any) -> None:
    assert district.sync(today=MIDYEAR_TODAY).ok
    rows = district.sis_rows()
    flagged = {r["studentsdcid"] for r in rows["U_TRUANCY_FLAGS"] if r["status"] == "active"}
    open_tasks = [
        r for r in rows["U_TRUANCY_TASKS"] if r["status"] == "open" and r["studentsdcid"] in flagged
    ]
    today, week_end = MIDYEAR_TODAY.isoformat(), (MIDYEAR_TODAY + timedelta(days=6)).isoformat()
    overdue = [r for r in open_tasks if r["due_date"] < today]
    soon = [r for r in open_tasks if today <= r["due_date"] <= week_end]
    assert overdue
    assert soon
    page = tab_on(browser, MIDYEAR_TODAY)

    page.goto(f"{district.server.url}/admin/home.html")
    listed = page.locator("tr.truancy-sync-open-case")
    listed.first.wait_for()
    assert listed.count() == len(flagged)
    counts = page.locator(".truancy-sync-counts").inner_text()
    overdue_cases = len({r["studentsdcid"] for r in overdue})
    expected = (
        f"{len(overdue)} overdue task(s) in {overdue_cases} case(s) · {len(soon)} task(s) due this week"
    )
    assert counts == expected
    for dcid in sorted(flagged)[:15]:
        student = district.server.district.student(int(dcid))
        school = district.server.district.school(student.schoolid)
        line = listed.filter(has=page.locator(f'a[href$="frn=001{dcid}"]'))
        cells = line.locator("td").all_inner_texts()
        assert cells[:4] == [
            f"{student.family_name}, {student.given_name}",
            student.student_number,
            "K" if student.grade == "KG" else str(int(student.grade)),
            school.name,
        ]
        late = sum(1 for r in overdue if r["studentsdcid"] == dcid)
        assert line.locator(".truancy-sync-overdue").count() == (1 if late else 0)
        due_soon = any(r["studentsdcid"] == dcid for r in soon)
        assert line.locator(".truancy-sync-due-soon").count() == (1 if due_soon else 0)
    assert page.locator("tr.truancy-sync-open-case a", has_text="Student ").count() == 0
    screenshot(page, "officer-5-open-cases")

    tiers = page.locator("select[name=tier] option").all_inner_texts()
    assert len(tiers) >= 2
    page.locator("select[name=tier]").select_option(label=tiers[1])
    assert 1 <= listed.count() <= len(flagged)
    assert all(tiers[1] in text for text in listed.all_inner_texts())
    page.locator("input[name=due_by]").fill("2000-01-01")
    page.locator("input[name=due_by]").dispatch_event("change")
    page.locator(".truancy-sync-status", has_text="0 of").wait_for()
    assert listed.count() == 0


def test_the_banner_is_an_alert_and_the_pages_fit_a_phone(district: District, browser: Any) -> None:
    assert district.sync(today=MIDYEAR_TODAY).ok
    dcid = next(r for r in district.sis_rows()["U_TRUANCY_FLAGS"] if r["status"] == "active")["studentsdcid"]
    phone = tab_on(browser, MIDYEAR_TODAY, width=390)

    student_page(phone, district.server.url, dcid)
    banner = phone.get_by_role("alert", name="Truancy case")
    banner.wait_for(state="visible")
    style = banner.evaluate(
        "b => { const s = getComputedStyle(b);"
        " return [s.backgroundColor, s.borderLeftWidth, s.borderLeftStyle]; }"
    )
    assert style[0] not in ("rgba(0, 0, 0, 0)", "transparent")
    assert float(style[1].removesuffix("px")) >= 4
    assert style[2] == "solid"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    task_line(phone, "").first.wait_for()
    assert phone.locator("tr.truancy-sync-task").first.evaluate("r => getComputedStyle(r).display") == "block"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "officer-9-phone-student")

    phone.goto(f"{district.server.url}/admin/home.html")
    phone.locator("tr.truancy-sync-open-case").first.wait_for()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "officer-10-phone-open-cases")


def test_the_api_refuses_a_cross_site_write_with_the_session_cookie(district: District, browser: Any) -> None:
    page = new_tab(browser)
    page.goto(f"{district.server.url}/admin/home.html")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert "JSESSIONID" in cookies
    response = page.request.post(
        f"{district.server.url}/ws/schema/table/u_truancy_notes",
        data={"tables": {"u_truancy_notes": {"studentsdcid": "1", "note_text": "x"}}},
        headers={"Origin": "https://elsewhere.example"},
    )
    assert response.status == 401
