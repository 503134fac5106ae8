"""New Jersey, N.J.A.C. 6A:16-7.6(a)4 (1-4, 5-9, 10+ cumulative unexcused absences) and chronic
absence over days in membership, State-excused absences left out (N.J.A.C. 6A:32-8.4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mappings.attendance_factory import absence, day, student
from tests.mappings.packs import attendance_csv, evaluate_cli
from truancy.mappings.case_policy import CasePolicy
from truancy.mappings.engine import evaluate
from truancy.mappings.policy import MappingFileError, Policy, load_policy

STEPS = ("unexcused_contact", "action_plan_review", "truant")


@pytest.mark.parametrize(
    ("absences", "expected"),
    [(0, ()), (1, STEPS[:1]), (4, STEPS[:1]), (5, STEPS[:2]), (9, STEPS[:2]), (10, STEPS), (11, STEPS)],
)
def test_the_steps_build_at_one_five_and_ten(absences: int, expected: tuple[str, ...]) -> None:
    events = [absence(day(n * 3)) for n in range(1, absences + 1)]
    result = evaluate(load_policy("NJ"), student(*events), day(180))

    assert tuple(d.id for d in result.designations if d.id in STEPS) == expected


def test_the_case_tier_is_the_highest_step_met() -> None:
    case = load_policy("NJ").case
    assert isinstance(case, CasePolicy)

    ranks = [case.rank(tier.id) for tier in case.tiers if tier.enter_when.designation in STEPS]
    assert ranks == sorted(ranks)
    assert [tier.enter_when.designation for tier in case.tiers][-3:] == list(STEPS)


def nj_with_state_excused(tmp_path: Path) -> Policy:
    path = tmp_path / "district.yaml"
    path.write_text(
        "version: 1\npolicy: NJ\nrules:\n  chronically_absent:\n    outside_membership_codes: [RO, CV]\n",
        encoding="utf-8",
    )
    return load_policy("NJ", overrides=path)


def test_state_excused_days_are_neither_absences_nor_membership(tmp_path: Path) -> None:
    events = [absence(day(n), "unexcused") for n in (5, 15, 25)]
    events.append(absence(day(35), "excused", code="RO"))
    district = nj_with_state_excused(tmp_path)

    # Counted as an excused absence the religious observance makes 4 of 40 days: 10%.
    assert evaluate(load_policy("NJ"), student(*events), day(40)).holds("chronically_absent")
    # Left out, it is 3 of 39 days in membership: 7.7%.
    result = evaluate(district, student(*events), day(40))
    assert not result.holds("chronically_absent")
    assert result.counts["chronically_absent.percent_of_enrolled_days"] == pytest.approx(
        100 * 3 / 39, abs=0.01
    )


def test_fewer_days_in_membership_raise_the_rate(tmp_path: Path) -> None:
    events = [absence(day(n), "unexcused") for n in (5, 15, 25)]
    events += [absence(day(n), "excused", code="CV") for n in range(30, 40)]
    result = evaluate(nj_with_state_excused(tmp_path), student(*events), day(39))

    # 3 absences in 29 days in membership: 10.3%, met on the day the third absence made it so.
    assert result.holds("chronically_absent")
    (chronic,) = [d for d in result.designations if d.id == "chronically_absent"]
    assert chronic.count == pytest.approx(100 * 3 / 29, abs=0.01)
    assert [e.date for e in chronic.evidence] == [day(5), day(15), day(25)]


def test_outside_membership_codes_are_only_for_percentages(tmp_path: Path) -> None:
    path = tmp_path / "district.yaml"
    path.write_text(
        "version: 1\npolicy: NJ\nrules:\n  truant:\n    outside_membership_codes: [RO]\n", encoding="utf-8"
    )
    with pytest.raises(MappingFileError, match="outside_membership_codes apply to a percentage"):
        load_policy("NJ", overrides=path)


def test_policy_evaluate_reports_new_jersey_steps(tmp_path: Path) -> None:
    rows = {"S1": {day(n * 3): ("unexcused", None) for n in range(1, 6)}, "S2": {}}
    by_student = evaluate_cli(
        ["--policy", "NJ", "--attendance", str(attendance_csv(tmp_path, rows, days=90))]
    )

    assert by_student["S1"]["designations"] == ["unexcused_contact", "action_plan_review"]
    review = by_student["S1"]["evidence"]["action_plan_review"]
    assert review["citation"] == "N.J.A.C. 6A:16-7.6(a)4.ii"
    assert review["met_on"] == day(15).isoformat()
    assert by_student["S2"]["designations"] == []
