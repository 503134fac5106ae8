"""``truancy report outcomes --to-sis`` over a sandbox district's full year, and the director's page.

The same year as ``test_report_outcomes`` (500 students, letters and officers' work through
2025-26). The report's published figures go to the sandbox's U_TRUANCY_FIGURES; the tests read
them back through the SIS's API and check them against the report's own ``--json``, the district
counts against the independent recount, and that nothing in the table names a student. The
director's page is then read in headless Chromium at desktop and phone width.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import date
from decimal import ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.daemon.browser import chromium, new_tab, require_playwright, screenshot
from tests.daemon.sandbox_sync import District, sandbox_district
from tests.daemon.test_report_outcomes import (
    AUTO_LETTERS,
    LAST_SCHOOL_DAY,
    LETTER_DAYS,
    record_officer_work,
    recount,
    report,
    sync,
)
from tests.sandbox_year import PINNED_AS_OF
from truancy.daemon.report_outcomes import count_figures
from truancy.daemon.report_suppression import cell
from truancy.daemon.runtime import runtime, store_engine
from truancy.daemon.schema import store_instance
from truancy.mappings.report_figures import figure_writes

sync_api = require_playwright()
pytestmark = pytest.mark.slow

TABLE = "U_TRUANCY_FIGURES"
AUDIT = {"id", "whencreated", "whenmodified", "whocreated", "whomodified"}
COLUMNS = {
    "sync_key",
    "school_year",
    "as_of",
    "section",
    "subject",
    "detail",
    "measure",
    "figure_value",
    "writer",
}
PERCENT = {"truancy_rate", "chronic_absence_rate", "before", "after"}
POINTS = {"change", "ci_low", "ci_high", "effect"}
KEY = ("section", "subject", "detail", "measure")


def record_determinations(district: District) -> None:
    """Officers record each SARB determination due (Cal. Educ. Code § 48263) in the SIS, in turn: a
    petition to the juvenile court requested, the parent referred to the district attorney, or
    the board's directives given with no petition."""
    outcomes = ("petition_juvenile_court", "petition_district_attorney", "completed")
    open_tasks = [
        row
        for row in district.sis_rows()["U_TRUANCY_TASKS"]
        if row["task_type"] == "sarb_determination" and row["status"] == "open"
    ]
    assert len(open_tasks) >= 3, "the year must bring SARB determinations due for the test to mean anything"
    with district.powerschool() as sis:
        for index, row in enumerate(sorted(open_tasks, key=lambda r: int(r["id"]))):
            on = min(date.fromisoformat(row["due_date"]), LAST_SCHOOL_DAY)
            columns = {"status": "done", "outcome": outcomes[index % 3], "completed_date": on.isoformat()}
            sis.update_row("U_TRUANCY_TASKS", row["id"], columns)


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[District, dict[str, Any], Path]]:
    tmp = tmp_path_factory.mktemp("to-sis")
    with sandbox_district(tmp, students=500, extra_toml=AUTO_LETTERS, plugin_pages=True) as district:
        for day in LETTER_DAYS:
            sync(district, day, months_later=True)
        record_officer_work(district)
        sync(district, PINNED_AS_OF)
        record_officer_work(district)
        sync(district, PINNED_AS_OF)
        record_determinations(district)
        sync(district, PINNED_AS_OF)
        done = report(district, tmp / "report", "--json", "--to-sis")
        assert done.returncode == 0, done.stderr
        yield district, json.loads(done.stdout), tmp


def sis_figures(district: District) -> list[dict[str, str]]:
    with district.powerschool() as sis:
        return [row for page in sis.iter_table(TABLE) for row in page]


def by_key(rows: list[dict[str, str]]) -> dict[tuple[str, ...], str]:
    return {tuple(row.get(part, "") for part in KEY): row.get("figure_value", "") for row in rows}


def own_instance(district: District) -> str:
    engine = store_engine(district.settings)
    with engine.connect() as connection:
        found = connection.execute(select(store_instance.c.instance_id)).scalar_one()
    engine.dispose()
    return str(found)


def test_the_sis_holds_exactly_the_published_figures_stamped_by_this_store(year: Any) -> None:
    district, published, _ = year
    rows = sis_figures(district)
    expected = {
        tuple(w.fields[part] for part in KEY): w.fields["figure_value"] for w in figure_writes(published)
    }
    assert published["sis"]["created"] == len(expected) == len(rows)
    assert by_key(rows) == expected
    assert {row["writer"] for row in rows} == {own_instance(district)}
    assert {row["school_year"] for row in rows} == {"2025-26"}
    assert {row["as_of"] for row in rows} == {LAST_SCHOOL_DAY.isoformat()}
    figures = by_key(rows)  # the district's counts, as the SIS now holds them, against the recount
    counted = recount(district)
    assert figures[("district", "", "", "students")] == str(len(counted))
    assert figures[("district", "", "", "truant")] == str(
        sum(s.truant(LAST_SCHOOL_DAY) for s in counted.values())
    )
    withheld = [key for key, value in figures.items() if value == ""]
    assert withheld, "a year of 500 students has small cells; the test must see some withheld"
    assert ("sarb", "sarb_referral", "", "made") in figures


def test_no_student_data_reaches_the_figures_table(year: Any) -> None:
    """Every value is an aggregate (a number, or empty where withheld); no column holds a student's
    id, number or name, and the table has no student column to hold one."""
    district, _, _ = year
    rows = sis_figures(district)
    sandbox = district.server.district
    ids = {str(s.dcid) for s in sandbox.students} | {s.student_number for s in sandbox.students}
    names = {f"{s.family_name}, {s.given_name}" for s in sandbox.students} | {
        part for s in sandbox.students for part in (s.given_name, s.family_name) if len(part) > 3
    }
    for row in rows:
        assert set(row) <= COLUMNS | AUDIT
        assert re.fullmatch(r"(-?\d+(\.\d+)?(e-?\d+)?)?", row.get("figure_value", "")), row.get(
            "figure_value", ""
        )
        for column in ("section", "subject", "detail", "measure"):
            text = row.get(column, "")
            assert text not in ids, column
            assert not any(name in text for name in names), column


def test_petitions_officers_recorded_are_counted_by_type(year: Any) -> None:
    """The § 48273 petition counts against a recount of the SIS's own task rows: unsuppressed in
    the store's figures, and published (cells under 10 withheld) in the report and the SIS."""
    district, published, _ = year
    recounted = Counter(
        row["outcome"]
        for row in district.sis_rows()["U_TRUANCY_TASKS"]
        if row["task_type"] == "sarb_determination"
        and row["status"] == "done"
        and row.get("outcome", "").startswith("petition_")
    )
    assert set(recounted) == {"petition_juvenile_court", "petition_district_attorney"}
    with runtime(district.settings) as rt:
        figures = count_figures(rt.engine, rt.policy, rt.plugin.categorize, "2025-26", LAST_SCHOOL_DAY)
    counted = {p["type"]: p["requested"] for p in figures.sarb["petitions"]}
    assert counted == dict(recounted)
    assert figures.sarb["petitions_requested"] == sum(recounted.values())
    shown = {p["type"]: p["requested"] for p in published["sarb_48273"]["petitions"]}
    assert shown == {kind: cell(n) for kind, n in recounted.items()}
    assert published["sarb_48273"]["petitions_requested"] == cell(sum(recounted.values()))
    in_sis = by_key(sis_figures(district))
    for kind, value in shown.items():
        assert in_sis[("petition", kind, "", "requested")] == ("" if value is None else str(value))


def test_running_it_again_replaces_the_year_in_place(year: Any) -> None:
    district, published, tmp = year
    before = {row["sync_key"]: row["id"] for row in sis_figures(district)}
    again = report(district, tmp / "again", "--json", "--to-sis")
    assert again.returncode == 0, again.stderr
    counts = json.loads(again.stdout)["sis"]
    assert (counts["created"], counts["updated"], counts["deleted"]) == (0, 0, 0)
    assert {row["sync_key"]: row["id"] for row in sis_figures(district)} == before
    rows = sis_figures(district)  # an edited value, a duplicate and a figure no longer published
    edited = next(row for row in rows if row.get("figure_value", ""))
    with district.powerschool() as sis:
        sis.update_row(TABLE, edited["id"], {"figure_value": "999999"})
        duplicate = {c: edited[c] for c in COLUMNS if edited.get(c)}
        sis.insert_row(TABLE, duplicate)
        sis.insert_row(TABLE, {**duplicate, "sync_key": "0" * 40, "measure": "retired"})
    third = report(district, tmp / "third", "--json", "--to-sis")
    assert third.returncode == 0, third.stderr
    counts = json.loads(third.stdout)["sis"]
    assert (counts["created"], counts["updated"], counts["deleted"]) == (0, 1, 2)
    final = sis_figures(district)
    assert len(final) == len(before)
    assert by_key(final) == {
        tuple(w.fields[p] for p in KEY): w.fields["figure_value"] for w in figure_writes(published)
    }


def test_rows_another_store_wrote_stop_the_run_before_it_writes(year: Any) -> None:
    district, _, tmp = year
    rows = sis_figures(district)
    with district.powerschool() as sis:
        sis.update_row(TABLE, rows[0]["id"], {"writer": "f" * 16})
    try:
        done = report(district, tmp / "foreign", "--json", "--to-sis")
        assert done.returncode == 3
        message = json.loads(done.stdout)["error"]["message"]
        assert "written by another state store" in message
        assert "truancy db adopt" in message
        assert {row["id"]: row.get("figure_value", "") for row in sis_figures(district)} == {
            row["id"]: row.get("figure_value", "") for row in rows
        }
    finally:
        with district.powerschool() as sis:
            sis.update_row(TABLE, rows[0]["id"], {"writer": rows[0]["writer"]})


def shown(measure: str, value: Any) -> str:
    """The page's formatting, written out here: JavaScript's toFixed rounds a tie up (toward +inf)."""
    if value is None:
        return "fewer than 10"
    if measure not in PERCENT | POINTS:
        return f"{value:,}"
    exact = Decimal(value * 100)
    text = str(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP if exact >= 0 else ROUND_HALF_DOWN))
    if measure in PERCENT:
        return f"{text}%"
    return ("+" if value >= 0 and not text.startswith("-") else "") + f"{text} pts"


def published_cells(published: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    """data-figure key → (measure, the value --json printed) for every figure on the page."""
    cells: dict[str, tuple[str, Any]] = {}
    for write in figure_writes(published):
        key = "|".join(write.fields[part] for part in KEY)
        raw = write.fields["figure_value"]
        cells[key] = (write.fields["measure"], None if raw == "" else json.loads(raw))
    return cells


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium(sync_api) as launched:
        yield launched


@pytest.mark.parametrize(("width", "name"), [(None, "desktop"), (390, "phone")])
def test_the_directors_page_shows_exactly_the_published_figures(
    year: Any, browser: Any, width: int | None, name: str
) -> None:
    district, published, _ = year
    tab = new_tab(browser, width=width)
    tab.goto(f"{district.server.url}/admin/home.html")
    tab.click("text=Attendance outcomes")
    tab.wait_for_selector("[data-section=intervention] td")
    on_page = tab.eval_on_selector_all(
        "[data-figure]", "cells => cells.map(c => [c.getAttribute('data-figure'), c.textContent])"
    )
    expected = published_cells(published)
    assert len(on_page) == len({key for key, _ in on_page}) == len(expected)
    for key, text in on_page:
        measure, value = expected[key]
        assert text == shown(measure, value), key
    assert any(text == "fewer than 10" for _, text in on_page)
    district_students = tab.text_content("[data-figure='district|||students']")
    assert district_students == f"{published['district']['students']:,}"
    sandbox = district.server.district
    page_text = tab.text_content("main") or ""
    for school in published["schools"]:
        assert sandbox.school(int(school["school_id"])).name in page_text
    assert not any(f"{s.family_name}, {s.given_name}" in page_text for s in sandbox.students)
    if width:
        assert tab.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(tab, f"outcomes-directors-page-{name}")
    tab.close()
