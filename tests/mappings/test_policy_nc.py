"""North Carolina, G.S. 115C-378(e)-(f) (3, 6 and 10 unexcused absences) and the State Board of
Education's chronic absence definition."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mappings.attendance_factory import absence, day, student
from tests.mappings.packs import attendance_csv, evaluate_cli
from truancy.mappings.engine import evaluate
from truancy.mappings.policy import load_policy

NOTICES = ("excessive_absence_notice", "violation_notice_due", "principal_review")


@pytest.mark.parametrize(
    ("absences", "expected"),
    [(2, ()), (3, NOTICES[:1]), (5, NOTICES[:1]), (6, NOTICES[:2]), (9, NOTICES[:2]), (10, NOTICES)],
)
def test_notices_at_three_six_and_ten_unexcused_absences(absences: int, expected: tuple[str, ...]) -> None:
    events = [absence(day(n * 5)) for n in range(1, absences + 1)]
    result = evaluate(load_policy("NC"), student(*events), day(180))

    assert tuple(d.id for d in result.designations if d.id in NOTICES) == expected
    for designation in result.designations:
        assert designation.met_on == day(5 * int(designation.threshold))


def test_excused_absences_are_not_accumulated_toward_the_notices() -> None:
    events = [absence(day(n), "excused") for n in range(1, 12)]

    result = evaluate(load_policy("NC"), student(*events), day(40))
    assert not any(result.holds(notice) for notice in NOTICES)
    assert result.holds("chronically_absent")


def test_chronic_absence_needs_ten_enrolled_days() -> None:
    nc = load_policy("NC")
    one = student(absence(day(2), "excused"))

    assert not evaluate(nc, one, day(9)).holds("chronically_absent")
    assert evaluate(nc, one, day(10)).holds("chronically_absent")
    assert not evaluate(nc, one, day(11)).holds("chronically_absent")


@pytest.mark.parametrize(("absences", "expected"), [(3, False), (4, True)])
def test_chronic_absence_counts_excused_unexcused_and_suspension(absences: int, expected: bool) -> None:
    categories = ("excused", "unexcused", "suspension")
    events = [absence(day(n), categories[n % 3]) for n in range(1, absences + 1)]

    assert evaluate(load_policy("NC"), student(*events), day(40)).holds("chronically_absent") is expected


def test_policy_evaluate_reports_north_carolina_notices(tmp_path: Path) -> None:
    six = {day(n * 5): ("unexcused", None) for n in range(1, 7)}
    rows = {"S1": six, "S2": {day(5): ("unexcused", None)}}
    by_student = evaluate_cli(
        ["--policy", "NC", "--attendance", str(attendance_csv(tmp_path, rows, days=100))]
    )

    assert by_student["S1"]["designations"] == ["excessive_absence_notice", "violation_notice_due"]
    notice = by_student["S1"]["evidence"]["violation_notice_due"]
    assert notice["citation"] == "G.S. 115C-378(e)"
    assert notice["met_on"] == day(30).isoformat()
    assert by_student["S2"]["designations"] == []
