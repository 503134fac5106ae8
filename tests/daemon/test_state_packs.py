"""Every state's pack runs the whole loop against the sandbox, and a second run writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.daemon.sandbox_sync import sandbox_district
from tests.mappings.packs import DISTRICT_OVERRIDES, load_pack
from truancy.mappings.policy import available_policies

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("state", available_policies())
def test_state_pack_end_to_end(tmp_path: Path, state: str) -> None:
    override = DISTRICT_OVERRIDES.get(state)
    extra = f"\n[mappings]\npolicy_overrides = {json.dumps(str(override))}\n" if override else ""
    with sandbox_district(tmp_path, students=150, state=state, extra_toml=extra) as district:
        first = district.sync()
        assert first.ok, first.errors
        designations = set(first.cases)
        assert designations, f"no {state} designation in a 150-student district"
        assert designations <= set(load_pack(state).rules)
        assert first.writes.created > 0
        flag_types = {row["flag_type"] for row in district.sis_rows()["U_TRUANCY_FLAGS"]}
        assert flag_types <= designations

        second = district.sync()
        assert (second.writes.created, second.writes.updated, second.writes.deleted) == (0, 0, 0)
