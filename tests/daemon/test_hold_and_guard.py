"""Issue 11, findings 2, 3 and 7, and the retraction guard: end to end over real HTTP.

Each test drives ``truancy sync --once --json`` (and ``truancy status --json``) against the sandbox
SIS and reads the truancy rows back through the SIS's own API, as an officer's screen would.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from typer.testing import CliRunner

from tests.daemon.browser import chromium, new_tab, require_playwright, screenshot
from tests.daemon.sandbox_sync import District, sandbox_district
from truancy.daemon.cli import EXIT_HELD_BACK, EXIT_QUARANTINED, app
from truancy.daemon.runtime import store_engine
from truancy.daemon.web import HealthApp, HealthServer, LiveState
from truancy.plugins.powerschool.plugin import DEFAULT_CODE_MAP

pytestmark = pytest.mark.slow
sync_api = require_playwright()

Rows = dict[str, list[dict[str, str]]]


def cli(district: District, *args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(app, [*args, "--config", str(district.config), "--json"])
    return result.exit_code, json.loads(result.stdout)


def sync(district: District, *extra: str) -> tuple[int, dict[str, Any]]:
    return cli(district, "sync", "--once", *extra)


def use_code_map(district: District, text: str) -> None:
    (district.config.parent / "codes.yaml").write_text(text, encoding="utf-8")
    config = district.config.read_text(encoding="utf-8")
    if "code_map = " not in config:
        district.config.write_text(config + '\n[mappings]\ncode_map = "codes.yaml"\n', encoding="utf-8")


def without_code(code: str) -> str:
    kept = [
        line
        for line in DEFAULT_CODE_MAP.read_text(encoding="utf-8").splitlines()
        if not line.startswith(f"  {code}:")
    ]
    assert len(kept) == len(DEFAULT_CODE_MAP.read_text(encoding="utf-8").splitlines()) - 1
    return "\n".join(kept) + "\n"


def keyed(rows: Rows, table: str) -> dict[str, dict[str, str]]:
    return {row["sync_key"]: row for row in rows[table]}


def notes_of(rows: Rows) -> Counter[tuple[str, str, str]]:
    return Counter((r["studentsdcid"], r["note_date"], r["note_text"]) for r in rows["U_TRUANCY_NOTES"])


def status_page(district: District, name: str) -> dict[str, str]:
    """What an admin reads on the status page, in headless Chromium: held cases and the guard."""
    engine = store_engine(district.settings)
    server = HealthServer(
        HealthApp(lambda: engine, CollectorRegistry(), LiveState("d"), timedelta(days=1)), "127.0.0.1", 0
    )
    server.start()
    try:
        with chromium(sync_api) as browser:
            page = new_tab(browser)
            page.goto(server.url + "/")
            seen = {
                "verdict": page.locator("#verdict").inner_text(),
                "held": page.locator("h2:text-is('Held cases') + *").inner_text(),
                "blocked": page.locator("#blocked").inner_text() if page.locator("#blocked").count() else "",
            }
            screenshot(page, f"status-{name}")
    finally:
        server.stop()
        engine.dispose()
    return seen


def open_tasks(rows: Rows) -> dict[str, dict[str, str]]:
    return {k: r for k, r in keyed(rows, "U_TRUANCY_TASKS").items() if r["status"] == "open"}


def test_an_unmapped_code_holds_every_case_and_mapping_it_back_resolves_without_a_reread(
    tmp_path: Path,
) -> None:
    """Findings 2 and 3: removing `A` from the map deletes nothing and says why; restoring it, the
    next cycle (no --full) resolves the hold, and no note is ever written twice."""
    with sandbox_district(tmp_path, students=300) as district:
        code, first = sync(district)
        assert code == 0, first
        before = district.sis_rows()
        truth = district.server.district
        assert truth is not None
        a_rows = sum(1 for row in truth.attendance() if row.att_code == "A")
        assert a_rows > 0

        use_code_map(district, without_code("A"))
        code, held = sync(district)
        assert code == EXIT_QUARANTINED, held
        assert held["writes"]["deleted"] == 0
        assert held["writes"]["created"] == 0  # no note, no flag: nothing new is true yet
        assert held["unknown_codes"] == {"A": a_rows}
        assert held["held_cases"] > 0
        assert set(held["held_codes"]) == {"A"}
        during = district.sis_rows()
        assert keyed(during, "U_TRUANCY_FLAGS").keys() == keyed(before, "U_TRUANCY_FLAGS").keys()
        assert open_tasks(during).keys() == open_tasks(before).keys()
        assert notes_of(during) == notes_of(before)
        marked = [
            r
            for r in during["U_TRUANCY_FLAGS"]
            if r["detail"].startswith("HELD (waiting for code 'A' to be mapped")
        ]
        assert len(marked) >= held["held_cases"] > 0
        assert any(r["detail"].startswith("HELD (waiting for code 'A'") for r in open_tasks(during).values())
        _, status = cli(district, "status")
        assert status["unknown_codes"] == {"A": a_rows}
        assert status["held"]["cases"] == held["held_cases"]
        page = status_page(district, "held")
        assert "A" in page["held"]
        assert str(held["held_codes"]["A"]) in page["held"]

        use_code_map(district, DEFAULT_CODE_MAP.read_text(encoding="utf-8"))
        code, resolved = sync(district)  # no --full: the store has every row with its own code
        assert code == 0, resolved
        assert resolved["pulled"].get("attendance", 0) < a_rows
        assert resolved["writes"]["deleted"] == resolved["writes"]["created"] == 0
        assert resolved["held_cases"] == 0
        assert resolved["unknown_codes"] == {}
        after = district.sis_rows()
        assert notes_of(after) == notes_of(before)
        assert max(notes_of(after).values()) == 1
        assert {k: r["detail"] for k, r in keyed(after, "U_TRUANCY_FLAGS").items()} == {
            k: r["detail"] for k, r in keyed(before, "U_TRUANCY_FLAGS").items()
        }
        _, status = cli(district, "status")
        assert status["unknown_codes"] == {}
        assert status["held"]["cases"] == 0
        assert status_page(district, "resolved")["held"] == "No case is held."
        code, again = sync(district)
        assert code == 0
        assert (again["writes"]["created"], again["writes"]["updated"], again["writes"]["deleted"]) == (
            0,
            0,
            0,
        )


def test_a_designation_note_states_the_count_on_its_own_date(tmp_path: Path) -> None:
    """Finding 7: a note dated D says what had been counted by D (CA truant: the 3rd occasion)."""
    with sandbox_district(tmp_path, students=200) as district:
        code, _ = sync(district)
        assert code == 0
        rows = district.sis_rows()
    truant = [
        r
        for r in rows["U_TRUANCY_NOTES"]
        if r["category"] == "designation" and r["note_text"].startswith("Truant:")
    ]
    assert truant
    counts = {re.search(r"; (\S+) counted so far", r["note_text"]).group(1) for r in truant}  # type: ignore[union-attr]
    assert counts == {"3"}
    for row in truant:
        assert f"met on {row['note_date']}" in row["note_text"]


def test_a_store_lost_and_rebuilt_writes_no_note_twice(tmp_path: Path) -> None:
    """Notes are keyed by what they say: a store that lost everything but its identity rebuilds
    every case from the SIS's records and recognises each note already in the SIS."""
    with sandbox_district(tmp_path, students=200) as district:
        code, _ = sync(district)
        assert code == 0
        before = district.sis_rows()
        district.lose_store()
        code, rebuilt = sync(district, "--full")
        assert code == 0, rebuilt
        assert rebuilt["planned"].get("created", {}).get("note", 0) == 0
        after = district.sis_rows()
    assert notes_of(after) == notes_of(before)
    assert max(notes_of(after).values()) == 1


def test_notes_in_the_sis_under_other_keys_are_recognised_not_written_again(tmp_path: Path) -> None:
    """Notes an earlier version or another store wrote (under keys this store would not make) are
    recognised by their content on read-back: the case log never gets a second copy."""
    with sandbox_district(tmp_path, students=150) as district:
        code, _ = sync(district)
        assert code == 0
        before = district.sis_rows()
        with district.powerschool() as client:
            for n, row in enumerate(before["U_TRUANCY_NOTES"]):
                other_key = hashlib.sha256(f"another store {n}".encode()).hexdigest()[:40]
                client.update_row("U_TRUANCY_NOTES", row["id"], {"sync_key": other_key})
        code, again = sync(district)
        assert code == 0, again
        assert again["writes"]["created"] == again["writes"]["deleted"] == 0
        after = district.sis_rows()
    assert notes_of(after) == notes_of(before)
    assert max(notes_of(after).values()) == 1


def test_the_retraction_guard_holds_a_policy_slip_until_allowed_and_the_notes_name_the_policy(
    tmp_path: Path,
) -> None:
    """A district override that lifts the truant threshold to 30 would withdraw most flags: the
    cycle writes nothing, says why, and waits; allowed, its withdrawal notes name a policy change."""
    override = tmp_path / "policy.yaml"
    override.write_text("version: 1\npolicy: CA\nrules:\n  truant:\n    threshold: 30\n", encoding="utf-8")
    with sandbox_district(tmp_path, students=300) as district:
        code, _ = sync(district)
        assert code == 0
        before = district.sis_rows()
        config = district.config.read_text(encoding="utf-8")
        district.config.write_text(
            config + '\n[mappings]\npolicy_overrides = "policy.yaml"\n', encoding="utf-8"
        )

        code, blocked = sync(district)
        assert code == EXIT_HELD_BACK, blocked
        assert blocked["blocked"]["total"] > blocked["blocked"]["limit"] >= 25
        assert "--allow-retractions" in blocked["blocked"]["reason"]
        assert blocked["writes"] == {
            "created": 0,
            "updated": 0,
            "deleted": 0,
            "unchanged": blocked["writes"]["unchanged"],
            "failed": 0,
        }
        assert district.sis_rows() == before
        status_code, status = cli(district, "status")
        assert status_code == 1
        assert status["blocked"]["total"] == blocked["blocked"]["total"]
        page = status_page(district, "blocked")
        assert "retraction guard held" in page["verdict"]
        assert f"would withdraw {blocked['blocked']['total']} open rows" in page["blocked"]

        code, again = sync(district)  # the guard decides again from the same records: still held
        assert code == EXIT_HELD_BACK
        assert again["blocked"]["total"] == blocked["blocked"]["total"]

        code, allowed = sync(district, "--allow-retractions")
        assert code == 0, allowed
        assert allowed["writes"]["deleted"] == blocked["blocked"]["total"]
        rows = district.sis_rows()
    withdrawn = [r["note_text"] for r in rows["U_TRUANCY_NOTES"] if r["category"] == "retraction"]
    assert withdrawn
    assert all("after a policy change" in text for text in withdrawn)
    assert not any("attendance correction" in text for text in withdrawn)


def test_the_retraction_guard_holds_a_full_read_that_comes_back_empty(tmp_path: Path) -> None:
    """The SIS's attendance reads come back empty (a purge, a broken query): the full read finds
    nothing, every case would be withdrawn, and the guard writes nothing instead."""
    with sandbox_district(tmp_path, students=120) as district:
        code, _ = sync(district)
        assert code == 0
        before = district.sis_rows()
        assert before["U_TRUANCY_FLAGS"]
        truth = district.server.district
        assert truth is not None
        for row in truth.attendance():
            district.control("DELETE", f"/attendance/{row.dcid}")
        code, empty = sync(district, "--full")
        assert code == EXIT_HELD_BACK, empty
        assert empty["attendance_records"] == 0
        assert empty["blocked"]["retractions"]["flag"] == len(before["U_TRUANCY_FLAGS"])
        assert district.sis_rows() == before


def test_a_code_remapped_to_excused_names_the_code_map_change(tmp_path: Path) -> None:
    """Mapping `A` to excused withdraws designations; each note says the code map did it."""
    remapped = DEFAULT_CODE_MAP.read_text(encoding="utf-8").replace(
        "A: {category: unexcused", "A: {category: excused"
    )
    with sandbox_district(tmp_path, students=200) as district:
        code, _ = sync(district)
        assert code == 0
        use_code_map(district, remapped)
        code, changed = sync(district, "--allow-retractions")
        assert code == 0, changed
        assert changed["writes"]["deleted"] > 0
        withdrawn = [
            r["note_text"] for r in district.sis_rows()["U_TRUANCY_NOTES"] if r["category"] == "retraction"
        ]
    assert withdrawn
    assert all("after a code map change" in text for text in withdrawn)


def test_a_late_correction_names_the_correction(tmp_path: Path) -> None:
    """The one cause the old wording always gave is given when, and only when, it happened."""
    with sandbox_district(tmp_path, students=300) as district:
        code, _ = sync(district)
        assert code == 0
        truant = next(r for r in district.sis_rows()["U_TRUANCY_FLAGS"] if r["flag_type"] == "truant")
        dcid = int(truant["studentsdcid"])
        truth = district.server.district
        assert truth is not None
        for row in truth.attendance_of(dcid):
            if row.att_code in {"A", "UNX", "T", "T30", "UT", "ED"}:
                district.control("POST", "/attendance/correct", json={"dcid": row.dcid, "att_code": "EX"})
        code, corrected = sync(district)
        assert code == 0, corrected
        notes = [r for r in district.sis_rows()["U_TRUANCY_NOTES"] if r["studentsdcid"] == str(dcid)]
    withdrawn = [r["note_text"] for r in notes if r["category"] == "retraction"]
    assert withdrawn
    assert all("after an attendance correction" in text for text in withdrawn)
