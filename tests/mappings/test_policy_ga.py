"""Georgia, Rule 160-5-1-.10: more than five days of unexcused absence; suspension days are not."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mappings.attendance_factory import absence, day, student
from tests.mappings.packs import attendance_csv, evaluate_cli
from truancy.mappings.engine import evaluate
from truancy.mappings.policy import load_policy


@pytest.mark.parametrize(("days", "expected"), [(5, None), (6, 6), (7, 6)])
def test_truant_after_more_than_five_unexcused_days(days: int, expected: int | None) -> None:
    result = evaluate(
        load_policy("GA"), student(*(absence(day(n * 7)) for n in range(1, days + 1))), day(180)
    )

    assert result.holds("truant") is (expected is not None)
    if expected is not None:
        (truant,) = result.designations
        assert truant.met_on == day(expected * 7)
        assert truant.rule == "more than 5 days (unexcused) in school_year"
        assert truant.citation.startswith("Ga. Comp. R. & Regs. 160-5-1-.10")


def test_out_of_school_suspension_days_are_not_unexcused() -> None:
    events = [*(absence(day(n)) for n in range(1, 6)), *(absence(day(n), "suspension") for n in range(6, 12))]

    result = evaluate(load_policy("GA"), student(*events), day(180))
    assert not result.holds("truant")
    assert result.counts["truant.days"] == 5
    assert result.counts["suspension_days"] == 6


def test_excused_and_part_days_are_not_counted() -> None:
    events = [
        *(absence(day(n)) for n in range(1, 6)),
        absence(day(6), "excused"),
        absence(day(7), minutes=120),
    ]

    assert not evaluate(load_policy("GA"), student(*events), day(180)).holds("truant")


def test_policy_evaluate_reports_georgia_truancy(tmp_path: Path) -> None:
    six = {day(n): ("unexcused", None) for n in range(1, 7)}
    five = {day(n): ("unexcused", None) for n in range(1, 6)} | {day(6): ("suspension", None)}
    args = ["--policy", "GA", "--attendance", str(attendance_csv(tmp_path, {"S1": six, "S2": five}, days=30))]
    by_student = evaluate_cli(args)

    assert by_student["S1"]["designations"] == ["truant"]
    assert by_student["S1"]["evidence"]["truant"]["met_on"] == day(6).isoformat()
    assert by_student["S2"]["designations"] == []
