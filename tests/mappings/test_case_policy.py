"""The case: sections of the built-in packs, and the errors an admin gets for a broken one."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from truancy.mappings.case_policy import CasePolicy

CASES_DIR = Path(__file__).resolve().parents[2] / "mappings" / "policies" / "cases"
STATE_DESIGNATIONS = {
    "ca": {"truant", "habitual_truant", "chronic_truant", "chronically_absent"},
    "tx": {"parent_warning", "court_referral"},
    "pa": {"truant", "habitually_truant"},
    "il": {"truant", "chronic_truant", "chronically_absent"},
    "fl": {"pattern_of_nonattendance", "habitual_truant"},
    "ny": {"chronically_absent"},
    "federal": {"chronically_absent"},
}


@pytest.mark.parametrize("state", sorted(STATE_DESIGNATIONS))
def test_each_state_section_is_valid_and_uses_its_designations(state: str) -> None:
    data = yaml.safe_load((CASES_DIR / f"{state}.yaml").read_text(encoding="utf-8"))
    policy = CasePolicy.model_validate(data["case"])
    assert policy.referenced_designations == STATE_DESIGNATIONS[state]
    assert all(task.citation for tier in policy.tiers for task in tier.tasks)


@pytest.mark.parametrize(
    ("state", "task_id", "due_school_days"),
    [("tx", "truancy_court_referral", 10), ("pa", "truancy_notice", 10)],
)
def test_statutory_deadlines(state: str, task_id: str, due_school_days: int) -> None:
    data = yaml.safe_load((CASES_DIR / f"{state}.yaml").read_text(encoding="utf-8"))
    found = CasePolicy.model_validate(data["case"]).task(task_id)
    assert found is not None
    assert found[1].due_school_days == due_school_days


def _tier(tier_id: str, *task_ids: str) -> dict[str, object]:
    tasks = [{"id": t, "title": "t", "citation": "c", "due_school_days": 1} for t in task_ids]
    return {"id": tier_id, "label": tier_id, "enter_when": {"designation": "truant"}, "tasks": tasks}


def test_a_task_id_used_twice_is_rejected() -> None:
    with pytest.raises(ValidationError, match="task id 'letter' is used more than once"):
        CasePolicy.model_validate({"tiers": [_tier("a", "letter"), _tier("b", "letter")]})


def test_an_unknown_note_placeholder_names_the_template_and_the_choices() -> None:
    with pytest.raises(ValidationError, match=r"notes\.retracted: unknown placeholder \{name\}; use any of"):
        CasePolicy.model_validate({"tiers": [_tier("a")], "notes": {"retracted": "{name} no longer truant"}})


def test_a_misspelled_key_is_rejected() -> None:
    with pytest.raises(ValidationError, match="due_school_day"):
        CasePolicy.model_validate(
            {
                "tiers": [
                    {**_tier("a"), "tasks": [{"id": "x", "title": "t", "citation": "c", "due_school_day": 1}]}
                ]
            }
        )


def test_negative_deadlines_are_rejected() -> None:
    bad = {**_tier("a"), "tasks": [{"id": "x", "title": "t", "citation": "c", "due_school_days": -1}]}
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        CasePolicy.model_validate({"tiers": [bad]})
