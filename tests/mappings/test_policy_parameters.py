"""The schema for hours, grade bands and district parameters: a pack that cannot be counted
faithfully is refused on load, with the file, line and key at fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mappings.attendance_factory import absence, day, student
from truancy.mappings.engine import evaluate
from truancy.mappings.policy import MappingFileError, Policy, load_policy

PACK = """\
policy: XX
name: Example
version: "1"
parameters:
  school_day_minutes:
    description: the instructional day in minutes
    minimum: 60
    maximum: 600
rules:
  truant:
    label: Truant
    citation: Example Code § 1
    statute_text: twelve hours
    counts: {categories: [unexcused], partial_days: {at_least_minutes: 1}}
    unit: hours
    threshold: 12
"""


def load(tmp_path: Path, pack: str, override: str | None = None) -> Policy:
    path = tmp_path / "xx.yaml"
    path.write_text(pack, encoding="utf-8")
    overrides = None
    if override is not None:
        overrides = tmp_path / "district.yaml"
        overrides.write_text("version: 1\npolicy: XX\n" + override, encoding="utf-8")
    return load_policy(path, overrides=overrides)


def error(tmp_path: Path, pack: str, override: str | None = None) -> str:
    with pytest.raises(MappingFileError) as caught:
        load(tmp_path, pack, override)
    return str(caught.value)


def test_hours_count_minutes_with_the_district_day(tmp_path: Path) -> None:
    loaded = load(tmp_path, PACK, "parameters: {school_day_minutes: 300}\n")
    events = [absence(day(1)), absence(day(5), minutes=120)]  # 5 hours + 2 hours

    result = evaluate(loaded, student(*events), day(180))
    assert result.counts["truant.hours"] == 7
    assert not result.holds("truant")
    result = evaluate(loaded, student(*events, absence(day(9))), day(180))
    assert result.holds("truant")


def test_an_hours_rule_without_the_day_is_refused_naming_the_parameter(tmp_path: Path) -> None:
    message = error(tmp_path, PACK)

    assert message.startswith(
        "xx.yaml:5: parameters.school_day_minutes: rule 'truant' needs school_day_minutes"
    )
    assert "policy: XX" in message


def test_a_disabled_hours_rule_needs_no_day(tmp_path: Path) -> None:
    policy = load(tmp_path, PACK, "rules:\n  truant: {enabled: false}\n")

    assert evaluate(policy, student(absence(day(1))), day(180)).designations == ()


def test_a_sourced_default_is_used_when_the_district_sets_none(tmp_path: Path) -> None:
    pack = PACK.replace(
        "    maximum: 600\n", "    maximum: 600\n    default: 360\n    source: Example Code § 2\n"
    )
    policy = load(tmp_path, pack)

    assert policy.parameters == {"school_day_minutes": 360}


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("    maximum: 600\n", "    maximum: 600\n    default: 360\n", "a default needs the source"),
        ("    maximum: 600\n", "    maximum: 30\n", "maximum must not be below minimum"),
        ("parameters:\n  school_day_minutes:\n", "parameters:\n  day_minutes:\n", "school_day_minutes"),
        (
            "    unit: hours\n",
            "    unit: hours\n    window: consecutive_school_days\n    repeat: {every: 1}\n",
            "repeat",
        ),
        (
            "    unit: hours\n",
            "    unit: days\n    window: consecutive_school_days\n",
            "use it with unit 'hours'",
        ),
        (
            "    threshold: 12\n",
            "    threshold: 12\n    grade_thresholds: [{grades: [K], threshold: 13}]\n",
            "at least every band's, here 13",
        ),
        (
            "    unit: hours\n",
            "    unit: hours\n    window: {past_school_days: 10}\n",
            "past_school_days is for percentages",
        ),
    ],
)
def test_inconsistent_packs_are_refused(tmp_path: Path, old: str, new: str, problem: str) -> None:
    assert problem in error(tmp_path, PACK.replace(old, new))


def test_an_hours_threshold_may_be_fractional_a_day_count_may_not(tmp_path: Path) -> None:
    fractional = PACK.replace("threshold: 12", "threshold: 100.1")

    assert load(tmp_path, fractional, "parameters: {school_day_minutes: 300}\n") is not None
    days = fractional.replace("unit: hours", "unit: days").replace(
        ", partial_days: {at_least_minutes: 1}", ""
    )
    assert "a count threshold must be a whole number" in error(tmp_path, days)


def test_a_rule_needing_an_undeclared_parameter_is_refused(tmp_path: Path) -> None:
    pack = PACK.replace(
        "parameters:\n  school_day_minutes:\n    description: the instructional day in minutes\n"
        "    minimum: 60\n    maximum: 600\n",
        "",
    )

    assert "needs parameter 'school_day_minutes': declare it under parameters" in error(tmp_path, pack)


def test_grade_bands_need_unit_hours(tmp_path: Path) -> None:
    pack = PACK.replace("unit: hours", "unit: days").replace(", partial_days: {at_least_minutes: 1}", "")
    pack = pack.replace(
        "    threshold: 12\n", "    threshold: 12\n    grade_thresholds: [{grades: [K], threshold: 10}]\n"
    )

    assert "grade_thresholds apply to unit 'hours'" in error(tmp_path, pack)


def test_raising_a_grade_band_or_leaving_days_out_of_membership_is_reported(tmp_path: Path) -> None:
    oh = tmp_path / "oh.yaml"
    oh.write_text(
        "version: 1\npolicy: OH\nparameters: {school_day_minutes: 360}\nrules:\n  chronically_absent:\n"
        "    grade_thresholds:\n      - {grades: [K, '1', '2', '3', '4', '5', '6'], threshold: 95}\n"
        "      - {grades: ['7', '8', '9', '10', '11', '12'], threshold: 100.1}\n",
        encoding="utf-8",
    )
    nj = tmp_path / "nj.yaml"
    nj.write_text(
        "version: 1\npolicy: NJ\nrules:\n  chronically_absent: {outside_membership_codes: [RO]}\n",
        encoding="utf-8",
    )

    (oh_warning,) = load_policy("OH", overrides=oh).warnings
    assert "rules.chronically_absent.grade_thresholds: raised for grade(s) K, 1, 2, 3, 4, 5, 6" in oh_warning
    (nj_warning,) = load_policy("NJ", overrides=nj).warnings
    assert "outside_membership_codes: leaves more days out of membership" in nj_warning
