"""Built-in packs as a district runs them: a pack whose rules need a district parameter (Ohio's
instructional day) is loaded with a fixture override that sets it."""

from __future__ import annotations

from pathlib import Path

from truancy.mappings.policy import Policy, load_policy

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DISTRICT_OVERRIDES = {"OH": FIXTURES / "oh_district.yaml"}


def load_pack(code: str) -> Policy:
    return load_policy(code, overrides=DISTRICT_OVERRIDES.get(code.upper()))
