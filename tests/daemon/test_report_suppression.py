"""Small-cell suppression: cells under ten withheld, and a lone withheld cell's complement too."""

from __future__ import annotations

from truancy.daemon.report_outcomes import t_critical
from truancy.daemon.report_suppression import group_rows, with_rates


def test_a_small_cell_and_the_next_smallest_are_withheld() -> None:
    groups = {
        "A": {"students": 120, "truant": 30},
        "B": {"students": 80, "truant": 4},
        "C": {"students": 60, "truant": 12},
    }
    rows = {r["school"]: r for r in group_rows(groups, ["truant"], key="school")}
    assert [rows[s]["truant"] for s in "ABC"] == [30, None, None]  # 4 is small; 12 would give it back
    assert [rows[s]["students"] for s in "ABC"] == [120, 80, 60]


def test_a_small_group_withholds_every_figure_and_its_size_is_complemented() -> None:
    groups = {
        "A": {"students": 200, "truant": 40},
        "B": {"students": 150, "truant": 20},
        "C": {"students": 7, "truant": 0},
    }
    rows = {r["school"]: r for r in group_rows(groups, ["truant"], key="school")}
    assert rows["C"] == {"school": "C", "students": None, "truant": None}
    assert rows["B"]["students"] is None
    assert rows["A"]["students"] == 200
    assert rows["B"]["truant"] is None
    assert rows["A"]["truant"] == 40


def test_without_a_published_total_no_complement_is_needed() -> None:
    groups = {"A": {"students": 50, "truant": 3}, "B": {"students": 50, "truant": 20}}
    rows = group_rows(groups, ["truant"], key="school", total_published=False)
    assert [r["truant"] for r in rows] == [None, 20]


def test_rates_come_only_from_published_counts() -> None:
    row = with_rates(
        {"students": 40, "truant": None, "absent": 10}, {"truancy": "truant", "absence": "absent"}
    )
    assert (row["truancy"], row["absence"]) == (None, 0.25)


def test_the_t_critical_value_is_students_t() -> None:
    assert abs(t_critical(9) - 2.262) < 0.005
    assert abs(t_critical(29) - 2.045) < 0.002
    assert abs(t_critical(1000) - 1.962) < 0.001
