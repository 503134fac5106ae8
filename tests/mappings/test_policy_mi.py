"""Michigan: chronic absence as MDE / CEPI count it, a day missed when more than half of it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mappings.attendance_factory import absence, day, student, tardy
from tests.mappings.packs import attendance_csv, evaluate_cli
from truancy.mappings.engine import evaluate
from truancy.mappings.policy import MappingFileError, load_policy


def chronic(policy_overrides: Path | None, *events: object, as_of: int = 40) -> bool:
    policy = load_policy("MI", overrides=policy_overrides)
    return evaluate(policy, student(*events), day(as_of)).holds("chronically_absent")  # type: ignore[arg-type]


def test_the_day_length_defaults_to_the_school_aid_act_average() -> None:
    policy = load_policy("MI")

    assert policy.parameters == {"school_day_minutes": 366}
    assert "MCL 388.1701" in (policy.pack.parameters["school_day_minutes"].source or "")


@pytest.mark.parametrize(("minutes", "expected"), [(183, False), (184, True)])
def test_a_part_day_counts_when_more_than_half_the_day_is_missed(minutes: int, expected: bool) -> None:
    events = [absence(day(n), "excused") for n in (3, 9, 15)]

    assert chronic(None, *events, absence(day(21), "unexcused", minutes=minutes)) is expected
    assert chronic(None, *events, tardy(day(21), minutes)) is expected


@pytest.mark.parametrize(("minutes", "expected"), [(200, False), (201, True)])
def test_the_district_sets_its_own_day(tmp_path: Path, minutes: int, expected: bool) -> None:
    path = tmp_path / "district.yaml"
    path.write_text("version: 1\npolicy: MI\nparameters: {school_day_minutes: 400}\n", encoding="utf-8")
    events = [absence(day(n), "excused") for n in (3, 9, 15)]

    assert chronic(path, *events, absence(day(21), "excused", minutes=minutes)) is expected


@pytest.mark.parametrize(("absences", "expected"), [(3, False), (4, True)])
def test_ten_percent_of_days_enrolled_for_any_reason(absences: int, expected: bool) -> None:
    events = [absence(day(n), ("excused", "unexcused", "suspension")[n % 3]) for n in range(1, absences + 1)]

    assert chronic(None, *events) is expected


def test_no_rate_before_ten_enrolled_days() -> None:
    assert not chronic(None, absence(day(1), "excused"), as_of=9)
    assert chronic(None, absence(day(1), "excused"), as_of=10)


def test_a_day_fraction_outside_zero_and_one_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "district.yaml"
    path.write_text(
        "version: 1\npolicy: MI\nrules:\n  chronically_absent:\n"
        "    counts: {categories: [excused], partial_days: {more_than_day_fraction: 1.5}}\n",
        encoding="utf-8",
    )
    with pytest.raises(MappingFileError, match="more_than_day_fraction"):
        load_policy("MI", overrides=path)


def test_policy_evaluate_reports_michigan_chronic_absence(tmp_path: Path) -> None:
    four = {day(n): ("excused", None) for n in (3, 9, 15)} | {day(21): ("unexcused", 184)}
    three = {day(n): ("excused", None) for n in (3, 9, 15)} | {day(21): ("unexcused", 183)}
    args = [
        "--policy",
        "MI",
        "--attendance",
        str(attendance_csv(tmp_path, {"S1": four, "S2": three}, days=40)),
    ]
    by_student = evaluate_cli(args)

    assert by_student["S1"]["designations"] == ["chronically_absent"]
    chronic_absence = by_student["S1"]["evidence"]["chronically_absent"]
    assert chronic_absence["rule"] == (
        "at least 10% of enrolled days (excused, unexcused, tardy, suspension; part days over 0.5 of the day)"
        " in school_year"
    )
    assert by_student["S2"]["designations"] == []
