"""Headless Chromium for browser tests: Debian's ``chromium`` driven through playwright.

Playwright's bundled browsers are not used (CI installs Debian's package); a test module calls
:func:`require_playwright` at import time, so it is skipped with the reason when either is missing.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
WAIT_MS = 20_000


def require_playwright() -> ModuleType:
    """``playwright.sync_api``; skips the calling module when playwright or chromium is absent."""
    sync_api: ModuleType = pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is not installed"
    )
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)
    return sync_api


@contextmanager
def chromium(sync_api: ModuleType) -> Iterator[Any]:
    """A launched headless browser, closed on exit."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def new_tab(browser: Any, *, width: int | None = None, height: int = 844) -> Any:
    """A page with the tests' timeout; ``width`` sets a phone-sized viewport."""
    tab = browser.new_page(viewport={"width": width, "height": height}) if width else browser.new_page()
    tab.set_default_timeout(WAIT_MS)
    return tab


def tab_on(browser: Any, day: date, *, width: int | None = None) -> Any:
    """A tab whose clock reads ``day`` (10:00 local time): the officer's today."""
    tab = new_tab(browser, width=width)
    tab.clock.set_fixed_time(datetime(day.year, day.month, day.day, 10, 0))
    return tab


def student_page(tab: Any, sis_url: str, dcid: str, *, panel: str = "truancy-sync-case") -> None:
    """The SIS's student page with the plugin's ``panel`` loaded."""
    tab.goto(f"{sis_url}/admin/students/home.html?frn=001{dcid}")
    tab.locator(f"#{panel} .truancy-sync-status").wait_for(state="hidden")


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
