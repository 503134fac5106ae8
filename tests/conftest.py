"""Shared fixtures: the official specifications and a sandbox district served over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SPECS_DIR = REPO_ROOT.parent / "shared" / "specs"


@pytest.fixture(scope="session")
def specs_dir() -> Path:
    """The official specs sit beside the repo in CI; a user's clone has none, so those tests skip."""
    if not SPECS_DIR.is_dir():
        pytest.skip(f"official specifications not found at {SPECS_DIR} (present in CI only)")
    return SPECS_DIR


@pytest.fixture(scope="session")
def sandbox_url() -> Iterator[str]:
    """A small sandbox district (300 students, seed 1, pinned to 2025-26) served in this process for
    the session.

    Tests that change the sandbox (faults, corrections) start their own server instead.
    """
    from tests.sandbox_year import PINNED_AS_OF
    from truancy.sandbox.server import SandboxServer

    with SandboxServer(students=300, seed=1, as_of=PINNED_AS_OF) as server:
        yield server.url
