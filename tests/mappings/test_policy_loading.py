"""Policy packs and district overrides: validated on load, errors name file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mappings.attendance_factory import absence, day, student
from tests.mappings.packs import load_pack
from truancy.mappings.engine import evaluate
from truancy.mappings.policy import MappingFileError, available_policies, load_policy

PACK = """\
policy: XX
name: Example
version: "1"
rules:
  truant:
    label: Truant
    citation: Example Code § 1
    statute_text: three days
    counts: {categories: [unexcused]}
    unit: days
    threshold: 3
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_for(tmp_path: Path, pack: str, override: str | None = None) -> MappingFileError:
    overrides = write(tmp_path, "district.yaml", override) if override is not None else None
    with pytest.raises(MappingFileError) as caught:
        load_policy(write(tmp_path, "xx.yaml", pack), overrides=overrides)
    return caught.value


def test_every_built_in_pack_loads_with_its_case_section() -> None:
    assert set(available_policies()) == {
        *("CA", "TX", "PA", "IL", "FL", "NY", "FEDERAL"),
        *("OH", "WA", "GA", "NC", "MI", "NJ"),
    }
    for code in available_policies():
        policy = load_pack(code.lower())
        assert policy.case is not None
        assert policy.rules
        assert all(rule.citation and rule.statute_text for rule in policy.rules.values())


def test_an_unknown_state_lists_the_known_packs() -> None:
    with pytest.raises(MappingFileError, match="no built-in policy pack; known packs: CA, FEDERAL"):
        load_policy("ZZ")


def test_a_threshold_of_the_wrong_type_names_file_line_and_key(tmp_path: Path) -> None:
    error = error_for(tmp_path, PACK.replace("threshold: 3", "threshold: three"))

    assert str(error) == "xx.yaml:11: rules.truant.threshold: 'three' is not a number"


def test_an_unknown_category_in_a_rule_is_named(tmp_path: Path) -> None:
    error = error_for(tmp_path, PACK.replace("[unexcused]", "[unexcused, truant]"))

    assert error.line == 9
    assert error.key == "rules.truant.counts.categories.1"
    assert "'truant' is not one of present, excused" in error.problem


def test_a_duplicated_rule_is_an_error(tmp_path: Path) -> None:
    duplicate = PACK + PACK[PACK.index("  truant:") :]

    assert "rules.truant: duplicated key (first defined on line 5)" in str(error_for(tmp_path, duplicate))


def test_inconsistent_rules_are_explained(tmp_path: Path) -> None:
    error = error_for(tmp_path, PACK.replace("threshold: 3", "threshold: 2.5"))
    assert error.key == "rules.truant"
    assert "a count threshold must be a whole number" in error.problem

    partial = PACK.replace(
        "{categories: [unexcused]}", "{categories: [unexcused], partial_days: {at_least_minutes: 1}}"
    )
    assert "use days_or_parts to count partial days" in str(error_for(tmp_path, partial))


def test_a_window_needs_a_known_kind_and_its_length(tmp_path: Path) -> None:
    unknown = error_for(tmp_path, PACK.replace("unit: days", "unit: days\n    window: fortnight"))
    assert "'fortnight' is not one of school_year, calendar_month" in str(unknown)
    lengthless = error_for(tmp_path, PACK.replace("unit: days", "unit: days\n    window: rolling_weeks"))
    assert "window 'rolling_weeks' needs a length" in str(lengthless)


def test_a_reference_to_a_missing_rule_is_named(tmp_path: Path) -> None:
    pack = PACK + "    requires: {designations: [habitual]}\n"

    assert (
        str(error_for(tmp_path, pack))
        == "xx.yaml:12: rules.truant.requires: 'habitual' is not a rule of this pack"
    )


def test_an_override_tightens_a_rule_and_adds_one(tmp_path: Path) -> None:
    override = write(
        tmp_path,
        "district.yaml",
        """\
version: 1
policy: CA
name: Example USD
rules:
  truant:
    threshold: 2
    label: Truant (district notice)
  tardy_watch:
    label: Tardy watch
    citation: Example USD Board Policy 5113
    statute_text: five tardies of any length
    counts: {categories: [tardy], full_days: false, partial_days: {at_least_minutes: 1}}
    unit: occasions
    threshold: 5
""",
    )
    policy = load_policy("CA", overrides=override)

    assert policy.warnings == ()
    assert policy.version.endswith("+district.yaml")
    assert policy.rules["truant"].label == "Truant (district notice)"
    assert policy.rules["truant"].citation.startswith("Cal. Educ. Code § 48260(a)")
    result = evaluate(policy, student(absence(day(1)), absence(day(2))), day(10))
    assert result.holds("truant")
    assert "tardy_watch" in policy.rule_order


def test_a_looser_override_is_applied_and_reported(tmp_path: Path) -> None:
    override = write(
        tmp_path,
        "district.yaml",
        "version: 1\npolicy: CA\nrules:\n  truant:\n    threshold: 5\n"
        "  chronically_absent:\n    enabled: false\n",
    )
    policy = load_policy("CA", overrides=override)

    assert policy.warnings == (
        "district.yaml:5: rules.truant.threshold: 5 is looser than the statute's 3 "
        "(Cal. Educ. Code § 48260(a); further reports § 48261)",
        "district.yaml:7: rules.chronically_absent.enabled: rule disabled (Cal. Educ. Code § 60901(c)(1))",
    )
    days = [absence(day(n), "excused") for n in range(1, 10)]
    result = evaluate(policy, student(absence(day(1)), absence(day(2)), absence(day(3)), *days), day(40))
    assert not result.holds("truant")
    assert not result.holds("chronically_absent")


def test_override_errors_name_the_override_file(tmp_path: Path) -> None:
    wrong_type = "version: 1\npolicy: XX\nrules:\n  truant:\n    threshold: lots\n"
    assert str(error_for(tmp_path, PACK, wrong_type)) == (
        "district.yaml:5: rules.truant.threshold: 'lots' is not a number"
    )
    other_state = "version: 1\npolicy: TX\nrules: {}\n"
    assert "overrides policy 'TX', but the pack is 'XX'" in str(error_for(tmp_path, PACK, other_state))
