"""The service's status page in headless Chromium, healthy and then failing, on a desktop and a phone.

The service runs its real loop on a virtual clock against a sandbox district whose code map leaves
one attendance code out (so the quarantine and the unknown codes have rows). After the first cycle
succeeds the page must say so; a 503 burst that outlasts every retry then fails the next cycle and
the page must say that, naming the error class and the stream. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.daemon.browser import chromium, new_tab, require_playwright, screenshot
from tests.daemon.sandbox_sync import sandbox_district
from tests.daemon.service_support import SERVICE_TOML, VirtualClock
from truancy.daemon.service import Options, SyncService

sync_api = require_playwright()
pytestmark = pytest.mark.slow

START = datetime(2026, 3, 2, 17, 10, tzinfo=UTC)  # a Monday, 09:10 in Los Angeles
PHONE_WIDTH = 390
CODES = [
    ("PRE", "present"), ("FT", "present"), ("A", "unexcused"), ("UNX", "unexcused"), ("EX", "excused"),
    ("ILL", "excused"), ("T", "tardy"), ("T30", "tardy"), ("UT", "tardy"), ("ED", "unexcused"),
    ("SUS", "suspension"), ("ISS", "present"),
]  # fmt: skip
"""The sandbox's codes except MED, whose rows are quarantined as an unknown code."""


def write_code_map(path: Path) -> None:
    partial = {"T", "T30", "UT", "ED"}
    lines = [
        f"  {code}: {{category: {category}{', partial_day: true' if code in partial else ''}}}\n"
        for code, category in CODES
    ]
    path.write_text("version: 1\ncodes:\n" + "".join(lines), encoding="utf-8")


def section_text(page: Any, heading: str) -> str:
    """The text of the table (or the empty-state line) that follows an ``<h2>``."""
    text: str = page.locator(f"h2:text-is('{heading}') + *").inner_text()
    return text


def render(browser: Any, url: str, name: str) -> dict[str, Any]:
    """The page at desktop and phone width: verdict, section texts, and whether the phone scrolls sideways."""
    seen: dict[str, Any] = {}
    for label, width in (("desktop", None), ("phone", PHONE_WIDTH)):
        page = new_tab(browser, width=width)
        page.goto(url)
        seen[label] = {
            "verdict": page.locator("#verdict").inner_text(),
            "verdict_color": page.locator("#verdict").evaluate("e => getComputedStyle(e).backgroundColor"),
            "streams": section_text(page, "Streams"),
            "cycles": section_text(page, "Recent cycles"),
            "quarantine": section_text(page, "Quarantine"),
            "codes": section_text(page, "Unknown attendance codes"),
            "body_overflows": page.evaluate(
                "document.documentElement.scrollWidth > document.documentElement.clientWidth"
            ),
            "refresh": page.locator("meta[http-equiv=refresh]").get_attribute("content"),
        }
        screenshot(page, f"status-{name}-{label}")
        page.close()
    return seen


def test_status_page_shows_healthy_then_failing_at_desktop_and_phone_width(tmp_path: Path) -> None:
    write_code_map(tmp_path / "codes.yaml")
    toml = SERVICE_TOML + '\n[mappings]\ncode_map = "codes.yaml"\n'
    seen: dict[str, dict[str, Any]] = {}
    with chromium(sync_api) as browser, sandbox_district(tmp_path, students=120, extra_toml=toml) as district:

        def look(name: str, then: Callable[[], None] = lambda: None) -> Callable[[], None]:
            def action() -> None:
                assert service.health is not None
                seen[name] = render(browser, service.health.url, name)
                then()

            return action

        def fail_next_cycle() -> None:
            fault = {"path_prefix": "/ims/oneroster/rostering/v1p2/students", "status": 503, "count": 10}
            district.control("POST", "/faults", json=fault)

        clock = VirtualClock(START, after_cycle={1: look("healthy", fail_next_cycle), 2: look("failing")})
        service = SyncService(Options(district.config, install_signals=False), clock=clock, wait=clock.wait)
        clock.cycles = lambda: service.cycles_run
        assert service.run(max_cycles=3) == 0

    for width in ("desktop", "phone"):
        healthy, failing = seen["healthy"][width], seen["failing"][width]
        assert healthy["verdict"] == "Healthy: the last cycle succeeded"
        assert healthy["verdict_color"] == "rgb(30, 125, 50)"
        for stream in ("roster", "attendance", "writeback"):
            assert stream in healthy["streams"]
        assert "never" not in healthy["streams"]
        assert "succeeded" in healthy["cycles"]
        assert "attendance" in healthy["quarantine"]
        assert "MED" in healthy["quarantine"]
        assert "MED" in healthy["codes"]
        assert healthy["refresh"] == "30"

        assert failing["verdict"] == "Needs attention: the last cycle failed (transient error)"
        assert failing["verdict_color"] == "rgb(179, 38, 30)"
        assert "FAILING: transient error" in failing["streams"]
        assert "failed (transient)" in failing["cycles"]
        assert "succeeded" in failing["cycles"]
        for state in (healthy, failing):
            assert not state["body_overflows"], f"the {width} page scrolls sideways"
